import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../../src/tracker/createPolca.js';
import { movementBasis } from '../../../src/engine/basis/movementBasis.js';
import type { BasisGrowContext } from '../../../src/engine/basis/basisBuilder.js';
import { ParamSpace } from '../../../src/engine/paramSpace.js';
import { Random } from '../../../src/engine/random.js';
import { resolveOptions } from '../../../src/tracker/options.js';
import type { BasisEvent, PolcaEvent } from '../../../src/stream/events.js';
import { TINY_THETA0, tinyAffine } from '../../helpers/tinyAffine.js';
import { dot, norm } from '../../helpers/jacobi.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Every value below is a multiple of 1/8, so θ and every displacement are exact in float32 and the reference is exact. */
const theta0 = TINY_THETA0.slice();
const displacements = [
  [1, 0.5, 0, -0.25, 0, 0.5],
  [0.5, 1, 0.25, 0, -0.75, 0],
  [0, -0.5, 1, 1, 0.5, -0.25],
];

/** Modified Gram–Schmidt in float64, the reference. */
function gramSchmidt(vs: readonly number[][]): Float64Array[] {
  const out: Float64Array[] = [];
  for (const v of vs) {
    const w = Float64Array.from(v);
    for (const q of out) {
      const d = dot(q, w);
      for (let i = 0; i < w.length; i++) w[i] -= d * q[i];
    }
    const n = norm(w);
    out.push(w.map((x) => x / n));
  }
  return out;
}

const add = (a: readonly number[], b: readonly number[], s = 1) => a.map((x, i) => x + s * b[i]);

describe("basis kind 'movement' in the tracker", () => {
  it('emits the Gram–Schmidt of the displacements between basis checkpoints, orthonormal', async () => {
    const m = tinyAffine();
    const tracker = createPolca({
      params: m.params,
      probe: m.probe,
      every: 1,
      basis: { kind: 'movement', every: 2, k: 1, maxVectors: 3 },
      emitVectors: true,
    });
    const events: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => events.push(e));
    // Basis checkpoints at 0, 2, 4, 6; at odd steps θ is half-way (not seen by the builder).
    let theta = theta0.slice();
    await tracker.step(0);
    for (let j = 0; j < displacements.length; j++) {
      m.assign(add(theta, displacements[j], 0.5));
      await tracker.step(2 * j + 1);
      theta = add(theta, displacements[j]);
      m.assign(theta);
      await tracker.step(2 * j + 2);
    }
    const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis.map((b) => [b.id, b.step, b.kind])).toEqual([[0, 2, 'movement'], [1, 4, 'movement'], [2, 6, 'movement']]);
    const want = gramSchmidt(displacements);
    basis.forEach((b, i) => {
      expect(Number.isNaN(b.eigenvalue) && Number.isNaN(b.residual)).toBe(true);
      expect(b.hvps).toBe(0);
      const v = b.vector!;
      for (let p = 0; p < v.length; p++) expect(Math.abs(v[p] - want[i][p])).toBeLessThan(1e-6);
      for (let j = 0; j <= i; j++) expect(Math.abs(dot(v, basis[j].vector!) - (i === j ? 1 : 0))).toBeLessThan(1e-6);
    });
    // The tracker left θ where the loop put it.
    expect(Array.from(tracker.readTheta())).toEqual(theta);
    await tracker.close();
    m.dispose();
  });

  it('adds nothing at a basis checkpoint where θ did not move, or moved only within the basis', async () => {
    const m = tinyAffine();
    const tracker = createPolca({ params: m.params, probe: m.probe, every: 1, basis: { kind: 'movement', every: 1, k: 1, maxVectors: 6 }, emitVectors: true });
    const events: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => events.push(e));
    await tracker.step(0); // first basis checkpoint: no earlier θ
    await tracker.step(1); // no movement
    let theta = add(theta0, displacements[0]);
    m.assign(theta);
    await tracker.step(2); // d0
    theta = add(theta, displacements[0], -2);
    m.assign(theta);
    await tracker.step(3); // −2·d0: in the basis
    theta = add(theta, displacements[1]);
    m.assign(theta);
    await tracker.step(4); // d1
    const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis.map((b) => b.step)).toEqual([2, 4]);
    const want = gramSchmidt(displacements.slice(0, 2));
    basis.forEach((b, i) => b.vector!.forEach((x, p) => expect(Math.abs(x - want[i][p])).toBeLessThan(1e-6)));
    await tracker.close();
    m.dispose();
  });

  it('keeps the tensor count flat', async () => {
    const m = tinyAffine();
    const tracker = createPolca({ params: m.params, probe: m.probe, every: 1, basis: { kind: 'movement', every: 1, k: 1, maxVectors: 3 } });
    const counts: number[] = [];
    let theta = theta0.slice();
    for (let s = 0; s <= 6; s++) {
      if (s > 0) theta = add(theta, displacements[(s - 1) % 3], 0.25 * s);
      m.assign(theta);
      await tracker.step(s);
      // Every basis vector keeps one device tensor per parameter.
      counts.push(tf.memory().numTensors - tracker.basisSize * m.params.length);
    }
    expect(tracker.basisSize).toBe(3);
    expect(counts.slice(1), `${counts}`).toEqual(counts.slice(1).map(() => counts[1]));
    await tracker.close();
    m.dispose();
  });
});

