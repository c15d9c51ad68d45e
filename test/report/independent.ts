/**
 * Independent computations of what the report plots, straight from the raw
 * events (no TrajectoryBuilder, no analysis code): projected-loss and exact
 * loss trajectories, type-7 quantiles, break times.
 */
import type { CheckpointEvent, PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';

/** Type-7 quantile of an ascending array (NumPy's default), written out here. */
export function quantile7(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const j = Math.min(i + 1, sorted.length - 1);
  return sorted[i] * (1 - (pos - i)) + sorted[j] * (pos - i);
}

/** Median / quartiles of `values` (non-finite left out). */
export function band(values: readonly number[]): { median: number; q25: number; q75: number } {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  return { median: quantile7(s, 0.5), q25: quantile7(s, 0.25), q75: quantile7(s, 0.75) };
}

/**
 * L_b(x, t) for every datapoint: the running sum of `values` of basis `id`
 * over the polca events (float64, each partial sum rounded to float32 as a
 * Float32 trajectory store holds it), starting at 0 at its first fromStep.
 */
export function projectedLoss(events: readonly PolcaEvent[], id: number): { steps: number[]; rows: number[][] } {
  // Live and filled-in intervals, in step order (a vector found late has its earlier intervals filled in afterwards).
  const polca = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.basisIds.includes(id)).sort((a, b) => a.fromStep - b.fromStep);
  const n = polca[0].lossBefore.length;
  const sums = new Array<number>(n).fill(0);
  const steps = [polca[0].fromStep];
  const rows = Array.from({ length: n }, () => [0]);
  for (const e of polca) {
    const k = e.basisIds.indexOf(id);
    steps.push(e.toStep);
    for (let x = 0; x < n; x++) {
      sums[x] += e.values[k][x];
      rows[x].push(Math.fround(sums[x]));
    }
  }
  return { steps, rows };
}

/** ℓ_x(θ_t) for every datapoint at every checkpoint. */
export function exactLoss(events: readonly PolcaEvent[]): { steps: number[]; rows: number[][] } {
  const cps = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
  const n = cps[0].losses.length;
  return { steps: cps.map((c) => c.step), rows: Array.from({ length: n }, (_, x) => cps.map((c) => c.losses[x])) };
}

/** eq. (6) at lag d checkpoints: the step of the largest second difference (first on ties). */
export function breakStep(f: readonly number[], steps: readonly number[], d: number): number {
  let best = -Infinity;
  let at = NaN;
  for (let i = d; i + d < f.length; i++) {
    // Written as eq. (6) reads: [f(t+Δ) − f(t)] − [f(t) − f(t−Δ)].
    const a = f[i + d] - f[i] - (f[i] - f[i - d]);
    if (a > best) {
      best = a;
      at = steps[i];
    }
  }
  return at;
}
