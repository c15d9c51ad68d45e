/**
 * The paper's clustering procedure along one basis vector (METHOD.md §3):
 * drop oscillatory vectors, drop datapoints whose decomposed loss rises,
 * HDBSCAN, discard outliers, summarise clusters.
 *
 * @packageDocumentation
 */
import { oneOf, positiveInt } from '../errors/validate.js';
import type { ClusterSummary, ClustersEvent, TrajectoryKind } from '../stream/events.js';
import { hdbscan } from './hdbscan.js';
import type { TrajectoryMatrix } from './trajectoryMatrix.js';
import type { TrajectoryBuilder } from './trajectories.js';
import { isProjectedLoss } from '../stream/trajectoryKinds.js';

/**
 * Label of a datapoint HDBSCAN marked as an outlier.
 *
 * @example
 * ```ts
 * labels.filter((l) => l === OUTLIER).length; // number of outliers
 * ```
 */
export const OUTLIER = -1;
/**
 * Label of a datapoint left out before clustering (its loss along b rose, or a value was not finite).
 *
 * @example
 * ```ts
 * labels.filter((l) => l === DROPPED).length; // equals event.dropped
 * ```
 */
export const DROPPED = -2;

/** A clustering function with the signature of `hdbscan` (labels −1 = noise). */
export type Clusterer = (
  points: ArrayLike<number>[],
  options: { minClusterSize: number; minSamples?: number; selection?: 'eom' | 'leaf' },
) => { labels: Int32Array; probabilities?: Float64Array };

/** Options of {@link clusterTrajectories}. */
export interface ClusterProcedureOptions {
  /** Trajectory kind of the matrix (recorded in the event, decides the default filters). */
  kind: TrajectoryKind;
  /** Basis vector id (−1 for `loss` and `loss-change`). */
  basisId: number;
  /** HDBSCAN min_cluster_size. Default {@link defaultClusterParams}(N).minClusterSize. */
  minClusterSize?: number;
  /**
   * HDBSCAN min_samples in the convention of `hdbscan.ts` (scikit-learn's:
   * the point itself counts; the Python hdbscan library's value is one less).
   * Default {@link defaultClusterParams}(N).minSamples.
   */
  minSamples?: number;
  /** Cluster selection. Default `'eom'` (excess of mass, as in the paper). */
  selection?: 'eom' | 'leaf';
  /**
   * Drop datapoints whose trajectory ends above where it started
   * (L_b(x, T) > L_b(x, t₀) = 0 for projected losses). Default: true for
   * projected-loss kinds (`polca`, `polca-first`, `lca`), false otherwise.
   */
  dropRising?: boolean;
  /**
   * Skip the whole vector when the mean trajectory rises from the first to the
   * last checkpoint (oscillatory direction). Default: as `dropRising`.
   */
  dropOscillatory?: boolean;
  /**
   * Above this many members the medoid's summed distance is taken over an
   * evenly strided subsample of this many members (every member is still a
   * candidate), to bound the O(m²T) cost. Default 2000.
   */
  medoidSample?: number;
  /** Time stamp of the emitted event. Default `Date.now()`. */
  time?: number;
  /** Clustering function. Default `hdbscan` from `./hdbscan.js`. */
  clusterer?: Clusterer;
}

/** Result of {@link clusterTrajectories}. */
export interface BasisClustering {
  /** The clusters, ready to emit. Empty when the vector is oscillatory. */
  event: ClustersEvent;
  /** Per datapoint: the id of its cluster, {@link OUTLIER} or {@link DROPPED}. */
  labels: Int32Array;
  /** Whether the vector was skipped as oscillatory. */
  oscillatory: boolean;
  /** The matrix that was clustered (rows may have grown since; the event's `steps` say how far it went). */
  trajectories: TrajectoryMatrix;
}

/**
 * HDBSCAN parameters scaled linearly from the paper's arithmetic setting
 * (N = 5000 probe datapoints): min_cluster_size = round(150 · N / 5000) =
 * round(0.03 N), at least 2; min_samples = round(N / 15), at least 1. N is
 * the probe size, not the number kept after dropping rising datapoints, so the
 * parameters are the same for every basis vector of a run. (The paper's
 * English run used 300 at N = 12,600, i.e. 0.024 N; pass it explicitly.)
 *
 * @example
 * ```ts
 * defaultClusterParams(5000); // { minClusterSize: 150, minSamples: 333 }
 * ```
 */
export function defaultClusterParams(n: number): { minClusterSize: number; minSamples: number } {
  positiveInt('defaultClusterParams', 'n', n);
  return { minClusterSize: Math.max(2, Math.round((150 * n) / 5000)), minSamples: Math.max(1, Math.round(n / 15)) };
}

