import { dot64 } from './orthonormalize.js';
import type { BasisBuilder, FoundVector } from './basisBuilder.js';

/**
 * A basis supplied by the user, added whole at the first basis checkpoint.
 * The vectors must be orthonormal (to 1e-4) and of length P, in the order of
 * `params`, each parameter flattened row-major.
 */
export function fixedBasis(vectors: readonly Float32Array[], dim: number): BasisBuilder {
  if (!Array.isArray(vectors) || vectors.length === 0) {
    throw new Error("basis: option 'basis.vectors' must be a non-empty array of Float32Array when kind is 'fixed'");
  }
  vectors.forEach((v, i) => {
    if (!(v instanceof Float32Array)) throw new Error(`basis: option 'basis.vectors[${i}]' must be a Float32Array`);
    if (v.length !== dim) throw new Error(`basis: option 'basis.vectors[${i}]' must have length P = ${dim}, got ${v.length}`);
    for (let j = 0; j <= i; j++) {
      const d = dot64(v, vectors[j]);
      const want = i === j ? 1 : 0;
      if (!(Math.abs(d - want) <= 1e-4)) {
        throw new Error(`basis: option 'basis.vectors' must be orthonormal: ⟨v${i}, v${j}⟩ = ${d}, expected ${want}`);
      }
    }
  });
  let done = false;
  return {
    kind: 'fixed',
    needsHessian: false,
    async grow() {
      if (done) return [];
      done = true;
      return vectors.map((v): FoundVector => ({ vector: v, eigenvalue: NaN, residual: NaN, hvps: 0 }));
    },
  };
}
