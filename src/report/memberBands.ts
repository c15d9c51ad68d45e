/**
 * Median and quartile curves of a set of trajectories.
 *
 * @packageDocumentation
 */
import { quantileSorted } from '../analysis/clusterProcedure.js';
import type { TrajectoryMatrix } from '../analysis/trajectoryMatrix.js';

/** Median and 25–75% quartiles of a set of trajectories at one checkpoint. */
export interface BandPoint {
  step: number;
  median: number;
  q25: number;
  q75: number;
  /** Members with a finite value at this step (the quantiles are over these). */
  count: number;
}

/**
 * Median, 25% and 75% quantiles (type 7, as in the clustering summary) of the
 * members' trajectories at the checkpoint indices `columns` (all by default).
 * Non-finite values are left out; a step with none finite gets NaN.
 *
 * @example
 * ```ts
 * memberBands(builder.matrix('loss')!, cluster.members, evenIndices(T, 300));
 * ```
 */
export function memberBands(matrix: TrajectoryMatrix, members: ArrayLike<number>, columns?: readonly number[]): BandPoint[] {
  const steps = matrix.steps;
  const cols = columns ?? steps.map((_, t) => t);
  const buf = new Float64Array(members.length);
  return cols.map((t) => {
    if (!Number.isInteger(t) || t < 0 || t >= steps.length) {
      throw new RangeError(`memberBands: column ${t} is not a checkpoint index in [0, ${steps.length})`);
    }
    let m = 0;
    for (let k = 0; k < members.length; k++) {
      const v = matrix.get(members[k], t);
      if (Number.isFinite(v)) buf[m++] = v;
    }
    const sorted = buf.subarray(0, m).sort();
    return { step: steps[t], median: quantileSorted(sorted, 0.5), q25: quantileSorted(sorted, 0.25), q75: quantileSorted(sorted, 0.75), count: m };
  });
}
