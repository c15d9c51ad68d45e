/**
 * The case polca meets in practice: a tfjs-layers model and a tfjs-layers
 * loss. Dense(tanh) → Dense(softmax) with categorical cross-entropy (which
 * normalises, clips and takes the log) is, as a function of θ, the tiny
 * MLP with the `softmaxLog` head, so the float64 reference Hessian applies.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSecondOrderGradients } from '../../../src/engine/gradients/secondOrderGradients.js';
import { matVec64 } from '../../reference/autodiff64.js';
import { tinyMlp, type TinyModel } from '../../reference/tinyModels.js';

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
};

describe('tfjs-layers Dense(tanh) → Dense(softmax), categoricalCrossentropy', () => {
  let m: TinyModel;
  let model: tf.Sequential;
  let weights: tf.Variable[];
  beforeAll(async () => {
    await tf.setBackend('cpu');
    m = tinyMlp({ activation: 'tanh', head: 'softmaxLog' });
    model = tf.sequential({
      layers: [
        tf.layers.dense({ units: 5, inputShape: [3], activation: 'tanh' }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    model.setWeights(m.params);
    weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  });
  afterAll(() => {
    model.dispose();
    m.dispose();
  });

  const loss = () =>
    tf.mean(tf.metrics.categoricalCrossentropy(m.data.y, model.apply(m.data.x) as tf.Tensor)) as tf.Scalar;

  /** Hv by nested differentiation with respect to the layers' variables. */
  const hvp = (v: Float64Array) => {
    const flat = tf.tidy(() => {
      let offset = 0;
      const vs = weights.map((w) => {
        const part = tf.tensor(Float32Array.from(v.subarray(offset, offset + w.size)), w.shape);
        offset += w.size;
        return part;
      });
      const hv = tf.grads(() => {
        const gs = tf.grads(loss)(weights);
        return tf.addN(gs.map((g, i) => tf.sum(tf.mul(g, vs[i])))) as tf.Scalar;
      })(weights);
      return tf.concat(hv.map((h) => tf.reshape(h, [-1])));
    });
    const out = Float64Array.from(flat.dataSync());
    flat.dispose();
    return out;
  };

  it('computes the same loss as the reference', () => {
    const l = loss();
    expect(l.dataSync()[0]).toBeCloseTo(m.loss64(m.theta0), 5);
    l.dispose();
  });

  it('gets the exact Hessian-vector product inside withSecondOrderGradients, a wrong one outside', () => {
    const v = Float64Array.from({ length: m.numParams }, (_, i) => Math.cos(0.3 * i));
    const exact = matVec64(m.hessian64(m.theta0), v);
    expect(relErr(withSecondOrderGradients(() => hvp(v)), exact)).toBeLessThan(1e-4);
    // stock: clipByValue's gradient needs LogicalAnd's
    expect(() => hvp(v)).toThrow(/gradient function not found for LogicalAnd/);
  });
});