/**
 * Whether the mean trajectory rises from the first to the last checkpoint
 * (datapoints with a non-finite end point are left out of the mean).
 *
 * @example
 * ```ts
 * isOscillatory(builder.matrix('polca', 3)!); // true → leave vector 3 out
 * ```
 */
export function isOscillatory(matrix: TrajectoryMatrix): boolean {
  const T = matrix.length;
  if (T < 2) return false;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < matrix.n; i++) {
    const diff = matrix.get(i, T - 1) - matrix.get(i, 0);
    if (Number.isFinite(diff)) {
      sum += diff;
      count++;
    }
  }
  return count > 0 && sum / count > 0;
}

/**
 * Quantile of sorted values with linear interpolation between order
 * statistics (type 7, NumPy's default).
 *
 * @example
 * ```ts
 * quantileSorted([1, 2, 3, 4], 0.25); // 1.75
 * ```
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Medoid of a set of trajectories: the member minimising the summed Euclidean
 * distance to the others (ties: the lowest datapoint index). With more than
 * `sample` members, distances are summed over an evenly strided subsample.
 * Exact (no heuristics): candidates are visited in order of a lower bound on
 * their total and the search stops when the bound passes the best total.
 *
 * @returns the datapoint index of the medoid.
 *
 * @example
 * ```ts
 * medoidOf(matrix, Int32Array.from([4, 9, 12])); // one of 4, 9, 12
 * ```
 */
export function medoidOf(matrix: TrajectoryMatrix, members: ArrayLike<number>, sample = 2000): number {
  const m = members.length;
  if (m === 0) throw new RangeError('medoidOf: members is empty');
  positiveInt('medoidOf', 'sample', sample);
  const refs: number[] = [];
  if (m <= sample) for (let k = 0; k < m; k++) refs.push(members[k]);
  else for (let k = 0; k < sample; k++) refs.push(members[Math.floor((k * m) / sample)]);
  const T = matrix.length;
  const refRows = refs.map((r) => matrix.row(r));
  // By convexity Σ_j ‖a − x_j‖ ≥ |refs| · ‖a − mean‖, so candidates taken in
  // order of that bound can stop as soon as the bound exceeds the best total.
  const mean = new Float64Array(T);
  for (const row of refRows) for (let t = 0; t < T; t++) mean[t] += row[t];
  for (let t = 0; t < T; t++) mean[t] /= refRows.length;
  const order = Array.from({ length: m }, (_, k) => {
    const a = matrix.row(members[k]);
    let s = 0;
    for (let t = 0; t < T; t++) s += (a[t] - mean[t]) ** 2;
    return { x: members[k], bound: refRows.length * Math.sqrt(s) };
  }).sort((p, q) => p.bound - q.bound || p.x - q.x);
  let best = Infinity;
  let bestIdx = -1;
  for (const { x, bound } of order) {
    // A relative margin keeps rounding in the bound from cutting off an exact tie.
    if (bound > best * (1 + 1e-12)) break;
    const a = matrix.row(x);
    let total = 0;
    for (const b of refRows) {
      let s = 0;
      for (let t = 0; t < T; t++) {
        const d = a[t] - b[t];
        s += d * d;
      }
      total += Math.sqrt(s);
      if (total > best) break;
    }
    if (total < best || (total === best && x < bestIdx)) {
      best = total;
      bestIdx = x;
    }
  }
  return bestIdx;
}

/**
 * Summary of one cluster: medoid and the median / quartile curves.
 *
 * @example
 * ```ts
 * summarizeCluster(matrix, 0, Int32Array.from([1, 5, 7])).median; // per-step median
 * ```
 */
export function summarizeCluster(matrix: TrajectoryMatrix, id: number, members: Int32Array, medoidSample = 2000): ClusterSummary {
  const T = matrix.length;
  const median = new Float64Array(T);
  const q25 = new Float64Array(T);
  const q75 = new Float64Array(T);
  const col = new Float64Array(members.length);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < members.length; k++) col[k] = matrix.get(members[k], t);
    col.sort();
    median[t] = quantileSorted(col, 0.5);
    q25[t] = quantileSorted(col, 0.25);
    q75[t] = quantileSorted(col, 0.75);
  }
  return { id, members, medoid: medoidOf(matrix, members, medoidSample), median, q25, q75 };
}

