import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { lastValueFrom, toArray } from 'rxjs';
import { createArithmeticTask } from '../../../examples/arithmetic/task.js';
import { readTheta, saveSnapshot } from '../../../examples/arithmetic/snapshots.js';
import { parseBasisSteps, snapshotPolca } from '../../../examples/arithmetic/snapshotPolca.js';
import { makeBatch, makeSplits } from '../../../examples/arithmetic/data.js';
import { batchTensors, createModel, perTokenLoss } from '../../../examples/arithmetic/model.js';
import { ParamSpace } from '../../../src/engine/index.js';
import { exactHvp } from '../../../src/engine/hvp.js';
import { replay } from '../../../src/sinks/arrow/replay.js';
import type { PolcaIncrementEvent } from '../../../src/stream/events.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('snapshotPolca: the paper\'s offline computation from saved θ', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'polca-snappolca-'));
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const task = createArithmeticTask('tiny', { steps: 30 });
    await saveSnapshot(dir, task);
    for (let i = 0; i < 30; i++) {
      task.trainStep();
      if (task.step % 10 === 0) await saveSnapshot(dir, task);
    }
    task.dispose();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('grows Hessian eigenvectors at the basis steps and gives each datapoint the secant POLCA of an independent per-token gradient', async () => {
    const out = path.join(dir, 'polca');
    const res = await snapshotPolca(dir, {
      basis: 'hessian', every: 10, basisSteps: [10, 20], probeProblems: 6, sampleProblems: 16, out, sizes: [[4, 2]], maxIter: 80,
    });
    expect(res.vectors).toHaveLength(2);
    expect(Math.abs(dot(res.vectors[0], res.vectors[1]))).toBeLessThan(1e-5);

    // An independent model of the same configuration, θ from the snapshot files.
    const task = createArithmeticTask('tiny', { steps: 30 });
    const model = createModel(task.config, { seed: task.config.seed + 1, initStd: task.config.initStd });
    task.dispose();
    const space = new ParamSpace(model.params);
    const splits = makeSplits({ seed: 0, probeSize: 64, hessianSize: 64 });
    const sample = batchTensors(makeBatch(Array.from(splits.hessian.a.subarray(0, 16)), Array.from(splits.hessian.b.subarray(0, 16))));
    const probe = batchTensors(makeBatch(Array.from(splits.probe.a.subarray(0, 6)), Array.from(splits.probe.b.subarray(0, 6))));

    // Each vector is an eigenvector of the Hessian at its own step's θ, deflated by the earlier one.
    // Checked with the engine's exact HVP (itself checked against float64 references in test/engine):
    // central differences of gradients are no independent check here, because the ReLU's kinks
    // make them drift with ε (11.4 exact against 6.1–17.1 for ε from 0.1 to 0.001 on vector 0).
    const sampleLoss = () => tf.tidy(() => tf.mean(perTokenLoss(model, sample)) as tf.Scalar);
    for (const [i, step] of [[0, 10], [1, 20]] as const) {
      space.assignHost(readTheta(dir, step));
      const b = res.vectors[i];
      const bt = tf.tensor1d(b);
      const hb = Float64Array.from(exactHvp(space, sampleLoss, bt).dataSync());
      bt.dispose();
      // Π⊥ H b with the earlier vector projected out.
      if (i === 1) {
        const c = dot(res.vectors[0], hb);
        for (let j = 0; j < hb.length; j++) hb[j] -= c * res.vectors[0][j];
      }
      const lambda = dot(b, hb);
      expect(lambda / res.values[i]).toBeCloseTo(1, 4);
      let r = 0;
      for (let j = 0; j < hb.length; j++) r += (hb[j] - lambda * b[j]) ** 2;
      expect(Math.sqrt(r) / Math.abs(lambda)).toBeLessThan(0.02);
    }

    // ⟨b, ∇ℓ_x(θ_s)⟩ one datapoint at a time (its own backward pass), in float64.
    const n = 24;
    const directional = (step: number): number[][] => {
      space.assignHost(readTheta(dir, step));
      const rows = res.vectors.map(() => new Array<number>(n).fill(0));
      for (let x = 0; x < n; x++) {
        const { value, grads } = tf.variableGrads(() => tf.tidy(() => tf.squeeze(tf.slice(perTokenLoss(model, probe), [x], [1])) as tf.Scalar), model.params);
        let at = 0;
        for (const p of model.params) {
          const g = grads[p.name].dataSync();
          res.vectors.forEach((b, k) => {
            for (let j = 0; j < g.length; j++) rows[k][x] += b[at + j] * g[j];
          });
          at += g.length;
        }
        tf.dispose([value, ...Object.values(grads)]);
      }
      return rows;
    };

    const events = (await lastValueFrom(replay(out).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    expect(events.map((e) => [e.fromStep, e.toStep])).toEqual([[0, 10], [10, 20], [20, 30]]);
    const d = [0, 10, 20, 30].map(directional);
    events.forEach((e, t) => {
      const before = readTheta(dir, e.fromStep);
      const after = readTheta(dir, e.toStep);
      const delta = Float64Array.from(after, (v, j) => v - before[j]);
      res.vectors.forEach((b, k) => {
        const proj = dot(b, delta);
        expect(e.projections[k]).toBeCloseTo(proj, 6);
        const scale = Math.max(...d[t][k].map(Math.abs), ...d[t + 1][k].map(Math.abs)) * Math.abs(proj);
        for (let x = 0; x < n; x++) {
          // Eq. 2, and the secant estimator's trapezoid ½⟨b,Δθ⟩(⟨b,g_t(x)⟩ + ⟨b,g_{t+1}(x)⟩).
          expect(Math.abs(e.firstOrder[k][x] - d[t][k][x] * proj)).toBeLessThan(2e-3 * scale);
          expect(Math.abs(e.values[k][x] - 0.5 * proj * (d[t][k][x] + d[t + 1][k][x]))).toBeLessThan(2e-3 * scale);
        }
      });
    });
    model.dispose();
    tf.dispose([sample.inputs, sample.targets, probe.inputs, probe.targets]);
  });

  it('with the probe in parts (--probe-chunk), gives the events of the whole probe', async () => {
    const opts = { basis: 'hessian' as const, every: 10, basisSteps: [10, 20], probeProblems: 6, sampleProblems: 16, sizes: [[4, 2]] as [number, number][], maxIter: 80 };
    await snapshotPolca(dir, { ...opts, out: path.join(dir, 'polca-whole') });
    await snapshotPolca(dir, { ...opts, out: path.join(dir, 'polca-parts'), probeChunk: 4 });
    const read = async (out: string) => (await lastValueFrom(replay(out).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const whole = await read(path.join(dir, 'polca-whole'));
    const parts = await read(path.join(dir, 'polca-parts'));
    expect(parts.length).toBe(3);
    parts.forEach((e, t) => {
      // The check against the exact JVP runs through the parts: it must agree as well as on the whole probe.
      expect(e.derivativeCheck?.relativeError).toBeLessThan(1e-2);
      expect(e.derivativeCheck?.relativeError).toBeCloseTo(whole[t].derivativeCheck?.relativeError ?? NaN, 4);
      e.values.forEach((row, k) => {
        const scale = Math.max(...Array.from(whole[t].values[k], Math.abs));
        row.forEach((v, x) => expect(Math.abs(v - whole[t].values[k][x])).toBeLessThan(1e-4 * scale));
      });
    });
  });

  it('repeats a basis step to take the top eigenvectors of one checkpoint, each an eigenvector of H itself', async () => {
    const res = await snapshotPolca(dir, {
      basis: 'hessian', every: 10, basisSteps: parseBasisSteps('30*2'), probeProblems: 4, sampleProblems: 16, out: path.join(dir, 'polca-late'), sizes: [[4, 2]], maxIter: 80,
    });
    expect(res.vectors).toHaveLength(2);
    expect(Math.abs(dot(res.vectors[0], res.vectors[1]))).toBeLessThan(1e-5);
    const task = createArithmeticTask('tiny', { steps: 30 });
    const model = createModel(task.config, { seed: task.config.seed + 1, initStd: task.config.initStd });
    task.dispose();
    const space = new ParamSpace(model.params);
    const splits = makeSplits({ seed: 0, probeSize: 64, hessianSize: 64 });
    const sample = batchTensors(makeBatch(Array.from(splits.hessian.a.subarray(0, 16)), Array.from(splits.hessian.b.subarray(0, 16))));
    space.assignHost(readTheta(dir, 30));
    const sampleLoss = () => tf.tidy(() => tf.mean(perTokenLoss(model, sample)) as tf.Scalar);
    // At one θ, an eigenvector of Π⊥HΠ⊥ orthogonal to the first is an eigenvector of H: no projection here.
    const lambdas = res.vectors.map((b) => {
      const bt = tf.tensor1d(b);
      const hb = exactHvp(space, sampleLoss, bt);
      const h = Float64Array.from(hb.dataSync());
      tf.dispose([bt, hb]);
      const lambda = dot(b, h);
      let r = 0;
      for (let j = 0; j < h.length; j++) r += (h[j] - lambda * b[j]) ** 2;
      expect(Math.sqrt(r) / Math.abs(lambda)).toBeLessThan(0.02);
      return lambda;
    });
    expect(lambdas[0] / res.values[0]).toBeCloseTo(1, 4);
    expect(lambdas[1] / res.values[1]).toBeCloseTo(1, 4);
    expect(lambdas[0]).toBeGreaterThanOrEqual(lambdas[1]);
    model.dispose();
    tf.dispose([sample.inputs, sample.targets]);
  });

  it('reads --basis-steps as steps and step*count, and names the entry it cannot read', () => {
    expect(parseBasisSteps('2400*3')).toEqual([2400, 2400, 2400]);
    expect(parseBasisSteps('0, 200,400*2')).toEqual([0, 200, 400, 400]);
    expect(() => parseBasisSteps('2400*x')).toThrow(/option '--basis-steps' takes steps or step\*count, comma-separated; got '2400\*x'/);
    expect(() => parseBasisSteps('10*0')).toThrow(/got '10\*0'/);
    expect(() => parseBasisSteps('400,200')).toThrow(/option '--basis-steps' must not go backwards; got 200 after 400/);
    expect(() => parseBasisSteps('')).toThrow(/got ''/);
  });

  it('names the option and the value when the snapshots cannot give what is asked', async () => {
    const base = { basis: 'hessian' as const, every: 10, basisSteps: [10], probeProblems: 6, sampleProblems: 16, out: path.join(dir, 'bad'), sizes: [[4, 2]] as [number, number][] };
    const empty = mkdtempSync(path.join(tmpdir(), 'polca-snappolca-empty-'));
    await expect(snapshotPolca(empty, base)).rejects.toThrow(/holds no snapshots.json/);
    rmSync(empty, { recursive: true });
    await expect(snapshotPolca(dir, { ...base, basisSteps: [15] })).rejects.toThrow(/option 'basisSteps' names step 15/);
    await expect(snapshotPolca(dir, { ...base, every: 40 })).rejects.toThrow(/option 'every' = 40 leaves 1 of the 4 snapshots/);
    await expect(snapshotPolca(dir, { ...base, until: 5 })).rejects.toThrow(/option 'every' = 10 leaves 1 of the 4 snapshots/);
    await expect(snapshotPolca(dir, { ...base, probeChunk: 0 })).rejects.toThrow(/option 'probeChunk' must be a positive integer, got 0/);
    await expect(snapshotPolca(dir, { ...base, probeProblems: 65 })).rejects.toThrow(/option 'probeProblems' must be an integer in \[1, 64\], got 65/);
    await expect(snapshotPolca(dir, { ...base, basis: 'lanczos' as never })).rejects.toThrow(/option 'basis' must be one of hessian, gradient-covariance, random, got 'lanczos'/);
  });
});
