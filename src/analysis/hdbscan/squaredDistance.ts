/**
 * The distance kernel of {@link hdbscan}: squared Euclidean distance between
 * two rows of one flat row-major Float64Array, with an early exit.
 *
 * @packageDocumentation
 */

/** Dimensions summed between two checks of the early-exit bound. */
const CHECK_EVERY = 32;

/**
 * Squared Euclidean distance between rows `a` and `b` of the row-major
 * matrix `x` (row length `d`), or — once a partial sum exceeds `bound2` — that
 * partial sum, which is then already larger than `bound2`.
 *
 * The summation order does not depend on `bound2`, so whenever the full sum is
 * returned it is bitwise the same number for every caller (core distances and
 * the spanning tree see identical distances, so their ties stay ties). Four
 * accumulators break the add dependency chain; that is what makes the loop
 * fast in V8, at the price of rounding differently from a left-to-right sum.
 *
 * @param x - n·d coordinates, row-major.
 * @param a - First row index.
 * @param b - Second row index.
 * @param d - Row length.
 * @param bound2 - Exit as soon as the partial sum is above this (Infinity: never).
 * @returns The squared distance, or a partial sum greater than `bound2`.
 *
 * @example
 * ```ts
 * const x = Float64Array.of(0, 0, 3, 4);
 * squaredDistance(x, 0, 1, 2, Infinity); // 25
 * squaredDistance(x, 0, 1, 2, 1) > 1; // true
 * ```
 */
export function squaredDistance(x: Float64Array, a: number, b: number, d: number, bound2: number): number {
  const oa = a * d;
  const ob = b * d;
  const d4 = d - (d & 3);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  while (i < d4) {
    const stop = i + CHECK_EVERY < d4 ? i + CHECK_EVERY : d4;
    for (; i < stop; i += 4) {
      const e0 = x[oa + i] - x[ob + i];
      const e1 = x[oa + i + 1] - x[ob + i + 1];
      const e2 = x[oa + i + 2] - x[ob + i + 2];
      const e3 = x[oa + i + 3] - x[ob + i + 3];
      s0 += e0 * e0;
      s1 += e1 * e1;
      s2 += e2 * e2;
      s3 += e3 * e3;
    }
    if (i < d4) {
      const partial = s0 + s1 + s2 + s3;
      if (partial > bound2) return partial;
    }
  }
  for (; i < d; i++) {
    const e = x[oa + i] - x[ob + i];
    s0 += e * e;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * A squared-distance bound that is safe for comparing square roots: if a
 * partial sum exceeds `boundFor(w)`, the full distance is strictly above `w`
 * despite rounding (the relative margin is far above the rounding error of
 * the sum and of the square root).
 *
 * @example
 * ```ts
 * boundFor(2); // 4.000000000004
 * boundFor(Infinity); // Infinity
 * ```
 */
export function boundFor(w: number): number {
  return w * w * (1 + 1e-12);
}
