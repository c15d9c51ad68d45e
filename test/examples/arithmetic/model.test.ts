import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { QUERY_LEN, SEQ_LEN, VOCAB_SIZE, makeBatch } from '../../../examples/arithmetic/data.js';
import {
  batchTensors, countParams, createModel, forwardLogits, paramSpecs, perTokenLoss, predictDigits, weightMap,
  type ArithmeticModel, type TransformerShape,
} from '../../../examples/arithmetic/model.js';
import { tokenCrossEntropy } from '../../../examples/arithmetic/nn.js';
import { mulberry32, normalArray } from '../../../examples/arithmetic/prng.js';
import { crossEntropy64, referenceLogits } from './reference64.js';

const SHAPE: TransformerShape = { layers: 2, dModel: 8, heads: 2, dMlp: 12 };
const A = [123, 150, 999, 507, 640, 388];
const B = [456, 850, 999, 494, 101, 713];

/** A model with every parameter (biases and gains too) drawn at scale 0.4, so attention and LN are far from trivial. */
function randomModel(seed: number, shape: TransformerShape = SHAPE): ArithmeticModel {
  const model = createModel(shape, { seed });
  const rng = mulberry32(seed + 100);
  model.params.forEach((p) => p.assign(tf.tensor(normalArray(rng, p.size, 0.4), p.shape)));
  return model;
}

function weightsAsArrays(model: ArithmeticModel): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  model.names.forEach((n, i) => { out[n] = model.params[i].dataSync() as Float32Array; });
  return out;
}