/**
 * Clusters the trajectories along one basis vector with the paper's
 * procedure: (0) a projected-loss vector whose mean rises is oscillatory and
 * skipped; (1) datapoints whose trajectory rises (or holds a non-finite value)
 * are dropped; (2) HDBSCAN on the remaining rows (Euclidean distance on the
 * whole trajectory); (3) outliers are discarded. Clusters get ids 0, 1, … in
 * HDBSCAN label order. If fewer datapoints remain than `minClusterSize`,
 * HDBSCAN is not run and they all count as outliers; `minSamples` is capped
 * at the number remaining.
 *
 * @example
 * ```ts
 * const L = builder.matrix('polca', 0)!;
 * const { event, labels } = clusterTrajectories(L, { kind: 'polca', basisId: 0 });
 * event.clusters.map((c) => c.members.length);
 * ```
 */
export function clusterTrajectories(matrix: TrajectoryMatrix, options: ClusterProcedureOptions): BasisClustering {
  const fn = 'clusterTrajectories';
  const n = matrix.n;
  const T = matrix.length;
  const defaults = defaultClusterParams(n);
  const minClusterSize = positiveInt(fn, 'minClusterSize', options.minClusterSize ?? defaults.minClusterSize, 2);
  const minSamples = positiveInt(fn, 'minSamples', options.minSamples ?? defaults.minSamples, 1);
  const medoidSample = positiveInt(fn, 'medoidSample', options.medoidSample ?? 2000, 1);
  const selection = oneOf(fn, 'selection', options.selection ?? 'eom', ['eom', 'leaf'] as const);
  if (T < 1) throw new RangeError(`${fn}: the matrix has no checkpoints`);
  const projected = isProjectedLoss(options.kind);
  const dropRising = options.dropRising ?? projected;
  const dropOscillatory = options.dropOscillatory ?? dropRising;
  const steps = Int32Array.from(matrix.steps);
  const labels = new Int32Array(n).fill(DROPPED);
  const event: ClustersEvent = {
    type: 'clusters',
    time: options.time ?? Date.now(),
    step: steps[T - 1],
    kind: options.kind,
    basisId: options.basisId,
    steps,
    clusters: [],
    dropped: n,
    outliers: 0,
  };
  if (dropOscillatory && isOscillatory(matrix)) return { event, labels, oscillatory: true, trajectories: matrix };

  const kept: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = matrix.row(i);
    let finite = true;
    for (let t = 0; t < T; t++) {
      if (!Number.isFinite(row[t])) {
        finite = false;
        break;
      }
    }
    if (!finite) continue;
    if (dropRising && row[T - 1] > row[0]) continue;
    kept.push(i);
  }
  event.dropped = n - kept.length;
  if (kept.length < minClusterSize || kept.length < 2) {
    for (const i of kept) labels[i] = OUTLIER;
    event.outliers = kept.length;
    return { event, labels, oscillatory: false, trajectories: matrix };
  }
  const clusterer = options.clusterer ?? hdbscan;
  const result = clusterer(
    kept.map((i) => matrix.row(i)),
    { minClusterSize, minSamples: Math.min(minSamples, kept.length), selection },
  );
  if (result.labels.length !== kept.length) {
    throw new RangeError(`${fn}: the clusterer returned ${result.labels.length} labels for ${kept.length} points`);
  }
  const groups = new Map<number, number[]>();
  let outliers = 0;
  for (let k = 0; k < kept.length; k++) {
    const l = result.labels[k];
    if (l < 0) {
      labels[kept[k]] = OUTLIER;
      outliers++;
      continue;
    }
    let g = groups.get(l);
    if (!g) groups.set(l, (g = []));
    g.push(kept[k]);
  }
  event.outliers = outliers;
  const order = [...groups.keys()].sort((a, b) => a - b);
  order.forEach((l, id) => {
    const members = Int32Array.from(groups.get(l)!);
    for (const i of members) labels[i] = id;
    event.clusters.push(summarizeCluster(matrix, id, members, medoidSample));
  });
  return { event, labels, oscillatory: false, trajectories: matrix };
}

/**
 * Runs {@link clusterTrajectories} for every basis vector the builder holds
 * for `kind` (one run with basis id −1 for `loss` / `loss-change`).
 *
 * @example
 * ```ts
 * const all = clusterAllBasisVectors(builder, 'polca', { minClusterSize: 50 });
 * all.filter((r) => !r.oscillatory).length; // vectors kept
 * ```
 */
export function clusterAllBasisVectors(
  builder: TrajectoryBuilder,
  kind: TrajectoryKind,
  options: Omit<ClusterProcedureOptions, 'kind' | 'basisId'> = {},
): BasisClustering[] {
  const out: BasisClustering[] = [];
  for (const id of builder.basisIds(kind)) {
    const m = builder.matrix(kind, id);
    if (!m || m.length < 1) continue;
    out.push(clusterTrajectories(m, { ...options, kind, basisId: id }));
  }
  return out;
}
