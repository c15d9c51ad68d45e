import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import { exactDirectionalDerivatives, directionalDerivatives } from '../../src/engine/directional.js';
import { ParamSpace } from '../../src/engine/paramSpace.js';
import type { PolcaEvent, PolcaIncrementEvent, BasisEvent, CheckpointEvent } from '../../src/stream/events.js';
import { tinyMlp } from '../reference/tinyModels.js';
import { evaluate64 } from '../reference/autodiff64.js';
import { dot } from '../helpers/jacobi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Trains a tiny tanh MLP with Adam for `steps` steps, optionally with a tracker; returns θ after every step. */
async function train(withPolca: boolean, steps = 24) {
  const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 8, numData: 12, seed: 4 });
  const opt = tf.train.adam(0.05);
  const thetas: Float64Array[] = [];
  const events: PolcaEvent[] = [];
  const tracker = withPolca
    ? createPolca({
        params: m.params,
        probe: () => m.perDatapointLossTf(),
        hessianLoss: () => m.lossTf(),
        every: 4,
        basis: { kind: 'hessian', every: 8, k: 1, maxVectors: 3 },
        secondOrder: 'paper',
      })
    : null;
  tracker?.events$.subscribe((e) => events.push(e));
  await tracker?.step(0);
  for (let s = 1; s <= steps; s++) {
    opt.minimize(() => m.lossTf(), false, m.params);
    await tracker?.step(s);
    thetas.push(m.readTheta());
  }
  await tracker?.close();
  opt.dispose();
  m.dispose();
  return { thetas, events };
}

describe('the tracker never changes the training it watches', () => {
  it('θ after every step is bit for bit the same with and without polca (cpu)', async () => {
    const plain = await train(false);
    const watched = await train(true);
    expect(watched.events.filter((e) => e.type === 'basis')).toHaveLength(3);
    expect(watched.events.filter((e) => e.type === 'polca').length).toBeGreaterThan(3);
    for (let s = 0; s < plain.thetas.length; s++) {
      expect(Buffer.from(watched.thetas[s].buffer).equals(Buffer.from(plain.thetas[s].buffer))).toBe(true);
    }
  });
});

describe('tracker events', () => {
  it('emits run-start, steps, checkpoints, basis and polca events in order, and run-end on close', async () => {
    const { events } = await train(true, 16);
    expect(events[0].type).toBe('run-start');
    expect(events.at(-1)!.type).toBe('run-end');
    const start = events[0] as Extract<PolcaEvent, { type: 'run-start' }>;
    expect(start.numParams).toBe(7 * 8 + 3);
    expect(start.numProbe).toBe(12);
    expect(start.hvpMode).toBe('exact');
    expect(start.hvpReason).toMatch(/agrees/);
    const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis.map((b) => [b.id, b.step])).toEqual([[0, 0], [1, 8], [2, 16]]);
    basis.forEach((b) => {
      expect(b.residual).toBeLessThan(1e-3 * Math.abs(b.eigenvalue) + 1e-6);
      expect(b.hvps).toBeGreaterThan(0);
    });
    const cps = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
    expect(cps.map((c) => c.step)).toEqual([0, 4, 8, 12, 16]);
    const polca = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && !e.filled);
    expect(polca.map((p) => [p.fromStep, p.toStep, p.basisIds.length])).toEqual([[0, 4, 1], [4, 8, 1], [8, 12, 2], [12, 16, 2]]);
    // The fast path checks one direction per checkpoint against the exact JVP.
    polca.forEach((p) => expect(p.derivativeCheck!.relativeError).toBeLessThan(1e-2));
    // Losses before/after chain through the checkpoints.
    expect(Array.from(polca[1].lossBefore)).toEqual(Array.from(cps[1].losses));
  });

  it('derivativeCheckEvery: the exact-JVP check runs at every n-th interval, the directions taking turns', async () => {
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 8, numData: 12, seed: 4 });
    const opt = tf.train.adam(0.05);
    const events: PolcaEvent[] = [];
    const options = {
      params: m.params, probe: () => m.perDatapointLossTf(), hessianLoss: () => m.lossTf(), every: 2,
      basis: { kind: 'random' as const, every: 2, k: 1, maxVectors: 2 }, derivativeCheckEvery: 3,
    };
    const tracker = createPolca(options);
    tracker.events$.subscribe((e) => events.push(e));
    await tracker.step(0);
    for (let s = 1; s <= 14; s++) {
      opt.minimize(() => m.lossTf(), false, m.params);
      await tracker.step(s);
    }
    await tracker.close();
    const polca = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && !e.filled);
    expect(polca).toHaveLength(7);
    expect(polca.map((p) => (p.derivativeCheck ? p.derivativeCheck.basisId : null))).toEqual([0, null, null, 1, null, null, 0]);
    polca.filter((p) => p.derivativeCheck).forEach((p) => expect(p.derivativeCheck!.relativeError).toBeLessThan(1e-2));
    expect((events[0] as Extract<PolcaEvent, { type: 'run-start' }>).config.derivativeCheckEvery).toBe(3);
    expect(() => createPolca({ ...options, derivativeCheckEvery: 0 })).toThrow(/option 'derivativeCheckEvery' must be a positive integer, got 0/);
    opt.dispose();
    m.dispose();
  });

  it('keeps tf.memory().numTensors flat over 200 steps', async () => {
    const m = tinyMlp({ activation: 'tanh', head: 'mse', hidden: 4, numData: 6, seed: 2 });
    const opt = tf.train.sgd(0.05);
    const tracker = createPolca({
      params: m.params,
      probe: () => m.perDatapointLossTf(),
      hessianLoss: () => m.lossTf(),
      every: 5,
      basis: { kind: 'hessian', every: 5, k: 2, maxVectors: 2 },
      secondOrder: 'directional',
    });
    let counts: Record<number, number> = {};
    await tracker.step(0);
    for (let s = 1; s <= 200; s++) {
      opt.minimize(() => m.lossTf(), false, m.params);
      await tracker.step(s);
      if (s === 10 || s === 200) counts[s] = tf.memory().numTensors;
    }
    expect(counts[200]).toBe(counts[10]);
    await tracker.close();
    opt.dispose();
    m.dispose();
  });
});

