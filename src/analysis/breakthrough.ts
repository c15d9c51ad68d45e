/**
 * Breakthroughs as points of largest acceleration (METHOD.md §4, eq. 6–7).
 *
 * Trajectories are sampled at checkpoint steps (for example every 20 steps)
 * while Δ is given in training steps. Δ is mapped to a whole number of
 * checkpoint intervals d = Δ / s, where s is the (uniform) checkpoint
 * spacing. By default Δ must be a positive multiple of s and anything else
 * throws; with `round: true` it is rounded to the nearest multiple (at least
 * one interval). Then eq. (6) on the grid reads
 *
 *     break = steps[argmax_i (f[i+d] − f[i]) − (f[i] − f[i−d])],  d ≤ i < T − d
 *
 * so only steps with a full window on both sides are candidates; ties go to
 * the earliest step.
 *
 * @packageDocumentation
 */
import { positiveInt } from '../errors/validate.js';

/** Options for mapping Δ (in steps) to checkpoint intervals. */
export interface DeltaOptions {
  /**
   * Round Δ to the nearest multiple of the checkpoint spacing instead of
   * throwing when it is not a multiple. Default `false`.
   */
  round?: boolean;
}

const REL_TOL = 1e-9;

/**
 * Checks that `steps` are strictly increasing with a constant spacing and
 * returns that spacing.
 *
 * @example
 * ```ts
 * checkpointSpacing([0, 20, 40]); // 20
 * ```
 */
export function checkpointSpacing(steps: ArrayLike<number>, fn = 'checkpointSpacing'): number {
  if (steps.length < 2) {
    throw new RangeError(`${fn}: steps needs at least 2 checkpoints to define a spacing, got ${steps.length}`);
  }
  const s = steps[1] - steps[0];
  if (!(s > 0) || !Number.isFinite(s)) {
    throw new RangeError(`${fn}: steps must be strictly increasing, got steps[0]=${steps[0]}, steps[1]=${steps[1]}`);
  }
  for (let i = 2; i < steps.length; i++) {
    const si = steps[i] - steps[i - 1];
    if (Math.abs(si - s) > REL_TOL * Math.max(1, Math.abs(s))) {
      throw new RangeError(
        `${fn}: steps must be uniformly spaced (spacing ${s}), but steps[${i}] − steps[${i - 1}] = ${si}`,
      );
    }
  }
  return s;
}

/**
 * Maps Δ (in training steps) to a whole number of checkpoint intervals.
 *
 * @param spacing - checkpoint spacing in steps (see {@link checkpointSpacing}).
 * @param delta - Δ in steps.
 * @returns d with Δ = d · spacing (d ≥ 1).
 * @throws RangeError when Δ is not positive or, without `round`, not a multiple of the spacing.
 *
 * @example
 * ```ts
 * deltaToOffset(20, 100); // 5
 * deltaToOffset(20, 110, { round: true }); // 6 (110/20 = 5.5 rounds up)
 * ```
 */
export function deltaToOffset(spacing: number, delta: number, options: DeltaOptions = {}, fn = 'deltaToOffset'): number {
  if (!(delta > 0) || !Number.isFinite(delta)) {
    throw new RangeError(`${fn}: delta must be a positive finite number of steps, got ${delta}`);
  }
  if (!(spacing > 0) || !Number.isFinite(spacing)) {
    throw new RangeError(`${fn}: spacing must be a positive finite number of steps, got ${spacing}`);
  }
  const ratio = delta / spacing;
  const d = Math.round(ratio);
  if (options.round) return Math.max(1, d);
  if (d < 1 || Math.abs(ratio - d) > REL_TOL * Math.max(1, ratio)) {
    throw new RangeError(
      `${fn}: delta=${delta} steps is not a positive multiple of the checkpoint spacing ${spacing}; ` +
        `pass { round: true } to round it to ${Math.max(1, d) * spacing}`,
    );
  }
  return d;
}

/**
 * The bracket of eq. (6) at checkpoint i with Δ = d checkpoint intervals:
 * [f(i+d) − f(i)] − [f(i) − f(i−d)], the acceleration of the trajectory. This
 * is the one definition of a breakthrough's measure: the post-hoc break point
 * ({@link breakPoint}, its argmax over the whole trajectory) and the live
 * detector (`findBreakthroughs`, its significant local maxima as the curve
 * grows) both evaluate it here. No checks: the caller keeps d ≤ i < T − d.
 *
 * @example
 * ```ts
 * accelerationAt([5, 5, 5, 1, 1, 1], 3, 1); // 4: (1 − 1) − (1 − 5)
 * ```
 */
export function accelerationAt(f: ArrayLike<number>, i: number, d: number): number {
  return f[i + d] - f[i] - (f[i] - f[i - d]);
}

/**
 * Second differences at lag d, f[i+d] − 2 f[i] + f[i−d], for d ≤ i < T − d
 * (the bracket of eq. 6). Output index j corresponds to checkpoint i = j + d.
 *
 * @example
 * ```ts
 * acceleration([0, 0, 1, 3], 1); // Float64Array [1, 1]
 * ```
 */
export function acceleration(f: ArrayLike<number>, d: number): Float64Array {
  positiveInt('acceleration', 'd', d);
  const n = Math.max(0, f.length - 2 * d);
  const out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    out[j] = accelerationAt(f, j + d, d);
  }
  return out;
}

/** The result of {@link breakPoint}. */
export interface BreakPoint {
  /** Step of the largest acceleration (eq. 6). */
  step: number;
  /** Checkpoint index of that step. */
  index: number;
  /** The acceleration (second difference at lag Δ) there. */
  magnitude: number;
}

