/**
 * The one Δ and τ of a run (METHOD.md §4), shared by the live detector
 * (`analysis.transitions`), `polca clusters` and `polca report`.
 *
 * - Δ (eq. 6) defaults to {@link DEFAULT_DELTA_INTERVALS} checkpoint
 *   intervals: the paper's 100 steps at 20-step checkpoints. It depends only
 *   on the checkpoint spacing, so it is known live after two checkpoints.
 * - τ (eq. 7) is the step after which the mean probe loss is flat
 *   ({@link flatAfter}); it needs the end of training, so it exists post hoc
 *   only. The live detector reports breakthroughs without it; the report
 *   marks those recorded during the run that lie past τ.
 *
 * A run whose live analysis used another Δ records it (`analysis/live.json`,
 * see `src/run/liveAnalysisFile.ts`), and the post-hoc commands read it back.
 *
 * @packageDocumentation
 */
import { checkpointSpacing } from './breakthrough.js';

/**
 * Default Δ in checkpoint intervals.
 *
 * @example
 * ```ts
 * DEFAULT_DELTA_INTERVALS * 20; // 100 steps at 20-step checkpoints
 * ```
 */
export const DEFAULT_DELTA_INTERVALS = 5;

/** Default fraction of the mean probe loss's drop within which it counts as flat (τ). */
export const DEFAULT_FLAT_FRACTION = 0.05;

/**
 * Default Δ in steps for checkpoints `spacing` steps apart.
 *
 * @example
 * ```ts
 * defaultDelta(20); // 100
 * ```
 */
export function defaultDelta(spacing: number): number {
  if (!(spacing > 0) || !Number.isFinite(spacing)) throw new RangeError(`defaultDelta: spacing must be a positive number of steps, got ${spacing}`);
  return DEFAULT_DELTA_INTERVALS * spacing;
}

/**
 * Default Δ for a run's checkpoint steps (uniformly spaced, at least two).
 *
 * @example
 * ```ts
 * defaultDeltaForSteps([0, 20, 40]); // 100
 * ```
 */
export function defaultDeltaForSteps(steps: ArrayLike<number>): number {
  return defaultDelta(checkpointSpacing(steps, 'defaultDeltaForSteps'));
}

/**
 * τ of eq. (7): the first checkpoint step after which the mean probe loss
 * stays within `fraction` of its drop (its largest value minus its final
 * value) of the final value — the step after which the aggregate loss is
 * flat. Non-finite values are skipped; NaN when none is finite.
 *
 * @example
 * ```ts
 * flatAfter([0, 20, 40, 60], [3, 1, 0.05, 0.02]); // 40
 * ```
 */
export function flatAfter(steps: ArrayLike<number>, meanLoss: ArrayLike<number>, fraction = DEFAULT_FLAT_FRACTION): number {
  if (steps.length !== meanLoss.length) throw new RangeError(`flatAfter: ${steps.length} steps but ${meanLoss.length} losses`);
  if (!(fraction >= 0) || !Number.isFinite(fraction)) throw new RangeError(`flatAfter: fraction must be a non-negative number, got ${fraction}`);
  const s: number[] = [];
  const v: number[] = [];
  for (let i = 0; i < steps.length; i++) {
    if (Number.isFinite(meanLoss[i])) {
      s.push(steps[i]);
      v.push(meanLoss[i]);
    }
  }
  if (v.length === 0) return NaN;
  const last = v[v.length - 1];
  const drop = Math.max(...v) - last;
  let i = v.length - 1;
  while (i > 0 && Math.abs(v[i - 1] - last) <= fraction * drop) i--;
  return s[i];
}
