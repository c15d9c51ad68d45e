/** Dot product in double precision. */
export function dot64(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Π⊥v in float64: `v` minus its components along orthonormal `against` (Gram–Schmidt, two passes). */
export function projectOff(v: ArrayLike<number>, against: readonly ArrayLike<number>[]): Float64Array {
  const w = Float64Array.from(v);
  // Twice is enough (Kahan–Parlett): one pass loses orthogonality in float64 at these sizes.
  for (let pass = 0; pass < 2; pass++) {
    for (const q of against) {
      const d = dot64(q, w);
      for (let i = 0; i < w.length; i++) w[i] -= d * q[i];
    }
  }
  return w;
}

/**
 * Gram–Schmidt of `v` against orthonormal `against` (two passes, float64),
 * then normalised; null when `v` lies (numerically) in their span.
 */
export function orthonormalizeAgainst(v: ArrayLike<number>, against: readonly ArrayLike<number>[]): Float64Array | null {
  const n0 = Math.sqrt(dot64(v, v));
  if (!(n0 > 0)) return null;
  const w = projectOff(v, against);
  const n = Math.sqrt(dot64(w, w));
  if (!(n > 1e-6 * n0)) return null;
  for (let i = 0; i < w.length; i++) w[i] /= n;
  return w;
}
