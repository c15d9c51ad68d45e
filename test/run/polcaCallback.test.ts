import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { tinyClassifier, tinyData } from '../helpers/tinyClassifier.js';
import { polcaCallback } from '../../src/run/polcaCallback.js';
import { createPolca } from '../../src/tracker/createPolca.js';
import { sparseCrossEntropy } from '../../src/tracker/datapointLoss.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model = () => tinyClassifier();
const data = tinyData;

const common = { every: 2, basis: { kind: 'hessian' as const, every: 4, k: 1, maxVectors: 2 }, secondOrder: 'paper' as const };

describe('polcaCallback', () => {
  it('model.fit with the callback gives the same POLCA values as the custom-loop tracker', async () => {
    const { x, y } = data();
    const m1 = model();
    const cb = polcaCallback({ ...common, probe: { x, y }, hessianSample: { x, y } });
    const viaFit: PolcaEvent[] = [];
    cb.events$.subscribe((e) => viaFit.push(e));
    await m1.fit(x, y, { epochs: 2, batchSize: 6, shuffle: false, callbacks: [cb], verbose: 0 });
    expect(viaFit.at(-1)!.type).toBe('run-end');

    const m2 = model();
    const ce = sparseCrossEntropy(false);
    const probe = () => tf.tidy(() => ce(y, m2.apply(x) as tf.Tensor).reshape([-1]) as tf.Tensor1D);
    const tracker = createPolca({
      ...common,
      params: m2.trainableWeights.map((w) => w.read() as tf.Variable),
      probe,
      hessianLoss: () => tf.tidy(() => tf.mean(probe()) as tf.Scalar),
    });
    const viaLoop: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => viaLoop.push(e));
    await tracker.step(0);
    let step = 0;
    for (let epoch = 0; epoch < 2; epoch++) {
      for (let b = 0; b < 4; b++) {
        const loss = await m2.trainOnBatch(x.slice([b * 6], [6]), y.slice([b * 6], [6]));
        await tracker.step(++step, { loss: loss as number });
      }
    }
    await tracker.close();

    const a = viaFit.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && !e.filled);
    const b = viaLoop.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && !e.filled);
    expect(a.length).toBe(4);
    expect(a.map((e) => [e.fromStep, e.toStep, e.basisIds.length])).toEqual(b.map((e) => [e.fromStep, e.toStep, e.basisIds.length]));
    a.forEach((e, i) => {
      e.values.forEach((v, k) => {
        const scale = Math.max(...Array.from(b[i].values[k], Math.abs), 1e-6);
        v.forEach((val, j) => expect(Math.abs(val - b[i].values[k][j])).toBeLessThan(1e-4 * scale));
      });
    });
    const steps = viaFit.filter((e) => e.type === 'step');
    expect(steps.map((s) => (s as { step: number }).step)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect((steps[1] as { loss?: number }).loss).toBeGreaterThan(0);
    tf.dispose([x, y]);
  });

  it('rejects a probe whose y does not match the model output', async () => {
    const { x } = data();
    const m = model();
    const cb = polcaCallback({ ...common, probe: { x, y: tf.zeros([24, 5]) }, hessianSample: { x, y: tf.zeros([24]) } });
    const err = await m.fit(x, tf.zeros([24]), { epochs: 1, batchSize: 24, callbacks: [cb], verbose: 0 }).catch((e) => e);
    expect(String(err)).toMatch(/option 'probe.y' has shape \[24,5\] but the model output is \[24,3\]/);
    expect(() => polcaCallback({ ...common, probe: { x, y: tf.zeros([7]) } })).toThrow(/'probe.y' has 7 examples/);
    expect(() => polcaCallback({ ...common, probe: { x, y: tf.zeros([24]), mask: tf.ones([3]) } })).toThrow(/probe.mask/);
  });

  it('applies a mask: only kept targets are datapoints', async () => {
    const { x, y } = data();
    const m = model();
    const mask = tf.tensor1d(Array.from({ length: 24 }, (_, i) => (i % 3 === 0 ? 1 : 0)));
    const before = tf.memory().numTensors;
    const cb = polcaCallback({ every: 1, basis: { kind: 'random', every: 1, maxVectors: 1 }, probe: { x, y, mask } });
    const events: PolcaEvent[] = [];
    cb.events$.subscribe((e) => events.push(e));
    await m.fit(x, y, { epochs: 1, batchSize: 24, callbacks: [cb], verbose: 0 });
    // The callback freed everything it made (the mask's indices, snapshots, basis) when fit ended.
    expect(tf.memory().numTensors).toBe(before);
    const start = events.find((e) => e.type === 'run-start') as Extract<PolcaEvent, { type: 'run-start' }>;
    expect(start.numProbe).toBe(8);
    const full = (m.predict(x) as tf.Tensor).arraySync() as number[][];
    const ys = y.arraySync() as number[];
    const cp = events.filter((e) => e.type === 'checkpoint').at(-1) as Extract<PolcaEvent, { type: 'checkpoint' }>;
    const want = [0, 3, 6, 9, 12, 15, 18, 21].map((i) => -Math.log(full[i][ys[i]]));
    want.forEach((w, j) => expect(cp.losses[j]).toBeCloseTo(w, 5));
  });
});

