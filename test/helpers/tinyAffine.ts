import * as tf from '@tensorflow/tfjs';

/** θ of {@link tinyAffine} at the start: (W row-major [2, 2], c [2]), P = 6, multiples of 1/8 (exact in float32). */
export const TINY_THETA0: readonly number[] = [0.5, -0.25, 1, 0.75, -1.5, 0.125];

/**
 * ℓ_x = ‖W x + c‖² over four fixed inputs (N = 4), with θ = (W, c) set by
 * `assign` from a flat array: a model small enough that every basis builder's
 * answer can be written down by hand.
 */
export function tinyAffine() {
  const w = tf.variable(tf.tensor2d(TINY_THETA0.slice(0, 4), [2, 2]));
  const c = tf.variable(tf.tensor1d(TINY_THETA0.slice(4)));
  const x = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0.5, -1]]);
  const probe = () => tf.tidy(() => tf.sum(tf.square(tf.add(tf.matMul(x, w, false, true), c)), 1) as tf.Tensor1D);
  const assign = (theta: readonly number[]) =>
    tf.tidy(() => {
      w.assign(tf.tensor2d(theta.slice(0, 4), [2, 2]));
      c.assign(tf.tensor1d(theta.slice(4)));
    });
  const dispose = () => [w, c, x].forEach((t) => t.dispose());
  return { params: [w, c], probe, assign, dispose };
}
