import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs'; // registers tfjs's gradients and the cpu backend
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate64, matVec64 } from './autodiff64.js';
import { tinyAttention, tinyMlp, type TinyActivation, type TinyHead, type TinyModel } from './tinyModels.js';

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
};

const activations: TinyActivation[] = ['tanh', 'sigmoid', 'softplus', 'elu', 'selu', 'gauss', 'pow', 'clip', 'leakyRelu'];
const heads: TinyHead[] = ['mse', 'softmaxLog', 'logSoftmax', 'logSumExp', 'softmaxCrossEntropy'];
const builders: [string, () => TinyModel][] = [
  ...activations.map((a): [string, () => TinyModel] => [`${a}/mse`, () => tinyMlp({ activation: a, head: 'mse' })]),
  ...heads.map((h): [string, () => TinyModel] => [`tanh/${h}`, () => tinyMlp({ activation: 'tanh', head: h })]),
  ['attention', () => tinyAttention()],
];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(builders)('tiny model %s', (_name, build) => {
  let m: TinyModel;
  beforeAll(() => {
    m = build();
  });
  afterAll(() => m.dispose());

  it('has the same per-datapoint losses in tfjs and float64', () => {
    const lossTf = m.perDatapointLossTf();
    expect(lossTf.shape).toEqual([m.numData]);
    expect(relErr(lossTf.dataSync(), m.perDatapointLoss64(m.theta0))).toBeLessThan(1e-5);
    lossTf.dispose();
    const mean = m.lossTf();
    expect(mean.dataSync()[0]).toBeCloseTo(m.loss64(m.theta0), 5);
    mean.dispose();
  });

  it('has the same gradient in tfjs (first order, stock) and float64', () => {
    const flat = tf.tidy(() => {
      const grads = tf.grads((...ps: tf.Tensor[]) => m.lossTfOf(ps))(m.params);
      return tf.concat(grads.map((x) => tf.reshape(x, [-1])));
    });
    const g = Float64Array.from(flat.dataSync());
    flat.dispose();
    expect(g.length).toBe(m.numParams);
    expect(relErr(g, m.grad64(m.theta0))).toBeLessThan(1e-4);
  });

  it('has a symmetric Hessian equal to central differences of the float64 gradient', () => {
    const theta = m.theta0;
    const H = m.hessian64(theta);
    expect(H.length).toBe(m.numParams);
    const P = m.numParams;
    let asym = 0;
    let norm = 0;
    for (let i = 0; i < P; i++) {
      for (let j = 0; j < P; j++) {
        asym = Math.max(asym, Math.abs(H[i][j] - H[j][i]));
        norm = Math.max(norm, Math.abs(H[i][j]));
      }
    }
    expect(norm).toBeGreaterThan(1e-3);
    expect(asym).toBeLessThan(1e-12 * norm);
    const v = Float64Array.from({ length: P }, (_, i) => Math.sin(1 + i));
    const h = 1e-5;
    const gp = m.grad64(theta.map((x, i) => x + h * v[i]));
    const gm = m.grad64(theta.map((x, i) => x - h * v[i]));
    const fd = gp.map((g, i) => (g - gm[i]) / (2 * h));
    expect(relErr(matVec64(H, v), fd)).toBeLessThan(1e-6);
    expect(relErr(m.hvp64(theta, v), matVec64(H, v))).toBeLessThan(1e-12);
  });

  it('exposes per-datapoint expressions whose mean is the loss', () => {
    const r = evaluate64((t) => m.perDatapointLossVars(t)[0], m.theta0);
    expect(r.value).toBeCloseTo(m.perDatapointLoss64(m.theta0)[0], 12);
  });
});

describe('tiny model θ round trip', () => {
  it('assignTheta / readTheta keep the row-major order of params', () => {
    const m = tinyMlp({ activation: 'tanh', head: 'mse', hidden: 2 });
    const theta = Float64Array.from({ length: m.numParams }, (_, i) => i / 8);
    m.assignTheta(theta);
    expect(Array.from(m.readTheta())).toEqual(Array.from(theta));
    // W1 is 3×2 row-major: W1[1][0] is θ[2]
    expect((m.params[0].arraySync() as number[][])[1][0]).toBe(theta[2]);
    expect(m.loss64(theta)).toBeCloseTo(m.lossTf().dataSync()[0], 5);
    expect(() => m.grad64([1, 2])).toThrow(/grad64: theta has length 2, expected 17/);
    m.dispose();
  });

  it('seeds deterministically', () => {
    const a = tinyAttention({ seed: 7 });
    const b = tinyAttention({ seed: 7 });
    const c = tinyAttention({ seed: 8 });
    expect(Array.from(a.theta0)).toEqual(Array.from(b.theta0));
    expect(Array.from(a.theta0)).not.toEqual(Array.from(c.theta0));
    expect(a.numParams).toBe(80);
    [a, b, c].forEach((m) => m.dispose());
  });
});
