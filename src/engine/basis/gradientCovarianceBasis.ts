import * as tf from '@tensorflow/tfjs-core';
import { describe } from '../../errors/describe.js';
import { evaluateProbe, exactDirectionalDerivatives, probeParts, type ProbeClosure } from '../directional.js';
import { topEigenpairs, type Eigenpairs } from '../lanczos.js';
import type { ParamSpace } from '../paramSpace.js';
import { releaseLeakedTape } from '../tape.js';
import { NonConvergenceError } from '../tridiagonalEigen.js';
import { ritzVectors, type BasisBuilder, type FoundVector } from './basisBuilder.js';

/**
 * Gradient covariance (METHOD.md §1, the paper's open question): the top-k
 * eigenvectors of Π⊥GᵀGΠ⊥, G the N × P matrix of per-datapoint gradients
 * ∇ℓ_x(θ) of the probe losses at the current θ and Π⊥ the projector off the
 * basis so far. They maximise Σ_x ⟨b, ∇ℓ_x⟩² — the spread of the factor of
 * POLCA that tells datapoints apart.
 *
 * Lanczos (full reorthogonalisation, deflated by the basis) on the matvec
 * v ↦ Gᵀ(Gv): Gv is the exact JVP of the per-datapoint losses
 * ({@link exactDirectionalDerivatives}: one forward, two backward passes),
 * Gᵀu the gradient of Σ_x u_x ℓ_x (one forward, one backward pass); G is
 * never formed. The eigenvalue is the Ritz value (a sum over the N
 * datapoints, not a mean), the residual the Ritz residual, `hvps` the matvecs
 * spent. When Lanczos stops at its ceiling the best Ritz pairs are used, as
 * for the Hessian basis. GᵀG has rank ≤ N: beyond it, the vectors are
 * arbitrary directions of its null space with eigenvalue 0.
 *
 * θ is not moved. Needs the probe in the grow context.
 *
 * @example
 * ```ts
 * const tracker = createPolca({ params, probe, basis: { kind: 'gradient-covariance', every: 200, k: 1, maxVectors: 50 } });
 * ```
 */
export function gradientCovarianceBasis(): BasisBuilder {
  return {
    kind: 'gradient-covariance',
    needsHessian: false,
    async grow(ctx) {
      const probe = ctx.probe;
      if (typeof probe !== 'function') {
        throw new Error(`basis.kind 'gradient-covariance' needs the probe closure (BasisGrowContext 'probe'), got ${describe(probe)}`);
      }
      const space = ctx.space;
      const n = evaluateProbe(probe).length;
      const free = space.size - ctx.existing.length;
      let result: Eigenpairs;
      try {
        result = await topEigenpairs({
          matvec: (v) => gradientCovarianceProduct(space, probe, v, n),
          dim: space.size,
          k: ctx.k,
          deflate: ctx.existing,
          tol: ctx.lanczos.tol,
          maxIter: Math.max(ctx.k, Math.min(ctx.lanczos.maxIter, free)),
          seed: 2000 + ctx.step,
          onIteration: ctx.onProgress,
        });
      } catch (e) {
        if (e instanceof NonConvergenceError && e.partial) result = e.partial as Eigenpairs;
        else throw e;
      }
      return ritzVectors(result, ctx.existing, result.matvecs);
    },
  };
}

/**
 * GᵀGv for the per-datapoint gradients G of the probe losses at the current
 * θ: Gv by the exact JVP, then Gᵀ(Gv) as ∇_θ Σ_x (Gv)_x ℓ_x. Every tensor is
 * freed; θ is not touched.
 *
 * With `centre`, the product of the centred covariance
 * (G − 1ḡᵀ)ᵀ(G − 1ḡᵀ) = Gᵀ(I − 11ᵀ/n)G, ḡ the mean gradient: Gv has its
 * mean over datapoints taken off before the backward pass. Its top
 * directions spread the datapoints' gradients around their mean, where the
 * uncentred ones also follow the mean itself (the direction the loss falls).
 *
 * With `members` (indices into the probe), only those datapoints' gradients
 * count: G_Sᵀ G_S v, or centred G_Sᵀ(I − 11ᵀ/|S|)G_S v about their own mean.
 * The top directions then spread one group of datapoints, such as a cluster
 * that breaks through together, instead of the whole probe.
 *
 * @throws RangeError when `members` is empty or names an index outside [0, n).
 */
export function gradientCovarianceProduct(
  space: ParamSpace,
  probe: ProbeClosure,
  v: ArrayLike<number>,
  n: number,
  centre = false,
  members?: ArrayLike<number>,
): Float32Array {
  // 0/1 weight per datapoint: the rows of G that count.
  let weight: Uint8Array | null = null;
  if (members !== undefined) {
    if (members.length === 0) throw new RangeError('gradientCovarianceProduct: option \'members\' is empty');
    weight = new Uint8Array(n);
    for (let i = 0; i < members.length; i++) {
      const x = members[i];
      if (!(Number.isInteger(x) && x >= 0 && x < n)) throw new RangeError(`gradientCovarianceProduct: option 'members' holds ${x}, not an index in [0, ${n})`);
      weight[x] = 1;
    }
  }
  const flat = space.toDevice(v);
  let gv: Float32Array;
  try {
    const parts = space.split(flat);
    try {
      gv = exactDirectionalDerivatives(space, probe, parts, n);
    } finally {
      parts.forEach((t) => t.dispose());
    }
  } finally {
    flat.dispose();
  }
  const w = (x: number) => (weight === null ? 1 : weight[x]);
  let mean = 0;
  if (centre) {
    let count = 0;
    for (let x = 0; x < n; x++) {
      mean += w(x) * gv[x];
      count += w(x);
    }
    mean /= count;
  }
  for (let x = 0; x < n; x++) gv[x] = w(x) * (gv[x] - mean);
  let out: tf.Tensor1D | undefined;
  try {
    // Gᵀ(Gv) part by part: each backward pass holds one part's activations.
    for (const { part, size, offset } of probeParts(probe, n)) {
      const g = tf.tidy(() => {
        const u = tf.tensor1d(gv.subarray(offset, offset + size), 'float32');
        const { grads } = tf.engine().gradients(() => tf.sum(tf.mul(u, part())), [...space.params], undefined, true);
        return space.flattenLike(grads);
      });
      const sum: tf.Tensor1D = out === undefined ? g : tf.tidy(() => tf.add(out!, g) as tf.Tensor1D);
      if (sum !== g) tf.dispose([out!, g]);
      out = sum;
    }
  } catch (e) {
    out?.dispose();
    releaseLeakedTape();
    throw e;
  }
  if (out === undefined) throw new Error('gradientCovarianceProduct: the probe has no parts');
  try {
    return Float32Array.from(out.dataSync() as Float32Array);
  } finally {
    out.dispose();
  }
}
