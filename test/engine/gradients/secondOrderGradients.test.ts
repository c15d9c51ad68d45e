import * as tf from '@tensorflow/tfjs'; // registers tfjs's gradients and the cpu backend
import '@tensorflow/tfjs-backend-wasm';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expGradConfig } from '../../../src/engine/gradients/expGrad.js';
import { logSoftmaxGradConfig } from '../../../src/engine/gradients/logSoftmaxGrad.js';
import {
  SECOND_ORDER_KERNELS,
  installSecondOrderGradients,
  withSecondOrderGradients,
} from '../../../src/engine/gradients/secondOrderGradients.js';
import { tanhGradConfig } from '../../../src/engine/gradients/tanhGrad.js';
import { tinyAttention, tinyMlp, type TinyModel } from '../../reference/tinyModels.js';

type Registry = Map<string, tf.GradConfig | undefined>;
const snapshot = (): Registry => new Map(SECOND_ORDER_KERNELS.map((k) => [k, tf.getGradient(k)]));
const expectRegistry = (r: Registry) => {
  for (const [k, config] of r) expect(tf.getGradient(k), k).toBe(config);
};
const expectSwapped = () => {
  expect(tf.getGradient('Tanh')).toBe(tanhGradConfig);
  expect(tf.getGradient('Exp')).toBe(expGradConfig);
  expect(tf.getGradient('logSoftmax__op')).toBe(logSoftmaxGradConfig);
  expect(tf.getGradient('Equal')?.kernelName).toBe('Equal');
};

let stock: Registry;
beforeAll(async () => {
  await tf.setBackend('cpu');
  stock = snapshot();
});
afterEach(() => {
  // put tfjs's gradients back whatever a failed test left behind
  for (const [k, config] of stock) {
    if (config !== undefined) tf.registerGradient(config);
    else if (tf.getGradient(k) !== undefined) tf.unregisterGradient(k);
  }
});

