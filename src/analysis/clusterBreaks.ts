/**
 * Post-hoc breakthroughs of every cluster of a `clusters` event (METHOD.md §4).
 *
 * @packageDocumentation
 */
import { fail } from '../errors/validate.js';
import type { ClustersEvent } from '../stream/events.js';
import { argmaxAcceleration, checkpointSpacing, deltaToOffset, type BreakPoint, type DeltaOptions } from './breakthrough.js';
import type { TrajectoryMatrix } from './trajectoryMatrix.js';

/** Breakthrough summary of one cluster. */
export interface ClusterBreak {
  clusterId: number;
  /** eq. (6) on the cluster's median curve. */
  median: BreakPoint;
  /** E_{x∈cluster} break(f, x, Δ): the mean of the members' own break times. */
  meanBreak: number;
  /** eq. (7): meanBreak > τ. */
  hidden: boolean;
}

/** Options of {@link clusterBreaks}. */
export interface ClusterBreaksOptions extends DeltaOptions {
  /** Δ in steps (paper: 100). */
  delta: number;
  /** τ in steps (paper: 1000): the step after which the exact aggregate loss is flat. */
  tau: number;
}

/**
 * For every cluster of `event`: the break point of its median curve, the mean
 * break time of its members (on `trajectories`, the matrix that was
 * clustered, truncated to the event's steps) and the hidden-breakthrough flag.
 *
 * @throws RangeError when the trajectories are shorter than the event or than 2d + 1 checkpoints.
 *
 * @example
 * ```ts
 * const breaks = clusterBreaks(event, builder.matrix('polca', event.basisId)!, { delta: 100, tau: 1000 });
 * breaks.filter((b) => b.hidden).length / breaks.length; // fraction of clusters with hidden breakthroughs
 * ```
 */
export function clusterBreaks(event: ClustersEvent, trajectories: TrajectoryMatrix, options: ClusterBreaksOptions): ClusterBreak[] {
  const fn = 'clusterBreaks';
  if (!Number.isFinite(options.tau)) fail(fn, 'tau', 'a finite step', options.tau);
  const steps = event.steps;
  const T = steps.length;
  if (trajectories.length < T) {
    throw new RangeError(`${fn}: trajectories have ${trajectories.length} checkpoints but the clusters event has ${T}`);
  }
  const d = deltaToOffset(checkpointSpacing(steps, fn), options.delta, options, fn);
  if (T < 2 * d + 1) throw new RangeError(`${fn}: ${T} checkpoints, needs at least 2·d+1 = ${2 * d + 1} for delta=${options.delta}`);
  return event.clusters.map((c) => {
    let sum = 0;
    let count = 0;
    for (const x of c.members) {
      const b = argmaxAcceleration(trajectories.row(x).subarray(0, T), steps, d);
      if (Number.isFinite(b.step)) {
        sum += b.step;
        count++;
      }
    }
    const meanBreak = count === 0 ? NaN : sum / count;
    return { clusterId: c.id, median: argmaxAcceleration(c.median, steps, d), meanBreak, hidden: meanBreak > options.tau };
  });
}
