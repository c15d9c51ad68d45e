import * as tf from '@tensorflow/tfjs-core';
import { comparisonGradConfigs } from './comparisonGrads.js';
import { eluGradConfig } from './eluGrad.js';
import { expGradConfig } from './expGrad.js';
import { logSoftmaxGradConfig } from './logSoftmaxGrad.js';
import { powGradConfig } from './powGrad.js';
import { sigmoidGradConfig } from './sigmoidGrad.js';
import { softmaxCrossEntropyGradConfig } from './softmaxCrossEntropyGrad.js';
import { softmaxGradConfig } from './softmaxGrad.js';
import { tanhGradConfig } from './tanhGrad.js';

/**
 * Every gradient config polca swaps in. tfjs looks a gradient up when an op is
 * *recorded* on the tape (and decides then which tensors to save), so the swap
 * must cover the forward pass as well as the backward passes.
 */
const CONFIGS: readonly tf.GradConfig[] = [
  expGradConfig,
  tanhGradConfig,
  sigmoidGradConfig,
  softmaxGradConfig,
  eluGradConfig,
  powGradConfig,
  logSoftmaxGradConfig,
  softmaxCrossEntropyGradConfig,
  ...comparisonGradConfigs,
];

/**
 * Names under which corrected gradients are registered: the kernels whose stock
 * tfjs-core 4.22 gradient gives a wrong or failing *second* derivative (Exp,
 * Tanh, Sigmoid, Softmax, Elu, Pow), the tape names of two customGrad ops
 * (`logSoftmax__op`, `softmaxCrossEntropy__op`), and the comparison/logical
 * kernels that get zero gradients.
 *
 * @example
 * ```ts
 * import { SECOND_ORDER_KERNELS } from './secondOrderGradients.js';
 * SECOND_ORDER_KERNELS.includes('Tanh'); // true
 * ```
 */
export const SECOND_ORDER_KERNELS: readonly string[] = Object.freeze(CONFIGS.map((c) => c.kernelName));

/** How many scopes or global installs currently hold the swap. */
let holders = 0;
/** What was registered before the swap (undefined: nothing), by kernel name. */
let originals: Map<string, tf.GradConfig | undefined> | null = null;

function acquire(): void {
  if (holders === 0) {
    const saved = new Map<string, tf.GradConfig | undefined>();
    for (const config of CONFIGS) {
      saved.set(config.kernelName, tf.getGradient(config.kernelName));
      tf.registerGradient(config);
    }
    originals = saved;
  }
  holders++;
}

function release(): void {
  holders--;
  if (holders > 0 || originals === null) return;
  for (const config of CONFIGS) {
    // A gradient the user registered while the swap was active wins.
    if (tf.getGradient(config.kernelName) !== config) continue;
    const original = originals.get(config.kernelName);
    if (original !== undefined) tf.registerGradient(original);
    else tf.unregisterGradient(config.kernelName);
  }
  originals = null;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Runs `fn` with gradients that are correct under nested differentiation
 * (Hessian-vector products by `tf.grad` of a gradient), then restores whatever
 * gradients were registered before, also when `fn` throws.
 *
 * tfjs-core 4.22 differentiates Exp, Tanh, Sigmoid, Softmax, Elu (and Pow in
 * its exponent, tf.logSoftmax, tf.losses.softmaxCrossEntropy) through the op's
 * saved *output*. The saved copy is cut from θ on an outer tape, so second
 * derivatives come out silently wrong; through Max, Min, logSumExp,
 * clipByValue, maximum, minimum, leakyRelu, prelu, selu, relu6 and Elu they
 * throw instead. Inside this scope they are right. First derivatives are the
 * same (up to float rounding where a value is recomputed).
 *
 * Scoping is deliberate: only polca's own second-order work pays for the
 * recomputation; training outside the scope runs tfjs's stock gradients.
 * Calls nest (reference counted). If `fn` returns a promise, the swap lasts
 * until it settles, and applies to anything else that runs meanwhile.
 * Still unsupported: second derivatives through MaxPool, AvgPool, LRN, conv
 * backprop kernels, Prod (Cumprod) and ResizeBilinear have no gradient.
 *
 * @param fn - the computation that records the forward pass and both
 *   differentiations. tfjs picks the gradient when it records an op, so
 *   forward ops recorded outside the scope keep stock gradients.
 * @returns what `fn` returns.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs-core';
 * const x = tf.tensor1d([0.3, -1.2]);
 * const v = tf.tensor1d([1, 0]);
 * const hv = withSecondOrderGradients(() =>
 *   tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.grad((q: tf.Tensor) => tf.sum(tf.tanh(q)))(p), v)))(x),
 * ); // column 0 of diag(−2 tanh(x)(1 − tanh²(x)))
 * ```
 */
export function withSecondOrderGradients<T>(fn: () => T): T {
  if (typeof fn !== 'function') {
    throw new TypeError(`withSecondOrderGradients: option 'fn' must be a function, got ${typeof fn}`);
  }
  acquire();
  let result: T;
  try {
    result = fn();
  } catch (error) {
    release();
    throw error;
  }
  if (isThenable(result)) {
    return result.then(
      (value) => {
        release();
        return value;
      },
      (error: unknown) => {
        release();
        throw error;
      },
    ) as T;
  }
  release();
  return result;
}

/**
 * Registers the corrected gradients globally until the returned function is
 * called (idempotent). Use it when your own code takes second derivatives.
 * Costs: every forward op of the listed kernels then saves its input instead
 * of its output and recomputes the activation in backward (see
 * `bench/second-order.ts` for the measured training slowdown).
 *
 * @returns an uninstall function; the previous gradients come back once every
 *   install and every running {@link withSecondOrderGradients} scope is done.
 * @example
 * ```ts
 * const uninstall = installSecondOrderGradients();
 * try { trainWithCurvaturePenalty(); } finally { uninstall(); }
 * ```
 */
export function installSecondOrderGradients(): () => void {
  acquire();
  let installed = true;
  return () => {
    if (!installed) return;
    installed = false;
    release();
  };
}
