import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of the `Sigmoid` kernel that stays correct under nested
 * differentiation.
 *
 * The stock config computes dy·y·(1 − y) from the saved *output* y, which the
 * outer tape sees as a constant. Recomputing σ(x) from the saved input lets the
 * outer tape differentiate the gradient.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { sigmoidGradConfig } from './sigmoidGrad.js';
 * tf.registerGradient(sigmoidGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const sigmoidGradConfig: tf.GradConfig = {
  kernelName: tf.Sigmoid,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => {
        const y = tf.sigmoid(x);
        return tf.mul(dy as tf.Tensor, tf.mul(y, tf.sub(tf.scalar(1), y)));
      },
    };
  },
};
