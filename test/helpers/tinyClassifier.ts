import * as tf from '@tensorflow/tfjs';

/** 24 points in R³ with three classes: the data of the callback tests. */
export function tinyData(): { x: tf.Tensor2D; y: tf.Tensor1D } {
  const n = 24;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = Math.sin(i * 1.7);
    const b = Math.cos(i * 0.9);
    xs.push(a, b, a * b);
    ys.push(a + b > 0.3 ? 2 : a > 0 ? 1 : 0);
  }
  return { x: tf.tensor2d(xs, [n, 3]), y: tf.tensor1d(ys, 'float32') };
}

/** A seeded 3 → units (tanh) → 3 (softmax) classifier with plain SGD: the same weights every time. */
export function tinyClassifier(options: { units?: number; lr?: number } = {}): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: options.units ?? 6, activation: 'tanh', inputShape: [3], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  m.compile({ optimizer: tf.train.sgd(options.lr ?? 0.2), loss: 'sparseCategoricalCrossentropy' });
  return m;
}
