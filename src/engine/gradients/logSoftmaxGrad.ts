import * as tf from '@tensorflow/tfjs-core';
import { customGradInputs } from './customGradInputs.js';
import { reattachedSoftmax } from './reattachedSoftmax.js';

/**
 * Tape name of `tf.logSoftmax`. In tfjs-core 4.22 it is not a kernel but a
 * `tf.customGrad` op; the engine records it under its op scope name and looks
 * its gradient up in the registry by that name before falling back to the
 * customGrad closure, which is what lets this config replace it.
 *
 * @example
 * ```ts
 * tf.getGradient(LOG_SOFTMAX_OP); // undefined in stock tfjs 4.22
 * ```
 */
export const LOG_SOFTMAX_OP = `logSoftmax${tf.OP_SCOPE_SUFFIX}`;

/**
 * Gradient of `tf.logSoftmax` that stays correct under nested differentiation.
 *
 * The stock closure computes dy − Σdy·exp(value) from the saved output, which
 * the outer tape sees as a constant, so the Hessian of log-softmax is dropped.
 * This config finds the logits on the tape ({@link customGradInputs}) and
 * builds softmax = exp(value) re-attached to them ({@link reattachedSoftmax}),
 * so the outer tape sees its dependence on the logits. tf.logSoftmax only
 * supports the last axis.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { logSoftmaxGradConfig } from './logSoftmaxGrad.js';
 * tf.registerGradient(logSoftmaxGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const logSoftmaxGradConfig: tf.GradConfig = {
  kernelName: LOG_SOFTMAX_OP,
  gradFunc: (dy, saved) => {
    const logits = customGradInputs(saved, LOG_SOFTMAX_OP)['0'];
    const [logProbs] = saved;
    return {
      0: () => {
        const d = dy as tf.Tensor;
        return tf.sub(d, tf.mul(tf.sum(d, -1, true), reattachedSoftmax(logits, logProbs)));
      },
    };
  },
};
