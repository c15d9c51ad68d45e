/**
 * From the mutual-reachability spanning tree to the cluster tree of
 * {@link hdbscan}: single-linkage merges, then the condensed cluster hierarchy
 * with every point's exit level and every cluster's stability.
 *
 * @packageDocumentation
 */
import type { SpanningTree } from './primMst.js';

/**
 * The condensed cluster hierarchy. Cluster 0 is the root (all points);
 * clusters are numbered in order of creation, so a child's id is larger than
 * its parent's. Levels are mutual-reachability distances ε (λ = 1/ε).
 */
export interface ClusterTree {
  /** Number of clusters including the root. */
  count: number;
  /** Parent cluster (−1 for the root). */
  parent: Int32Array;
  /** First and second child cluster, or −1 for a leaf. */
  child1: Int32Array;
  child2: Int32Array;
  /** ε at which the cluster appears (the root: the largest merge height). */
  birth: Float64Array;
  /**
   * ε at which the cluster splits into two children; for a leaf, the lowest
   * merge height inside it (its densest level).
   */
  death: Float64Array;
  /** Σ over the cluster's points (λ_p − λ_birth) + (points of its children)·(λ_death − λ_birth). */
  stability: Float64Array;
  /** The deepest cluster each point belongs to. */
  pointCluster: Int32Array;
  /** ε at which each point leaves its deepest cluster. */
  pointEps: Float64Array;
}

/** λ = 1/ε, with λ = ∞ at ε = 0 (duplicated points). */
function lambda(eps: number): number {
  return eps > 0 ? 1 / eps : Infinity;
}

/** λ_p − λ_birth, taken as 0 for a cluster born at ε = 0 (∞ − ∞). */
function excess(eps: number, birth: number): number {
  const lb = lambda(birth);
  return lb === Infinity ? 0 : lambda(eps) - lb;
}

/**
 * Builds the condensed cluster tree the way R dbscan's `computeStability`
 * (`src/hdbscan.cpp`) does, so that stabilities and therefore the selected
 * clusters agree with R:
 *
 * - Spanning-tree edges are merged in increasing weight, ties by node index
 *   (R: `order(mst[, 3])`, a stable sort of rows indexed by node).
 * - Walking the merges from the top, a cluster splits when both merging parts
 *   hold at least `minClusterSize` points. Otherwise both parts stay in the
 *   cluster, and a point leaves it only where it stops being a singleton in
 *   the single-linkage tree — at its lowest merge height, or at the cluster's
 *   split height if that is higher. (scikit-learn and the Python hdbscan
 *   library instead drop a too-small part at the height where it splits off.)
 *
 * @param tree - The spanning tree from `primMst` (n ≥ 2 nodes).
 * @param minClusterSize - Smallest part size that counts as a cluster (≥ 2).
 * @returns The cluster hierarchy.
 *
 * @example
 * ```ts
 * // 1-D points 0, 1, 2, 10, 11, 12 with zero core distances:
 * const t = condenseTree(primMst(Float64Array.of(0, 1, 2, 10, 11, 12), 6, 1, new Float64Array(6)), 3);
 * t.count; // 3 (root splits at ε = 8 into {0,1,2} and {10,11,12})
 * ```
 */
export function condenseTree(tree: SpanningTree, minClusterSize: number): ClusterTree {
  const { parent: mstParent, weight } = tree;
  const n = mstParent.length;
  const m = n - 1;

  // Edges (node v, parent[v]) for v = 1..n−1 in increasing weight, ties by v.
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i + 1;
  order.sort((a, b) => weight[a] - weight[b] || a - b);

  // Single linkage. Parts are encoded as merge index k ≥ 0 or point −(p + 1).
  const left = new Int32Array(m);
  const right = new Int32Array(m);
  const height = new Float64Array(m);
  const size = new Int32Array(m);
  const uf = new Int32Array(n);
  const ufLabel = new Int32Array(n);
  const ufSize = new Int32Array(n).fill(1);
  for (let p = 0; p < n; p++) {
    uf[p] = p;
    ufLabel[p] = -(p + 1);
  }
  const find = (p: number): number => {
    let r = p;
    while (uf[r] !== r) r = uf[r];
    while (uf[p] !== r) {
      const next = uf[p];
      uf[p] = r;
      p = next;
    }
    return r;
  };
  for (let k = 0; k < m; k++) {
    const v = order[k];
    const a = find(v);
    const b = find(mstParent[v]);
    left[k] = ufLabel[a];
    right[k] = ufLabel[b];
    height[k] = weight[v];
    size[k] = ufSize[a] + ufSize[b];
    const [big, small] = ufSize[a] >= ufSize[b] ? [a, b] : [b, a];
    uf[small] = big;
    ufSize[big] += ufSize[small];
    ufLabel[big] = k;
  }

  // Top-down walk. At most n/minClusterSize leaves, so fewer than 2n/minClusterSize + 1 clusters.
  const cap = Math.floor((2 * n) / minClusterSize) + 2;
  const cParent = new Int32Array(cap).fill(-1);
  const child1 = new Int32Array(cap).fill(-1);
  const child2 = new Int32Array(cap).fill(-1);
  const birth = new Float64Array(cap);
  const death = new Float64Array(cap);
  const split = new Uint8Array(cap);
  const childPoints = new Int32Array(cap);
  const tracker = new Int32Array(m);
  const pointCluster = new Int32Array(n);
  const pointEps = new Float64Array(n);
  let count = 1;
  birth[0] = height[m - 1];
  death[0] = Infinity;
  tracker[m - 1] = 0;
  const exitPoint = (p: number, c: number, h: number): void => {
    pointCluster[p] = c;
    pointEps[p] = split[c] === 1 ? death[c] : h;
  };
  for (let k = m - 1; k >= 0; k--) {
    const c = tracker[k];
    const l = left[k];
    const r = right[k];
    const h = height[k];
    if (l < 0 && r < 0) {
      exitPoint(-l - 1, c, h);
      exitPoint(-r - 1, c, h);
      if (split[c] === 0 && h < death[c]) death[c] = h;
    } else if (l < 0 || r < 0) {
      exitPoint(l < 0 ? -l - 1 : -r - 1, c, h);
      tracker[l < 0 ? r : l] = c;
    } else if (size[l] >= minClusterSize && size[r] >= minClusterSize) {
      death[c] = h;
      split[c] = 1;
      childPoints[c] = size[l] + size[r];
      for (const part of [l, r]) {
        const id = count++;
        cParent[id] = c;
        birth[id] = h;
        death[id] = height[part];
        tracker[part] = id;
        if (part === l) child1[c] = id;
        else child2[c] = id;
      }
    } else {
      tracker[l] = c;
      tracker[r] = c;
    }
  }

  const stability = new Float64Array(count);
  for (let p = 0; p < n; p++) {
    const c = pointCluster[p];
    stability[c] += excess(pointEps[p], birth[c]);
  }
  for (let c = 0; c < count; c++) {
    if (split[c] === 1) stability[c] += childPoints[c] * excess(death[c], birth[c]);
  }
  return {
    count,
    parent: cParent.slice(0, count),
    child1: child1.slice(0, count),
    child2: child2.slice(0, count),
    birth: birth.slice(0, count),
    death: death.slice(0, count),
    stability,
    pointCluster,
    pointEps,
  };
}
