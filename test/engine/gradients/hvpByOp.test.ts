/**
 * For each op whose stock tfjs gradient breaks second derivatives: a tiny
 * model using it, its Hessian-vector product by nested tfjs differentiation,
 * compared with the exact float64 Hessian times v — with the corrected
 * gradients (must match) and with tfjs's stock ones (documents the bug, and
 * fails if a tfjs release fixes it, so we notice).
 */
import * as tf from '@tensorflow/tfjs'; // registers tfjs's gradients and the cpu backend
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withSecondOrderGradients } from '../../../src/engine/gradients/secondOrderGradients.js';
import { matVec64 } from '../../reference/autodiff64.js';
import { tinyAttention, tinyMlp, type TinyModel } from '../../reference/tinyModels.js';

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
};

/** Hv = ∇θ(∇θL · v) by nested tf.grads, params passed as plain tensors. */
function hvpTf(m: TinyModel, v: Float64Array): Float64Array {
  const flat = tf.tidy(() => {
    let offset = 0;
    const vs = m.params.map((p) => {
      const part = tf.tensor(Float32Array.from(v.subarray(offset, offset + p.size)), p.shape, 'float32');
      offset += p.size;
      return part;
    });
    const gradDotV = (...ps: tf.Tensor[]) => {
      const gs = tf.grads((...qs: tf.Tensor[]) => m.lossTfOf(qs))(ps);
      return tf.addN(gs.map((g, i) => tf.sum(tf.mul(g, vs[i])))) as tf.Scalar;
    };
    const hv = tf.grads(gradDotV)(m.params.map((p) => tf.clone(p)));
    return tf.concat(hv.map((h) => tf.reshape(h, [-1])));
  });
  const out = Float64Array.from(flat.dataSync());
  flat.dispose();
  return out;
}

type Stock = 'wrong' | 'right' | RegExp;
const NO_PATH = /Cannot compute gradient of y=f\(x\) with respect to x/;
const cases: [string, () => TinyModel, Stock][] = [
  ['Exp (gauss activation)', () => tinyMlp({ activation: 'gauss', head: 'mse' }), 'wrong'],
  ['Tanh', () => tinyMlp({ activation: 'tanh', head: 'mse' }), 'wrong'],
  ['Sigmoid', () => tinyMlp({ activation: 'sigmoid', head: 'mse' }), 'wrong'],
  // the exponent's gradient masks log(base) with Greater, which has no gradient
  ['Pow (learned exponent)', () => tinyMlp({ activation: 'pow', head: 'mse' }), /not found for Greater/],
  ['Softmax (+ Log)', () => tinyMlp({ activation: 'softplus', head: 'softmaxLog' }), 'wrong'],
  // the output bias reaches the loss only through the customGrad op, so its row of H·v is
  // cut entirely and tf.grads refuses; in the attention model every θ has other paths and
  // the result is silently wrong instead
  ['tf.logSoftmax', () => tinyMlp({ activation: 'softplus', head: 'logSoftmax' }), NO_PATH],
  ['tf.losses.softmaxCrossEntropy', () => tinyMlp({ activation: 'softplus', head: 'softmaxCrossEntropy' }), NO_PATH],
  ['attention (Softmax, Tanh, logSoftmax)', () => tinyAttention(), 'wrong'],
  ['Elu', () => tinyMlp({ activation: 'elu', head: 'mse' }), /gradient function not found for EluGrad/],
  ['Max (tf.logSumExp)', () => tinyMlp({ activation: 'softplus', head: 'logSumExp' }), /not found for Equal/],
  ['ClipByValue', () => tinyMlp({ activation: 'clip', head: 'mse' }), /not found for LogicalAnd/],
  ['Selu', () => tinyMlp({ activation: 'selu', head: 'mse' }), /not found for Greater/],
  ['LeakyRelu', () => tinyMlp({ activation: 'leakyRelu', head: 'mse' }), /not found for Greater/],
  ['Softplus (control: stock is right)', () => tinyMlp({ activation: 'softplus', head: 'mse' }), 'right'],
];

describe.each(['cpu', 'wasm'])('Hessian-vector products on %s', (backend) => {
  beforeAll(async () => {
    expect(await tf.setBackend(backend)).toBe(true);
    await tf.ready();
  });

  describe.each(cases)('%s', (_op, build, stock) => {
    let m: TinyModel;
    let v: Float64Array;
    let exact: Float64Array;
    beforeAll(() => {
      m = build();
      v = Float64Array.from({ length: m.numParams }, (_, i) => Math.sin(0.7 * i + 1));
      exact = matVec64(m.hessian64(m.readTheta()), v);
    });
    afterAll(() => m.dispose());

    it('matches the float64 dense Hessian times v inside withSecondOrderGradients', () => {
      const hv = withSecondOrderGradients(() => hvpTf(m, v));
      expect(Math.hypot(...exact)).toBeGreaterThan(1e-2);
      expect(relErr(hv, exact)).toBeLessThan(1e-4);
    });

    it(`with stock tfjs gradients is ${stock instanceof RegExp ? `an error ${stock}` : stock}`, () => {
      if (stock instanceof RegExp) {
        expect(() => hvpTf(m, v)).toThrow(stock);
        return;
      }
      const err = relErr(hvpTf(m, v), exact);
      if (stock === 'wrong') expect(err).toBeGreaterThan(1e-2);
      else expect(err).toBeLessThan(1e-4);
    });
  });
});
