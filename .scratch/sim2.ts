import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../src/stream/replay.js';
import { ClusterTracker } from '../src/analysis/clusterTracker.js';
import { BreakthroughDetector } from '../src/analysis/onlineDetector.js';
const dir = process.argv[2];
const kinds = (process.argv[3] ?? 'polca').split(',') as any[];
const delta = Number(process.argv[4] ?? 100);
const minNoise = Number(process.argv[5] ?? 30);
const z = Number(process.argv[6] ?? 8);
const events = await lastValueFrom(replay(dir).pipe(toArray()));
const ct = new ClusterTracker({ every: 1, kinds });
const dets = Object.fromEntries(kinds.map((k) => [k, new BreakthroughDetector({ delta, minNoise, z, clusterKind: k })]));
let live = 0;
for (const e of events) {
  if (e.type === 'polca' && !e.filled) live++;
  const out = ct.push(e);
  for (const c of out) for (const t of dets[c.kind].push(c)) console.log(`${c.kind} T ${JSON.stringify(t.target)} step ${t.step} detectedAt ${t.detectedAt} mag ${t.magnitude.toFixed(3)} conf ${t.confidence.toFixed(2)} (live intervals ${live})`);
}
