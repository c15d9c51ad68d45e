/**
 * Minimum spanning tree of the mutual-reachability graph for
 * {@link hdbscan}, by Prim's O(n²) algorithm with distances computed on the
 * fly (memory O(n)).
 *
 * @packageDocumentation
 */
import type { ProjectionBound } from './projectionBound.js';
import { boundFor, squaredDistance } from './squaredDistance.js';

/** The spanning tree: node v ≥ 1 hangs from `parent[v]` by an edge of weight `weight[v]`. */
/** Relative allowance of the lower-bound test (see `projectionBound`). */
const REL = 1 + 1e-10;

export interface SpanningTree {
  /** Parent of each node; `parent[0] = -1` (node 0 is the root). */
  parent: Int32Array;
  /** Mutual-reachability weight of the edge to the parent; `weight[0] = 0`. */
  weight: Float64Array;
}

/**
 * Prim's algorithm on mrd(a, b) = max(core[a], core[b], ‖x_a − x_b‖),
 * replicating R dbscan ≥ 1.2.1 (`mst()` in `src/mst.cpp`) step for step so that
 * ties resolve the same way: start at node 0; after adding a node, scan the
 * unvisited nodes in increasing index, lower a node's key only when strictly
 * smaller, and add next the lowest-index node of minimum key.
 *
 * Three shortcuts skip work without changing any result: a pair whose larger
 * core distance already reaches the node's key cannot lower it, nor can a
 * pair whose projected distance (a lower bound) is above the key, and a
 * distance sum is abandoned once it exceeds the key.
 *
 * @param x - n·d coordinates, row-major.
 * @param n - Number of rows (≥ 1).
 * @param d - Row length.
 * @param core - Core distances (see `coreDistances`).
 * @param bound - Projection lower bound that lets far pairs be skipped (optional).
 * @returns Parent and edge weight of every node.
 *
 * @example
 * ```ts
 * const t = primMst(Float64Array.of(0, 1, 3), 3, 1, new Float64Array(3));
 * Array.from(t.parent); // [-1, 0, 1]
 * Array.from(t.weight); // [0, 1, 2]
 * ```
 */
export function primMst(
  x: Float64Array,
  n: number,
  d: number,
  core: Float64Array,
  bound: ProjectionBound = { m: 0, y: new Float64Array(0), slack: new Float64Array(0) },
): SpanningTree {
  const parent = new Int32Array(n).fill(-1);
  const weight = new Float64Array(n).fill(Infinity);
  const visited = new Uint8Array(n);
  const { m, y, slack } = bound;
  weight[0] = 0;
  let node = 0;
  for (let added = 1; ; added++) {
    visited[node] = 1;
    if (added === n) break;
    const cn = core[node];
    const oy = node * m;
    const sn = slack[node];
    let next = -1;
    let nextWeight = Infinity;
    for (let i = 1; i < n; i++) {
      if (visited[i] === 1) continue;
      let w = weight[i];
      const ci = core[i];
      const floor = cn > ci ? cn : ci;
      if (floor < w) {
        // `exceeds` of projectionBound.ts, inlined, testing the first coordinate alone first.
        let far = false;
        if (m > 0 && w !== Infinity) {
          const lim = w * REL + sn + slack[i];
          const lim2 = lim * lim;
          const oi = i * m;
          const e0 = y[oy] - y[oi];
          let s = e0 * e0;
          if (s <= lim2) {
            for (let c = 1; c < m; c++) {
              const e = y[oy + c] - y[oi + c];
              s += e * e;
            }
          }
          far = s > lim2;
        }
        if (!far) {
          const dist = Math.sqrt(squaredDistance(x, node, i, d, w === Infinity ? Infinity : boundFor(w)));
          const mrd = dist > floor ? dist : floor;
          if (mrd < w) {
            weight[i] = mrd;
            parent[i] = node;
            w = mrd;
          }
        }
      }
      if (w < nextWeight) {
        nextWeight = w;
        next = i;
      }
    }
    // Only non-finite core distances can leave a node unreachable; callers never pass them.
    if (next < 0) throw new RangeError('primMst: graph is disconnected (non-finite core distance)');
    node = next;
  }
  return { parent, weight };
}
