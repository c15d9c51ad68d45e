/**
 * The members of a cluster nearest its medoid, for showing a cluster by
 * examples (the paper's English tables list the ten contexts nearest it).
 *
 * @packageDocumentation
 */
import { positiveInt } from '../errors/validate.js';
import type { TrajectoryMatrix } from './trajectoryMatrix.js';

/**
 * The `k` members nearest the medoid by Euclidean distance between
 * trajectories (the medoid itself first; ties: lower index).
 *
 * @example
 * ```ts
 * nearestToMedoid(matrix, cluster.members, cluster.medoid, 10); // datapoint indices
 * ```
 */
export function nearestToMedoid(trajectories: TrajectoryMatrix, members: ArrayLike<number>, medoid: number, k = 10): number[] {
  positiveInt('nearestToMedoid', 'k', k);
  const m = trajectories.row(medoid);
  const T = m.length;
  const dist = Array.from(members as ArrayLike<number>, (x) => {
    const r = trajectories.row(x);
    let s = 0;
    for (let t = 0; t < T; t++) s += (r[t] - m[t]) ** 2;
    return { x, s };
  });
  dist.sort((a, b) => a.s - b.s || a.x - b.x);
  return dist.slice(0, k).map((d) => d.x);
}
