import { describe, it, expect } from 'vitest';
import { lossBudget, formatBudget } from '../../src/analysis/lossBudget.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';

// Two datapoints with quadratic losses ℓ_x(θ) = ½ θᵀA_xθ + c_xᵀθ on θ ∈ R², the full
// axis basis, and three checkpoints: along a complete basis the secant (trapezoid) terms
// sum to the exact loss change of a quadratic, so their leftover is zero.
const A = [[[2, 0.5], [0.5, 1]], [[1, -0.3], [-0.3, 3]]];
const c = [[0.2, -1], [1, 0.5]];
const loss = (x: number, t: number[]) =>
  0.5 * (A[x][0][0] * t[0] * t[0] + 2 * A[x][0][1] * t[0] * t[1] + A[x][1][1] * t[1] * t[1]) + c[x][0] * t[0] + c[x][1] * t[1];
const grad = (x: number, t: number[]) => [0, 1].map((i) => A[x][i][0] * t[0] + A[x][i][1] * t[1] + c[x][i]);
const thetas = [[1, 1], [0.6, 0.7], [0.1, 0.5]];

function interval(k: number): PolcaIncrementEvent {
  const [t0, t1] = [thetas[k], thetas[k + 1]];
  const proj = [t1[0] - t0[0], t1[1] - t0[1]];
  const derivatives = [0, 1].map((j) => Float32Array.from([0, 1], (x) => grad(x, t0)[j]));
  const firstOrder = [0, 1].map((j) => Float32Array.from([0, 1], (x) => grad(x, t0)[j] * proj[j]));
  const lossBefore = Float32Array.from([0, 1], (x) => loss(x, t0));
  const lossAfter = Float32Array.from([0, 1], (x) => loss(x, t1));
  return {
    type: 'polca', time: 0, fromStep: 10 * k, toStep: 10 * (k + 1), basisIds: [0, 1], projections: proj,
    values: firstOrder, firstOrder, derivatives, lossBefore, lossAfter,
    residual: Float32Array.from([0, 1], (x) => lossAfter[x] - lossBefore[x] - firstOrder[0][x] - firstOrder[1][x]),
    secondOrder: 'none', nonFinite: 0,
  };
}

describe('loss budget diagnostic', () => {
  it('matches hand sums on a quadratic, where the secant terms close the loss change exactly', () => {
    const events: PolcaEvent[] = [interval(0), interval(1)];
    const [row] = lossBudget(events, [0]);
    expect(row.intervals).toBe(2);
    expect(row.vectors).toBe(2);
    let dd = 0;
    let fo = 0;
    let foL = 0;
    for (let k = 0; k < 2; k++) {
      for (let x = 0; x < 2; x++) {
        const d = loss(x, thetas[k + 1]) - loss(x, thetas[k]);
        const g = grad(x, thetas[k]);
        const f = g[0] * (thetas[k + 1][0] - thetas[k][0]) + g[1] * (thetas[k + 1][1] - thetas[k][1]);
        dd += d * d;
        fo += f * f;
        foL += (d - f) ** 2;
      }
    }
    expect(row.firstOrder).toBeCloseTo(fo / dd, 5);
    expect(row.firstOrderLeftover).toBeCloseTo(foL / dd, 5);
    expect(row.recorded).toBeCloseTo(row.firstOrder, 6);
    expect(foL / dd).toBeGreaterThan(0.01);
    // Only the first interval has a successor; its secant sum is its exact change.
    expect(row.secantLeftover).toBeLessThan(1e-10);
    expect(row.secant).toBeCloseTo(1, 6);
    // Ranges split by their first step; the second range has no successor for secant.
    const split = lossBudget(events, [0, 10]);
    expect(split.map((r) => r.intervals)).toEqual([1, 1]);
    expect(split[1].secant).toBeNaN();
    expect(formatBudget(split, 'recorded (none)')).toMatch(/\| 10–end \| 1 \| 2 \| .* \| - \/ - \|/);
    // A range without intervals, or without any loss change, has no ratios.
    expect(lossBudget(events, [0, 100])[1].recorded).toBeNaN();
    const still = interval(0);
    still.lossAfter = still.lossBefore;
    expect(lossBudget([still], [0])[0].firstOrderLeftover).toBeNaN();
    expect(() => lossBudget(events, [10, 0])).toThrow(/edges must be increasing finite steps, got \[10,0\]/);
  });
});
