import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../../src/tracker/createPolca.js';
import { principalStepDirections, stepCovarianceBasis } from '../../../src/engine/basis/stepCovarianceBasis.js';
import { resolveOptions } from '../../../src/tracker/options.js';
import type { BasisEvent, PolcaEvent } from '../../../src/stream/events.js';
import { TINY_THETA0, tinyAffine } from '../../helpers/tinyAffine.js';
import { dot, jacobiEigen, norm } from '../../helpers/jacobi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const P = 6;
const theta0 = TINY_THETA0.slice();
/** Steps, multiples of 1/8 (exact in float32). */
const steps = [
  [1, 0.5, 0, -0.25, 0, 0.5],
  [0.5, 1, 0.25, 0, -0.75, 0],
  [0, -0.5, 1, 1, 0.5, -0.25],
  [-0.25, 0.5, 0.5, 0, 1, 0.75],
  [0.75, 0, -0.5, 0.25, 0.25, -1],
];

/**
 * The reference: the dense 6 × 6 matrix Π⊥(Σ d dᵀ)Π⊥ in float64 and its
 * eigenpairs by Jacobi rotations, largest first, zero eigenvalues dropped.
 */
function reference(ds: readonly number[][], existing: readonly ArrayLike<number>[]) {
  const proj = (v: readonly number[]) => {
    const w = Float64Array.from(v);
    for (const q of existing) {
      const c = dot(q, w);
      for (let i = 0; i < P; i++) w[i] -= c * q[i];
    }
    return w;
  };
  const pd = ds.map(proj);
  const S = Array.from({ length: P }, (_, i) => Array.from({ length: P }, (_, j) => pd.reduce((s, d) => s + d[i] * d[j], 0)));
  const { values, vectors } = jacobiEigen(S);
  const order = values.map((_, i) => i).sort((a, b) => values[b] - values[a]);
  const trace = pd.reduce((s, d) => s + dot(d, d), 0);
  return order.filter((i) => values[i] > 1e-9 * trace).map((i) => ({ value: values[i], vector: vectors[i] }));
}

/** |cos| between two vectors (eigenvectors have no sign). */
const alignment = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.abs(dot(a, b)) / (norm(a) * norm(b));

describe('principalStepDirections', () => {
  it('gives the top eigenpairs of Π⊥(Σ d dᵀ)Π⊥, as a dense float64 eigensolver does', async () => {
    const q = Float64Array.from([1, 1, 0, 0, 1, -1], (x) => x / 2);
    const want = reference(steps, [q]);
    const found = await principalStepDirections(steps, [Float32Array.from(q)], 3);
    expect(found).toHaveLength(3);
    found.forEach((f, i) => {
      expect(f.eigenvalue).toBeCloseTo(want[i].value, 5);
      expect(alignment(f.vector, want[i].vector)).toBeGreaterThan(1 - 1e-6);
      expect(Math.abs(dot(f.vector, q))).toBeLessThan(1e-6);
      expect(norm(f.vector)).toBeCloseTo(1, 6);
      expect(f.hvps).toBe(0);
    });
  });

  it('zig-zag plus drift: the zig-zag first, the drift second, eigenvalues m‖a‖² and m‖b‖² (closed form)', async () => {
    // d_t = ±a + b with a ⊥ b and as many + as −: Σ d dᵀ = m(aaᵀ + bbᵀ).
    const a = [1, -1, 0.5, 0, 0, 0.5];
    const b = [0, 0, 0.25, -0.25, 0.5, -0.25];
    expect(dot(a, b)).toBe(0);
    const ds = [1, -1, 1, -1].map((s) => a.map((x, i) => s * x + b[i]));
    const found = await principalStepDirections(ds, [], 4);
    // Rank 2: the other two directions are not the steps' and are left out.
    expect(found).toHaveLength(2);
    expect(found[0].eigenvalue).toBeCloseTo(4 * dot(a, a), 6);
    expect(found[1].eigenvalue).toBeCloseTo(4 * dot(b, b), 6);
    expect(alignment(found[0].vector, a)).toBeGreaterThan(1 - 1e-7);
    expect(alignment(found[1].vector, b)).toBeGreaterThan(1 - 1e-7);
  });

  it('adds nothing for no steps, or steps inside the basis', async () => {
    expect(await principalStepDirections([], [], 2)).toEqual([]);
    const e0 = Float32Array.from([1, 0, 0, 0, 0, 0]);
    expect(await principalStepDirections([[2, 0, 0, 0, 0, 0], [-0.5, 0, 0, 0, 0, 0]], [e0], 2)).toEqual([]);
  });
});

