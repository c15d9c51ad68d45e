/**
 * Core distances for {@link hdbscan}: the distance from every point to its
 * k-th nearest other point, by brute force with bounded max-heaps.
 *
 * @packageDocumentation
 */
import type { ProjectionBound } from './projectionBound.js';
import { boundFor, squaredDistance } from './squaredDistance.js';

/** Above this many heap slots (n·k) the pairwise-symmetric pass would use too much memory. */
const MAX_HEAP_SLOTS = 1 << 23;

/** Relative allowance of every lower-bound test (see `projectionBound`). */
const REL = 1 + 1e-10;

/** No projection bound: every pair is computed. */
const NO_BOUND: ProjectionBound = { m: 0, y: new Float64Array(0), slack: new Float64Array(0) };

/**
 * Distance from each of the `n` rows of `x` to its `k`-th nearest *other*
 * row (duplicates count as neighbours at distance 0). `k = 0` gives zeros.
 *
 * Without a bound, every pair's distance is computed once and offered to both
 * rows' heaps. With a projection bound (rows projected on m leading principal
 * directions, a lower bound on distances):
 *
 * 1. rows are sorted by their first projected coordinate;
 * 2. each row gets an upper bound u on its answer — the largest true distance
 *    to the k rows, among its 4k neighbours in that order, that are nearest
 *    in projection;
 * 3. each row scans outward in sorted order until the first coordinate alone
 *    is farther than u, skipping pairs whose projected distance is above u.
 *
 * Every pair closer than either row's u is still computed, so the k-th
 * smallest distance is exact; each pair is computed once (by the row with the
 * larger u) and offered to both heaps while n·k heap slots fit in 64 MB,
 * beyond that each row keeps its own heap (memory O(n + k)).
 *
 * @param x - n·d coordinates, row-major.
 * @param n - Number of rows.
 * @param d - Row length.
 * @param k - Neighbour rank, 0 ≤ k ≤ n − 1.
 * @param bound - Projection lower bound (`m = 0`: none).
 * @param maxHeapSlots - Largest n·k for shared heaps (default 2²³, i.e. 64 MB).
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
  const shared = n * k <= maxHeapSlots;
  if (bound.m === 0) {
    if (shared) plainShared(x, n, d, k, core);
    else plainPerRow(x, n, d, k, core);
  } else {
    windowed(x, n, d, k, bound, shared, core);
  }
  return core;
}

function plainShared(x: Float64Array, n: number, d: number, k: number, core: Float64Array): void {
  const heaps = new Float64Array(n * k);
  const sizes = new Int32Array(n);
  // top[i]: current k-th smallest distance of i (Infinity until its heap is full).
  const top = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ti = top[i];
      const tj = top[j];
      const t = ti > tj ? ti : tj;
      const dist = Math.sqrt(squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t)));
      if (dist < ti) top[i] = offer(heaps, i * k, sizes, i, k, dist);
      if (dist < tj) top[j] = offer(heaps, j * k, sizes, j, k, dist);
    }
    core[i] = heaps[i * k];
  }
}

function plainPerRow(x: Float64Array, n: number, d: number, k: number, core: Float64Array): void {
  const heap = new Float64Array(k);
  const size = new Int32Array(1);
  for (let i = 0; i < n; i++) {
    size[0] = 0;
    let t = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dist = Math.sqrt(squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t)));
      if (dist < t) t = offer(heap, 0, size, 0, k, dist);
    }
    core[i] = heap[0];
  }
}

function windowed(
  x: Float64Array,
  n: number,
  d: number,
  k: number,
  bound: ProjectionBound,
  shared: boolean,
  core: Float64Array,
): void {
  const { m, y, slack } = bound;
  let maxSlack = 0;
  for (let i = 0; i < n; i++) if (slack[i] > maxSlack) maxSlack = slack[i];
  // Rows sorted by the first projected coordinate.
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => y[a * m] - y[b * m] || a - b);
  const key = new Float64Array(n);
  for (let r = 0; r < n; r++) key[r] = y[order[r] * m];

  // projected squared distance of rows a, b
  const lb2 = (a: number, b: number): number => {
    const oa = a * m;
    const ob = b * m;
    let s = 0;
    for (let c = 0; c < m; c++) {
      const e = y[oa + c] - y[ob + c];
      s += e * e;
    }
    return s;
  };
  // True when rows a, b are certainly farther apart than w: `exceeds` of projectionBound.ts, inlined.
  const beyond = (a: number, b: number, w: number): boolean => {
    if (w === Infinity) return false;
    const lim = w * REL + slack[a] + slack[b];
    return lb2(a, b) > lim * lim;
  };

  // Upper bounds: among the 4k sorted neighbours, the k nearest in projection.
  const ub = new Float64Array(n);
  const span = Math.min(n - 1, 4 * k);
  const candKey = new Float64Array(span);
  const candIdx = new Int32Array(span);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    let lo = Math.max(0, r - (span >> 1));
    if (lo + span >= n) lo = n - 1 - span;
    let c = 0;
    for (let s = lo; c < span; s++) {
      if (s === r) continue;
      candIdx[c] = order[s];
      candKey[c] = lb2(i, order[s]);
      c++;
    }
    selectSmallest(candKey, candIdx, k);
    let worst = 0;
    for (let q = 0; q < k; q++) {
      const dist = Math.sqrt(squaredDistance(x, i, candIdx[q], d, Infinity));
      if (dist > worst) worst = dist;
    }
    ub[i] = worst;
  }

  const heaps = new Float64Array(shared ? n * k : k);
  const sizes = new Int32Array(shared ? n : 1);
  const top = new Float64Array(shared ? n : 1).fill(Infinity);
  for (let r = 0; r < n; r++) {
    const i = order[r];
    const ui = ub[i];
    const reach = ui * REL + slack[i] + maxSlack;
    const hi = shared ? i : 0;
    if (!shared) {
      sizes[0] = 0;
      top[0] = Infinity;
    }
    for (let dir = 1; dir >= -1; dir -= 2) {
      for (let s = r + dir; s >= 0 && s < n; s += dir) {
        if (Math.abs(key[s] - key[r]) > reach) break;
        const j = order[s];
        const uj = ub[j];
        let t: number;
        let tj = Infinity;
        const ti = top[hi];
        const ci = ti < ui ? ti : ui;
        if (shared) {
          // The row with the larger bound computes the pair (ties: the smaller index).
          if (uj > ui || (uj === ui && j < i)) continue;
          tj = top[j];
          const cj = tj < uj ? tj : uj;
          t = ci > cj ? ci : cj;
        } else {
          t = ci;
        }
        if (beyond(i, j, t)) continue;
        const dist = Math.sqrt(squaredDistance(x, i, j, d, boundFor(t)));
        // dist ≤ u guarantees a complete (not early-exited) sum.
        if (dist < ti && dist <= ui) top[hi] = offer(heaps, hi * k, sizes, hi, k, dist);
        if (shared && dist < tj && dist <= uj) top[j] = offer(heaps, j * k, sizes, j, k, dist);
      }
    }
    if (!shared) core[i] = heaps[0];
  }
  if (shared) for (let i = 0; i < n; i++) core[i] = heaps[i * k];
}

/**
 * Reorders `idx` (and `keys` with it) so that the first k entries hold the k
 * smallest keys (Hoare-partition quickselect; ties in any order).
 */
function selectSmallest(keys: Float64Array, idx: Int32Array, k: number): void {
  let lo = 0;
  let hi = idx.length - 1;
  const target = k - 1;
  while (hi > lo) {
    const pivot = keys[(lo + hi) >>> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (keys[i] < pivot) i++;
      while (keys[j] > pivot) j--;
      if (i <= j) {
        const tk = keys[i];
        keys[i] = keys[j];
        keys[j] = tk;
        const ti = idx[i];
        idx[i] = idx[j];
        idx[j] = ti;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return;
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
