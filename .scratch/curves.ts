import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../src/stream/replay.js';
import { analyze } from '../src/run/analyze.js';
import { findBreakthroughs } from '../src/analysis/onlineDetector.js';
const dir = process.argv[2];
const kinds = (process.argv[3] ?? 'polca').split(',') as any[];
const events = await lastValueFrom(analyze(replay(dir), { clusters: { every: 1000, kinds } }).pipe(toArray()));
for (const e of events) {
  if (e.type !== 'clusters') continue;
  for (const c of e.clusters) {
    console.log(`${e.kind} b${e.basisId} #${c.id} n=${c.members.length}: ${Array.from(c.median, (v) => v.toFixed(3)).join(' ')}`);
    for (const z of [8, 4, 2]) for (const mn of [5, 10]) {
      const f = findBreakthroughs(c.median, e.steps, { delta: 100, z, minNoise: mn, direction: 'both' });
      if (f.length) console.log(`   z=${z} minNoise=${mn}: ${f.map((b) => `${b.step} (${b.magnitude.toFixed(3)}, score ${b.score.toFixed(1)})`).join(', ')}`);
    }
  }
}
