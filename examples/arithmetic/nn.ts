/**
 * Neural-network pieces written with plain tfjs-core ops whose gradients use
 * only their inputs, so that nested differentiation (Hessian-vector
 * products) sees every dependency. `tf.logSoftmax` (a customGrad) and
 * `tf.max`'s gradient (through `Equal`, which has no gradient) would break
 * second derivatives; `tf.exp` is the one op left whose registered gradient
 * reuses its output (polca re-registers it).
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The maximum over the last axis (kept as a size-1 axis), treated as a
 * constant by differentiation at every order. Used only as a shift that the
 * result does not depend on mathematically, so a zero gradient is exact.
 *
 * @example
 * ```ts
 * const m = maxNoGrad(tf.tensor2d([[1, 3], [5, 2]])); // [[3], [5]], gradient 0
 * ```
 */
export const maxNoGrad: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  return { value: tf.max(x, -1, true), gradFunc: () => tf.zerosLike(x) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Softmax over the last axis: exp(x − max) / Σ exp(x − max).
 *
 * @example
 * ```ts
 * softmaxLastAxis(tf.tensor1d([0, Math.log(3)])); // [0.25, 0.75]
 * ```
 */
export function softmaxLastAxis(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const e = tf.exp(tf.sub(x, maxNoGrad(x)));
    return tf.div(e, tf.sum(e, -1, true));
  });
}

/**
 * Layer normalisation over the last axis with gain `g` and bias `b`
 * (biased variance, as in PyTorch's `nn.LayerNorm`).
 *
 * @example
 * ```ts
 * layerNorm(tf.tensor2d([[1, 3]]), tf.ones([2]), tf.zeros([2]), 1e-5); // ≈ [[-1, 1]]
 * ```
 */
export function layerNorm(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, epsilon: number): tf.Tensor {
  return tf.tidy(() => {
    const centred = tf.sub(x, tf.mean(x, -1, true));
    const variance = tf.mean(tf.square(centred), -1, true);
    return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, epsilon))), g), b);
  });
}

/**
 * Cross-entropy of every row of `logits` against one-hot `targets` (same
 * shape, last axis = classes): logsumexp(z) − z_target with z = logits − max.
 * Returns one loss per row (the last axis removed).
 *
 * @example
 * ```ts
 * tokenCrossEntropy(tf.tensor2d([[0, 0]]), tf.tensor2d([[1, 0]])); // [ln 2]
 * ```
 */
export function tokenCrossEntropy(logits: tf.Tensor, targets: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const z = tf.sub(logits, maxNoGrad(logits));
    const logSumExp = tf.log(tf.sum(tf.exp(z), -1));
    return tf.sub(logSumExp, tf.sum(tf.mul(z, targets), -1));
  });
}
