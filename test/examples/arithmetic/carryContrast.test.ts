import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { contrastWeights, weightedGradient } from '../../../examples/arithmetic/carryContrast.js';
import { makeBatch } from '../../../examples/arithmetic/data.js';
import { createModel, perTokenLoss } from '../../../examples/arithmetic/model.js';
import { ParamSpace } from '../../../src/engine/index.js';

describe('carry-contrast directions', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });

  it('weigh the 10s and 100s carry tokens +1/n₊ and their others −1/n₋, nothing else', () => {
    const batch = makeBatch([123, 150, 999, 507, 640, 388], [456, 850, 999, 494, 101, 713]);
    const w = contrastWeights(batch);
    let plus = 0;
    let minus = 0;
    for (let x = 0; x < w.length; x++) {
      if (batch.place[x] === 0 || batch.place[x] === 3) expect(w[x]).toBe(0);
      else if (batch.carry[x]) plus += w[x];
      else minus += w[x];
    }
    expect(plus).toBeCloseTo(1, 6);
    expect(minus).toBeCloseTo(-1, 6);
    expect(() => contrastWeights(makeBatch([123], [456]))).toThrow(/needs carry and no-carry tokens in the 10s and 100s, got 0 and 2/);
  });

  it('is the weighted sum of the tokens\' own gradients, each taken alone', () => {
    const model = createModel({ layers: 1, dModel: 8, heads: 2, dMlp: 12 }, { seed: 5, initStd: 0.3 });
    const batch = makeBatch([123, 150, 999, 507, 640, 388], [456, 850, 999, 494, 101, 713]);
    const space = new ParamSpace(model.params);
    const w = contrastWeights(batch);
    const got = weightedGradient(space, () => perTokenLoss(model, batch), w);
    const want = new Float64Array(space.size);
    for (let x = 0; x < w.length; x++) {
      if (w[x] === 0) continue;
      const g = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => perTokenLoss(model, batch).gather([x]).sum() as tf.Scalar, model.params);
        return space.flattenLike(model.params.map((p) => grads[p.name]));
      });
      const gx = g.dataSync();
      for (let i = 0; i < gx.length; i++) want[i] += w[x] * gx[i];
      g.dispose();
    }
    const scale = Math.max(...Array.from(want, Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * scale + 1e-7);
    model.dispose();
  });
});
