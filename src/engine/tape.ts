import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  saved?: tf.Tensor[];
}
interface EngineState {
  gradientDepth: number;
  activeTape: TapeNode[] | null;
}

/**
 * Disposes the tensors a failed gradient computation left behind.
 *
 * When a gradient function throws (an op without a registered gradient, or a
 * loss closure that throws during recording), tfjs skips its tape clean-up:
 * the tensors saved for backprop are `keep`-ed, so even `tf.tidy` does not
 * free them. Called after such a failure, outside any gradient computation,
 * this releases them so the tensor count stays flat.
 */
export function releaseLeakedTape(): void {
  const state = (tf.engine() as unknown as { state: EngineState }).state;
  if (state.gradientDepth !== 0 || !state.activeTape) return;
  for (const node of state.activeTape) {
    for (const t of node.saved ?? []) {
      if (!t.isDisposed) t.dispose();
    }
  }
  state.activeTape = null;
}
