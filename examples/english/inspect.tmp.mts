export {};
import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../../src/stream/replay.js';
import { TrajectoryBuilder } from '../../src/analysis/trajectories.js';
const dir = process.argv[2];
const events = await lastValueFrom(replay(dir).pipe(toArray()));
const b = new TrajectoryBuilder({ kinds: ['polca', 'polca-first', 'loss'] });
for (const e of events) b.push(e);
for (const e of events) if (e.type === 'basis') console.log('basis', e.id, e.step, e.eigenvalue);
for (const kind of ['polca', 'polca-first'] as const) for (const id of b.basisIds(kind)) {
  const m = b.matrix(kind, id)!;
  const T = m.length; let s = 0, neg = 0, n = 0; const mid: number[] = [];
  for (let x = 0; x < m.n; x++) { const r = m.row(x); const v = r[T - 1]; if (Number.isFinite(v)) { s += v; n++; if (v < 0) neg++; } }
  // mean trajectory at a few points
  for (const t of [1, Math.floor(T / 4), Math.floor(T / 2), Math.floor(3 * T / 4), T - 1]) { let a = 0; for (let x = 0; x < m.n; x++) a += m.row(x)[t]; mid.push(+(a / m.n).toFixed(4)); }
  console.log(kind, id, 'T', T, 'mean end', (s / n).toFixed(4), 'frac falling', (neg / n).toFixed(3), 'mean traj', mid.join(' '));
}
const polca = events.filter((e) => e.type === 'polca') as any[];
let sumRes = 0, sumChange = 0, sumDec = 0;
for (const p of polca) { for (let x = 0; x < p.lossAfter.length; x++) { sumChange += p.lossAfter[x] - p.lossBefore[x]; sumRes += p.residual[x]; } for (const v of p.values) for (const y of v) sumDec += y; }
console.log('total loss change', sumChange.toFixed(1), 'decomposed', sumDec.toFixed(1), 'residual', sumRes.toFixed(1));
console.log('nonFinite per polca event', polca.map((p) => p.nonFinite).join(','));
const cps = events.filter((e) => e.type === 'checkpoint') as any[];
console.log('checkpoint nonFinite', cps.map((c) => c.nonFinite).join(','));
const p0 = polca[5]; let nanx = -1; for (let x = 0; x < p0.lossAfter.length; x++) if (!Number.isFinite(p0.values[0][x])) { nanx = x; break; }
console.log('first nan x', nanx, p0.lossBefore[nanx], p0.lossAfter[nanx], p0.derivatives.map((d: any) => d[nanx]), p0.values.map((d: any) => d[nanx]), p0.firstOrder.map((d: any) => d[nanx]));
console.log(p0.projections);
const mm = b.matrix('polca', 0)!; console.log('rows', mm.n, 'len', mm.length, Array.from(mm.row(0)).slice(0, 8));