describe('withSecondOrderGradients', () => {
  it('lists the kernels it replaces', () => {
    expect([...SECOND_ORDER_KERNELS].sort()).toEqual(
      [
        'Elu', 'Equal', 'Exp', 'Greater', 'Less', 'LessEqual', 'LogicalAnd', 'LogicalNot', 'LogicalOr',
        'NotEqual', 'Pow', 'Sigmoid', 'Softmax', 'Tanh', 'logSoftmax__op', 'softmaxCrossEntropy__op',
      ].sort(),
    );
    // tfjs 4.22 has no gradient for the comparisons and the customGrad tape names
    for (const k of ['Equal', 'Greater', 'LogicalAnd', 'logSoftmax__op']) expect(stock.get(k), k).toBeUndefined();
    expect(stock.get('Tanh')).toBeDefined();
  });

  it('swaps the configs in for fn only and returns its value', () => {
    const out = withSecondOrderGradients(() => {
      expectSwapped();
      return 42;
    });
    expect(out).toBe(42);
    expectRegistry(stock);
  });

  it('restores the registry when fn throws', () => {
    expect(() =>
      withSecondOrderGradients(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expectRegistry(stock);
  });

  it('nests: the inner scope leaves the outer one swapped', () => {
    withSecondOrderGradients(() => {
      withSecondOrderGradients(() => expectSwapped());
      expectSwapped();
      expect(() => withSecondOrderGradients(() => { throw new Error('inner'); })).toThrow('inner');
      expectSwapped();
    });
    expectRegistry(stock);
  });

  it("restores the user's own gradient, and keeps one registered during the scope", () => {
    const mine: tf.GradConfig = { ...(stock.get('Tanh') as tf.GradConfig) };
    tf.registerGradient(mine);
    withSecondOrderGradients(() => expect(tf.getGradient('Tanh')).toBe(tanhGradConfig));
    expect(tf.getGradient('Tanh')).toBe(mine);

    const late: tf.GradConfig = { ...(stock.get('Exp') as tf.GradConfig) };
    withSecondOrderGradients(() => tf.registerGradient(late));
    expect(tf.getGradient('Exp')).toBe(late);
  });

  it('lasts until a returned promise settles, also on rejection', async () => {
    let release!: () => void;
    const pending = withSecondOrderGradients(() => new Promise<string>((r) => (release = () => r('done'))));
    expectSwapped();
    release();
    expect(await pending).toBe('done');
    expectRegistry(stock);
    await expect(withSecondOrderGradients(() => Promise.reject(new Error('async boom')))).rejects.toThrow('async boom');
    expectRegistry(stock);
  });

  it('rejects a non-function with a named error', () => {
    expect(() => withSecondOrderGradients(3 as unknown as () => number)).toThrow(
      /withSecondOrderGradients: option 'fn' must be a function, got number/,
    );
  });
});

describe('installSecondOrderGradients', () => {
  it('installs globally until uninstalled, idempotently, and survives inner scopes', () => {
    const uninstall = installSecondOrderGradients();
    expectSwapped();
    withSecondOrderGradients(() => expectSwapped());
    expectSwapped();
    uninstall();
    expectRegistry(stock);
    uninstall();
    expectRegistry(stock);
    const again = installSecondOrderGradients();
    expectSwapped();
    again();
    expectRegistry(stock);
  });
});

describe('first derivatives and memory', () => {
  const models: [string, () => TinyModel][] = [
    ['gauss/mse', () => tinyMlp({ activation: 'gauss', head: 'mse' })],
    ['sigmoid/softmaxLog', () => tinyMlp({ activation: 'sigmoid', head: 'softmaxLog' })],
    ['elu/logSumExp', () => tinyMlp({ activation: 'elu', head: 'logSumExp' })],
    ['pow/softmaxCrossEntropy', () => tinyMlp({ activation: 'pow', head: 'softmaxCrossEntropy' })],
    ['clip/logSoftmax', () => tinyMlp({ activation: 'clip', head: 'logSoftmax' })],
    ['attention', () => tinyAttention()],
  ];
  const gradient = (m: TinyModel) =>
    tf.tidy(() => {
      const gs = tf.grads((...ps: tf.Tensor[]) => m.lossTfOf(ps))(m.params);
      return Array.from(tf.concat(gs.map((g) => tf.reshape(g, [-1]))).dataSync());
    });

  it.each(models)('leaves the first derivative of %s as stock computes it', (_name, build) => {
    const m = build();
    const plain = gradient(m);
    const scoped = withSecondOrderGradients(() => gradient(m));
    const scale = Math.max(...plain.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    // equal up to float32 rounding where a value is recomputed instead of reused
    scoped.forEach((g, i) => expect(Math.abs(g - plain[i])).toBeLessThan(1e-6 * scale));
    m.dispose();
  });

  it.each(['cpu', 'wasm'])('keeps the tensor count flat over repeated scoped HVPs on %s', async (backend) => {
    expect(await tf.setBackend(backend)).toBe(true);
    const m = tinyAttention();
    const v = m.params.map((p) => tf.onesLike(p));
    const hvp = () =>
      withSecondOrderGradients(() =>
        tf.tidy(() => {
          const hv = tf.grads((...ps: tf.Tensor[]) => {
            const gs = tf.grads((...qs: tf.Tensor[]) => m.lossTfOf(qs))(ps);
            return tf.addN(gs.map((g, i) => tf.sum(tf.mul(g, v[i])))) as tf.Scalar;
          })(m.params.map((p) => tf.clone(p)));
          return tf.concat(hv.map((h) => tf.reshape(h, [-1]))).dataSync()[0];
        }),
      );
    hvp();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) hvp();
    expect(tf.memory().numTensors).toBe(before);
    v.forEach((t) => t.dispose());
    m.dispose();
    await tf.setBackend('cpu');
  });

  it('fails with a named error when the customGrad tape cannot be found', () => {
    const x = tf.tensor1d([1, 2]);
    expect(() => logSoftmaxGradConfig.gradFunc(x, [x], {})['0']()).toThrow(/customGradInputs: no (active gradient tape|tape node named 'logSoftmax__op')/);
    x.dispose();
  });
});
