import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../src/analysis/adjustedRand.js';
import { mulberry32 } from '../fixtures/hdbscan/points.js';

/** ARI from the four pair counts (Hubert & Arabie's pair-counting form), by enumerating all pairs. */
function pairCountingAri(a: number[], b: number[]): number {
  let ss = 0; // same in both
  let sd = 0; // same in a, different in b
  let ds = 0;
  let dd = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const sa = a[i] === a[j];
      const sb = b[i] === b[j];
      if (sa && sb) ss++;
      else if (sa) sd++;
      else if (sb) ds++;
      else dd++;
    }
  }
  return (2 * (ss * dd - sd * ds)) / ((ss + sd) * (sd + dd) + (ss + ds) * (ds + dd));
}

describe('adjustedRandIndex', () => {
  it('matches scikit-learn documented values', () => {
    expect(adjustedRandIndex([0, 0, 1, 1], [1, 1, 0, 0])).toBe(1);
    expect(adjustedRandIndex([0, 0, 1, 2], [0, 0, 1, 1])).toBeCloseTo(0.5714285714285714, 15);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 0, 1, 2])).toBeCloseTo(0.5714285714285714, 15);
    expect(adjustedRandIndex([0, 0, 0, 0], [0, 1, 2, 3])).toBe(0);
    expect(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1])).toBeCloseTo(-0.5, 15);
  });

  it('treats the noise label as a class of its own', () => {
    expect(adjustedRandIndex([-1, -1, 0, 0, 1, 1], [0, 0, 1, 1, 2, 2])).toBe(1);
    expect(adjustedRandIndex([-1, -1, 0, 0], [0, 1, 2, 2])).toBeLessThan(1);
  });

  it('agrees with the pair-counting form on random labelings', () => {
    const rand = mulberry32(3);
    for (let t = 0; t < 30; t++) {
      const n = 20 + Math.floor(rand() * 80);
      const ka = 1 + Math.floor(rand() * 6);
      const a = Array.from({ length: n }, () => Math.floor(rand() * ka) - 1);
      // b: a noisy copy of a, so values spread over (−1, 1].
      const b = a.map((v) => (rand() < 0.3 ? Math.floor(rand() * 5) : v));
      const expected = pairCountingAri(a, b);
      if (Number.isFinite(expected)) expect(adjustedRandIndex(a, b)).toBeCloseTo(expected, 12);
    }
  });

  it('scores trivial partitions that agree as 1', () => {
    expect(adjustedRandIndex([3, 3, 3], [7, 7, 7])).toBe(1);
    expect(adjustedRandIndex([0, 1, 2], [5, 4, 3])).toBe(1);
    expect(adjustedRandIndex([], [])).toBe(1);
  });

  it('rejects labelings of different lengths', () => {
    expect(() => adjustedRandIndex([0, 1], [0])).toThrow(/adjustedRandIndex: b has length 1, expected 2/);
  });
});
