import { describe, it, expect } from 'vitest';
import { orthonormalize } from '../../../examples/arithmetic/oracleControl.js';

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
