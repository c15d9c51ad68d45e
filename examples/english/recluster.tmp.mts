export {};
import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../../src/stream/replay.js';
import { readManifest } from '../../src/sinks/arrow/manifest.js';
import { TrajectoryBuilder } from '../../src/analysis/trajectories.js';
import { clusterAllBasisVectors } from '../../src/analysis/clusterProcedure.js';
import { labelCluster } from '../../src/analysis/posLabels.js';
const dir = process.argv[2];
const mcs = Number(process.argv[3]); const ms = Number(process.argv[4]); const dropOsc = process.argv[5] === '1';
const kind = (process.argv[6] ?? 'polca') as any;
const m = await readManifest(dir); const meta = m.probeMeta as Record<string, string[]>;
const tags = meta.pos.map((p, x) => [meta.pos3[x], meta.pos2[x], meta.pos1[x], p]);
const events = await lastValueFrom(replay(dir).pipe(toArray()));
const b = new TrajectoryBuilder({ kinds: [kind] });
for (const e of events) b.push(e);
for (const c of clusterAllBasisVectors(b, kind, { minClusterSize: mcs, minSamples: ms, dropOscillatory: dropOsc })) {
  console.log(`basis ${c.event.basisId}: osc ${c.oscillatory} clusters ${c.event.clusters.length} dropped ${c.event.dropped} outliers ${c.event.outliers}`);
  for (const cl of c.event.clusters) { const l = labelCluster(cl, c.trajectories, tags, meta.context); console.log(`   #${cl.id} ${cl.members.length} ${l.label.text} [${l.label.covered.map((x) => x.toFixed(2))}] e.g. ${l.contexts!.slice(0, 3).join(' | ')}`); }
}
