import type * as tf from '@tensorflow/tfjs-core';
import { centralDifference, probeAtOffsets, type ProbeClosure } from './directional.js';
import type { ParamSnapshot, ParamSpace } from './paramSpace.js';

/** Candidate central-difference steps along a unit direction: 10^-4 … 10^0 in half decades. */
export const STEP_GRID: readonly number[] = Array.from({ length: 9 }, (_, i) => 10 ** (-4 + i / 2));

/**
 * Picks the central-difference step for one direction: the step of
 * {@link STEP_GRID} whose derivatives (ℓ(θ+εb) − ℓ(θ−εb)) / 2ε are closest to
 * the exact JVP. The best step depends on the direction (about 1e-3 for
 * gradient-like directions, 1e-2–1e-1 for random ones), so one global step
 * would cost two orders of magnitude of accuracy on some vectors.
 * Costs 2 probe passes per candidate tried (usually 3–5), once per vector
 * and again when a check finds the step has gone stale.
 */
export function calibrateStep(
  space: ParamSpace,
  probe: ProbeClosure,
  snap: ParamSnapshot,
  parts: readonly tf.Tensor[],
  exact: Float32Array,
  n: number,
): { epsilon: number; error: number; offsets: { plus: Float32Array; minus: Float32Array } } {
  // The error is V-shaped in log ε (rounding below the best step, truncation
  // above it): start in the middle and walk downhill, about 4 candidates.
  const errors = new Map<number, number>();
  const losses = new Map<number, { plus: Float32Array; minus: Float32Array }>();
  const errorAt = (i: number): number => {
    if (!errors.has(i)) {
      const eps = STEP_GRID[i];
      const offsets = probeAtOffsets(space, probe, snap, parts, eps, n);
      const e = relativeRmsError(centralDifference(offsets.plus, offsets.minus, eps), exact);
      errors.set(i, Number.isNaN(e) ? Infinity : e);
      losses.set(i, offsets);
    }
    return errors.get(i)!;
  };
  let i = 4;
  const dir = errorAt(i + 1) < errorAt(i) ? 1 : errorAt(i - 1) < errorAt(i) ? -1 : 0;
  if (dir !== 0) {
    i += dir;
    while (i + dir >= 0 && i + dir < STEP_GRID.length && errorAt(i + dir) < errorAt(i)) i += dir;
  }
  // The probe losses at the chosen step come along, so callers need not evaluate them again.
  return { epsilon: STEP_GRID[i], error: errorAt(i), offsets: losses.get(i)! };
}

/** ‖a − b‖ / ‖b‖ over entries finite in both, in double precision (0 when b is 0 and a equals it). */
export function relativeRmsError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) continue;
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  if (den === 0) return num === 0 ? 0 : Infinity;
  return Math.sqrt(num / den);
}
