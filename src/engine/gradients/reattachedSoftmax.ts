import * as tf from '@tensorflow/tfjs-core';

/**
 * softmax along the last axis, with the *values* taken from saved
 * log-probabilities and the *tape connection* taken from the logits.
 *
 * Inside a customGrad op's gradient the logits found on the tape may already
 * be disposed (the first differentiation's forward `tidy` frees
 * intermediates), so their data cannot be read; but they still work as tape
 * keys. This op computes p = exp(logProbs) and records a gradient
 * p ⊙ (dy − Σ dy ⊙ p) to `logits`, which is the softmax Jacobian, so an outer
 * tape differentiates p with respect to the logits (and on to θ) correctly.
 * Derivatives of third and higher order through p are not supported.
 *
 * @param logits - the op's logits (tape key only; may be disposed).
 * @param logProbs - log-softmax of those logits, with live data.
 * @example
 * ```ts
 * const p = reattachedSoftmax(logitsFromTape, savedLogSoftmax);
 * ```
 */
export function reattachedSoftmax(logits: tf.Tensor, logProbs: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const logp = args[1] as tf.Tensor;
    const save = args[2] as tf.GradSaveFunc;
    const p = tf.exp(logp);
    save([p]);
    return {
      value: p,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [ps] = saved;
        const d = dy as tf.Tensor;
        const dLogits = tf.mul(ps, tf.sub(d, tf.sum(tf.mul(d, ps), -1, true)));
        return [dLogits, tf.zerosLike(logp)];
      },
    };
  });
  return op(logits, logProbs);
}
