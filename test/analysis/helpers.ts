/** Shared synthetic-data helpers for the analysis tests. */
import type { PolcaIncrementEvent } from '../../src/stream/events.js';

/** Deterministic PRNG (mulberry32). */
export { mulberry32 as rng } from '../helpers/prng.js';

export function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/**
 * POLCA events whose second-order increments are the differences of the
 * given cumulative projected losses L[b][x][j] (j = 0 … T, L[·][·][0] = 0),
 * first-order increments 0.9× those, derivatives 0.1·(x + 1)·(b + 1)·(j + 1)
 * and losses 5 − 0.01·j.
 */
export function polcaEvents(L: number[][][], basisIds: number[], spacing = 20, startStep = 0): PolcaIncrementEvent[] {
  const n = L[0].length;
  const T = L[0][0].length - 1;
  const out: PolcaIncrementEvent[] = [];
  for (let j = 0; j < T; j++) {
    const values = L.map((Lb) => Float32Array.from(Lb, (row) => row[j + 1] - row[j]));
    out.push({
      type: 'polca',
      time: 0,
      fromStep: startStep + j * spacing,
      toStep: startStep + (j + 1) * spacing,
      basisIds,
      projections: basisIds.map(() => 1),
      values,
      firstOrder: values.map((v) => v.map((x) => 0.9 * x)),
      derivatives: basisIds.map((_, b) => Float32Array.from({ length: n }, (_, x) => 0.1 * (x + 1) * (b + 1) * (j + 1))),
      lossBefore: new Float32Array(n).fill(5 - 0.01 * j),
      lossAfter: new Float32Array(n).fill(5 - 0.01 * (j + 1)),
      residual: new Float32Array(n),
      secondOrder: 'paper',
      nonFinite: 0,
    });
  }
  return out;
}
