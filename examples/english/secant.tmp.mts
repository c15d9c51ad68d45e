export {};
import { lastValueFrom, toArray } from 'rxjs';
import { replay } from '../../src/stream/replay.js';
const events = await lastValueFrom(replay(process.argv[2]).pipe(toArray()));
const polca = events.filter((e) => e.type === 'polca') as any[];
const N = polca[0].lossBefore.length;
const cum = new Map<number, Float64Array>(); const cumP = new Map<number, Float64Array>();
for (let i = 0; i < polca.length; i++) {
  const p = polca[i]; const next = polca[i + 1];
  p.basisIds.forEach((id: number, k: number) => {
    const from = p.derivatives[k]; const kn = next ? next.basisIds.indexOf(id) : -1; if (kn < 0) return;
    const to = next.derivatives[kn];
    const c = cum.get(id) ?? new Float64Array(N); cum.set(id, c);
    const cp = cumP.get(id) ?? new Float64Array(N); cumP.set(id, cp);
    for (let x = 0; x < N; x++) { c[x] += 0.5 * p.projections[k] * (from[x] + to[x]); cp[x] += p.values[k][x]; }
  });
}
for (const [id, c] of cum) { const cp = cumP.get(id)!; let s = 0, neg = 0, sp = 0; for (let x = 0; x < N; x++) { s += c[x]; sp += cp[x]; if (c[x] < 0) neg++; } console.log(id, 'secant mean', (s / N).toFixed(4), 'falling', (neg / N).toFixed(3), 'paper mean', (sp / N).toFixed(4)); }
