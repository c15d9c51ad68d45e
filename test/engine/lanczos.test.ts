import { describe, it, expect } from 'vitest';
import { topEigenpairs } from '../../src/engine/lanczos.js';
import { tridiagonalEigen, NonConvergenceError } from '../../src/engine/tridiagonalEigen.js';
import { jacobiEigen, matVec, dot, norm, symmetricWithSpectrum } from '../helpers/jacobi.js';

function residual(m: number[][], v: Float64Array, lambda: number): number {
  const av = matVec(m, v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (av[i] - lambda * v[i]) ** 2;
  return Math.sqrt(s);
}

describe('tridiagonalEigen', () => {
  it('matches Jacobi on a random tridiagonal matrix', () => {
    const n = 40;
    const d = Array.from({ length: n }, (_, i) => Math.sin(i * 1.7) * 3);
    const e = Array.from({ length: n - 1 }, (_, i) => Math.cos(i * 0.9) + 0.1);
    const dense = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? d[i] : j === i + 1 ? e[i] : i === j + 1 ? e[j] : 0)));
    const ref = jacobiEigen(dense);
    const ours = tridiagonalEigen(d, e);
    const refAsc = [...ref.values].reverse();
    ours.values.forEach((v, i) => expect(v).toBeCloseTo(refAsc[i], 10));
    ours.vectors.forEach((vec, i) => expect(residual(dense, vec, ours.values[i])).toBeLessThan(1e-10));
  });
  it('rejects a mis-sized off-diagonal', () => {
    expect(() => tridiagonalEigen([1, 2], [1, 2])).toThrow(/offDiag/);
  });
});

describe('topEigenpairs', () => {
  const n = 120;
  const spectrum = Array.from({ length: n }, (_, i) => (i < 6 ? 50 - 7 * i : Math.sin(i) * 4));
  const m = symmetricWithSpectrum(spectrum, 7);
  const ref = jacobiEigen(m);

  it('finds the top eigenpairs of a dense symmetric matrix (against Jacobi)', async () => {
    const res = await topEigenpairs({ matvec: (v) => matVec(m, v), dim: n, k: 3, tol: 1e-8 });
    expect(res.converged).toBe(true);
    for (let i = 0; i < 3; i++) {
      expect(Math.abs(res.values[i] - ref.values[i]) / Math.abs(ref.values[i])).toBeLessThan(1e-4);
      expect(Math.abs(dot(res.vectors[i], ref.vectors[i]))).toBeGreaterThan(0.999);
      // The reported residual is the true one.
      expect(residual(m, res.vectors[i], res.values[i])).toBeLessThan(1e-8 * 50 * 10);
      expect(Math.abs(residual(m, res.vectors[i], res.values[i]) - res.residuals[i])).toBeLessThan(1e-6);
    }
    expect(res.matvecs).toBeLessThan(n);
  });

  it('deflates a set of orthonormal vectors (eigenpairs of Π⊥AΠ⊥)', async () => {
    const deflate = [ref.vectors[0], ref.vectors[1]];
    const res = await topEigenpairs({ matvec: (v) => matVec(m, v), dim: n, k: 2, deflate, tol: 1e-8 });
    // Independent: Jacobi on the explicitly projected matrix P A P.
    const proj = (v: ArrayLike<number>) => {
      const out = Float64Array.from(v);
      for (const q of deflate) {
        const d = dot(q, out);
        for (let i = 0; i < n; i++) out[i] -= d * q[i];
      }
      return out;
    };
    const cols = Array.from({ length: n }, (_, j) => {
      const e = new Float64Array(n);
      e[j] = 1;
      return proj(matVec(m, proj(e)));
    });
    const pap = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => cols[j][i]));
    const refP = jacobiEigen(pap);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(res.values[i] - refP.values[i]) / Math.abs(refP.values[i])).toBeLessThan(1e-4);
      expect(Math.abs(dot(res.vectors[i], refP.vectors[i]))).toBeGreaterThan(0.999);
      for (const q of deflate) expect(Math.abs(dot(res.vectors[i], q))).toBeLessThan(1e-10);
    }
    expect(res.values[0]).toBeCloseTo(ref.values[2], 6);
  });

  it('accepts an async matvec and exhausts a tiny space exactly', async () => {
    const small = symmetricWithSpectrum([3, -1, 2], 3);
    const res = await topEigenpairs({ matvec: async (v) => matVec(small, v), dim: 3, k: 3 });
    expect(res.values.map((x) => Number(x.toFixed(8)))).toEqual([3, 2, -1]);
    for (const v of res.vectors) expect(norm(v)).toBeCloseTo(1, 12);
  });

  it('throws NonConvergenceError with the partial result at maxIter', async () => {
    const err = await topEigenpairs({ matvec: (v) => matVec(m, v), dim: n, k: 1, tol: 1e-14, maxIter: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(NonConvergenceError);
    expect(err.message).toMatch(/maxIter = 3/);
    expect(err.partial.values).toHaveLength(1);
    expect(err.partial.matvecs).toBe(3);
  });

  it('names the option on bad input', async () => {
    await expect(topEigenpairs({ matvec: (v) => v, dim: 4, k: 5 })).rejects.toThrow(/option 'k'/);
    await expect(topEigenpairs({ matvec: (v) => v, dim: 0, k: 1 })).rejects.toThrow(/option 'dim'/);
    await expect(topEigenpairs({ matvec: (v) => v, dim: 3, k: 1, deflate: [[1, 0]] })).rejects.toThrow(/deflate\[0\]/);
    await expect(topEigenpairs({ matvec: () => [1, NaN, 0], dim: 3, k: 1 })).rejects.toThrow(/non-finite/);
  });
});
