import { topEigenpairs, type Eigenpairs } from '../lanczos.js';
import { NonConvergenceError } from '../tridiagonalEigen.js';
import { ritzVectors, type BasisBuilder, type BasisGrowContext, type FoundVector } from './basisBuilder.js';

/**
 * Algorithm 1: the top-k eigenvectors of Π⊥HΠ⊥, H the Hessian of the training
 * sample's loss at the current θ and Π⊥ the projector off the basis so far.
 * When Lanczos stops at its ceiling, the best Ritz pairs are used and their
 * (larger) residuals reported, rather than losing the checkpoint.
 */
export function hessianBasis(): BasisBuilder {
  return {
    kind: 'hessian',
    needsHessian: true,
    grow: (ctx) => topHessianVectors(ctx),
  };
}

/** Top-k eigenvectors of the deflated Hessian at the current θ. */
export async function topHessianVectors(ctx: BasisGrowContext): Promise<FoundVector[]> {
  const hessian = ctx.hessian;
  if (!hessian) throw new Error("basis: kind 'hessian' needs the option 'hessianLoss'");
  const before = hessian.products;
  let result: Eigenpairs;
  try {
    result = await topEigenpairs({
      matvec: hessian.matvec,
      dim: ctx.space.size,
      k: ctx.k,
      deflate: ctx.existing,
      tol: ctx.lanczos.tol,
      maxIter: Math.min(ctx.lanczos.maxIter, ctx.space.size - ctx.existing.length),
      seed: 1000 + ctx.step,
      onIteration: ctx.onProgress,
    });
  } catch (e) {
    if (e instanceof NonConvergenceError && e.partial) result = e.partial as Eigenpairs;
    else throw e;
  }
  return ritzVectors(result, ctx.existing, hessian.products - before);
}
