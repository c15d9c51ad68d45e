/**
 * Resolves on a later turn of the event loop. Training loops in tfjs chain
 * already-resolved promises (microtasks), which never let I/O run: without a
 * real yield, polca's own gRPC and metrics servers — and anything else the
 * process serves — stay silent until training ends. (tfjs's `model.fit` yields
 * by itself only when a `tf.CustomCallback` is attached.)
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}
