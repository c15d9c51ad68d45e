import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient of the `Exp` kernel that stays correct under nested differentiation.
 *
 * tfjs-core's stock config saves the op's output y = exp(x) and returns dy·y.
 * Saved outputs are cloned *before* the kernel's tape node is recorded, so on
 * an outer tape the clone does not depend on x: d²/dx² of exp is then missing.
 * This config saves the input and recomputes exp(x) inside the gradient, which
 * the outer tape can differentiate. Same first derivative, one extra exp.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { expGradConfig } from './expGrad.js';
 * tf.registerGradient(expGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const expGradConfig: tf.GradConfig = {
  kernelName: tf.Exp,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => tf.mul(dy as tf.Tensor, tf.exp(x)) };
  },
};
