import { topEigenpairs, type Eigenpairs } from '../lanczos.js';
import { NonConvergenceError } from '../tridiagonalEigen.js';
import { dot64, projectOff } from './orthonormalize.js';
import { ritzVectors, type BasisBuilder, type FoundVector } from './basisBuilder.js';

/**
 * Principal directions of the recent training steps (METHOD.md §1, the
 * paper's open question): at each basis checkpoint, the top eigenvectors of
 * Π⊥(Σ_t d_t d_tᵀ)Π⊥, where d_t = θ_t − θ_{t−1} are the steps between the
 * POLCA checkpoints since the previous basis checkpoint and Π⊥ projects off
 * the basis so far.
 *
 * Why not the displacement alone (`movement`): the path between two basis
 * checkpoints curves, so its chord can hold a small part of the loss change
 * while one direction the steps keep returning to holds most of it
 * (RESULTS.md, the path measurements of the curriculum). The second moment is
 * not centred, so a steady drift counts as much as a back-and-forth.
 *
 * - The builder sees θ at every POLCA checkpoint through `observe` and keeps
 *   the steps since the last basis checkpoint on the host, 4·P bytes each
 *   (`basis.every / every` of them).
 * - The operator has rank at most the number of steps: directions whose
 *   eigenvalue is below 1e-10 of the projected steps' energy Σ‖Π⊥d_t‖² are
 *   not vectors of it and are dropped, so fewer than k may be added. The
 *   first basis checkpoint has no steps and adds none.
 * - The eigenvalue reported is that of Π⊥(Σ d_t d_tᵀ)Π⊥ (squared parameter
 *   units), the residual its Lanczos residual. No Hessian-vector products.
 *
 * @example
 * ```ts
 * const tracker = createPolca({ params, probe, basis: { kind: 'step-covariance', every: 200, k: 2, maxVectors: 30 } });
 * ```
 */
export function stepCovarianceBasis(): BasisBuilder {
  let last: Float32Array | null = null;
  let steps: Float32Array[] = [];
  return {
    kind: 'step-covariance',
    needsHessian: false,
    observe(theta) {
      if (last) steps.push(Float32Array.from(theta, (x, i) => x - last![i]));
      last = theta;
    },
    async grow(ctx) {
      const window = steps;
      steps = [];
      return principalStepDirections(window, ctx.existing, ctx.k, 3000 + ctx.step);
    },
  };
}

/**
 * The top `k` eigenpairs of Π⊥(Σ d dᵀ)Π⊥ over `steps`, Π⊥ the projector off
 * orthonormal `existing`, by Lanczos on v ↦ Σ Π⊥d⟨Π⊥d, v⟩ (float64), largest
 * first; directions outside the steps' span are left out. `energy` is
 * Σ‖Π⊥d‖², the operator's trace.
 */
export async function stepEigenpairs(
  steps: readonly ArrayLike<number>[],
  existing: readonly ArrayLike<number>[],
  k: number,
  seed = 3000,
): Promise<{ values: number[]; vectors: Float64Array[]; residuals: number[]; energy: number }> {
  const none = { values: [], vectors: [], residuals: [], energy: 0 };
  if (steps.length === 0 || k < 1) return none;
  const P = steps[0].length;
  const projected = steps.map((d) => projectOff(d, existing));
  const energy = projected.reduce((s, d) => s + dot64(d, d), 0);
  const free = P - existing.length;
  if (!(energy > 0) || free < 1) return { ...none, energy };
  let result: Eigenpairs;
  try {
    result = await topEigenpairs({
      dim: P,
      k: Math.min(k, projected.length, free),
      deflate: existing,
      // The Krylov space of a rank-m operator is exhausted after m + 1 products.
      maxIter: Math.min(free, projected.length + 5),
      tol: 1e-8,
      seed,
      matvec: (v) => {
        const out = new Float64Array(P);
        for (const d of projected) {
          const c = dot64(d, v);
          for (let i = 0; i < P; i++) out[i] += c * d[i];
        }
        return out;
      },
    });
  } catch (e) {
    if (e instanceof NonConvergenceError && e.partial) result = e.partial as Eigenpairs;
    else throw e;
  }
  const keep = result.values.map((_, i) => i).filter((i) => result.values[i] > 1e-10 * energy);
  return {
    values: keep.map((i) => result.values[i]),
    vectors: keep.map((i) => result.vectors[i]),
    residuals: keep.map((i) => result.residuals[i]),
    energy,
  };
}

/** {@link stepEigenpairs} as basis vectors: unit float32, orthogonal to `existing` and each other. */
export async function principalStepDirections(
  steps: readonly ArrayLike<number>[],
  existing: readonly ArrayLike<number>[],
  k: number,
  seed = 3000,
): Promise<FoundVector[]> {
  return ritzVectors(await stepEigenpairs(steps, existing, k, seed), existing, 0);
}
