import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { makeBatch, makeSplits } from '../../../examples/arithmetic/data.js';
import {
  ArithmeticTransformerLayer, arithmeticLoss, createArithmeticLayersModel, layersData, layersPerTokenLoss,
} from '../../../examples/arithmetic/layers.js';
import { createModel, perTokenLoss, type TransformerShape } from '../../../examples/arithmetic/model.js';
import { AdamW } from '../../../examples/arithmetic/adamw.js';

const SHAPE: TransformerShape = { layers: 1, dModel: 16, heads: 2, dMlp: 32 };

describe('arithmetic LayersModel', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('starts from the same weights and computes the same losses as the custom-loop model', () => {
    const layersModel = createArithmeticLayersModel({ ...SHAPE, seed: 4 });
    const core = createModel(SHAPE, { seed: 4 });
    expect(layersModel.trainableWeights).toHaveLength(core.params.length);
    layersModel.trainableWeights.forEach((w, i) => {
      expect(w.shape).toEqual(core.params[i].shape);
      expect(Array.from(w.read().dataSync())).toEqual(Array.from(core.params[i].dataSync()));
    });
    const batch = makeBatch([123, 150, 999, 640], [456, 850, 999, 101]);
    const data = layersData(batch);
    expect(data.xs.shape).toEqual([4, 11, 12]);
    expect(data.ys.shape).toEqual([4, 4, 12]);
    const a = layersPerTokenLoss(layersModel, data).dataSync();
    const b = perTokenLoss(core, batch).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    // The compiled loss is the per-problem mean of the four token losses.
    const perProblem = tf.tidy(() => arithmeticLoss(data.ys, layersModel.predict(data.xs) as tf.Tensor).dataSync());
    for (let i = 0; i < 4; i++) expect(perProblem[i]).toBeCloseTo((b[4 * i] + b[4 * i + 1] + b[4 * i + 2] + b[4 * i + 3]) / 4, 5);
    tf.dispose([data.xs, data.ys]);
    core.dispose();
    layersModel.dispose();
  });

  it('in the query format, computes the custom-loop model\'s losses from one row per (problem, place)', () => {
    const shape: TransformerShape = { ...SHAPE, format: 'query' };
    const layersModel = createArithmeticLayersModel({ ...shape, seed: 4 });
    const core = createModel(shape, { seed: 4 });
    const batch = makeBatch([123, 150, 999], [456, 850, 999], 'query');
    const data = layersData(batch);
    expect(data.xs.shape).toEqual([12, 9, 12]);
    expect(data.ys.shape).toEqual([12, 1, 12]);
    const a = layersPerTokenLoss(layersModel, data).dataSync();
    expect(Array.from(a)).toEqual(Array.from(perTokenLoss(core, batch).dataSync()));
    expect(layersModel.layers.find((l) => l instanceof ArithmeticTransformerLayer)!.getConfig()).toMatchObject({ format: 'query' });
    tf.dispose([data.xs, data.ys]);
    core.dispose();
    layersModel.dispose();
  });

  it('trains with model.fit and AdamW', async () => {
    const model = createArithmeticLayersModel({ ...SHAPE, seed: 2 });
    model.compile({ optimizer: new AdamW({ lr: 1e-2, weightDecay: 0.1, warmupSteps: 5 }), loss: arithmeticLoss });
    const splits = makeSplits({ seed: 1, probeSize: 64, hessianSize: 8 });
    const probe = layersData(splits.probe);
    const mean = (t: tf.Tensor): number => { const m = tf.mean(t); const v = m.dataSync()[0]; tf.dispose([m, t]); return v; };
    const before = mean(layersPerTokenLoss(model, probe));
    const train = layersData(splits.train.next(32 * 60));
    const history = await model.fit(train.xs, train.ys, { batchSize: 32, epochs: 1, verbose: 0 });
    const after = mean(layersPerTokenLoss(model, probe));
    expect(after).toBeLessThan(0.8 * before);
    expect(history.history.loss[0] as number).toBeLessThan(before);
    const layer = model.layers.find((l) => l instanceof ArithmeticTransformerLayer);
    expect(layer).toBeDefined();
    const config = layer!.getConfig();
    expect(config).toMatchObject({ layers: 1, dModel: 16, heads: 2, dMlp: 32, seed: 2 });
    tf.dispose([probe.xs, probe.ys, train.xs, train.ys]);
    model.dispose();
  });
});
