import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { hessianVectorProduct } from '../../src/engine/hvp.js';
import { HessianOperator } from '../../src/engine/hessianOperator.js';
import { ParamSpace } from '../../src/engine/paramSpace.js';
import { topEigenpairs } from '../../src/engine/lanczos.js';
import { tinyMlp, tinyAttention, type TinyActivation, type TinyHead } from '../reference/tinyModels.js';
import { matVec64 } from '../reference/autodiff64.js';
import { jacobiEigen, dot } from '../helpers/jacobi.js';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

function unitVector(n: number, seed: number): Float32Array {
  let s = seed;
  const v = Float32Array.from({ length: n }, () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  });
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`hessianVectorProduct on ${backend}`, () => {
    beforeAll(async () => {
      await tf.setBackend(backend);
      await tf.ready();
    });

    it('builds the dense Hessian column by column in both modes (P = 283, tanh + softmax)', () => {
      const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 40, numData: 8 });
      expect(m.numParams).toBe(283);
      const H = m.hessian64(m.theta0);
      const loss = () => m.lossTf();
      const before = tf.memory().numTensors;
      let exactErr = 0;
      let fdErr = 0;
      let norm = 0;
      for (let j = 0; j < m.numParams; j++) {
        const e = new Float32Array(m.numParams);
        e[j] = 1;
        const exact = hessianVectorProduct(loss, m.params, e);
        const fd = hessianVectorProduct(loss, m.params, e, { mode: 'finite-difference' });
        for (let i = 0; i < m.numParams; i++) {
          exactErr += (exact[i] - H[j][i]) ** 2;
          fdErr += (fd[i] - H[j][i]) ** 2;
          norm += H[j][i] ** 2;
        }
      }
      expect(Math.sqrt(exactErr / norm)).toBeLessThan(1e-5);
      expect(Math.sqrt(fdErr / norm)).toBeLessThan(2e-3);
      expect(tf.memory().numTensors).toBe(before);
      // θ untouched, bit for bit.
      expect(Array.from(m.readTheta())).toEqual(Array.from(m.theta0));
      m.dispose();
    });
  });
}

describe('HVP through ops whose stock tfjs second derivative is wrong or missing', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  const cases: [TinyActivation, TinyHead][] = [
    ['tanh', 'mse'],
    ['sigmoid', 'softmaxLog'],
    ['gauss', 'mse'], // exp
    ['elu', 'logSumExp'], // max inside logSumExp
    ['clip', 'softmaxCrossEntropy'],
    ['pow', 'logSoftmax'],
  ];
  for (const [activation, head] of cases) {
    it(`${activation} + ${head}: auto mode and forced central differences match the float64 Hessian`, () => {
      const m = tinyMlp({ activation, head, hidden: 6, numData: 6 });
      const op = new HessianOperator(new ParamSpace(m.params), () => m.lossTf());
      const check = op.check();
      const v = unitVector(m.numParams, 3);
      const want = m.hvp64(m.theta0, v);
      const got = op.matvec(v);
      expect(relErr(got, want)).toBeLessThan(check.mode === 'exact' ? 1e-4 : 1e-2);
      const fdOp = new HessianOperator(new ParamSpace(m.params), () => m.lossTf(), { mode: 'finite-difference' });
      expect(relErr(fdOp.matvec(v), want)).toBeLessThan(1e-2);
      expect(check.reason.length).toBeGreaterThan(10);
      m.dispose();
    });
  }

  it('the attention model (softmax, tanh, logSoftmax) gets a correct HVP', () => {
    const m = tinyAttention();
    const op = new HessianOperator(new ParamSpace(m.params), () => m.lossTf());
    op.check();
    const v = unitVector(m.numParams, 5);
    expect(relErr(op.matvec(v), m.hvp64(m.theta0, v))).toBeLessThan(op.mode === 'exact' ? 1e-4 : 1e-2);
    m.dispose();
  });
});

