import * as tf from '@tensorflow/tfjs-core';

/** Float32 zeros in the shape of each saved input, keyed by input name. */
function zeroGradFor(inputNames: readonly string[]): tf.GradFunc {
  return (_dy, saved) => {
    const grads: { [inputName: string]: () => tf.Tensor } = {};
    inputNames.forEach((name, i) => {
      const input = saved[i];
      grads[name] = () => tf.zeros(input.shape, 'float32');
    });
    return grads;
  };
}

function zeroGradConfig(kernelName: string, inputNames: readonly string[]): tf.GradConfig {
  return { kernelName, inputsToSave: [...inputNames], gradFunc: zeroGradFor(inputNames) };
}

/**
 * Zero gradients for the comparison and logical kernels that tfjs-core 4.22
 * leaves without one: `Equal`, `NotEqual`, `Greater`, `Less`, `LessEqual`,
 * `LogicalAnd`, `LogicalOr`, `LogicalNot` (`GreaterEqual` already has one).
 *
 * Their outputs are piecewise constant, so zero is the derivative almost
 * everywhere. First-order backprop rarely reaches them, but the *gradients* of
 * common ops build masks from them on θ-dependent inputs (Max/Min → Equal,
 * clipByValue → LessEqual/LogicalAnd, maximum/minimum, leakyRelu, prelu, selu,
 * relu6, where(x > 0, …) → Greater/Less), so a second derivative reaches the
 * mask and tfjs throws "gradient function not found for Equal".
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * import { comparisonGradConfigs } from './comparisonGrads.js';
 * comparisonGradConfigs.forEach((c) => tf.registerGradient(c));
 * ```
 */
export const comparisonGradConfigs: readonly tf.GradConfig[] = [
  zeroGradConfig(tf.Equal, ['a', 'b']),
  zeroGradConfig(tf.NotEqual, ['a', 'b']),
  zeroGradConfig(tf.Greater, ['a', 'b']),
  zeroGradConfig(tf.Less, ['a', 'b']),
  zeroGradConfig(tf.LessEqual, ['a', 'b']),
  zeroGradConfig(tf.LogicalAnd, ['a', 'b']),
  zeroGradConfig(tf.LogicalOr, ['a', 'b']),
  zeroGradConfig(tf.LogicalNot, ['x']),
];
