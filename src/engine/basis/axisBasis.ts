import type { BasisBuilder, FoundVector } from './basisBuilder.js';

/**
 * Axis-aligned unit vectors of the parameters of largest magnitude — the LCA
 * baseline. Online, "largest" is judged at each basis checkpoint among the
 * parameters not chosen yet (the paper picks them at the end of training).
 */
export function axisBasis(): BasisBuilder {
  const chosen = new Set<number>();
  return {
    kind: 'axis',
    needsHessian: false,
    async grow(ctx) {
      const theta = ctx.space.read();
      const order = Array.from(theta.keys())
        .filter((i) => !chosen.has(i))
        .sort((a, b) => Math.abs(theta[b]) - Math.abs(theta[a]) || a - b);
      const out: FoundVector[] = [];
      for (const i of order.slice(0, ctx.k)) {
        chosen.add(i);
        const v = new Float32Array(theta.length);
        v[i] = 1;
        out.push({ vector: v, eigenvalue: NaN, residual: NaN, hvps: 0 });
      }
      return out;
    },
  };
}
