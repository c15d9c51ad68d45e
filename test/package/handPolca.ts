/**
 * The consumers' problem (fixtures/consumer/problem.mjs) worked by hand in
 * float64, independently of polca: ℓ_x(w) = ½(a_x·w − y_x)², ∇ℓ_x(w) =
 * (a_x·w − y_x)·a_x for the tracker, softmax cross-entropy and SGD for the
 * browser's model.fit, and POLCA along the coordinate axes with the secant
 * (trapezoid) rule, ½·⟨b,Δθ⟩·(⟨b,∇ℓ_x(θ_t)⟩ + ⟨b,∇ℓ_x(θ_{t+1})⟩).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { REPO } from './packedPackage.js';

/** The data and the θ sequence the consumers use. */
export interface Problem {
  A: number[][];
  Y: number[];
  THETAS: number[][];
  FIT: FitProblem;
}

/**
 * One interval of a `polca` event, as the consumers print it. Declared again
 * in fixtures/consumer/problem.d.mts: that file belongs to the consumers' own
 * project, where `polca` resolves to the packed package, and is not
 * compiled here.
 */
export interface PolcaRow {
  fromStep: number;
  toStep: number;
  basisIds: number[];
  projections: number[];
  values: number[][];
  firstOrder: number[][];
  lossBefore: number[];
  lossAfter: number[];
  residual: number[];
}

/** Reads the problem's constants from the consumers' own module, so the two cannot drift apart. */
export async function loadProblem(): Promise<Problem> {
  return (await import(pathToFileURL(path.join(REPO, 'test/package/fixtures/consumer/problem.mjs')).href)) as Problem;
}

/** One interval worked by hand, in float64: a printed row without its basis ids (the axes). */
export type HandInterval = Omit<PolcaRow, 'basisIds'>;

/**
 * POLCA of a θ sequence along the coordinate axes with the secant rule, from
 * per-datapoint losses and gradients written out by hand.
 */
function secantIntervals(thetas: number[][], loss: (w: number[]) => number[], gradient: (w: number[]) => number[][]): HandInterval[] {
  const out: HandInterval[] = [];
  const axes = thetas[0].map((_, b) => b);
  for (let t = 0; t + 1 < thetas.length; t++) {
    const [w0, w1] = [thetas[t], thetas[t + 1]];
    const [g0, g1] = [gradient(w0), gradient(w1)];
    const projections = axes.map((b) => w1[b] - w0[b]);
    const values = axes.map((b) => g0.map((g, x) => 0.5 * projections[b] * (g[b] + g1[x][b])));
    const firstOrder = axes.map((b) => g0.map((g) => g[b] * projections[b]));
    const [lossBefore, lossAfter] = [loss(w0), loss(w1)];
    const residual = lossBefore.map((l, x) => lossAfter[x] - l - values.reduce((s, v) => s + v[x], 0));
    out.push({ fromStep: t, toStep: t + 1, projections, values, firstOrder, lossBefore, lossAfter, residual });
  }
  return out;
}

/** The createPolca problem: ℓ_x(w) = ½(a_x·w − y_x)², ∇ℓ_x(w) = (a_x·w − y_x)·a_x; θ given. */
export function handPolca({ A, Y, THETAS }: Problem): HandInterval[] {
  const residual = (w: number[]) => A.map((a, x) => a[0] * w[0] + a[1] * w[1] - Y[x]);
  return secantIntervals(THETAS, (w) => residual(w).map((r) => 0.5 * r * r), (w) => residual(w).map((r, x) => A[x].map((a) => r * a)));
}

/** The browser's model.fit problem (problem.mjs FIT). */
export interface FitProblem {
  X: number[][];
  LABELS: number[];
  K0: number[][];
  LR: number;
  EPOCHS: number;
}

/**
 * The fit problem: θ = the 2×2 kernel K row-major, p = softmax(x·K),
 * ℓ_x = −log p_{y_x}, ∂ℓ_x/∂K_ij = x_i (p_j − [j = y_x]); each epoch one SGD
 * step on the batch mean gradient.
 */
export function handFit({ X, LABELS, K0, LR, EPOCHS }: FitProblem): HandInterval[] {
  const probs = (w: number[]) =>
    X.map((x) => {
      const z = [0, 1].map((j) => x[0] * w[j] + x[1] * w[2 + j]);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      return e.map((v) => v / (e[0] + e[1]));
    });
  const loss = (w: number[]) => probs(w).map((p, x) => -Math.log(p[LABELS[x]]));
  const gradient = (w: number[]) => probs(w).map((p, x) => [0, 1, 2, 3].map((k) => X[x][k >> 1] * (p[k & 1] - ((k & 1) === LABELS[x] ? 1 : 0))));
  const thetas = [K0.flat()];
  for (let e = 0; e < EPOCHS; e++) {
    const w = thetas.at(-1)!;
    const g = gradient(w);
    thetas.push(w.map((v, k) => v - (LR * g.reduce((s, gx) => s + gx[k], 0)) / X.length));
  }
  return secantIntervals(thetas, loss, gradient);
}

/** Element-wise |actual − expected| < tol, with the index in the message. */
export function expectClose(actual: number[], expected: number[], tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]), `${what}[${i}]: ${a} vs ${expected[i]}`).toBeLessThan(tol));
}

/** The tracker's `polca` events agree with the hand computation (float32 arithmetic on values of order 1). */
export function expectPolcaRows(rows: PolcaRow[], hand: HandInterval[], tol = 1e-6): void {
  const basisIds = hand[0].projections.map((_, b) => b);
  expect(rows.map((p) => [p.fromStep, p.toStep, p.basisIds])).toEqual(hand.map((h) => [h.fromStep, h.toStep, basisIds]));
  rows.forEach((p, i) => {
    const h = hand[i];
    expectClose(p.projections, h.projections, tol, `projections ${i}`);
    expectClose(p.lossBefore, h.lossBefore, tol, `lossBefore ${i}`);
    expectClose(p.lossAfter, h.lossAfter, tol, `lossAfter ${i}`);
    expectClose(p.residual, h.residual, tol, `residual ${i}`);
    for (const b of basisIds) {
      expectClose(p.values[b], h.values[b], tol, `values ${i} b${b}`);
      expectClose(p.firstOrder[b], h.firstOrder[b], tol, `firstOrder ${i} b${b}`);
    }
  });
}
