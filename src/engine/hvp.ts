import * as tf from '@tensorflow/tfjs-core';
import { describe } from '../errors/describe.js';
import { fail, oneOf } from '../errors/validate.js';
import { withSecondOrderGradients } from './gradients/secondOrderGradients.js';
import { ParamSpace } from './paramSpace.js';
import { releaseLeakedTape } from './tape.js';

/** A closure computing a scalar loss from the current values of the parameters. */
export type LossClosure = () => tf.Scalar;

/** Options of {@link hessianVectorProduct}. */
export interface HvpOptions {
  /**
   * `exact` differentiates the gradient (nested differentiation, with polca's
   * corrected second-order gradients in scope); `finite-difference` takes the
   * central difference (∇L(θ+εv) − ∇L(θ−εv)) / 2ε. Default `exact`.
   */
  mode?: 'exact' | 'finite-difference';
  /** Step ε of the central difference, along v as given. Default {@link defaultHvpEpsilon}. */
  epsilon?: number;
}

/**
 * Hessian-vector product Hv of a scalar loss with respect to `params`,
 * H = ∇²_θ loss, θ the parameters flattened in order (each row-major).
 *
 * The parameters are left bit for bit as they were.
 *
 * @example
 * ```ts
 * const w = tf.variable(tf.tensor1d([1, 2]));
 * const hv = hessianVectorProduct(() => tf.sum(tf.pow(w, 3)), [w], [1, 0]);
 * // hv = [6, 0]: H = diag(6w)
 * ```
 */
export function hessianVectorProduct(
  loss: LossClosure,
  params: readonly tf.Variable[],
  v: ArrayLike<number> | tf.Tensor1D,
  options: HvpOptions = {},
): Float32Array {
  if (typeof loss !== 'function') fail('hessianVectorProduct', 'loss', 'a function', loss);
  const space = new ParamSpace(params, 'hessianVectorProduct');
  const mode = oneOf('hessianVectorProduct', 'mode', options.mode ?? 'exact', ['exact', 'finite-difference'] as const);
  const vt = v instanceof tf.Tensor ? v : space.toDevice(v);
  try {
    space.checkVector(vt, 'hessianVectorProduct');
    const out = mode === 'exact' ? exactHvp(space, loss, vt) : finiteDifferenceHvp(space, loss, vt, options.epsilon);
    try {
      return out.dataSync() as Float32Array;
    } finally {
      out.dispose();
    }
  } finally {
    if (vt !== v) vt.dispose();
  }
}

/** ∇_θ loss as one Tensor1D of length P; parameters the loss does not reach get zeros. */
export function flatGradient(space: ParamSpace, loss: LossClosure): tf.Tensor1D {
  try {
    return tf.tidy(() => {
      const { grads } = tf.engine().gradients(() => scalarLoss(loss), [...space.params], undefined, true);
      return space.flattenLike(grads);
    });
  } catch (e) {
    releaseLeakedTape();
    throw e;
  }
}

/** Exact Hv by differentiating ⟨∇L, v⟩, with corrected second-order gradients in scope. */
export function exactHvp(space: ParamSpace, loss: LossClosure, v: tf.Tensor1D): tf.Tensor1D {
  try {
    return withSecondOrderGradients(() =>
      tf.tidy(() => {
        const vParts = space.split(v);
        const xs = [...space.params];
        const { grads } = tf.engine().gradients(
          () => {
            const inner = tf.engine().gradients(() => scalarLoss(loss), xs, undefined, true).grads;
            let acc: tf.Scalar = tf.scalar(0);
            inner.forEach((g, i) => {
              if (g) acc = tf.add(acc, tf.sum(tf.mul(g, vParts[i])));
            });
            return acc;
          },
          xs,
          undefined,
          true,
        );
        return space.flattenLike(grads);
      }),
    );
  } catch (e) {
    releaseLeakedTape();
    throw e;
  }
}

/**
 * Central-difference Hv = (∇L(θ+εv) − ∇L(θ−εv)) / 2ε. θ is moved from a
 * snapshot and restored from it, so it ends bit for bit unchanged.
 */
export function finiteDifferenceHvp(space: ParamSpace, loss: LossClosure, v: tf.Tensor1D, epsilon?: number): tf.Tensor1D {
  const eps = epsilon ?? defaultHvpEpsilon(space, v);
  if (!(eps > 0) || !Number.isFinite(eps)) fail('finiteDifferenceHvp', 'epsilon', 'a positive number', epsilon);
  const snap = space.snapshot();
  const vParts = space.split(v);
  try {
    space.assignAxpy(snap, eps, vParts);
    const plus = flatGradient(space, loss);
    space.assignAxpy(snap, -eps, vParts);
    const minus = flatGradient(space, loss);
    return tf.tidy(() => {
      const out = tf.div(tf.sub(plus, minus), 2 * eps) as tf.Tensor1D;
      plus.dispose();
      minus.dispose();
      return out;
    });
  } finally {
    space.restore(snap);
    snap.dispose();
    vParts.forEach((t) => t.dispose());
  }
}

/**
 * Default central-difference step for Hv: ε = ∛(float32 ε) · max(1, ‖θ‖) / ‖v‖,
 * which balances the O(ε²) truncation error against float32 rounding of θ + εv.
 */
export function defaultHvpEpsilon(space: ParamSpace, v: tf.Tensor1D): number {
  const [thetaNorm, vNorm] = tf.tidy(() => {
    const theta = space.flatten();
    return [tf.norm(theta), tf.norm(v)];
  }).map((t) => {
    const x = t.dataSync()[0];
    t.dispose();
    return x;
  });
  return (Math.cbrt(2 ** -23) * Math.max(1, thetaNorm)) / Math.max(vNorm, 1e-30);
}

function scalarLoss(loss: LossClosure): tf.Scalar {
  const y = loss();
  if (!(y instanceof tf.Tensor) || y.rank !== 0) {
    throw new Error(`loss closure must return a tf.Scalar, got ${describe(y)}`);
  }
  return y;
}

/**
 * The curvature bᵀHb of a scalar loss along a host direction b (length P),
 * from one Hessian-vector product (exact, or the central difference of
 * gradients), dotted with b in double precision. θ is left bit for bit as it
 * was. An exact product that throws (an op without a second derivative)
 * falls back to the central difference.
 */
export function curvatureAlong(space: ParamSpace, loss: LossClosure, b: Float32Array, mode: 'exact' | 'finite-difference'): number {
  const bt = space.toDevice(b, 'b');
  try {
    let hv: tf.Tensor1D;
    try {
      hv = mode === 'exact' ? exactHvp(space, loss, bt) : finiteDifferenceHvp(space, loss, bt);
    } catch (e) {
      if (mode !== 'exact') throw e;
      hv = finiteDifferenceHvp(space, loss, bt);
    }
    const host = hv.dataSync() as Float32Array;
    hv.dispose();
    let s = 0;
    for (let i = 0; i < b.length; i++) s += b[i] * host[i];
    return s;
  } finally {
    bt.dispose();
  }
}
