import * as tf from '@tensorflow/tfjs-core';

/** The part of tfjs-core's internal tape node this module relies on. */
interface TapeNodeView {
  kernelName: string;
  inputs: tf.NamedTensorMap;
  saved?: tf.Tensor[];
}

/**
 * Inputs of the tape node that recorded a `tf.customGrad` op, found from the
 * `saved` array its gradient function receives.
 *
 * Gradient functions get `(dy, saved, attrs)`, never the op's inputs. A
 * customGrad op (tf.logSoftmax, tf.losses.softmaxCrossEntropy) saves only
 * tensors computed inside its forward pass, and those are cut from the inputs
 * on an outer tape. The engine passes the very array stored on the tape node,
 * so identity finds the node, and through it the inputs, which *are*
 * connected. They may already be disposed (the forward `tidy` of the inner
 * differentiation frees intermediates), so use them as tape keys and for
 * shapes only, never read their values. This reads `tf.engine().state.activeTape`, which is internal to
 * tfjs-core 4.x; if it changes shape the lookup fails loudly rather than
 * returning a silently wrong gradient.
 *
 * @param saved - the `saved` argument of the gradient function.
 * @param kernelName - the tape node's name (scope name of the op), for errors
 *   and as a cross-check.
 * @example
 * ```ts
 * const gradFunc: tf.GradFunc = (dy, saved) => {
 *   const logits = customGradInputs(saved, 'logSoftmax__op')['0'];
 *   // ... use `logits` as a tape key, e.g. reattachedSoftmax(logits, saved[0])
 * };
 * ```
 */
export function customGradInputs(saved: tf.Tensor[], kernelName: string): tf.NamedTensorMap {
  const state = (tf.engine() as unknown as { state?: { activeTape?: unknown } }).state;
  const tape = state?.activeTape;
  if (!Array.isArray(tape)) {
    throw new Error(
      `customGradInputs: no active gradient tape while differentiating '${kernelName}' ` +
        `(tf.engine().state.activeTape is ${String(tape)}); tfjs-core internals changed?`,
    );
  }
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i] as TapeNodeView;
    if (node.saved === saved && node.kernelName === kernelName) return node.inputs;
  }
  throw new Error(
    `customGradInputs: no tape node named '${kernelName}' holds the saved tensors ` +
      `passed to its gradient (searched ${tape.length} nodes); tfjs-core internals changed?`,
  );
}
