import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../../src/tracker/createPolca.js';
import { gradientCovarianceBasis, gradientCovarianceProduct } from '../../../src/engine/basis/gradientCovarianceBasis.js';
import type { BasisGrowContext } from '../../../src/engine/basis/basisBuilder.js';
import { ParamSpace } from '../../../src/engine/paramSpace.js';
import { chunkedProbe } from '../../../src/engine/directional.js';
import { Random } from '../../../src/engine/random.js';
import type { BasisEvent, PolcaEvent } from '../../../src/stream/events.js';
import { dot, jacobiEigen, matVec, norm } from '../../helpers/jacobi.js';
import { mulberry32 } from '../../helpers/prng.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const N = 5;
const P = 7; // w [3] and V [2, 2]

/** Seeded float32-exact values in [−1, 1). */
function values(count: number, seed: number): number[] {
  const u = mulberry32(seed);
  return Array.from(Float32Array.from({ length: count }, () => 2 * u() - 1));
}

/**
 * Per-datapoint losses with gradients in closed form, θ = (w [3], V [2, 2]),
 * c_x the x-th row of C (N × P, split like θ):
 * - linear: ℓ_x = c_xᵀθ, so G = C;
 * - quadratic: ℓ_x = ½(c_xᵀθ − y_x)², so G = diag(Cθ − y) C.
 */
function tinyModel(kind: 'linear' | 'quadratic') {
  const C = values(N * P, 11);
  const y = values(N, 12);
  const theta = values(P, 13);
  const w = tf.variable(tf.tensor1d(theta.slice(0, 3)));
  const V = tf.variable(tf.tensor2d(theta.slice(3), [2, 2]));
  const Cw = tf.tensor2d(C.flatMap((_, i) => (i % P < 3 ? [C[i]] : [])), [N, 3]);
  const CV = tf.tensor2d(C.flatMap((_, i) => (i % P >= 3 ? [C[i]] : [])), [N, 4]);
  const yt = tf.tensor1d(y);
  const probe = () =>
    tf.tidy(() => {
      const lin = tf.add(tf.matMul(Cw, tf.reshape(w, [3, 1])), tf.matMul(CV, tf.reshape(V, [4, 1]))).reshape([N]) as tf.Tensor1D;
      return kind === 'linear' ? lin : (tf.mul(0.5, tf.square(tf.sub(lin, yt))) as tf.Tensor1D);
    });
  const rows = Array.from({ length: N }, (_, x) => C.slice(x * P, (x + 1) * P));
  /** G at θ in float64. */
  const G = (th: ArrayLike<number>) =>
    rows.map((c, x) => {
      const r = kind === 'linear' ? 1 : dot(c, th) - y[x];
      return c.map((v) => r * v);
    });
  const dispose = () => [w, V, Cw, CV, yt].forEach((t) => t.dispose());
  return { params: [w, V], probe, G, theta, dispose };
}

/** GᵀG in float64, optionally projected off unit vectors Q: Π⊥GᵀGΠ⊥. */
function covariance(G: number[][], Q: readonly ArrayLike<number>[] = []): number[][] {
  const cols = Array.from({ length: P }, (_, j) => {
    const e = new Float64Array(P);
    e[j] = 1;
    const proj = (v: Float64Array) => {
      for (const q of Q) {
        const d = dot(q, v);
        for (let i = 0; i < P; i++) v[i] -= d * q[i];
      }
      return v;
    };
    const gv = matVec(G, proj(e));
    const gtgv = new Float64Array(P);
    G.forEach((row, x) => row.forEach((g, i) => (gtgv[i] += g * gv[x])));
    return proj(gtgv);
  });
  return Array.from({ length: P }, (_, i) => cols.map((c) => c[i]));
}

function context(space: ParamSpace, probe: (() => tf.Tensor1D) | undefined, k: number, existing: Float32Array[] = []): BasisGrowContext {
  return { step: 0, space, hessian: null, probe, existing, k, rng: new Random(1), lanczos: { tol: 1e-8, maxIter: 50 } };
}

const absCos = (a: ArrayLike<number>, b: ArrayLike<number>) => Math.abs(dot(a, b)) / (norm(a) * norm(b));

