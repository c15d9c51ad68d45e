import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import { chunkedProbe, exactDirectionalDerivatives, type ProbeClosure } from '../../src/engine/directional.js';
import { ParamSpace } from '../../src/engine/paramSpace.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';
import { tinyMlp, type TinyModel } from '../reference/tinyModels.js';
import { evaluate64 } from '../reference/autodiff64.js';
import { dot } from '../helpers/jacobi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The model's probe cut into parts of the given lengths, each computed on its own rows only. */
function partsOf(m: TinyModel, lengths: readonly number[]): ProbeClosure[] {
  let at = 0;
  return lengths.map((len) => {
    const from = at;
    at += len;
    return () => tf.tidy(() => m.perDatapointLossTf().slice([from], [len]));
  });
}

describe('chunkedProbe', () => {
  it('gives the exact JVP part by part: ⟨b, ∇ℓ_x⟩ equal to a float64 per-datapoint gradient, every tensor freed', () => {
    const m = tinyMlp({ activation: 'sigmoid', head: 'softmaxLog', hidden: 6, numData: 9, seed: 7 });
    const space = new ParamSpace(m.params);
    const b = Float32Array.from({ length: m.numParams }, (_, i) => Math.cos(2 * i + 1));
    const ref64 = Array.from({ length: m.numData }, (_, x) => dot(evaluate64((t) => m.perDatapointLossVars(t)[x], m.theta0).grad, b));
    const bt = space.toDevice(b);
    const parts = space.split(bt);
    const probe = chunkedProbe(partsOf(m, [4, 1, 4]));
    // The whole probe as the forward pass sees it: the parts in order.
    const whole = probe();
    expect(Array.from(whole.dataSync())).toEqual(Array.from(m.perDatapointLossTf().dataSync()));
    whole.dispose();
    const numTensors = tf.memory().numTensors;
    const got = exactDirectionalDerivatives(space, probe, parts, m.numData);
    exactDirectionalDerivatives(space, probe, parts, m.numData);
    expect(tf.memory().numTensors).toBe(numTensors);
    for (let x = 0; x < m.numData; x++) expect(Math.abs(got[x] - ref64[x])).toBeLessThan(1e-5 * (1 + Math.abs(ref64[x])));
    tf.dispose([bt, ...parts]);
    m.dispose();
  });

  it('leaves a tracker\'s events what the whole probe gives', async () => {
    const run = async (chunked: boolean) => {
      const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 8, numData: 12, seed: 4 });
      const opt = tf.train.adam(0.05);
      const events: PolcaEvent[] = [];
      const tracker = createPolca({
        params: m.params,
        probe: chunked ? chunkedProbe(partsOf(m, [5, 7])) : () => m.perDatapointLossTf(),
        hessianLoss: () => m.lossTf(),
        every: 4,
        basis: { kind: 'hessian', every: 8, k: 1, maxVectors: 3 },
        derivatives: 'exact',
      });
      tracker.events$.subscribe((e) => events.push(e));
      await tracker.step(0);
      for (let s = 1; s <= 24; s++) {
        opt.minimize(() => m.lossTf(), false, m.params);
        await tracker.step(s);
      }
      await tracker.close();
      opt.dispose();
      m.dispose();
      return events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    };
    const whole = await run(false);
    const parts = await run(true);
    expect(parts.length).toBe(whole.length);
    expect(whole.length).toBeGreaterThan(3);
    parts.forEach((e, i) => {
      expect(e.basisIds).toEqual(whole[i].basisIds);
      e.values.forEach((row, k) => {
        const scale = Math.max(1e-6, ...Array.from(whole[i].values[k], Math.abs));
        row.forEach((v, x) => expect(Math.abs(v - whole[i].values[k][x])).toBeLessThan(1e-4 * scale));
      });
    });
  });

  it('names what is wrong: no parts, a part that is not a function, parts that do not add up to N', () => {
    expect(() => chunkedProbe([])).toThrow(/chunkedProbe: option 'parts' must be a non-empty array of functions/);
    expect(() => chunkedProbe([42 as never])).toThrow(/option 'parts' must hold functions, got .*42.* at index 0/);
    const m = tinyMlp({ activation: 'tanh', head: 'mse', hidden: 3, numData: 6 });
    const space = new ParamSpace(m.params);
    const bt = space.toDevice(new Float32Array(m.numParams).fill(0.1));
    const parts = space.split(bt);
    expect(() => exactDirectionalDerivatives(space, chunkedProbe(partsOf(m, [2, 3])), parts, 6)).toThrow(/option 'probe' returned 6 losses, but its parts hold 5 \(2 \+ 3\)/);
    tf.dispose([bt, ...parts]);
    m.dispose();
  });
});