describe('movementBasis builder', () => {
  function context(space: ParamSpace, k: number, existing: Float32Array[] = []): BasisGrowContext {
    return { step: 0, space, hessian: null, existing, k, rng: new Random(1), lanczos: { tol: 1e-3, maxIter: 10 } };
  }

  it('with k = 2 offers the last two windows, newest first, orthonormalised against the basis and each other', async () => {
    const m = tinyAffine();
    const space = new ParamSpace(m.params);
    const b = movementBasis();
    expect(b.needsHessian).toBe(false);
    expect(await b.grow(context(space, 2))).toEqual([]);
    let theta = add(theta0, displacements[0]);
    m.assign(theta);
    expect((await b.grow(context(space, 2))).map((f) => Array.from(f.vector))).toEqual(gramSchmidt([displacements[0]]).map((v) => Array.from(Float32Array.from(v))));
    theta = add(theta, displacements[1]);
    m.assign(theta);
    // Not told about the first vector: both windows are new.
    const found = await b.grow(context(space, 2));
    const want = gramSchmidt([displacements[1], displacements[0]]);
    expect(found).toHaveLength(2);
    found.forEach((f, i) => f.vector.forEach((x, p) => expect(Math.abs(x - want[i][p])).toBeLessThan(1e-6)));
    // Told about the first vector: the older window is in the basis, so only the new one is offered.
    theta = add(theta, displacements[2]);
    m.assign(theta);
    const basis = gramSchmidt([displacements[0], displacements[1]]).map((v) => Float32Array.from(v));
    const next = await b.grow(context(space, 2, basis));
    const want3 = gramSchmidt([displacements[0], displacements[1], displacements[2]])[2];
    expect(next).toHaveLength(1);
    next[0].vector.forEach((x, p) => expect(Math.abs(x - want3[p])).toBeLessThan(1e-6));
    // θ is read, never written.
    expect(Array.from(space.read())).toEqual(theta);
    m.dispose();
  });

  it("is accepted by the options without 'hessianLoss'; an unknown kind names every kind", () => {
    const probe = () => tf.zeros([1]) as tf.Tensor1D;
    const v = tf.variable(tf.zeros([1]));
    expect(resolveOptions({ params: [v], probe, basis: { kind: 'movement' } }).basis).toMatchObject({ kind: 'movement', every: 200, k: 1 });
    expect(() => resolveOptions({ params: [v], probe, basis: { kind: 'bogus' as 'movement' } })).toThrow(
      "option 'basis.kind' must be 'hessian', 'shuffled', 'random', 'axis', 'movement', 'step-covariance', 'gradient-covariance' or 'fixed'",
    );
    v.dispose();
  });
});
