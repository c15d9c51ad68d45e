import type * as tf from '@tensorflow/tfjs-core';
import type { BasisKind } from '../../stream/events.js';
import type { HessianOperator } from '../hessianOperator.js';
import type { ParamSpace } from '../paramSpace.js';
import type { Random } from '../random.js';
import type { Eigenpairs } from '../lanczos.js';
import { orthonormalizeAgainst } from './orthonormalize.js';

/** What a builder sees at a basis checkpoint. */
export interface BasisGrowContext {
  /** Training step of the checkpoint. */
  step: number;
  space: ParamSpace;
  /** Hessian of the training sample's loss; null when no `hessianLoss` was given. */
  hessian: HessianOperator | null;
  /**
   * Per-datapoint losses of the probe set at the current θ (the tracker's
   * `probe` option): a float32 Tensor1D of fixed length N. Needed by the
   * `gradient-covariance` basis, which differentiates it; others ignore it.
   */
  probe?: () => tf.Tensor1D;
  /** The basis so far (unit, orthogonal), host copies. */
  existing: readonly Float32Array[];
  /** How many vectors to add now. */
  k: number;
  rng: Random;
  /** Lanczos stopping rule. */
  lanczos: { tol: number; maxIter: number };
  /** Progress of long work (Lanczos iterations). */
  onProgress?: (info: { iteration: number; residual?: number }) => void;
}

/** A vector found by a builder. */
export interface FoundVector {
  /** Unit vector of length P, orthogonal to the existing basis. */
  vector: Float32Array;
  /** Ritz value for Hessian builders, NaN for the others. */
  eigenvalue: number;
  /** Ritz residual for Hessian builders, NaN for the others. */
  residual: number;
  /** Hessian-vector products spent (for all vectors found together). */
  hvps: number;
}

/** One rule for growing the basis (METHOD.md §1). */
export interface BasisBuilder {
  readonly kind: BasisKind;
  /** Whether the builder needs Hessian-vector products. */
  readonly needsHessian: boolean;
  /**
   * θ (a host copy, not to be written to) at every POLCA checkpoint while the
   * basis is not full, before `grow` at a basis checkpoint. For builders that
   * look at the path between basis checkpoints.
   */
  observe?(theta: Float32Array, step: number): void;
  /** Vectors to add at this basis checkpoint (possibly none). */
  grow(ctx: BasisGrowContext): Promise<FoundVector[]>;
}

/** Rounds a float64 unit vector to float32 and renormalises it. */
export function toUnitFloat32(v: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / n;
  return out;
}

/**
 * The Ritz pairs of a deflated Lanczos run as basis vectors: each
 * re-orthonormalised against the basis so far and the ones kept before it
 * (dropped when it lies in their span), rounded to float32.
 */
export function ritzVectors(result: Pick<Eigenpairs, 'values' | 'vectors' | 'residuals'>, existing: readonly ArrayLike<number>[], hvps: number): FoundVector[] {
  const out: FoundVector[] = [];
  const against: ArrayLike<number>[] = [...existing];
  result.vectors.forEach((v, i) => {
    const w = orthonormalizeAgainst(v, against);
    if (!w) return;
    against.push(w);
    out.push({ vector: toUnitFloat32(w), eigenvalue: result.values[i], residual: result.residuals[i], hvps });
  });
  return out;
}