describe('polcaCallback with probeBatchSize', () => {
  it('gives the whole probe\'s losses and POLCA values from parts, skips a part its mask empties, and frees every part', async () => {
    const { x, y } = data();
    // Examples 5–9 hold no kept target: with parts of 5, the second part keeps nothing.
    const mask = tf.tensor1d(Array.from({ length: 24 }, (_, i) => (i % 3 === 0 && !(i >= 5 && i < 10) ? 1 : 0)));
    const run = async (probeBatchSize?: number) => {
      const m = model();
      const before = tf.memory().numTensors;
      const cb = polcaCallback({ ...common, derivatives: 'exact', probe: { x, y, mask }, probeBatchSize });
      const events: PolcaEvent[] = [];
      cb.events$.subscribe((e) => events.push(e));
      await m.fit(x, y, { epochs: 2, batchSize: 6, shuffle: false, callbacks: [cb], verbose: 0 });
      expect(tf.memory().numTensors).toBe(before);
      return { m, events };
    };
    const whole = await run();
    const parts = await run(5);
    const start = parts.events.find((e) => e.type === 'run-start') as Extract<PolcaEvent, { type: 'run-start' }>;
    expect(start.numProbe).toBe(6);
    // The losses at the last checkpoint, by hand from the model's probabilities.
    const full = (parts.m.predict(x) as tf.Tensor).arraySync() as number[][];
    const ys = y.arraySync() as number[];
    const cp = parts.events.filter((e) => e.type === 'checkpoint').at(-1) as Extract<PolcaEvent, { type: 'checkpoint' }>;
    [0, 3, 12, 15, 18, 21].forEach((i, j) => expect(cp.losses[j]).toBeCloseTo(-Math.log(full[i][ys[i]]), 5));
    const a = parts.events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const b = whole.events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    expect(a.length).toBe(b.length);
    expect(a.length).toBeGreaterThan(3);
    a.forEach((e, i) => {
      e.values.forEach((v, k) => {
        const scale = Math.max(...Array.from(b[i].values[k], Math.abs), 1e-6);
        v.forEach((val, j) => expect(Math.abs(val - b[i].values[k][j])).toBeLessThan(1e-4 * scale));
      });
    });
    expect(() => polcaCallback({ ...common, probe: { x, y }, probeBatchSize: 0 })).toThrow(/option 'probeBatchSize' must be a positive integer, got 0/);
    tf.dispose([x, y, mask]);
  });
});

describe('polcaCallback serves while model.fit trains', () => {
  it('a /metrics request made at the start of training is answered before training ends', async () => {
    const { x, y } = data();
    const m = model();
    const cb = polcaCallback({ ...common, basis: { kind: 'random', every: 4, k: 1, maxVectors: 2 }, probe: { x, y }, serve: { metrics: { port: 0 } } });
    let step = -1;
    let answeredAt: number | undefined;
    let body = '';
    const epochs = 60;
    // A class callback, not a tf.CustomCallback: CustomCallbacks make tfjs yield to the
    // event loop every 125 ms by themselves, which would hide a callback that never yields.
    class StepCounter extends tf.Callback {
      override async onBatchEnd(): Promise<void> {
        step++;
        if (step === 0) {
          // fetch's I/O completes on the event loop: only a training loop that yields to it lets the answer in.
          void fetch(`http://127.0.0.1:${cb.server!.metricsPort}/metrics`)
            .then((r) => r.text())
            .then((t) => {
              body = t;
              answeredAt = step;
            });
        }
      }
    }
    const probeCallback = new StepCounter();
    await m.fit(x, y, { epochs, batchSize: 6, shuffle: false, callbacks: [cb, probeCallback], verbose: 0 });
    const total = step;
    await cb.close();
    expect(answeredAt).toBeDefined();
    expect(answeredAt!).toBeLessThan(total);
    expect(body).toMatch(/polca_/);
    tf.dispose([x, y]);
  }, 60_000);
});
