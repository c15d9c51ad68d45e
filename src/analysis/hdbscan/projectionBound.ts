/**
 * A cheap lower bound on Euclidean distances for {@link hdbscan}: distances
 * between the points' coordinates on a few leading principal directions.
 *
 * @packageDocumentation
 */

/** Rows projected on m orthonormal directions, with what the bound test needs. */
export interface ProjectionBound {
  /** Number of directions (0: no bound, every test passes). */
  m: number;
  /** n·m projected coordinates, row-major. */
  y: Float64Array;
  /** Per row: 1e-10 · ‖x_i − mean‖, the rounding allowance of the bound. */
  slack: Float64Array;
}

/** Power iterations of the randomized subspace method (3 separate the top directions well enough). */
const POWER_ITERATIONS = 3;

/**
 * Projects the centred rows of `x` onto `m` orthonormal directions close to
 * the leading principal axes (randomized subspace iteration from a fixed
 * seed). For an orthonormal Q, ‖Qᵀ(a − b)‖ ≤ ‖a − b‖, so the distance of
 * projections bounds the true distance from below; {@link exceeds} adds a
 * rounding allowance so that it never claims more than the computed distance.
 * On smooth trajectories most of the spread between groups lies on a few
 * axes, so the bound rejects most far pairs at m/d of the cost.
 *
 * @param x - n·d coordinates, row-major.
 * @param n - Number of rows.
 * @param d - Row length.
 * @param m - Number of directions (0 disables the bound; at most d).
 * @returns The projection.
 *
 * @example
 * ```ts
 * const b = projectionBound(x, n, d, 16);
 * exceeds(b, i, j, w); // true only if ‖x_i − x_j‖ > w for sure
 * ```
 */
export function projectionBound(x: Float64Array, n: number, d: number, m: number): ProjectionBound {
  if (m <= 0 || n === 0) return { m: 0, y: new Float64Array(0), slack: new Float64Array(n) };
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j];
  for (let j = 0; j < d; j++) mean[j] /= n;

  // Z: d×m, row-major. Start from a fixed pseudo-random matrix.
  let z = new Float64Array(d * m);
  let seed = 0x2545f491;
  for (let k = 0; k < z.length; k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    z[k] = seed / 2147483648 - 1;
  }
  orthonormalize(z, d, m);
  const w = new Float64Array(n * m);
  for (let it = 0; it < POWER_ITERATIONS; it++) {
    project(x, mean, n, d, z, m, w);
    // z = Xcᵀ w
    const next = new Float64Array(d * m);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j] - mean[j];
        for (let c = 0; c < m; c++) next[j * m + c] += v * w[i * m + c];
      }
    }
    z = next;
    orthonormalize(z, d, m);
  }
  const y = new Float64Array(n * m);
  project(x, mean, n, d, z, m, y);
  const slack = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[i * d + j] - mean[j]) ** 2;
    slack[i] = 1e-10 * Math.sqrt(s);
  }
  return { m, y, slack };
}

/**
 * True only when the distance between rows a and b, as the distance kernel
 * computes it, is certainly above `w`: the projected distance exceeds w by a
 * relative 1e-10 plus 1e-10 of the rows' distances from the mean (far above the
 * rounding of either computation).
 *
 * @example
 * ```ts
 * if (exceeds(bound, a, b, w)) continue; // cannot be closer than w
 * ```
 */
export function exceeds(bound: ProjectionBound, a: number, b: number, w: number): boolean {
  const m = bound.m;
  if (m === 0 || w === Infinity) return false;
  const y = bound.y;
  const oa = a * m;
  const ob = b * m;
  let s0 = 0;
  let s1 = 0;
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const e0 = y[oa + i] - y[ob + i];
    const e1 = y[oa + i + 1] - y[ob + i + 1];
    s0 += e0 * e0;
    s1 += e1 * e1;
  }
  if (i < m) {
    const e = y[oa + i] - y[ob + i];
    s0 += e * e;
  }
  const limit = w * (1 + 1e-10) + bound.slack[a] + bound.slack[b];
  return s0 + s1 > limit * limit;
}

/** out (n×m) = (x − mean) z. */
function project(x: Float64Array, mean: Float64Array, n: number, d: number, z: Float64Array, m: number, out: Float64Array): void {
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * m;
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j] - mean[j];
      const zo = j * m;
      for (let c = 0; c < m; c++) out[o + c] += v * z[zo + c];
    }
  }
}

/**
 * Modified Gram–Schmidt on the m columns of the d×m matrix z, twice ("twice
 * is enough" for orthogonality to working precision). A column that vanishes
 * against the previous ones is set to zero: a zero direction keeps the
 * projection a contraction.
 */
function orthonormalize(z: Float64Array, d: number, m: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let c = 0; c < m; c++) {
      let before = 0;
      for (let j = 0; j < d; j++) before += z[j * m + c] ** 2;
      for (let p = 0; p < c; p++) {
        let dot = 0;
        for (let j = 0; j < d; j++) dot += z[j * m + c] * z[j * m + p];
        for (let j = 0; j < d; j++) z[j * m + c] -= dot * z[j * m + p];
      }
      let norm = 0;
      for (let j = 0; j < d; j++) norm += z[j * m + c] ** 2;
      norm = Math.sqrt(norm);
      const keep = norm > 1e-8 * Math.sqrt(before);
      for (let j = 0; j < d; j++) z[j * m + c] = keep ? z[j * m + c] / norm : 0;
    }
  }
}

/**
 * Squared projected distances from row `a` to every row, into `out` (length
 * n). Used to rank candidate neighbours, not as a bound (no allowance added).
 *
 * @example
 * ```ts
 * projectedSquaredDistances(bound, 0, out); // out[j] ≈ ‖P(x_0 − x_j)‖²
 * ```
 */
export function projectedSquaredDistances(bound: ProjectionBound, a: number, out: Float64Array): void {
  const { m, y } = bound;
  const n = out.length;
  const oa = a * m;
  for (let j = 0; j < n; j++) {
    const ob = j * m;
    let s = 0;
    for (let c = 0; c < m; c++) {
      const e = y[oa + c] - y[ob + c];
      s += e * e;
    }
    out[j] = s;
  }
}
