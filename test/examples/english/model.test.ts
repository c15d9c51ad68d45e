import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';
import { countLmParams, createLanguageModel, lmBatchTensors, lmParamSpecs, lmTokenLosses, type LanguageModel, type LanguageModelShape } from '../../../examples/english/model.js';
import { mulberry32, normalArray } from '../../../examples/arithmetic/prng.js';
import { referenceTokenLoss } from './reference64.js';

const SHAPE: LanguageModelShape = { vocabSize: 37, seqLen: 7, layers: 2, dModel: 8, heads: 2, dMlp: 12 };

function randomWindows(seed: number, count: number): Int32Array[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => Int32Array.from({ length: SHAPE.seqLen + 1 }, () => Math.floor(rng() * SHAPE.vocabSize)));
}

describe.each(['cpu', 'wasm'])('English language model on %s', (backend) => {
  let model: LanguageModel;
  let weights: Record<string, Float32Array>;
  beforeAll(async () => {
    await tf.setBackend(backend);
    await tf.ready();
    if (backend === 'wasm') registerWasmKernels();
    model = createLanguageModel(SHAPE, { seed: 4 });
    // Every parameter (gains and biases too) at scale 0.4, so attention and LN are far from trivial.
    const rng = mulberry32(11);
    model.params.forEach((p) => p.assign(tf.tensor(normalArray(rng, p.size, 0.4), p.shape)));
    weights = {};
    model.names.forEach((n, i) => { weights[n] = model.params[i].dataSync() as Float32Array; });
  });
  afterAll(() => model.dispose());

  it('gives every position the per-token loss of a float64 reference', () => {
    const windows = randomWindows(1, 3);
    const t = lmBatchTensors(windows, SHAPE.seqLen, SHAPE.vocabSize);
    const got = lmTokenLosses(model, t).dataSync();
    expect(got).toHaveLength(3 * SHAPE.seqLen);
    let maxErr = 0;
    let spread = 0;
    windows.forEach((w, b) => {
      for (let p = 0; p < SHAPE.seqLen; p++) {
        const ref = referenceTokenLoss(SHAPE, weights, w, p);
        maxErr = Math.max(maxErr, Math.abs(got[b * SHAPE.seqLen + p] - ref));
        spread = Math.max(spread, Math.abs(ref - Math.log(SHAPE.vocabSize)));
      }
    });
    expect(spread).toBeGreaterThan(0.5); // the losses are not all ≈ log V
    expect(maxErr).toBeLessThan(1e-4);
    tf.dispose([t.inputs, t.targets]);
  });

  it('scores only the requested rows, in their order', () => {
    const windows = randomWindows(2, 2);
    const rows = Int32Array.from([13, 4, 6, 7]);
    const t = lmBatchTensors(windows, SHAPE.seqLen, SHAPE.vocabSize, rows);
    const got = lmTokenLosses(model, t).dataSync();
    rows.forEach((r, i) => {
      const b = Math.floor(r / SHAPE.seqLen);
      expect(got[i]).toBeCloseTo(referenceTokenLoss(SHAPE, weights, windows[b], r % SHAPE.seqLen), 4);
    });
    tf.dispose([t.inputs, t.targets, t.rows!]);
  });

  it('leaks no tensors', () => {
    const t = lmBatchTensors(randomWindows(3, 2), SHAPE.seqLen, SHAPE.vocabSize);
    const before = tf.memory().numTensors;
    lmTokenLosses(model, t).dispose();
    const g = tf.variableGrads(() => tf.mean(lmTokenLosses(model, t)) as tf.Scalar, model.params);
    expect(Object.keys(g.grads)).toHaveLength(model.params.length);
    tf.dispose([g.value, ...Object.values(g.grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([t.inputs, t.targets]);
  });
});

describe('English model shapes', () => {
  it('counts parameters from the specs', () => {
    const { vocabSize: V, seqLen: T, dModel: d, dMlp: m, layers: L } = SHAPE;
    expect(countLmParams(SHAPE)).toBe(V * d + T * d + L * (4 * d + 3 * d * d + 3 * d + d * d + d + d * m + m + m * d + d) + 2 * d + d * V + V);
    expect(lmParamSpecs(SHAPE).map((s) => s.name).slice(0, 3)).toEqual(['tok_emb', 'pos_emb', 'l0.ln1.g']);
  });

  it('rejects bad shapes and windows, naming the option', () => {
    expect(() => lmParamSpecs({ ...SHAPE, heads: 3 })).toThrow(/lmParamSpecs: option heads \(3\) must divide dModel \(8\)/);
    expect(() => lmParamSpecs({ ...SHAPE, layers: 0 })).toThrow(/option layers must be a positive integer, got 0/);
    expect(() => lmBatchTensors([Int32Array.from([1, 2])], 7, 37)).toThrow(/lmBatchTensors: window 0 has 2 ids, expected seqLen \+ 1 = 8/);
  });
});
