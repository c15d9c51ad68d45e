import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../src/stream/replay.js';
import { analyze } from '../src/run/analyze.js';
const dir = process.argv[2];
const kinds = (process.argv[3] ?? 'polca').split(',') as any[];
const every = Number(process.argv[4] ?? 5);
const minNoise = Number(process.argv[5] ?? 30);
const t0 = performance.now();
let clusterMs = 0;
const events = await lastValueFrom(analyze(replay(dir), { clusters: { every, kinds }, transitions: { delta: 100, minNoise, clusterKind: kinds[0] } }).pipe(toArray()));
for (const e of events) {
  if (e.type === 'clusters') console.log(`clusters ${e.kind} b${e.basisId} @${e.step} T=${e.steps.length}: ${e.clusters.map((c) => `#${c.id}:${c.members.length}`).join(' ')} dropped ${e.dropped} out ${e.outliers}`);
  if (e.type === 'transition') console.log('TRANSITION', JSON.stringify(e));
}
console.log('total ms', performance.now() - t0);