/**
 * Break point of one trajectory, eq. (6), with its index and magnitude.
 * Non-finite second differences are skipped; if none is finite the result has
 * `step: NaN`.
 *
 * @param f - trajectory values at `steps`.
 * @param steps - uniformly spaced checkpoint steps, same length as `f`.
 * @param delta - Δ in steps (see {@link deltaToOffset}).
 * @throws RangeError when the trajectory is shorter than 2d + 1 checkpoints.
 *
 * @example
 * ```ts
 * breakPoint([5, 5, 5, 1, 1, 1], [0, 20, 40, 60, 80, 100], 20);
 * // { step: 60, index: 3, magnitude: 4 }
 * ```
 */
export function breakPoint(
  f: ArrayLike<number>,
  steps: ArrayLike<number>,
  delta: number,
  options: DeltaOptions = {},
): BreakPoint {
  if (f.length !== steps.length) {
    throw new RangeError(`breakPoint: f has ${f.length} values but steps has ${steps.length}`);
  }
  const d = deltaToOffset(checkpointSpacing(steps, 'breakPoint'), delta, options, 'breakPoint');
  if (f.length < 2 * d + 1) {
    throw new RangeError(
      `breakPoint: trajectory has ${f.length} checkpoints, needs at least 2·d+1 = ${2 * d + 1} for delta=${delta}`,
    );
  }
  return argmaxAcceleration(f, steps, d);
}

/**
 * eq. (6) on a grid already validated, with Δ = d checkpoint intervals (no
 * checks; for callers that validated once and scan many trajectories).
 *
 * @example
 * ```ts
 * argmaxAcceleration([5, 5, 5, 1, 1, 1], [0, 20, 40, 60, 80, 100], 1).step; // 60
 * ```
 */
export function argmaxAcceleration(f: ArrayLike<number>, steps: ArrayLike<number>, d: number): BreakPoint {
  let best = -Infinity;
  let bestI = -1;
  for (let i = d; i < f.length - d; i++) {
    const a = accelerationAt(f, i, d);
    if (a > best) {
      best = a;
      bestI = i;
    }
  }
  if (bestI < 0) return { step: NaN, index: -1, magnitude: NaN };
  return { step: steps[bestI], index: bestI, magnitude: best };
}

/**
 * Break time of one trajectory, eq. (6): the step of largest acceleration.
 *
 * @example
 * ```ts
 * breakTime([5, 5, 5, 1, 1, 1], [0, 20, 40, 60, 80, 100], 20); // 60
 * ```
 */
export function breakTime(
  f: ArrayLike<number>,
  steps: ArrayLike<number>,
  delta: number,
  options: DeltaOptions = {},
): number {
  return breakPoint(f, steps, delta, options).step;
}

/**
 * Mean break time E_{x∈X'} break(f, x, Δ) over a set of trajectories.
 * Trajectories without a finite second difference are left out of the mean.
 *
 * @example
 * ```ts
 * meanBreakTime([[5, 5, 1, 1, 1], [5, 5, 5, 1, 1]], [0, 1, 2, 3, 4], 1); // 2.5
 * ```
 */
export function meanBreakTime(
  trajectories: Iterable<ArrayLike<number>>,
  steps: ArrayLike<number>,
  delta: number,
  options: DeltaOptions = {},
): number {
  const d = deltaToOffset(checkpointSpacing(steps, 'meanBreakTime'), delta, options, 'meanBreakTime');
  if (steps.length < 2 * d + 1) {
    throw new RangeError(
      `meanBreakTime: ${steps.length} checkpoints, needs at least 2·d+1 = ${2 * d + 1} for delta=${delta}`,
    );
  }
  let sum = 0;
  let count = 0;
  for (const f of trajectories) {
    if (f.length !== steps.length) {
      throw new RangeError(`meanBreakTime: a trajectory has ${f.length} values but steps has ${steps.length}`);
    }
    const b = argmaxAcceleration(f, steps, d);
    if (Number.isFinite(b.step)) {
      sum += b.step;
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}

/**
 * Whether trajectories sampled at `steps` are long enough for a break point
 * with window Δ (2·d + 1 checkpoints, d = Δ in checkpoint intervals). Online,
 * a basis vector found late has a short trajectory and no break point.
 *
 * @example
 * ```ts
 * hasBreakWindow([0, 20, 40, 60, 80], 40); // true: d = 2, 5 checkpoints
 * ```
 */
export function hasBreakWindow(steps: ArrayLike<number>, delta: number, options: DeltaOptions = {}): boolean {
  if (steps.length < 2) return false;
  const d = deltaToOffset(checkpointSpacing(steps, 'hasBreakWindow'), delta, options, 'hasBreakWindow');
  return steps.length >= 2 * d + 1;
}

/**
 * Hidden breakthrough indicator, eq. (7): whether the mean break time of the
 * set lies past τ (the step after which the exact aggregate loss is flat).
 *
 * @param trajectories - the trajectories f(x, ·) of the members x ∈ X'.
 * @param tau - τ in steps (paper: 1000).
 *
 * @example
 * ```ts
 * hidden([[5, 5, 5, 1, 1]], [0, 500, 1000, 1500, 2000], 500, 1000); // true (break at 1500)
 * ```
 */
export function hidden(
  trajectories: Iterable<ArrayLike<number>>,
  steps: ArrayLike<number>,
  delta: number,
  tau: number,
  options: DeltaOptions = {},
): boolean {
  if (!Number.isFinite(tau)) throw new RangeError(`hidden: tau must be a finite step, got ${tau}`);
  return meanBreakTime(trajectories, steps, delta, options) > tau;
}
