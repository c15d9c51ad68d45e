import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of the `Softmax` kernel that stays correct under nested
 * differentiation.
 *
 * Same formula as tfjs-core, y ⊙ (dy − Σ(dy ⊙ y)), but y is recomputed from the
 * saved logits rather than taken from the saved output, whose clone is cut
 * from the logits on an outer tape.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { softmaxGradConfig } from './softmaxGrad.js';
 * tf.registerGradient(softmaxGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const softmaxGradConfig: tf.GradConfig = {
  kernelName: tf.Softmax,
  inputsToSave: ['logits'],
  gradFunc: (dy, saved, attrs) => {
    const [logits] = saved;
    const { dim } = attrs as unknown as tf.SoftmaxAttrs;
    return {
      logits: () => {
        const y = tf.softmax(logits, dim);
        const dyTimesY = tf.mul(dy as tf.Tensor, y);
        return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
      },
    };
  },
};
