import { topHessianVectors } from './hessianBasis.js';
import type { BasisBuilder } from './basisBuilder.js';

/**
 * Algorithm 1 on shuffled checkpoints: each new vector is the top eigenvector
 * of the deflated Hessian at a randomly drawn basis checkpoint rather than at
 * the current one. Online, only checkpoints seen so far can be drawn (the
 * paper shuffles all of them after training); each θ is drawn once. Keeps a
 * host copy of θ per basis checkpoint: 4·P bytes each.
 */
export function shuffledBasis(): BasisBuilder {
  const history: Float32Array[] = [];
  return {
    kind: 'shuffled',
    needsHessian: true,
    async grow(ctx) {
      history.push(ctx.space.read());
      const pick = ctx.rng.int(history.length);
      const [theta] = history.splice(pick, 1);
      const snap = ctx.space.snapshot();
      try {
        const flat = ctx.space.toDevice(theta);
        const parts = ctx.space.split(flat);
        flat.dispose();
        ctx.space.params.forEach((p, i) => p.assign(parts[i]));
        parts.forEach((t) => t.dispose());
        return await topHessianVectors(ctx);
      } finally {
        ctx.space.restore(snap);
        snap.dispose();
      }
    },
  };
}
