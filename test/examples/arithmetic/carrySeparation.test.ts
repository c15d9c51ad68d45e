import { describe, it, expect } from 'vitest';
import { auc, carrySeparation } from '../../../examples/arithmetic/carrySeparation.js';
import { TrajectoryMatrix } from '../../../src/analysis/trajectoryMatrix.js';
import { mulberry32 } from '../../helpers/prng.js';

/** P(a < b) + ½P(a = b) over all pairs. */
function bruteAuc(a: number[], b: number[]): number {
  let s = 0;
  for (const x of a) for (const y of b) s += x < y ? 1 : x === y ? 0.5 : 0;
  return s / (a.length * b.length);
}

describe('carry separation diagnostic', () => {
  it('AUC by ranks equals the pairwise count, ties included', () => {
    const r = mulberry32(3);
    for (let trial = 0; trial < 20; trial++) {
      const a = Array.from({ length: 5 + trial }, () => Math.round(r() * 10));
      const b = Array.from({ length: 7 + 2 * trial }, () => Math.round(r() * 10 + 2));
      expect(auc(a, b)).toBeCloseTo(bruteAuc(a, b), 12);
    }
  });

  it('counts kept datapoints, the carry share of the most-decreasing ones, and the best AUC checkpoint', () => {
    // 8 datapoints, 3 checkpoints. Places: four 10s, two 100s, one 1s, one 1000s.
    const place = [1, 1, 1, 1, 2, 2, 0, 3];
    const carry = [1, 1, 0, 0, 1, 0, 0, 1];
    const end = [-3, -2, -1, 0.5, -4, 1, -0.5, -5];
    const mid = [-1, -1, 1, 1, -1, 1, 0, 0]; // carry vs no-carry perfectly separated here
    const m = new TrajectoryMatrix(8);
    m.append(0, new Float32Array(8));
    m.append(20, Float32Array.from(mid));
    m.append(40, Float32Array.from(end));
    const s = carrySeparation(m, { place, carry }, 7, 3);
    // Kept: end < 0 → datapoints 0, 1, 2, 4, 6, 7 (6), of which carry 0, 1, 4, 7.
    expect(s.kept).toBe(6);
    expect(s.keptHomogeneity).toBeCloseTo(4 / 6, 12);
    // The three most-decreasing: 7 (−5, 1000s carry), 4 (−4), 0 (−3): all carry, 2 of 3 in 10s/100s.
    expect(s.topHomogeneity).toBe(1);
    expect(s.topTensHundreds).toBeCloseTo(2 / 3, 12);
    expect(s.bestAuc).toBe(1);
    expect(s.bestAucStep).toBe(20);
    expect(s.basisId).toBe(7);
    // Mean end value −1.75 < 0: not oscillatory.
    expect(s.oscillatory).toBe(false);
    expect(() => carrySeparation(m, { place, carry }, 0, 0)).toThrow(/top must be a positive integer, got 0/);
  });
});
