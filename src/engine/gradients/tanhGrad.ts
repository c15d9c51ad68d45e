import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of the `Tanh` kernel that stays correct under nested differentiation.
 *
 * The stock config computes (1 − y²)·dy from the saved *output* y, whose clone
 * is cut from x on an outer tape, so the second derivative −2·y·(1 − y²) is
 * lost. Recomputing tanh(x) from the saved input keeps it.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { tanhGradConfig } from './tanhGrad.js';
 * tf.registerGradient(tanhGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const tanhGradConfig: tf.GradConfig = {
  kernelName: tf.Tanh,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return {
      x: () => tf.mul(tf.sub(tf.scalar(1), tf.square(tf.tanh(x))), dy as tf.Tensor),
    };
  },
};
