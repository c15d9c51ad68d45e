/**
 * Core distances for {@link hdbscan}: the distance from every point to its
 * k-th nearest other point, by brute force with bounded max-heaps.
 *
 * @packageDocumentation
 */
import { exceeds, projectedSquaredDistances, type ProjectionBound } from './projectionBound.js';
import { boundFor, squaredDistance } from './squaredDistance.js';

/** Above this many heap slots (n·k) the pairwise-symmetric pass would use too much memory. */
const MAX_HEAP_SLOTS = 1 << 23;

/** No projection bound: every pair is computed. */
const NO_BOUND: ProjectionBound = { m: 0, y: new Float64Array(0), slack: new Float64Array(0) };

/**
 * Distance from each of the `n` rows of `x` to its `k`-th nearest *other*
 * row (duplicates count as neighbours at distance 0). `k = 0` gives zeros.
 *
 * With a projection bound, each row first gets an upper bound on its answer:
 * the k-th smallest true distance among the k rows nearest in projection. A
 * pair is then skipped when its projected distance shows it is farther than
 * both rows' bounds — every row still sees every row within its bound, so the
 * k-th smallest distance is exact. Each remaining pair's distance is computed
 * once and offered to both rows' heaps while n·k heap slots fit in 64 MB;
 * beyond that every row keeps its own heap and pairs are visited twice
 * (memory O(n + k)). Distance sums stop early once they pass both bounds.
 *
 * @param x - n·d coordinates, row-major.
 * @param n - Number of rows.
 * @param d - Row length.
 * @param k - Neighbour rank, 0 ≤ k ≤ n − 1.
 * @param bound - Projection lower bound that lets far pairs be skipped (`m = 0`: none).
 * @param maxHeapSlots - Largest n·k for the pairwise pass (default 2²³, i.e. 64 MB).
 * @returns Float64Array of n core distances (true distances, not squared).
 *
 * @example
 * ```ts
 * coreDistances(Float64Array.of(0, 1, 3), 3, 1, 1); // Float64Array [1, 1, 2]
 * ```
 */
export function coreDistances(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  bound: ProjectionBound = NO_BOUND,
  maxHeapSlots = MAX_HEAP_SLOTS,
): Float64Array {
  const core = new Float64Array(n);
  if (k <= 0 || n < 2) return core;
  if (k > n - 1) throw new RangeError(`coreDistances: k (${k}) must be at most n - 1 (${n - 1})`);
  const ub = bound.m > 0 ? upperBounds(x, n, d, k, bound) : new Float64Array(n).fill(Infinity);
  if (n * k <= maxHeapSlots) symmetricPass(x, n, d, k, bound, ub, core);
  else rowPass(x, n, d, k, bound, ub, core);
  return core;
}

/** Per row, the k-th smallest true distance to the k rows nearest in projection. */
function upperBounds(x: Float64Array, n: number, d: number, k: number, bound: ProjectionBound): Float64Array {
  const ub = new Float64Array(n);
  const lb2 = new Float64Array(n);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    projectedSquaredDistances(bound, i, lb2);
    lb2[i] = Infinity;
    for (let j = 0; j < n; j++) idx[j] = j;
    selectSmallest(lb2, idx, k);
    let worst = 0;
    for (let c = 0; c < k; c++) {
      const dist = Math.sqrt(squaredDistance(x, i, idx[c], d, Infinity));
      if (dist > worst) worst = dist;
    }
    ub[i] = worst;
  }
  return ub;
}

/**
 * Reorders `idx` so that its first k entries index the k smallest `keys`
 * (Hoare-partition quickselect; ties in any order).
 */
function selectSmallest(keys: Float64Array, idx: Int32Array, k: number): void {
  let lo = 0;
  let hi = idx.length - 1;
  const target = k - 1;
  while (hi > lo) {
    const pivot = keys[idx[(lo + hi) >>> 1]];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[idx[i]] < pivot) i++;
      while (keys[idx[j]] > pivot) j--;
      if (i <= j) {
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
  }
}

function symmetricPass(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  bound: ProjectionBound,
  ub: Float64Array,
  core: Float64Array,
): void {
  const heaps = new Float64Array(n * k);
  const sizes = new Int32Array(n);
  // top[i]: current k-th smallest distance of i (Infinity until its heap is full).
  const top = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    const ui = ub[i];
    for (let j = i + 1; j < n; j++) {
      const ti = top[i];
      const tj = top[j];
      const uj = ub[j];
      // A pair matters to row i only below min(top, ub).
      const ci = ti < ui ? ti : ui;
      const cj = tj < uj ? tj : uj;
      const t = ci > cj ? ci : cj;
      if (exceeds(bound, i, j, t)) continue;
      const dist = Math.sqrt(squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t)));
      // dist ≤ ci guarantees a complete (not early-exited) sum.
      if (dist < ti && dist <= ui) top[i] = offer(heaps, i * k, sizes, i, k, dist);
      if (dist < tj && dist <= uj) top[j] = offer(heaps, j * k, sizes, j, k, dist);
    }
    core[i] = heaps[i * k];
  }
}

function rowPass(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  bound: ProjectionBound,
  ub: Float64Array,
  core: Float64Array,
): void {
  const heap = new Float64Array(k);
  const size = new Int32Array(1);
  for (let i = 0; i < n; i++) {
    size[0] = 0;
    const ui = ub[i];
    let top = Infinity;
    for (let j = 0; j < n; j++) {
      const t = top < ui ? top : ui;
      if (j === i || exceeds(bound, i, j, t)) continue;
      const dist = Math.sqrt(squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t)));
      if (dist < top && dist <= ui) top = offer(heap, 0, size, 0, k, dist);
    }
    core[i] = heap[0];
  }
}

/**
 * Offer `v` to the max-heap of capacity k at `heaps[off..off+k)`; returns the
 * heap's new threshold (its maximum when full, Infinity while filling).
 */
function offer(heaps: Float64Array, off: number, sizes: Int32Array, h: number, k: number, v: number): number {
  let size = sizes[h];
  if (size < k) {
    // Sift up.
    let c = size;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heaps[off + p] >= v) break;
      heaps[off + c] = heaps[off + p];
      c = p;
    }
    heaps[off + c] = v;
    sizes[h] = ++size;
    return size === k ? heaps[off] : Infinity;
  }
  // Replace the maximum and sift down.
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= k) break;
    const r = l + 1;
    const m = r < k && heaps[off + r] > heaps[off + l] ? r : l;
    if (heaps[off + m] <= v) break;
    heaps[off + c] = heaps[off + m];
    c = m;
  }
  heaps[off + c] = v;
  return heaps[off];
}
