import { describe, it, expect } from 'vitest';
import { capture, orthonormalize } from '../../../examples/arithmetic/oracleControl.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, x, i) => s + x * b[i], 0);

describe('oracleControl.orthonormalize', () => {
  it('keeps the first direction as given, orthonormalises the rest in order, drops dependent ones', () => {
    const d = [3, 4, 0, 0];
    const h = [1, 0, 0, 0];
    const dependent = [6, 8, 0, 0]; // = 2d
    const r = [0, 0, 2, 1];
    const { vectors, kept } = orthonormalize([d, h, dependent, r]);
    expect(kept).toEqual([0, 1, 3]);
    // The first is the unit displacement itself.
    [0.6, 0.8, 0, 0].forEach((x, i) => expect(vectors[0][i]).toBeCloseTo(x, 6));
    // Gram–Schmidt by hand: h − ⟨h,d̂⟩d̂ = (1,0,0,0) − 0.6·(0.6,0.8,0,0) = (0.64, −0.48, 0, 0), norm 0.8.
    [0.8, -0.6, 0, 0].forEach((x, i) => expect(vectors[1][i]).toBeCloseTo(x, 6));
    [0, 0, 2 / Math.sqrt(5), 1 / Math.sqrt(5)].forEach((x, i) => expect(vectors[2][i]).toBeCloseTo(x, 6));
    for (let i = 0; i < vectors.length; i++) for (let j = 0; j < vectors.length; j++) expect(dot(vectors[i], vectors[j])).toBeCloseTo(i === j ? 1 : 0, 6);
  });
});

describe('oracleControl.capture', () => {
  it('is the correlation and slope of ΔL_b on Δℓ, and the carry / no-carry means of the 10s and 100s', () => {
    // Δℓ and ΔL_b = 0.25·Δℓ + 0.5: slope ¼, correlation 1.
    const dLoss = [-4, -2, 0, 2, -8, -1];
    const dProj = dLoss.map((x) => 0.25 * x + 0.5);
    const labels = { place: [1, 2, 0, 3, 1, 2], carry: [true, false, true, false, true, false] };
    const c = capture(dLoss, dProj, labels);
    expect(c.correlation).toBeCloseTo(1, 12);
    expect(c.slope).toBeCloseTo(0.25, 12);
    // Carry tokens of the 10s/100s: datapoints 0 and 4; no-carry: 1 and 5 (places 0 and 3 left out).
    expect(c.carry).toBeCloseTo((-0.5 + -1.5) / 2, 12);
    expect(c.noCarry).toBeCloseTo((0 + 0.25) / 2, 12);
    expect(c.lossCarry).toBeCloseTo(-6, 12);
    expect(c.lossNoCarry).toBeCloseTo(-1.5, 12);
    // Uncorrelated: ΔL_b independent of Δℓ.
    expect(capture([1, -1, 1, -1], [1, 1, -1, -1], { place: [1, 1, 1, 1], carry: [1, 0, 1, 0] }).correlation).toBeCloseTo(0, 12);
  });
});