describe('gradientCovarianceProduct', () => {
  it.each(['linear', 'quadratic'] as const)('equals GᵀGv with G written down by hand (%s)', (kind) => {
    const m = tinyModel(kind);
    const space = new ParamSpace(m.params);
    const v = values(P, 21);
    const got = gradientCovarianceProduct(space, m.probe, v, N);
    const want = matVec(covariance(m.G(m.theta)), v);
    for (let i = 0; i < P; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * norm(want));
    m.dispose();
  });

  it.each(['linear', 'quadratic'] as const)('with the probe in parts (chunkedProbe), equals GᵀGv with G written down by hand, every tensor freed (%s)', (kind) => {
    const m = tinyModel(kind);
    const space = new ParamSpace(m.params);
    const v = values(P, 23);
    const parts = [[0, 2], [2, 1], [3, 2]].map(([at, len]) => () => tf.tidy(() => m.probe().slice([at], [len])));
    const probe = chunkedProbe(parts);
    const want = matVec(covariance(m.G(m.theta)), v);
    for (const centre of [false, true]) {
      const numTensors = tf.memory().numTensors;
      const got = gradientCovarianceProduct(space, probe, v, N, centre);
      expect(tf.memory().numTensors).toBe(numTensors);
      const whole = gradientCovarianceProduct(space, m.probe, v, N, centre);
      for (let i = 0; i < P; i++) expect(Math.abs(got[i] - whole[i])).toBeLessThan(1e-5 * norm(want));
    }
    const got = gradientCovarianceProduct(space, probe, v, N);
    for (let i = 0; i < P; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * norm(want));
    m.dispose();
  });

  it.each(['linear', 'quadratic'] as const)('centred, equals (G − 1ḡᵀ)ᵀ(G − 1ḡᵀ)v with the mean gradient taken off by hand (%s)', (kind) => {
    const m = tinyModel(kind);
    const space = new ParamSpace(m.params);
    const v = values(P, 22);
    const numTensors = tf.memory().numTensors;
    const got = gradientCovarianceProduct(space, m.probe, v, N, true);
    expect(tf.memory().numTensors).toBe(numTensors);
    const G = m.G(m.theta);
    const mean = Array.from({ length: P }, (_, i) => G.reduce((s, row) => s + row[i], 0) / N);
    const want = matVec(covariance(G.map((row) => row.map((g, i) => g - mean[i]))), v);
    for (let i = 0; i < P; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-5 * norm(want));
    // It differs from the uncentred product: the mean gradient is not zero here.
    const plain = matVec(covariance(G), v);
    expect(norm(plain.map((x, i) => x - want[i]))).toBeGreaterThan(1e-2 * norm(want));
    m.dispose();
  });
  it.each(['linear', 'quadratic'] as const)('restricted to members, equals G_Sᵀ(I − 11ᵀ/|S|)G_S v with the rows picked by hand (%s)', (kind) => {
    const m = tinyModel(kind);
    const space = new ParamSpace(m.params);
    const v = values(P, 23);
    const members = [4, 1, 3];
    const numTensors = tf.memory().numTensors;
    const plain = gradientCovarianceProduct(space, m.probe, v, N, false, members);
    const centred = gradientCovarianceProduct(space, m.probe, v, N, true, members);
    expect(tf.memory().numTensors).toBe(numTensors);
    const GS = members.map((x) => m.G(m.theta)[x]);
    const mean = Array.from({ length: P }, (_, i) => GS.reduce((s, row) => s + row[i], 0) / members.length);
    const wantPlain = matVec(covariance(GS), v);
    const wantCentred = matVec(covariance(GS.map((row) => row.map((g, i) => g - mean[i]))), v);
    for (let i = 0; i < P; i++) {
      expect(Math.abs(plain[i] - wantPlain[i])).toBeLessThan(1e-5 * norm(wantPlain));
      expect(Math.abs(centred[i] - wantCentred[i])).toBeLessThan(1e-5 * norm(wantCentred));
    }
    // The rows left out count: the whole probe's product is another vector.
    const all = matVec(covariance(m.G(m.theta)), v);
    expect(norm(all.map((x, i) => x - wantPlain[i]))).toBeGreaterThan(1e-2 * norm(wantPlain));
    expect(() => gradientCovarianceProduct(space, m.probe, v, N, true, [])).toThrow(/option 'members' is empty/);
    expect(() => gradientCovarianceProduct(space, m.probe, v, N, true, [0, N])).toThrow(/option 'members' holds 5, not an index in \[0, 5\)/);
    expect(tf.memory().numTensors).toBe(numTensors);
    m.dispose();
  });
});

