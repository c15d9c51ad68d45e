import { dot64, orthonormalizeAgainst } from './orthonormalize.js';
import { toUnitFloat32, type BasisBuilder, type FoundVector } from './basisBuilder.js';

/**
 * Directions of long-term movement (METHOD.md §1, the paper's open question):
 * at each basis checkpoint, the unit component of θ_now − θ_prev orthogonal
 * to the basis so far, θ_prev the θ of the previous basis checkpoint.
 *
 * - The first basis checkpoint has no earlier θ (the builder sees θ only at
 *   basis checkpoints; with `step(0)` that is also the tracker's first
 *   checkpoint), so it adds no vector there and only records θ.
 * - With k > 1, the displacements of the last k windows between basis
 *   checkpoints (newest first) are orthonormalised against the basis and
 *   against each other; the θ of the last k + 1 basis checkpoints is kept on
 *   the host (4·P bytes each). An earlier window's displacement was already
 *   offered at its own checkpoint, so it is normally in the span of the
 *   basis and skipped: in steady state each checkpoint adds one vector
 *   whatever k is (one new θ brings one new direction).
 * - No vector when θ did not move (‖Δθ‖ ≤ 1e-12·‖θ‖) or when the movement
 *   lies in the span of the basis to float32 precision (the part off the
 *   basis ≤ 1e-6·‖Δθ‖, the rule of the other builders: below that it is the
 *   rounding of the float32 basis vectors).
 *
 * No Hessian-vector products; eigenvalue and residual are NaN.
 *
 * @example
 * ```ts
 * const tracker = createPolca({ params, probe, basis: { kind: 'movement', every: 200, k: 1, maxVectors: 50 } });
 * ```
 */
export function movementBasis(): BasisBuilder {
  /** θ of the last k + 1 basis checkpoints, oldest first. */
  const history: Float32Array[] = [];
  return {
    kind: 'movement',
    needsHessian: false,
    async grow(ctx) {
      history.push(ctx.space.read());
      while (history.length > ctx.k + 1) history.shift();
      const out: FoundVector[] = [];
      const against: ArrayLike<number>[] = [...ctx.existing];
      const thetaNorm = Math.sqrt(dot64(history[history.length - 1], history[history.length - 1]));
      for (let j = history.length - 1; j > 0 && out.length < ctx.k; j--) {
        const w = offBasisDisplacement(history[j], history[j - 1], against, thetaNorm);
        if (!w) continue;
        against.push(w);
        out.push({ vector: toUnitFloat32(w), eigenvalue: NaN, residual: NaN, hvps: 0 });
      }
      return out;
    },
  };
}

/** Unit float64 component of `to − from` orthogonal to orthonormal `against` (Gram–Schmidt twice); null when too small. */
function offBasisDisplacement(
  to: Float32Array,
  from: Float32Array,
  against: readonly ArrayLike<number>[],
  thetaNorm: number,
): Float64Array | null {
  const d = new Float64Array(to.length);
  for (let i = 0; i < d.length; i++) d[i] = to[i] - from[i];
  const n0 = Math.sqrt(dot64(d, d));
  if (!(n0 > 1e-12 * thetaNorm) || !(n0 > 0)) return null;
  return orthonormalizeAgainst(d, against);
}
