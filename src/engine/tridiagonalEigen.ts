/**
 * Eigen-decomposition of a symmetric tridiagonal matrix by the implicit QL
 * method with Wilkinson-style shifts (the EISPACK `tql2` scheme), in float64.
 *
 * Lanczos reduces the Hessian to such a matrix; this solves it.
 */

/** Eigenvalues in ascending order, and the matching unit eigenvectors. */
export interface TridiagonalEigen {
  values: Float64Array;
  /** `vectors[j]` is the eigenvector of `values[j]`, of length n. */
  vectors: Float64Array[];
}

/** Raised when an iterative solver stops at its iteration ceiling. */
export class NonConvergenceError<T = unknown> extends Error {
  /** The best result reached before giving up, when there is one. */
  readonly partial?: T;
  constructor(message: string, partial?: T) {
    super(message);
    this.name = 'NonConvergenceError';
    this.partial = partial;
  }
}

const MAX_QL_SWEEPS = 60;

/**
 * @param diag - the diagonal, length n ≥ 1.
 * @param offDiag - the off-diagonal, length n − 1 (`offDiag[i]` couples rows i and i + 1).
 *
 * @example
 * ```ts
 * const { values } = tridiagonalEigen(Float64Array.of(2, 2), Float64Array.of(1)); // [1, 3]
 * ```
 */
export function tridiagonalEigen(diag: ArrayLike<number>, offDiag: ArrayLike<number>): TridiagonalEigen {
  const n = diag.length;
  if (n < 1 || offDiag.length !== n - 1) {
    throw new Error(`tridiagonalEigen: 'offDiag' must have length diag.length − 1 = ${n - 1}, got ${offDiag.length}`);
  }
  const d = Float64Array.from(diag);
  const e = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) e[i] = offDiag[i];
  // z holds the accumulated rotations, row-major: column j is eigenvector j.
  const z = new Float64Array(n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;

  const eps = 2 ** -52;
  let shiftSum = 0;
  let scale = 0;
  for (let l = 0; l < n; l++) {
    scale = Math.max(scale, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * scale) m++;
    if (m > l) {
      let sweeps = 0;
      do {
        if (++sweeps > MAX_QL_SWEEPS) {
          throw new NonConvergenceError(`tridiagonalEigen: QL did not converge for eigenvalue ${l} in ${MAX_QL_SWEEPS} sweeps`);
        }
        // Shift by the eigenvalue of the leading 2×2 block closer to d[l].
        const g0 = d[l];
        let p = (d[l + 1] - g0) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g0 - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        shiftSum += h;

        p = d[m];
        let c = 1;
        let c2 = 1;
        let c3 = 1;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          for (let k = 0; k < n; k++) {
            const row = k * n;
            const zi1 = z[row + i + 1];
            z[row + i + 1] = s * z[row + i] + c * zi1;
            z[row + i] = c * z[row + i] - s * zi1;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * scale);
    }
    d[l] += shiftSum;
    e[l] = 0;
  }

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[a] - d[b]);
  const values = new Float64Array(n);
  const vectors: Float64Array[] = [];
  order.forEach((j, rank) => {
    values[rank] = d[j];
    const v = new Float64Array(n);
    for (let k = 0; k < n; k++) v[k] = z[k * n + j];
    vectors.push(v);
  });
  return { values, vectors };
}