describe('gradientCovarianceBasis builder', () => {
  it.each(['linear', 'quadratic'] as const)('finds the top eigenpairs of GᵀG (against Jacobi, %s)', async (kind) => {
    const m = tinyModel(kind);
    const space = new ParamSpace(m.params);
    const before = space.read();
    const numTensors = tf.memory().numTensors;
    const ref = jacobiEigen(covariance(m.G(m.theta)));
    // The test is only meaningful with separated eigenvalues.
    expect(ref.values[1] - ref.values[2]).toBeGreaterThan(0.05 * ref.values[0]);
    const found = await gradientCovarianceBasis().grow(context(space, m.probe, 2));
    expect(found).toHaveLength(2);
    found.forEach((f, i) => {
      expect(absCos(f.vector, ref.vectors[i])).toBeGreaterThan(1 - 1e-5);
      expect(Math.abs(f.eigenvalue - ref.values[i])).toBeLessThan(1e-5 * ref.values[0]);
      expect(f.residual).toBeLessThan(1e-4 * ref.values[0]);
      expect(f.hvps).toBeGreaterThan(0);
      expect(f.hvps).toBeLessThanOrEqual(P);
    });
    expect(Math.abs(dot(found[0].vector, found[1].vector))).toBeLessThan(1e-6);
    expect(Buffer.from(space.read().buffer).equals(Buffer.from(before.buffer))).toBe(true);
    expect(tf.memory().numTensors).toBe(numTensors);
    m.dispose();
  });

  it('deflates: with a basis given, finds the top eigenvector of Π⊥GᵀGΠ⊥', async () => {
    const m = tinyModel('quadratic');
    const space = new ParamSpace(m.params);
    const full = jacobiEigen(covariance(m.G(m.theta)));
    // An existing unit vector close to, but not on, the top eigenvector, so deflation matters.
    const q = Float64Array.from(full.vectors[0], (x, i) => x + 0.3 * full.vectors[2][i]);
    const qf = Float32Array.from(q, (x) => x / norm(q));
    const ref = jacobiEigen(covariance(m.G(m.theta), [qf]));
    const [f] = await gradientCovarianceBasis().grow(context(space, m.probe, 1, [qf]));
    expect(absCos(f.vector, ref.vectors[0])).toBeGreaterThan(1 - 1e-5);
    expect(Math.abs(f.eigenvalue - ref.values[0])).toBeLessThan(1e-5 * full.values[0]);
    expect(Math.abs(dot(f.vector, qf))).toBeLessThan(1e-6);
    // The undeflated top eigenvector is not the answer.
    expect(absCos(f.vector, full.vectors[0])).toBeLessThan(0.99);
    m.dispose();
  });

  it("throws naming basis.kind when the grow context has no probe", async () => {
    const m = tinyModel('linear');
    const space = new ParamSpace(m.params);
    const b = gradientCovarianceBasis();
    expect(b.needsHessian).toBe(false);
    await expect(b.grow(context(space, undefined, 1))).rejects.toThrow(/basis\.kind 'gradient-covariance' needs the probe/);
    m.dispose();
  });
});

describe("basis kind 'gradient-covariance' in the tracker", () => {
  it('emits the top eigenvectors of the deflated GᵀG at each basis checkpoint, with a flat tensor count', async () => {
    const m = tinyModel('quadratic');
    const tracker = createPolca({
      params: m.params,
      probe: m.probe,
      every: 1,
      basis: { kind: 'gradient-covariance', every: 2, k: 1, maxVectors: 3 },
      lanczos: { tol: 1e-8 },
      emitVectors: true,
    });
    const events: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => events.push(e));
    const opt = tf.train.sgd(0.05);
    const thetaAt = new Map<number, Float32Array>();
    const counts: number[] = [];
    for (let s = 0; s <= 8; s++) {
      if (s > 0) opt.minimize(() => tf.mean(m.probe()) as tf.Scalar, false, m.params);
      thetaAt.set(s, tracker.readTheta());
      await tracker.step(s);
      // Every basis vector keeps one device tensor per parameter.
      counts.push(tf.memory().numTensors - tracker.basisSize * m.params.length);
    }
    expect(counts.slice(1), `${counts}`).toEqual(counts.slice(1).map(() => counts[1]));
    const start = events.find((e) => e.type === 'run-start')!;
    expect(start.type === 'run-start' && start.hvpReason).toMatch(/no Hessian-vector products/);
    const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis.map((b) => [b.id, b.step, b.kind])).toEqual([[0, 0, 'gradient-covariance'], [1, 2, 'gradient-covariance'], [2, 4, 'gradient-covariance']]);
    basis.forEach((b, i) => {
      const theta = thetaAt.get(b.step)!;
      const ref = jacobiEigen(covariance(m.G(theta), basis.slice(0, i).map((e) => e.vector!)));
      expect(absCos(b.vector!, ref.vectors[0])).toBeGreaterThan(1 - 1e-5);
      expect(Math.abs(b.eigenvalue - ref.values[0])).toBeLessThan(1e-5 * ref.values[0]);
      expect(b.hvps).toBeGreaterThan(0);
    });
    expect(events.filter((e) => e.type === 'polca').length).toBeGreaterThan(0);
    await tracker.close();
    opt.dispose();
    m.dispose();
  });
});
