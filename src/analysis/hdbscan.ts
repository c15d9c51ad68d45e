/**
 * HDBSCAN (Campello, Moulavi & Sander 2013) on Euclidean points, written for
 * polca's trajectory clustering and checked against R's `dbscan::hdbscan`.
 *
 * @packageDocumentation
 */
import { oneOf, positiveInt } from '../errors/validate.js';
import { condenseTree } from './hdbscan/condenseTree.js';
import { coreDistances } from './hdbscan/coreDistances.js';
import { primMst } from './hdbscan/primMst.js';
import { projectionBound } from './hdbscan/projectionBound.js';
import { selectClusters, type ClusterSelection } from './hdbscan/selectClusters.js';

export type { ClusterSelection } from './hdbscan/selectClusters.js';

/** Options of {@link hdbscan}. */
export interface HdbscanOptions {
  /**
   * Smallest number of points that forms a cluster (integer ≥ 2). R's `minPts`
   * plays this role and the next; scikit-learn's and the hdbscan library's
   * `min_cluster_size` mean the same.
   */
  minClusterSize: number;
  /**
   * Density smoothing (integer ≥ 1, default `minClusterSize`): the core
   * distance of a point is the distance to its `minSamples`-th nearest
   * neighbour **counting the point itself**, i.e. to its (minSamples − 1)-th
   * nearest other point. This is R's `minPts` (`coredist = kNNdist(x, minPts − 1)`)
   * and scikit-learn's `min_samples`; the Python hdbscan library's
   * `min_samples` does not count the point, so hdbscan-library `min_samples = m`
   * is `minSamples: m + 1` here. With more than n, no point is ever dense and
   * everything is noise.
   */
  minSamples?: number;
  /** `'eom'` (excess of mass, default) or `'leaf'` (the finest clusters). */
  selection?: ClusterSelection;
}

/** Result of {@link hdbscan}. */
export interface HdbscanResult {
  /** Cluster of each point, 0 … numClusters − 1 in order of first appearance; −1 for noise. */
  labels: Int32Array;
  /**
   * Membership strength in [0, 1] as in the Python hdbscan library: λ at which
   * the point leaves its cluster over the cluster's largest such λ (1 for points
   * inside a selected cluster's sub-clusters, 0 for noise). R's
   * `membership_prob` differs: it is 1 − core/max core over the cluster.
   */
  probabilities: Float64Array;
  /**
   * GLOSH outlier score of each point (Campello et al. 2015): 1 − ε_min/ε_p,
   * with ε_p where the point leaves its deepest cluster and ε_min the densest
   * level below that cluster. Same as R's `outlier_scores`, except when no
   * cluster is found (R then reports 1 everywhere).
   */
  outlierScores: Float64Array;
  /** Core distance of each point (R's `coredist`); Infinity when minSamples > n. */
  coreDistances: Float64Array;
  /** Number of clusters found. */
  numClusters: number;
  /** Stability of each cluster, indexed by label (R's `cluster_scores`). */
  clusterStabilities: Float64Array;
}

const FN = 'hdbscan';
/** Principal directions of the distance lower bound (8 balanced its cost and pruning in bench/cluster.ts). */
const BOUND_DIRECTIONS = 8;

/**
 * Clusters points with HDBSCAN* and returns flat labels (−1 = noise).
 *
 * Follows R's `dbscan::hdbscan` (version ≥ 1.2.1) step for step — core
 * distances, Prim's spanning tree of the mutual-reachability graph with the
 * same tie-breaking, R's condensed tree and stabilities, excess-of-mass
 * selection without a single-cluster option — so with
 * `minClusterSize = minSamples = minPts` the labels equal R's. R's condensed
 * tree (see `condenseTree`) differs from scikit-learn's: a part smaller than
 * `minClusterSize` that splits off a cluster does not leave it at the split
 * level but point by point at the points' own, denser levels. That raises the
 * stability of clusters with small dense clumps, so the selected clusters can
 * differ from scikit-learn's.
 *
 * Cost: O(n²·d) time at worst — each pairwise distance at most once for the
 * core distances (plus minSamples per point for a first estimate) and once
 * more for the spanning tree — and O(n·d + n·minSamples) memory, never an
 * n × n matrix. From 16 dimensions and 64 points on, both
 * passes first compare the points' projections on 8 leading principal
 * directions (a lower bound on the distance) and skip pairs that provably
 * cannot matter; results are bitwise the same as without the shortcut.
 *
 * @param points - n rows of equal length d ≥ 1 (number[] or typed arrays), finite values.
 * @param options - See {@link HdbscanOptions}.
 * @returns Labels, probabilities, outlier scores, core distances, stabilities.
 * @throws TypeError / RangeError naming the option and the bad value.
 *
 * @example
 * ```ts
 * const points = [[0], [1], [2], [10], [11], [12], [50]];
 * const { labels, numClusters } = hdbscan(points, { minClusterSize: 3, minSamples: 2 });
 * // numClusters = 2, labels = [0, 0, 0, 1, 1, 1, -1]
 * ```
 */