describe('automatic fallback', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  // L(w) = Σ t_i + ½(Σ c_i t_i)², t_i = tanh(a_i w_i), with tanh as a user customGrad that
  // reuses its output: polca cannot correct it, so the exact HVP is silently wrong.
  const n = 30;
  const a = Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 7) / 5);
  const c = Float64Array.from({ length: n }, (_, i) => Math.cos(i));
  const w0 = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3));
  const closedFormHessian = (): number[][] => {
    const t = Array.from(w0, (w, i) => Math.tanh(a[i] * w));
    const t1 = t.map((ti, i) => a[i] * (1 - ti * ti));
    const t2 = t.map((ti, i) => -2 * a[i] * a[i] * ti * (1 - ti * ti));
    const s = t.reduce((acc, ti, i) => acc + c[i] * ti, 0);
    return Array.from({ length: n }, (_, i) =>
      Array.from({ length: n }, (_, j) => (i === j ? t2[i] * (1 + s * c[i]) : 0) + c[i] * t1[i] * c[j] * t1[j]),
    );
  };
  const customTanh = tf.customGrad((x, save) => {
    const y = tf.tanh(x as tf.Tensor);
    (save as tf.GradSaveFunc)([y]);
    return { value: y, gradFunc: (dy, saved) => tf.mul(dy, tf.sub(1, tf.square(saved[0]))) };
  });

  it('detects a wrong exact HVP, falls back, and matches the closed form', () => {
    const w = tf.variable(tf.tensor1d(w0));
    const A = tf.tensor1d(Float32Array.from(a));
    const C = tf.tensor1d(Float32Array.from(c));
    const loss = () => tf.tidy(() => {
      const t = customTanh(tf.mul(A, w)) as tf.Tensor1D;
      return tf.add(tf.sum(t), tf.mul(0.5, tf.square(tf.sum(tf.mul(C, t))))) as tf.Scalar;
    });
    const H = closedFormHessian();
    const v = unitVector(n, 9);
    const want = H.map((row) => dot(row, v));
    const exactWrong = hessianVectorProduct(loss, [w], v);
    expect(relErr(exactWrong, want)).toBeGreaterThan(0.05);
    const op = new HessianOperator(new ParamSpace([w]), loss);
    const check = op.check();
    expect(check.mode).toBe('finite-difference');
    expect(check.reason).toMatch(/disagrees/);
    expect(relErr(op.matvec(v), want)).toBeLessThan(1e-3);
    tf.dispose([w, A, C]);
  });

  it('falls back when an op has no second derivative, without leaking tensors', () => {
    const w = tf.variable(tf.tensor1d(w0));
    // A gradient that uses TopK, which has no registered gradient of its own.
    const odd = tf.customGrad((x, save) => {
      (save as tf.GradSaveFunc)([x as tf.Tensor]);
      return {
        value: tf.square(x as tf.Tensor),
        gradFunc: (dy, saved) => tf.mul(dy, tf.mul(2, tf.topk(saved[0] as tf.Tensor1D, n).values.reverse().reverse())),
      };
    });
    const loss = () => tf.sum(odd(w)) as tf.Scalar;
    const op = new HessianOperator(new ParamSpace([w]), loss);
    op.check(); // warm-up: first call allocates backend constants
    const before = tf.memory().numTensors;
    const check = op.check();
    expect(check.mode).toBe('finite-difference');
    expect(check.reason).toMatch(/failed/);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
  });
});

describe('topEigenpairs on a real Hessian (against Jacobi of the float64 dense Hessian)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it('top 3 eigenpairs, then 2 more with the first 3 deflated', async () => {
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 20, numData: 8 });
    const H = m.hessian64(m.theta0);
    const ref = jacobiEigen(Array.from({ length: m.numParams }, (_, i) => Array.from(H, (col) => col[i])));
    const op = new HessianOperator(new ParamSpace(m.params), () => m.lossTf(), { mode: 'exact' });
    const top = await topEigenpairs({ matvec: op.matvec, dim: m.numParams, k: 3, tol: 1e-6 });
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(top.values[i] - ref.values[i]) / Math.abs(ref.values[i])).toBeLessThan(1e-4);
      expect(Math.abs(dot(top.vectors[i], ref.vectors[i]))).toBeGreaterThan(0.999);
    }
    const next = await topEigenpairs({ matvec: op.matvec, dim: m.numParams, k: 2, deflate: top.vectors, tol: 1e-6 });
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(next.values[i] - ref.values[3 + i]) / Math.abs(ref.values[3 + i])).toBeLessThan(1e-4);
      expect(Math.abs(dot(next.vectors[i], ref.vectors[3 + i]))).toBeGreaterThan(0.999);
    }
    // The float64 reference agrees with its own dense matrix (sanity of the fixture).
    expect(relErr(matVec64(H, ref.vectors[0]), ref.vectors[0].map((x) => x * ref.values[0]))).toBeLessThan(1e-10);
    m.dispose();
  });
});

describe('check on a loss with kinks', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });
  it('says the check is inconclusive for a ReLU network and keeps the exact HVP', () => {
    // Many ReLU units whose pre-activations sit near 0: the gradient jumps within ±εv.
    const n = 400;
    const w = tf.variable(tf.tensor1d(Float32Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1e5 - 0.005)));
    const c = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.cos(i)));
    const loss = () => tf.tidy(() => tf.add(tf.sum(tf.mul(c, tf.relu(w))), tf.mul(0.5, tf.sum(tf.square(w)))) as tf.Scalar);
    const op = new HessianOperator(new ParamSpace([w]), loss);
    const check = op.check();
    expect(check.mode).toBe('exact');
    expect(check.reason).toMatch(/inconclusive/);
    expect(check.finiteDifferenceNoise).toBeGreaterThan(1e-2);
    // The exact (generalized) Hessian of this loss is the identity.
    const v = unitVector(n, 4);
    expect(relErr(op.matvec(v), v)).toBeLessThan(1e-6);
    tf.dispose([w, c]);
  });
});