describe('directional derivatives', () => {
  it('equal ⟨b, ∇ℓ_x⟩ from a per-datapoint gradient loop (exact JVP and central difference)', () => {
    const m = tinyMlp({ activation: 'sigmoid', head: 'softmaxLog', hidden: 6, numData: 9, seed: 7 });
    const space = new ParamSpace(m.params);
    const b = Float32Array.from({ length: m.numParams }, (_, i) => Math.sin(i + 1));
    const nb = Math.hypot(...b);
    b.forEach((x, i) => (b[i] = x / nb));
    // Independent: per-datapoint gradients, one backward pass each, with tfjs; and float64 reference.
    const loop = Array.from({ length: m.numData }, (_, x) => {
      const { grads } = tf.variableGrads(() => tf.tidy(() => m.perDatapointLossTf().slice([x], [1]).sum() as tf.Scalar), m.params);
      const flat = m.params.map((p) => grads[p.name].dataSync());
      tf.dispose(Object.values(grads));
      return dot(Float64Array.from(flat.flatMap((a) => Array.from(a))), b);
    });
    const ref64 = Array.from({ length: m.numData }, (_, x) => {
      const g = evaluate64((t) => m.perDatapointLossVars(t)[x], m.theta0).grad;
      return dot(g, b);
    });
    const bt = space.toDevice(b);
    const parts = space.split(bt);
    const exact = exactDirectionalDerivatives(space, () => m.perDatapointLossTf(), parts, m.numData);
    const fd = directionalDerivatives(() => m.perDatapointLossTf(), m.params, b, { mode: 'finite-difference', epsilon: 1e-2 });
    for (let x = 0; x < m.numData; x++) {
      expect(Math.abs(exact[x] - loop[x])).toBeLessThan(1e-5 * (1 + Math.abs(loop[x])));
      expect(Math.abs(exact[x] - ref64[x])).toBeLessThan(1e-5 * (1 + Math.abs(ref64[x])));
      expect(Math.abs(fd[x] - ref64[x])).toBeLessThan(2e-3 * (1 + Math.abs(ref64[x])));
    }
    tf.dispose([bt, ...parts]);
    m.dispose();
  });
});

