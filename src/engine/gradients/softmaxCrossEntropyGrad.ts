import * as tf from '@tensorflow/tfjs-core';
import { customGradInputs } from './customGradInputs.js';
import { reattachedSoftmax } from './reattachedSoftmax.js';

/**
 * Tape name of the customGrad op inside `tf.losses.softmaxCrossEntropy`
 * (recorded under the op's scope name, like {@link LOG_SOFTMAX_OP}).
 *
 * @example
 * ```ts
 * SOFTMAX_CROSS_ENTROPY_OP; // 'softmaxCrossEntropy__op'
 * ```
 */
export const SOFTMAX_CROSS_ENTROPY_OP = `softmaxCrossEntropy${tf.OP_SCOPE_SUFFIX}`;

/**
 * Gradient of the per-row cross-entropy inside `tf.losses.softmaxCrossEntropy`
 * that stays correct under nested differentiation.
 *
 * The stock closure uses exp(logResult) from the saved log-probabilities, cut
 * from the logits on an outer tape, so the loss Hessian through the softmax is
 * dropped. Here softmax = exp(logResult) is re-attached to the logits found
 * on the tape ({@link reattachedSoftmax}). Both formulas are tfjs's, including its label gradient dy·(labels − p)
 * (kept so first derivatives do not change inside the scope).
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { softmaxCrossEntropyGradConfig } from './softmaxCrossEntropyGrad.js';
 * tf.registerGradient(softmaxCrossEntropyGradConfig);
 * ```
 */
export const softmaxCrossEntropyGradConfig: tf.GradConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY_OP,
  gradFunc: (dy, saved) => {
    const logits = customGradInputs(saved, SOFTMAX_CROSS_ENTROPY_OP)['1'];
    const [labels, logResult] = saved;
    const dim = logits.rank - 1;
    const d = () =>
      tf.reshape(dy as tf.Tensor, tf.backend_util.expandShapeToKeepDim((dy as tf.Tensor).shape, [dim]));
    const p = () => reattachedSoftmax(logits, logResult);
    const labelsF = () => tf.cast(labels, 'float32');
    return {
      0: () => tf.mul(d(), tf.sub(labelsF(), p())),
      1: () => tf.mul(d(), tf.sub(p(), labelsF())),
    };
  },
};
