import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { AdamW } from '../../../examples/arithmetic/adamw.js';
import { createArithmeticTask } from '../../../examples/arithmetic/task.js';
import { perTokenLoss } from '../../../examples/arithmetic/model.js';
import { mulberry32, normalArray } from '../../../examples/arithmetic/prng.js';
import { hessianVectorProduct } from '../../../src/engine/hvp.js';

describe('createArithmeticTask', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('keeps tf.memory().numTensors flat over 50 training steps and probe evaluations', () => {
    const task = createArithmeticTask('tiny');
    task.trainStep(); // creates the optimizer's moment variables
    const before = tf.memory().numTensors;
    for (let i = 0; i < 50; i++) {
      task.trainStep();
      if (i % 10 === 0) {
        tf.dispose([task.probeLosses(), task.hessianLoss()]);
        task.evaluate();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(task.step).toBe(51);
    task.dispose();
    task.dispose();
    expect(() => task.trainStep()).toThrow(/ArithmeticTask.trainStep: the task has been disposed/);
  });

  it('reduces the probe loss over a short run of the tiny config', () => {
    const task = createArithmeticTask('tiny', { steps: 150 });
    const initial = task.evaluate();
    // At initialisation every digit is about equally likely: loss ≈ ln 12.
    expect(initial.all.meanLoss).toBeGreaterThan(Math.log(12) - 0.3);
    let firstLosses = 0;
    let lastLosses = 0;
    for (let i = 0; i < 150; i++) {
      const loss = task.trainStep();
      if (i < 10) firstLosses += loss / 10;
      if (i >= 140) lastLosses += loss / 10;
    }
    const final = task.evaluate();
    expect(lastLosses).toBeLessThan(0.8 * firstLosses);
    expect(final.all.meanLoss).toBeLessThan(0.8 * initial.all.meanLoss);
    // The 1000s digit (0 or 1, fixed by the leading digits) is learned first.
    expect(final.byPlace['1000s'].accuracy).toBeGreaterThan(0.9);
    task.dispose();
  });

  it('exposes probe losses, Hessian loss and metadata aligned with the data', () => {
    const task = createArithmeticTask('tiny');
    const probe = task.probeLosses();
    expect(probe.shape).toEqual([task.probe.size * 4]);
    expect(task.probeMeta).toHaveLength(task.probe.size * 4);
    expect(task.probeMeta[6].place).toBe('10s');
    const direct = perTokenLoss(task.model, task.hessian);
    const values = direct.dataSync();
    let mean = 0;
    for (const v of values) mean += v / values.length;
    const h = task.hessianLoss();
    expect(h.shape).toEqual([]);
    expect(h.dataSync()[0]).toBeCloseTo(mean, 5);
    const p = perTokenLoss(task.model, task.probe).dataSync();
    expect(Array.from(probe.dataSync())).toEqual(Array.from(p));
    tf.dispose([probe, direct, h]);
    expect(() => createArithmeticTask('nope' as 'tiny')).toThrow(/unknown config 'nope'/);
    expect(() => createArithmeticTask('tiny', { batchSize: 0 })).toThrow(/option batchSize must be a positive integer, got 0/);
    task.dispose();
  });
});

describe('AdamW', () => {
  it('matches a float64 AdamW (decoupled decay on matrices only, linear warm-up)', () => {
    const w = tf.variable(tf.tensor2d([[0.5, -1.0], [2.0, 0.25]]));
    const b = tf.variable(tf.tensor1d([0.3, -0.7]));
    const target = [[1, 2], [3, 4]];
    const opt = new AdamW({ lr: 0.1, beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.5, warmupSteps: 2 });
    // Reference state.
    const W = [[0.5, -1.0], [2.0, 0.25]];
    const Bv = [0.3, -0.7];
    const m = { w: [[0, 0], [0, 0]], b: [0, 0] };
    const v = { w: [[0, 0], [0, 0]], b: [0, 0] };
    for (let t = 1; t <= 4; t++) {
      // loss = Σ (W − target)² + Σ b³ : gradients 2(W − target) and 3b².
      opt.minimize(() => tf.add(tf.sum(tf.square(tf.sub(w, target))), tf.sum(tf.pow(b, 3))) as tf.Scalar, false, [w, b]);
      const lr = 0.1 * Math.min(t / 2, 1);
      const upd = (x: number, g: number, mm: number, vv: number, decay: boolean): [number, number, number] => {
        const m1 = 0.9 * mm + 0.1 * g;
        const v1 = 0.95 * vv + 0.05 * g * g;
        const mh = m1 / (1 - 0.9 ** t);
        const vh = v1 / (1 - 0.95 ** t);
        const x1 = (decay ? x * (1 - lr * 0.5) : x) - lr * mh / (Math.sqrt(vh) + 1e-8);
        return [x1, m1, v1];
      };
      for (let i = 0; i < 2; i++) {
        for (let j = 0; j < 2; j++) {
          [W[i][j], m.w[i][j], v.w[i][j]] = upd(W[i][j], 2 * (W[i][j] - target[i][j]), m.w[i][j], v.w[i][j], true);
        }
        [Bv[i], m.b[i], v.b[i]] = upd(Bv[i], 3 * Bv[i] ** 2, m.b[i], v.b[i], false);
      }
    }
    const gotW = w.arraySync();
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(gotW[i][j]).toBeCloseTo(W[i][j], 5);
    const gotB = b.arraySync();
    for (let i = 0; i < 2; i++) expect(gotB[i]).toBeCloseTo(Bv[i], 5);
    expect(opt.lrAt(0)).toBeCloseTo(0.05, 12);
    tf.dispose([w, b]);
    opt.dispose();
    expect(() => new AdamW({ lr: 0 })).toThrow(/AdamW: option lr must be positive, got 0/);
    const cos = new AdamW({ lr: 1, warmupSteps: 10, schedule: 'cosine', totalSteps: 110, minLrFactor: 0.1 });
    expect(cos.lrAt(60)).toBeCloseTo(0.1 + 0.9 * 0.5, 12);
    expect(cos.lrAt(110)).toBeCloseTo(0.1, 12);
  });
});

describe('second derivatives of the arithmetic loss', () => {
  it('nested-gradient Hessian-vector products match central differences of the gradient (cpu)', async () => {
    const task = createArithmeticTask('tiny', { hessianSize: 16 });
    // Leave the initial point so that attention and the loss are far from uniform.
    for (let i = 0; i < 30; i++) task.trainStep();
    await tf.setBackend('cpu'); // tensors move over when first read
    const numParams = task.params.reduce((s, p) => s + p.size, 0);
    const v = normalArray(mulberry32(9), numParams, 1);
    const norm = Math.hypot(...v);
    const u = v.map((x) => x / norm);
    const loss = (): tf.Scalar => task.hessianLoss();
    const exact = hessianVectorProduct(loss, task.params, u, { mode: 'exact' });
    // ReLU kinks crossed between θ − εu and θ + εu spoil a central difference (never improve it),
    // and float32 rounding spoils tiny ε: the best of a few small steps is the fair comparison.
    const errors = [5e-4, 1e-3, 2e-3].map((eps) => {
      const fd = hessianVectorProduct(loss, task.params, u, { mode: 'finite-difference', epsilon: eps });
      let num = 0;
      let den = 0;
      fd.forEach((x, i) => { num += (exact[i] - x) ** 2; den += x * x; });
      expect(den).toBeGreaterThan(1e-6);
      return Math.sqrt(num / den);
    });
    expect(Math.min(...errors)).toBeLessThan(0.01);
    task.dispose();
    await tf.setBackend('wasm');
  });
});
