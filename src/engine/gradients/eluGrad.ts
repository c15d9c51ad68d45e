import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of the `Elu` kernel (α = 1) that stays correct under nested
 * differentiation.
 *
 * The stock config runs the `EluGrad` kernel on the saved *output*; `EluGrad`
 * has no gradient, so a second derivative through `tf.elu` throws. Here
 * elu′(x) = 1 for x > 0 and eˣ otherwise is written with differentiable ops.
 * eˣ is evaluated at min(x, 0) so that the branch `where` discards cannot
 * overflow to ∞ and turn the masked-out second derivative into 0·∞ = NaN.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { eluGradConfig } from './eluGrad.js';
 * tf.registerGradient(eluGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const eluGradConfig: tf.GradConfig = {
  kernelName: tf.Elu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => {
        const d = dy as tf.Tensor;
        const negativeSide = tf.mul(d, tf.exp(tf.minimum(x, tf.scalar(0))));
        return tf.where(tf.greater(x, tf.scalar(0)), d, negativeSide);
      },
    };
  },
};
