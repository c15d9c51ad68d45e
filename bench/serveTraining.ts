/**
 * A busy training thread for the serving benchmark (not run on its own): a
 * small MLP trained with SGD, tracked by a real `createPolca` that takes a
 * POLCA checkpoint at every step (exact per-datapoint directional
 * derivatives along 4 random directions, 128 probe datapoints), so that each step blocks the
 * thread synchronously for a few hundred milliseconds, as checkpoints do in
 * a real run.
 */
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../src/tracker/createPolca.js';

/** A training loop to start and stop; `checkpointMs` holds each checkpoint's wall time. */
export interface BusyTraining {
  stop(): Promise<void>;
  readonly checkpointMs: number[];
}

/**
 * Starts training on this thread (it runs between awaits, as a real
 * training loop does) until `stop()`.
 *
 * @example
 * ```ts
 * const training = await startBusyTraining();
 * // … measure serving meanwhile …
 * await training.stop();
 * ```
 */
export async function startBusyTraining(options: { numProbe?: number; directions?: number } = {}): Promise<BusyTraining> {
  await tf.setBackend('cpu');
  const n = options.numProbe ?? 128;
  const k = options.directions ?? 4;
  const rand = tf.randomNormal([n, 32], 0, 1, 'float32', 7);
  const x = tf.keep(rand);
  const labels = tf.keep(tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', 8), 10).toFloat());
  const w1 = tf.variable(tf.randomNormal([32, 64], 0, 0.2, 'float32', 9));
  const w2 = tf.variable(tf.randomNormal([64, 10], 0, 0.2, 'float32', 10));
  const perDatapoint = () =>
    tf.tidy(() => tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.relu(tf.matMul(x, w1)), w2), undefined, 0, tf.Reduction.NONE)) as tf.Tensor1D;
  const tracker = createPolca({
    params: [w1, w2],
    probe: perDatapoint,
    every: 1,
    basis: { kind: 'random', every: 1, k, maxVectors: k },
    secondOrder: 'paper',
    derivatives: 'exact',
  });
  tracker.events$.subscribe({ error: () => {} });
  const opt = tf.train.sgd(0.05);
  const checkpointMs: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let step = 0; running; step++) {
      if (step > 0) opt.minimize(() => tf.mean(perDatapoint()) as tf.Scalar);
      const t0 = performance.now();
      await tracker.step(step);
      checkpointMs.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 5));
    }
    await tracker.close();
  })();
  return {
    checkpointMs,
    async stop() {
      running = false;
      await loop;
      opt.dispose();
      tf.dispose([x, labels, w1, w2]);
    },
  };
}
