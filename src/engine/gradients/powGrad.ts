import * as tf from '@tensorflow/tfjs-core';

/** Sums `grad` over the axes along which `shape` was broadcast to `outShape`. */
function unbroadcast(grad: tf.Tensor, shape: number[], outShape: number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape, outShape);
  return tf.reshape(axes.length > 0 ? tf.sum(grad, axes) : grad, shape);
}

/**
 * Gradient of the `Pow` kernel (a^b) that stays correct under nested
 * differentiation.
 *
 * The stock derivative with respect to the exponent, dy·y·ln a, reads the
 * saved *output* y, whose clone the outer tape treats as a constant; here
 * y = a^b is recomputed from the saved inputs. The base derivative
 * dy·b·a^(b−1) is unchanged, as is the convention ln a := 0 for a ≤ 0.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { powGradConfig } from './powGrad.js';
 * tf.registerGradient(powGradConfig); // or use withSecondOrderGradients
 * ```
 */
export const powGradConfig: tf.GradConfig = {
  kernelName: tf.Pow,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved) => {
    const [base, exponent] = saved;
    const d = dy as tf.Tensor;
    const outShape = tf.broadcast_util.assertAndGetBroadcastShape(base.shape, exponent.shape);
    return {
      a: () => {
        const expFloat = tf.cast(exponent, 'float32');
        const res = tf.mul(d, tf.mul(expFloat, tf.pow(base, tf.sub(expFloat, tf.scalar(1)))));
        return unbroadcast(res, base.shape, outShape);
      },
      b: () => {
        const positive = tf.greater(base, tf.scalar(0));
        const logBase = tf.where(positive, tf.log(base), tf.zerosLike(base));
        const res = tf.mul(d, tf.mul(tf.pow(base, exponent), logBase));
        return unbroadcast(res, exponent.shape, outShape);
      },
    };
  },
};
