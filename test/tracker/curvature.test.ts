import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';
import { tinyMlp } from '../reference/tinyModels.js';
import { evaluate64 } from '../reference/autodiff64.js';
import { dot } from '../helpers/jacobi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * On a non-quadratic model, the per-datapoint curvature each estimator used,
 * λ̂(x) = 2(POLCA − d·p)/p², against the exact float64 second directional
 * derivative bᵀH_x(θ_t)b of the reference autodiff.
 */
async function curvatures(secondOrder: 'directional' | 'secant' | 'paper') {
  const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 5, numData: 8, seed: 21 });
  const P = m.numParams;
  // Two orthonormal directions: a gradient-like one (along which training moves) and a random one.
  const g = m.grad64(m.theta0);
  const r = Float64Array.from({ length: P }, (_, i) => Math.sin(7 * i + 2));
  const unit = (v: Float64Array) => v.map((x) => x / Math.hypot(...v));
  const b0 = unit(g);
  const rr = r.map((x, i) => x - dot(r, b0) * b0[i]);
  const b1 = unit(rr);
  const basis = [Float32Array.from(b0), Float32Array.from(b1)];
  const thetas = new Map<number, Float64Array>();
  const events: PolcaEvent[] = [];
  const tracker = createPolca({ params: m.params, probe: () => m.perDatapointLossTf(), every: 1, basis: { kind: 'fixed', vectors: basis }, secondOrder, derivatives: 'exact' });
  tracker.events$.subscribe((e) => events.push(e));
  const opt = tf.train.sgd(0.05);
  thetas.set(0, m.readTheta());
  await tracker.step(0);
  for (let s = 1; s <= 3; s++) {
    opt.minimize(() => m.lossTf(), false, m.params);
    thetas.set(s, m.readTheta());
    await tracker.step(s);
  }
  await tracker.close();
  const out: { est: number; exact: number }[] = [];
  for (const e of events.filter((x): x is PolcaIncrementEvent => x.type === 'polca')) {
    const theta = thetas.get(e.fromStep)!;
    e.basisIds.forEach((id, k) => {
      const p = e.projections[k];
      if (Math.abs(p) < 1e-4) return;
      const b = basis[id];
      for (let x = 0; x < m.numData; x++) {
        const hb = evaluate64((t) => m.perDatapointLossVars(t)[x], theta, b).hv!;
        out.push({ est: (2 * (e.values[k][x] - e.derivatives[k][x] * p)) / (p * p), exact: dot(b, hb) });
      }
    });
  }
  opt.dispose();
  m.dispose();
  return out;
}

describe('curvature estimators against the exact second directional derivative', () => {
  it('directional is the exact per-datapoint curvature', async () => {
    const pairs = await curvatures('directional');
    expect(pairs.length).toBeGreaterThan(10);
    for (const { est, exact } of pairs) expect(Math.abs(est - exact)).toBeLessThan(2e-3 * (1 + Math.abs(exact)));
  });
  it('secant is the curvature across the interval: close for small steps', async () => {
    const pairs = await curvatures('secant');
    const rel = Math.sqrt(pairs.reduce((s, q) => s + (q.est - q.exact) ** 2, 0) / pairs.reduce((s, q) => s + q.exact ** 2, 0));
    expect(rel).toBeLessThan(0.1);
  });
});

describe("eq. 4's aggregate curvature λ(X, b)", () => {
  /** λ(X,b) each interval used, read back from the event: mean_x(POLCA − first order) = ½ λ p² because the ratios of eq. 4 average to 1. */
  async function used(derivatives: 'fast' | 'exact', lr: number, steps: number, offsetFrom = Infinity) {
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 5, numData: 8, seed: 21 });
    const P = m.numParams;
    const g = m.grad64(m.theta0);
    const r = Float64Array.from({ length: P }, (_, i) => Math.sin(7 * i + 2));
    const unit = (v: Float64Array) => v.map((x) => x / Math.hypot(...v));
    const b0 = unit(g);
    const b1 = unit(r.map((x, i) => x - dot(r, b0) * b0[i]));
    const basis = [Float32Array.from(b0), Float32Array.from(b1)];
    const thetas = new Map<number, Float64Array>();
    const events: PolcaEvent[] = [];
    // A constant added to every loss from step `offsetFrom` on changes no derivative or curvature, but
    // swamps the central differences' float32 rounding, so the derivative check must re-pick ε.
    let offset = 0;
    const probe = () => tf.tidy(() => tf.add(m.perDatapointLossTf(), offset) as tf.Tensor1D);
    const tracker = createPolca({ params: m.params, probe, every: 1, basis: { kind: 'fixed', vectors: basis }, secondOrder: 'paper', derivatives });
    tracker.events$.subscribe((e) => events.push(e));
    const opt = tf.train.sgd(lr);
    thetas.set(0, m.readTheta());
    await tracker.step(0);
    for (let s = 1; s <= steps; s++) {
      opt.minimize(() => m.lossTf(), false, m.params);
      thetas.set(s, m.readTheta());
      if (s >= offsetFrom) offset = 300;
      await tracker.step(s);
    }
    await tracker.close();
    const out: { est: number; exact: number }[] = [];
    const polca = events.filter((x): x is PolcaIncrementEvent => x.type === 'polca');
    for (const e of polca) {
      const theta = thetas.get(e.fromStep)!;
      e.basisIds.forEach((id, k) => {
        const p = e.projections[k];
        if (Math.abs(p) < 1e-3) return;
        let mean = 0;
        for (let x = 0; x < m.numData; x++) mean += (e.values[k][x] - e.firstOrder[k][x]) / m.numData;
        const b = basis[id];
        let exact = 0;
        for (let x = 0; x < m.numData; x++) exact += dot(b, evaluate64((t) => m.perDatapointLossVars(t)[x], theta, b).hv!) / m.numData;
        out.push({ est: (2 * mean) / (p * p), exact });
      });
    }
    opt.dispose();
    m.dispose();
    return { pairs: out, checks: polca.map((e) => e.derivativeCheck?.relativeError ?? 0) };
  }

  it('is the exact bᵀH(X)b of the probe mean loss (dense float64 reference)', async () => {
    const { pairs } = await used('exact', 0.05, 6);
    expect(pairs.length).toBeGreaterThan(3);
    for (const { est, exact } of pairs) expect(Math.abs(est - exact)).toBeLessThan(1e-3 * (1 + Math.abs(exact)));
  });

  it('stays exact in fast mode after the derivative check recalibrates a step', async () => {
    const { pairs, checks } = await used('fast', 0.05, 6, 3);
    // The check past the recalibration threshold (1e-3) re-picked ε: the checks after it are smaller.
    const worst = checks.indexOf(Math.max(...checks));
    expect(checks[worst]).toBeGreaterThan(2e-3);
    expect(worst).toBeLessThan(checks.length - 1);
    expect(checks.at(-1)!).toBeLessThan(checks[worst] / 2);
    for (const { est, exact } of pairs) expect(Math.abs(est - exact)).toBeLessThan(1e-3 * (1 + Math.abs(exact)));
  });
});