export function hdbscan(points: ArrayLike<number>[], options: HdbscanOptions): HdbscanResult {
  const { minClusterSize, minSamples, selection } = validateOptions(options);
  const { x, n, d } = flatten(points);
  const labels = new Int32Array(n).fill(-1);
  const probabilities = new Float64Array(n);
  const outlierScores = new Float64Array(n);
  if (minSamples > n) {
    return {
      labels,
      probabilities,
      outlierScores,
      coreDistances: new Float64Array(n).fill(Infinity),
      numClusters: 0,
      clusterStabilities: new Float64Array(0),
    };
  }
  // Below ~16 dimensions a full distance costs little more than the bound.
  const bound = projectionBound(x, n, d, d >= 16 && n >= 64 ? BOUND_DIRECTIONS : 0);
  const core = coreDistances(x, n, d, minSamples - 1, bound);
  if (n < 2) {
    return { labels, probabilities, outlierScores, coreDistances: core, numClusters: 0, clusterStabilities: new Float64Array(0) };
  }
  const tree = condenseTree(primMst(x, n, d, core, bound), minClusterSize);
  const selected = selectClusters(tree, selection);
  const { count, parent, child1, child2, death, stability, pointCluster, pointEps } = tree;

  // Selected ancestor-or-self of every cluster (parents precede children).
  const owner = new Int32Array(count).fill(-1);
  for (let c = 1; c < count; c++) owner[c] = selected[c] === 1 ? c : owner[parent[c]];

  // Labels in order of first appearance.
  const labelOf = new Int32Array(count).fill(-1);
  const stabilities: number[] = [];
  for (let p = 0; p < n; p++) {
    const s = owner[pointCluster[p]];
    if (s < 0) continue;
    if (labelOf[s] < 0) {
      labelOf[s] = stabilities.length;
      stabilities.push(stability[s]);
    }
    labels[p] = labelOf[s];
  }

  // Largest λ of each cluster: over its own points and, if it splits, its children's birth.
  const maxLambda = new Float64Array(count);
  for (let c = 0; c < count; c++) if (child1[c] >= 0) maxLambda[c] = lambda(death[c]);
  for (let p = 0; p < n; p++) {
    const c = pointCluster[p];
    const l = lambda(pointEps[p]);
    if (l > maxLambda[c]) maxLambda[c] = l;
  }
  // Densest level at or below each cluster: min over its leaves' death.
  const epsMin = new Float64Array(count);
  for (let c = count - 1; c >= 0; c--) {
    epsMin[c] = child1[c] < 0 ? death[c] : Math.min(epsMin[child1[c]], epsMin[child2[c]]);
  }
  for (let p = 0; p < n; p++) {
    const c = pointCluster[p];
    const eps = pointEps[p];
    const glosh = 1 - epsMin[c] / eps;
    outlierScores[p] = Number.isNaN(glosh) ? 0 : glosh;
    const s = owner[c];
    if (s < 0) continue;
    if (s !== c) {
      probabilities[p] = 1;
      continue;
    }
    const lp = lambda(eps);
    const lmax = maxLambda[s];
    probabilities[p] = lmax === 0 || lp === Infinity ? 1 : Math.min(lp, lmax) / lmax;
  }
  return {
    labels,
    probabilities,
    outlierScores,
    coreDistances: core,
    numClusters: stabilities.length,
    clusterStabilities: Float64Array.from(stabilities),
  };
}

function lambda(eps: number): number {
  return eps > 0 ? 1 / eps : Infinity;
}

function validateOptions(options: HdbscanOptions): Required<HdbscanOptions> {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${FN}: options must be an object with minClusterSize, got ${String(options)}`);
  }
  const { minClusterSize, minSamples = minClusterSize, selection = 'eom' } = options;
  positiveInt(FN, 'minClusterSize', minClusterSize, 2);
  positiveInt(FN, 'minSamples', minSamples);
  oneOf(FN, 'selection', selection, ['eom', 'leaf'] as const);
  return { minClusterSize, minSamples, selection };
}

/** Copies the rows into one row-major Float64Array, checking shape and finiteness. */
function flatten(points: ArrayLike<number>[]): { x: Float64Array; n: number; d: number } {
  if (!Array.isArray(points)) {
    throw new TypeError(`${FN}: points must be an array of rows, got ${describe(points)}`);
  }
  const n = points.length;
  if (n === 0) return { x: new Float64Array(0), n: 0, d: 0 };
  const first = points[0];
  if (first === null || typeof first !== 'object' || typeof first.length !== 'number') {
    throw new TypeError(`${FN}: points[0] must be an array of numbers, got ${describe(first)}`);
  }
  const d = first.length;
  if (d < 1) throw new RangeError(`${FN}: points[0] is empty; rows need at least one coordinate`);
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = points[i];
    if (row === null || typeof row !== 'object' || typeof row.length !== 'number') {
      throw new TypeError(`${FN}: points[${i}] must be an array of numbers, got ${describe(row)}`);
    }
    if (row.length !== d) {
      throw new RangeError(`${FN}: points[${i}] has length ${row.length}, expected ${d} (the length of points[0])`);
    }
    const off = i * d;
    for (let j = 0; j < d; j++) {
      const v = row[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(`${FN}: points[${i}][${j}] is ${describe(v)}; coordinates must be finite numbers`);
      }
      x[off + j] = v;
    }
  }
  return { x, n, d };
}

function describe(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return String(v);
  return Array.isArray(v) ? `an array of length ${v.length}` : typeof v;
}
