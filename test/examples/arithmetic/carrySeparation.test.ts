import { describe, it, expect } from 'vitest';
import { auc, carrySeparation, nearThreshold } from '../../../examples/arithmetic/carrySeparation.js';
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
    expect(s.bestNearAuc).toBeNaN();
  });

  it('finds the checkpoint that best tells near-threshold tokens from the rest of their places', () => {
    const r = mulberry32(9);
    const n = 40;
    const place = Array.from({ length: n }, (_, i) => [3, 2, 1, 0][i % 4]);
    const carry = Array.from({ length: n }, () => (r() < 0.45 ? 1 : 0));
    const near = Array.from({ length: n }, () => r() < 0.3);
    const m = new TrajectoryMatrix(n);
    m.append(0, new Float32Array(n));
    const cols: Float32Array[] = [];
    for (let t = 1; t <= 4; t++) {
      // Checkpoint 3 shifts the near tokens down, the others are noise.
      const c = Float32Array.from({ length: n }, (_, i) => r() - (t === 3 && near[i] ? 0.6 : 0));
      cols.push(c);
      m.append(20 * t, c);
    }
    const s = carrySeparation(m, { place, carry, near }, 0);
    const idx = [...Array(n).keys()].filter((i) => place[i] === 1 || place[i] === 2);
    let best = 0.5;
    let step = 0;
    cols.forEach((c, k) => {
      const a = bruteAuc(idx.filter((i) => near[i]).map((i) => c[i]), idx.filter((i) => !near[i]).map((i) => c[i]));
      if (Math.abs(a - 0.5) > Math.abs(best - 0.5)) { best = a; step = 20 * (k + 1); }
    });
    expect(s.bestNearAuc).toBeCloseTo(Math.max(best, 1 - best), 12);
    expect(s.bestNearAucStep).toBe(step);
    expect(step).toBe(60);
  });

  it('marks 10s and 100s tokens whose column below sums to 9 or 10', () => {
    const text = ['145+856=1001', '145+856=1001', '145+856=1001', '145+856=1001', '123+456=0579', '123+456=0579', '123+456=0579', '123+456=0579'];
    const place = [3, 2, 1, 0, 3, 2, 1, 0];
    // 145 + 856: 10s column below the 100s is 4 + 5 + 1 = 10; 1s column below the 10s is 5 + 6 = 11.
    // 123 + 456: 2 + 5 = 7 below the 100s; 3 + 6 = 9 below the 10s.
    expect(nearThreshold(text, place)).toEqual([false, true, false, false, false, false, true, false]);
    expect(() => nearThreshold(['x'], [1])).toThrow(/probe text "x" is not an addition problem/);
  });
});