describe.each(['cpu', 'wasm'])('arithmetic transformer on %s', (backend) => {
  let model: ArithmeticModel;
  beforeAll(async () => {
    await tf.setBackend(backend);
    await tf.ready();
    model = randomModel(1);
  });
  afterAll(() => model.dispose());

  it('computes the logits of a float64 reference implementation', () => {
    const batch = makeBatch(A, B);
    const t = batchTensors(batch);
    const logits = forwardLogits(SHAPE, weightMap(model), t.inputs);
    expect(logits.shape).toEqual([A.length, 4, VOCAB_SIZE]);
    const got = logits.arraySync();
    const ref = referenceLogits(SHAPE, weightsAsArrays(model), batch.inputs);
    let maxErr = 0;
    let maxAbs = 0;
    for (let i = 0; i < A.length; i++) {
      for (let k = 0; k < 4; k++) {
        for (let v = 0; v < VOCAB_SIZE; v++) {
          maxErr = Math.max(maxErr, Math.abs(got[i][k][v] - ref[i][k][v]));
          maxAbs = Math.max(maxAbs, Math.abs(ref[i][k][v]));
        }
      }
    }
    expect(maxAbs).toBeGreaterThan(0.5); // logits are not all near zero
    expect(maxErr).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    tf.dispose([logits, t.inputs, t.targets]);
  });

  it('gives per-token losses equal to float64 cross-entropy and to tf.losses.softmaxCrossEntropy', () => {
    const batch = makeBatch(A, B);
    const losses = perTokenLoss(model, batch);
    expect(losses.shape).toEqual([A.length * 4]);
    const got = losses.dataSync();
    const ref = referenceLogits(SHAPE, weightsAsArrays(model), batch.inputs);
    for (let i = 0; i < A.length; i++) {
      for (let k = 0; k < 4; k++) {
        expect(got[4 * i + k]).toBeCloseTo(crossEntropy64(ref[i][k], batch.targets[4 * i + k]), 4);
      }
    }
    const t = batchTensors(batch);
    const tfLoss = tf.tidy(() => tf.losses.softmaxCrossEntropy(
      t.targets, tf.reshape(forwardLogits(SHAPE, weightMap(model), t.inputs), [-1, VOCAB_SIZE]), undefined, 0, tf.Reduction.NONE));
    const tfValues = tfLoss.dataSync();
    for (let j = 0; j < got.length; j++) expect(got[j]).toBeCloseTo(tfValues[j], 5);
    // Predictions are the argmax of the same logits.
    const digits = predictDigits(model, batch);
    for (let i = 0; i < A.length; i++) {
      for (let k = 0; k < 4; k++) expect(digits[4 * i + k]).toBe(ref[i][k].indexOf(Math.max(...ref[i][k])));
    }
    tf.dispose([losses, tfLoss, t.inputs, t.targets]);
  });

  it('in the query format, computes the float64 reference logits of every (problem, place) input', () => {
    const shape: TransformerShape = { ...SHAPE, format: 'query' };
    const q = randomModel(2, shape);
    expect(q.params[1].shape).toEqual([QUERY_LEN, SHAPE.dModel]); // one position embedding per query token
    const batch = makeBatch(A, B, 'query');
    const t = batchTensors(batch);
    expect(t.inputs.shape).toEqual([4 * A.length, QUERY_LEN, VOCAB_SIZE]);
    const logits = forwardLogits(shape, weightMap(q), t.inputs);
    expect(logits.shape).toEqual([4 * A.length, 1, VOCAB_SIZE]);
    const got = logits.arraySync();
    const ref = referenceLogits(shape, weightsAsArrays(q), batch.inputs, { seqLen: QUERY_LEN, outputPositions: [QUERY_LEN - 1] });
    let maxErr = 0;
    let maxAbs = 0;
    for (let r = 0; r < 4 * A.length; r++) {
      for (let v = 0; v < VOCAB_SIZE; v++) {
        maxErr = Math.max(maxErr, Math.abs(got[r][0][v] - ref[r][0][v]));
        maxAbs = Math.max(maxAbs, Math.abs(ref[r][0][v]));
      }
    }
    expect(maxAbs).toBeGreaterThan(0.5);
    expect(maxErr).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    // Per-token losses keep the datapoint order 4i + k of the sequence format.
    const losses = perTokenLoss(q, batch).dataSync();
    expect(losses).toHaveLength(4 * A.length);
    for (let j = 0; j < losses.length; j++) expect(losses[j]).toBeCloseTo(crossEntropy64(ref[j][0], batch.targets[j]), 4);
    expect(() => forwardLogits(shape, weightMap(q), batchTensors(makeBatch(A, B)).inputs)).toThrow(/'query' format must have shape \[rows, 9, 12\]/);
    tf.dispose([logits, t.inputs, t.targets]);
    q.dispose();
  });

  it('is causal: changing a later token never changes earlier logits', () => {
    const base = makeBatch([123], [456]);
    const logitsFor = (tokens: Int32Array): number[][] => {
      const x = new Float32Array(SEQ_LEN * VOCAB_SIZE);
      tokens.forEach((tok, p) => { x[p * VOCAB_SIZE + tok] = 1; });
      return tf.tidy(() => forwardLogits(SHAPE, weightMap(model), tf.tensor3d(x, [1, SEQ_LEN, VOCAB_SIZE])).arraySync()[0]);
    };
    const before = logitsFor(base.inputs);
    // Outputs k = 0..3 read input positions 7..10; change input position 7 + c for c = 1, 2, 3.
    for (let c = 1; c < 4; c++) {
      const changed = base.inputs.slice();
      changed[7 + c] = (changed[7 + c] + 3) % 10;
      const after = logitsFor(changed);
      for (let k = 0; k < c; k++) expect(after[k]).toEqual(before[k]);
      // The changed position's own prediction does move (the check above could fail).
      const moved = Math.max(...after[c].map((v, i) => Math.abs(v - before[c][i])));
      expect(moved).toBeGreaterThan(1e-3);
    }
  });

  it('has the gradient softmax − onehot for the token cross-entropy', () => {
    const logits = tf.tensor2d([[0.3, -1.2, 2.0, 0.1], [5.0, 4.0, -3.0, 0.0]]);
    const targets = tf.tensor2d([[0, 0, 1, 0], [0, 1, 0, 0]]);
    const g = tf.grad((z: tf.Tensor) => tf.sum(tokenCrossEntropy(z, targets)))(logits);
    const z = logits.arraySync();
    const y = targets.arraySync();
    const got = (g as tf.Tensor2D).arraySync();
    for (let r = 0; r < 2; r++) {
      const m = Math.max(...z[r]);
      const e = z[r].map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < 4; c++) expect(got[r][c]).toBeCloseTo(e[c] / s - y[r][c], 6);
    }
    tf.dispose([logits, targets, g]);
  });
});

describe('arithmetic transformer parameters', () => {
  it('counts parameters by the formula of a pre-LN transformer', () => {
    const { layers: L, dModel: d, dMlp: m } = { layers: 3, dModel: 512, dMlp: 2048 };
    const V = VOCAB_SIZE;
    const perLayer = 4 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d);
    expect(countParams({ layers: L, dModel: d, heads: 4, dMlp: m })).toBe(V * d + SEQ_LEN * d + L * perLayer + 2 * d + d * V + V);
    expect(paramSpecs(SHAPE).map((s) => s.name)).toContain('l1.mlp.w2');
    expect(() => paramSpecs({ ...SHAPE, heads: 3 })).toThrow(/paramSpecs: option heads \(3\) must divide dModel \(8\)/);
  });

  it('initialises identically from the same seed and differently from another', () => {
    const m1 = createModel(SHAPE, { seed: 7 });
    const m2 = createModel(SHAPE, { seed: 7 });
    const m3 = createModel(SHAPE, { seed: 8 });
    expect(Array.from(m1.params[0].dataSync())).toEqual(Array.from(m2.params[0].dataSync()));
    expect(Array.from(m1.params[0].dataSync())).not.toEqual(Array.from(m3.params[0].dataSync()));
    expect(m1.params[0].name).not.toBe(m2.params[0].name);
    for (const m of [m1, m2, m3]) {
      m.dispose();
      m.dispose();
    }
    expect(m1.params[0].isDisposed).toBe(true);
  });
});
