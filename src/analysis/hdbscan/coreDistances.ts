/**
 * Core distances for {@link hdbscan}: the distance from every point to its
 * k-th nearest other point, by brute force with bounded max-heaps.
 *
 * @packageDocumentation
 */
import { boundFor, squaredDistance } from './squaredDistance.js';

/** Above this many heap slots (n·k) the pairwise-symmetric pass would use too much memory. */
const MAX_HEAP_SLOTS = 1 << 23;

/**
 * Distance from each of the `n` rows of `x` to its `k`-th nearest *other*
 * row (duplicates count as neighbours at distance 0). `k = 0` gives zeros.
 *
 * Each pair's distance is computed once and offered to both points' heaps
 * while n·k heap slots fit in 64 MB; beyond that every row keeps its own heap
 * and pairs are visited twice (memory O(n + k)). Pairs are abandoned as soon
 * as their partial sum exceeds both points' current k-th best.
 *
 * @param x - n·d coordinates, row-major.
 * @param n - Number of rows.
 * @param d - Row length.
 * @param k - Neighbour rank, 0 ≤ k ≤ n − 1.
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
  maxHeapSlots = MAX_HEAP_SLOTS,
): Float64Array {
  const core = new Float64Array(n);
  if (k <= 0 || n < 2) return core;
  if (k > n - 1) throw new RangeError(`coreDistances: k (${k}) must be at most n - 1 (${n - 1})`);
  if (n * k <= maxHeapSlots) symmetricPass(x, n, d, k, core);
  else rowPass(x, n, d, k, core);
  return core;
}

function symmetricPass(x: Float64Array, n: number, d: number, k: number, core: Float64Array): void {
  const heaps = new Float64Array(n * k);
  const sizes = new Int32Array(n);
  // top[i]: current k-th smallest distance of i (Infinity until its heap is full).
  const top = new Float64Array(n).fill(Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const ti = top[i];
      const tj = top[j];
      const t = ti > tj ? ti : tj;
      const s = squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t));
      const dist = Math.sqrt(s);
      if (dist < ti) top[i] = offer(heaps, i * k, sizes, i, k, dist);
      if (dist < tj) top[j] = offer(heaps, j * k, sizes, j, k, dist);
    }
    core[i] = heaps[i * k];
  }
}

function rowPass(x: Float64Array, n: number, d: number, k: number, core: Float64Array): void {
  const heap = new Float64Array(k);
  const size = new Int32Array(1);
  for (let i = 0; i < n; i++) {
    size[0] = 0;
    let t = Infinity;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const s = squaredDistance(x, i, j, d, t === Infinity ? Infinity : boundFor(t));
      const dist = Math.sqrt(s);
      if (dist < t) t = offer(heap, 0, size, 0, k, dist);
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
