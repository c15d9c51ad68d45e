import { describe, expect, it } from 'vitest';
import * as ad from './autodiff64.js';
import type { Var } from './autodiff64.js';

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num) / Math.sqrt(den);
};

/** Central difference of the exact float64 gradient along v. */
function fdHv(f: (t: Var[]) => Var, theta: Float64Array, v: Float64Array, h = 1e-5): Float64Array {
  const plus = theta.map((x, i) => x + h * v[i]);
  const minus = theta.map((x, i) => x - h * v[i]);
  const gp = ad.evaluate64(f, plus).grad;
  const gm = ad.evaluate64(f, minus).grad;
  return gp.map((g, i) => (g - gm[i]) / (2 * h));
}

describe('autodiff64', () => {
  it('matches closed forms for x·y²', () => {
    const r = ad.evaluate64((t) => ad.mul(t[0], ad.square(t[1])), Float64Array.of(2, 3), Float64Array.of(0, 1));
    expect(r.value).toBe(18);
    expect(Array.from(r.grad)).toEqual([9, 12]);
    expect(Array.from(r.hv)).toEqual([6, 4]);
    const H = ad.hessian64((t) => ad.mul(t[0], ad.square(t[1])), Float64Array.of(2, 3));
    expect(H.map((c) => Array.from(c))).toEqual([[0, 6], [6, 4]]);
  });

  it('gets closed-form second derivatives of the unary ops', () => {
    const x = 0.37;
    const t = Math.tanh(x);
    const s = 1 / (1 + Math.exp(-x));
    const cases: [string, (v: Var) => Var, number, number][] = [
      ['tanh', ad.tanh, 1 - t * t, -2 * t * (1 - t * t)],
      ['sigmoid', ad.sigmoid, s * (1 - s), s * (1 - s) * (1 - 2 * s)],
      ['softplus', ad.softplus, s, s * (1 - s)],
      ['exp', ad.exp, Math.exp(x), Math.exp(x)],
      ['log', ad.log, 1 / x, -1 / (x * x)],
      ['square', ad.square, 2 * x, 2],
      ['elu(-x)', (v) => ad.elu(ad.neg(v)), -Math.exp(-x), Math.exp(-x)],
      ['pow(x, 2.5)', (v) => ad.pow(v, 2.5), 2.5 * x ** 1.5, 3.75 * x ** 0.5],
      ['pow(2.5, x)', (v) => ad.pow(2.5, v), 2.5 ** x * Math.log(2.5), 2.5 ** x * Math.log(2.5) ** 2],
      ['1/x', (v) => ad.div(1, v), -1 / x ** 2, 2 / x ** 3],
    ];
    for (const [name, f, d1, d2] of cases) {
      const r = ad.evaluate64((th) => f(th[0]), [x], [1]);
      expect(r.grad[0], name).toBeCloseTo(d1, 12);
      expect(r.hv[0], name).toBeCloseTo(d2, 12);
    }
  });

  it('agrees with central differences of its own gradient on a composite of every op', () => {
    const f = (t: Var[]): Var => {
      const z = [ad.tanh(t[0]), ad.sigmoid(t[1]), ad.elu(ad.sub(t[2], 0.4)), ad.pow(ad.add(ad.square(t[3]), 1), t[4])];
      const w = [ad.div(t[0], ad.add(ad.square(t[5]), 0.5)), ad.clip(t[1], -0.2, 0.9), ad.softplus(t[2]), ad.exp(t[3])];
      const ls = ad.logSoftmax(z);
      const p = ad.softmax(w);
      return ad.add(ad.add(ad.dot(ls, p), ad.logSumExp(ad.vecMat(z, w, 1))), ad.max(z));
    };
    const theta = Float64Array.of(0.3, -0.5, 0.8, 0.6, 1.3, -0.7);
    const v = Float64Array.of(0.2, -1, 0.5, 0.3, -0.4, 0.9);
    const exact = ad.evaluate64(f, theta, v).hv;
    expect(relErr(exact, fdHv(f, theta, v))).toBeLessThan(1e-8);
    // column-by-column Hessian is symmetric and reproduces H·v
    const H = ad.hessian64(f, theta);
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) expect(H[j][i]).toBeCloseTo(H[i][j], 12);
    expect(relErr(ad.matVec64(H, v), exact)).toBeLessThan(1e-13);
  });

  it('routes max and clip gradients like tfjs', () => {
    const g = ad.evaluate64((t) => ad.add(ad.max(t.slice(0, 3)), ad.clip(t[3], -1, 1)), [1, 3, 2, 1]).grad;
    expect(Array.from(g)).toEqual([0, 1, 0, 1]); // clip bound is inclusive
  });

  it('rejects misuse with named errors', () => {
    expect(() => ad.evaluate64((t) => t[0], [1], [1, 2])).toThrow(/evaluate64: v has length 2/);
    expect(() => ad.dot([1], [1, 2])).toThrow(/dot: lengths 1 and 2/);
  });
});