describe('clear errors', () => {
  const m = tinyMlp({ activation: 'tanh', head: 'mse', hidden: 3, numData: 4 });
  const base = { params: m.params, probe: () => m.perDatapointLossTf(), hessianLoss: () => m.lossTf() };
  it('names the option', async () => {
    expect(() => createPolca({ ...base, params: [] })).toThrow(/'params'/);
    const intVar = tf.variable(tf.tensor1d([1, 2], 'int32'));
    expect(() => createPolca({ ...base, params: [intVar] })).toThrow(/float32/);
    expect(() => createPolca({ ...base, every: 0 })).toThrow(/option 'every'/);
    expect(() => createPolca({ ...base, every: -3 })).toThrow(/option 'every'.*-3/);
    expect(() => createPolca({ ...base, basis: { kind: 'hessian', k: 1000 } })).toThrow(/'basis.k'.*P = /);
    expect(() => createPolca({ ...base, basis: { kind: 'hessian', every: 30 }, every: 20 })).toThrow(/basis.every/);
    expect(() => createPolca({ ...base, hessianLoss: undefined })).toThrow(/hessianLoss/);
    expect(() => createPolca({ ...base, basis: { kind: 'fixed', vectors: [new Float32Array(3)] } })).toThrow(/basis.vectors\[0\]/);
    expect(() => createPolca({ ...base, secondOrder: 'cubic' as never })).toThrow(/secondOrder/);
    expect(() => createPolca({ ...base, seed: NaN })).toThrow(/option 'seed' must be an integer, got NaN/);
    expect(() => createPolca({ ...base, seed: 'x' as never })).toThrow(/option 'seed' must be an integer/);
    expect(() => createPolca({ ...base, params: [base.params[0], base.params[0]] })).toThrow(/option 'params\[1\]' \(.*\) is the same variable as 'params\[0\]'/);
    intVar.dispose();
  });

  it('rejects a probe of the wrong rank or whose length changes', async () => {
    const bad = createPolca({ ...base, probe: () => tf.zeros([2, 2]) as unknown as tf.Tensor1D, basis: { kind: 'random' } });
    await expect(bad.step(0)).rejects.toThrow(/option 'probe' must return a Tensor1D/);
    let n = 4;
    const shifting = createPolca({ ...base, probe: () => tf.tidy(() => m.perDatapointLossTf().slice([0], [n])), every: 1, basis: { kind: 'random', every: 1 } });
    const errors: unknown[] = [];
    shifting.events$.subscribe({ error: (e) => errors.push(e) });
    await shifting.step(0);
    n = 3;
    await expect(shifting.step(1)).rejects.toThrow(/returned 3 losses.*N = 4/);
    expect(errors).toHaveLength(1);
  });

  it('reports non-finite losses in the events and keeps them out of sums', async () => {
    const poison = () => tf.tidy(() => {
      const l = m.perDatapointLossTf();
      return tf.concat([l.slice([0], [3]), tf.tensor1d([NaN])]) as tf.Tensor1D;
    });
    const tracker = createPolca({ ...base, probe: poison, every: 1, basis: { kind: 'random', every: 1, maxVectors: 2 } });
    const events: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => events.push(e));
    await tracker.step(0);
    await tracker.step(1);
    await tracker.close();
    const cp = events.find((e): e is CheckpointEvent => e.type === 'checkpoint')!;
    expect(cp.nonFinite).toBe(1);
    expect(Number.isFinite(cp.meanLoss)).toBe(true);
    const p = events.find((e): e is PolcaIncrementEvent => e.type === 'polca')!;
    expect(p.nonFinite).toBe(1);
    expect(Number.isNaN(p.values[0][3])).toBe(true);
    expect(Number.isFinite(p.values[0][0])).toBe(true);
  });

  it('rejects steps that do not increase and use after close', async () => {
    const tracker = createPolca({ ...base, basis: { kind: 'random' } });
    await tracker.step(0);
    await expect(tracker.step(0)).rejects.toThrow(/steps must increase/);
    const t2 = createPolca({ ...base, basis: { kind: 'random' } });
    await t2.close();
    await t2.close();
    await expect(t2.step(1)).rejects.toThrow(/closed/);
  });
});

describe('step calibration', () => {
  it('finds the best grid step (against a scan of every candidate)', async () => {
    const { calibrateStep, STEP_GRID, relativeRmsError } = await import('../../src/engine/stepCalibration.js');
    const { probeAtOffsets, centralDifference } = await import('../../src/engine/directional.js');
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 10, numData: 20, seed: 11 });
    const space = new ParamSpace(m.params);
    const probe = () => m.perDatapointLossTf();
    const b = Float32Array.from({ length: m.numParams }, (_, i) => Math.cos(3 * i + 1));
    const nb = Math.hypot(...b);
    const bt = space.toDevice(b.map((x) => x / nb));
    const parts = space.split(bt);
    const snap = space.snapshot();
    const exact = exactDirectionalDerivatives(space, probe, parts, m.numData);
    const scan = STEP_GRID.map((eps) => {
      const { plus, minus } = probeAtOffsets(space, probe, snap, parts, eps, m.numData);
      return relativeRmsError(centralDifference(plus, minus, eps), exact);
    });
    const best = Math.min(...scan);
    const got = calibrateStep(space, probe, snap, parts, exact, m.numData);
    expect(got.error).toBeLessThanOrEqual(best * 1.5);
    expect(got.error).toBeLessThan(1e-3);
    snap.dispose();
    tf.dispose([bt, ...parts]);
    m.dispose();
  });
});