describe("basis kind 'step-covariance' in the tracker", () => {
  it('at each basis checkpoint, the top eigenvectors of the steps since the previous one, off the basis', async () => {
    const m = tinyAffine();
    const tracker = createPolca({
      params: m.params,
      probe: m.probe,
      every: 1,
      basis: { kind: 'step-covariance', every: 3, k: 2, maxVectors: 4 },
      emitVectors: true,
    });
    const events: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => events.push(e));
    const path = [theta0.slice()];
    for (let t = 0; t < 6; t++) path.push(path[t].map((x, i) => x + steps[t % steps.length][i] * (t === 5 ? -0.5 : 1)));
    for (let t = 0; t <= 6; t++) {
      m.assign(path[t]);
      await tracker.step(t);
    }
    const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis.map((b) => [b.id, b.step, b.kind])).toEqual([[0, 3, 'step-covariance'], [1, 3, 'step-covariance'], [2, 6, 'step-covariance'], [3, 6, 'step-covariance']]);
    const stepOf = (t: number) => path[t + 1].map((x, i) => x - path[t][i]);
    const first = reference([0, 1, 2].map(stepOf), []);
    const second = reference([3, 4, 5].map(stepOf), basis.slice(0, 2).map((b) => b.vector!));
    const want = [first[0], first[1], second[0], second[1]];
    basis.forEach((b, i) => {
      expect(b.eigenvalue).toBeCloseTo(want[i].value, 4);
      expect(alignment(b.vector!, want[i].vector)).toBeGreaterThan(1 - 1e-6);
      for (let j = 0; j <= i; j++) expect(Math.abs(dot(b.vector!, basis[j].vector!) - (i === j ? 1 : 0))).toBeLessThan(1e-6);
    });
    expect(Array.from(tracker.readTheta())).toEqual(Array.from(Float32Array.from(path[6])));
    await tracker.close();
    m.dispose();
  });

  it('keeps the tensor count flat and stops at maxVectors', async () => {
    const m = tinyAffine();
    const tracker = createPolca({ params: m.params, probe: m.probe, every: 1, basis: { kind: 'step-covariance', every: 2, k: 1, maxVectors: 2 } });
    const counts: number[] = [];
    let theta = theta0.slice();
    for (let s = 0; s <= 8; s++) {
      if (s > 0) theta = theta.map((x, i) => x + 0.25 * steps[(s - 1) % steps.length][i]);
      m.assign(theta);
      await tracker.step(s);
      counts.push(tf.memory().numTensors - tracker.basisSize * m.params.length);
    }
    expect(tracker.basisSize).toBe(2);
    expect(counts.slice(1), `${counts}`).toEqual(counts.slice(1).map(() => counts[1]));
    await tracker.close();
    m.dispose();
  });

  it('is a builder without Hessian products, accepted by the options without hessianLoss', () => {
    expect(stepCovarianceBasis()).toMatchObject({ kind: 'step-covariance', needsHessian: false });
    const probe = () => tf.zeros([1]) as tf.Tensor1D;
    const v = tf.variable(tf.zeros([1]));
    expect(resolveOptions({ params: [v], probe, basis: { kind: 'step-covariance' } }).basis).toMatchObject({ kind: 'step-covariance', every: 200, k: 1 });
    v.dispose();
  });
});
