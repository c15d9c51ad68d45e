import { orthonormalizeAgainst } from './orthonormalize.js';
import { toUnitFloat32, type BasisBuilder, type FoundVector } from './basisBuilder.js';

/** Random orthonormal directions (seeded Gaussian vectors, orthogonalised against the basis so far). */
export function randomBasis(): BasisBuilder {
  return {
    kind: 'random',
    needsHessian: false,
    async grow(ctx) {
      const out: FoundVector[] = [];
      const against: ArrayLike<number>[] = [...ctx.existing];
      while (out.length < ctx.k) {
        const w = orthonormalizeAgainst(ctx.rng.normalVector(ctx.space.size), against);
        if (!w) continue;
        against.push(w);
        out.push({ vector: toUnitFloat32(w), eigenvalue: NaN, residual: NaN, hvps: 0 });
      }
      return out;
    },
  };
}
