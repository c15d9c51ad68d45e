import { describe, it, expect } from 'vitest';
import { auc, carrySeparation, formatSeparation, largestDrop, nearThreshold } from '../../../examples/arithmetic/carrySeparation.js';
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
    // Three checkpoints hold no window of the default 5 intervals.
    expect(s.topShapeHomogeneity).toBeNaN();
  });

  it('gives the best carry AUC of the 10s and the 100s place alone, where pooling hides a one-place separator', () => {
    // 10s: carries at −2, −1, no-carries at 1, 2 — every pair ordered, AUC 1.
    // 100s: carries at 0, 3, no-carries at −3, 1.5 — 1 of 4 pairs has carry < no-carry: ¼, folded ¾.
    // Pooled: carries −2, −1, 0 each lie below 3 of the 4 no-carries (all but −3), 3 below none: 9/16.
    const place = [1, 1, 1, 1, 2, 2, 2, 2, 0, 3];
    const carry = [1, 1, 0, 0, 1, 1, 0, 0, 1, 0];
    const m = new TrajectoryMatrix(10);
    m.append(0, new Float32Array(10));
    m.append(20, Float32Array.from([-2, -1, 1, 2, 0, 3, -3, 1.5, -9, 9]));
    const s = carrySeparation(m, { place, carry }, 0);
    expect(s.bestAuc).toBeCloseTo(9 / 16, 12);
    expect(s.bestAucStep).toBe(20);
    expect(s.bestAucTens).toBe(1);
    expect(s.bestAucTensStep).toBe(20);
    expect(s.bestAucHundreds).toBeCloseTo(3 / 4, 12);
    expect(s.bestAucHundredsStep).toBe(20);
    // A place without no-carry tokens has nothing to separate.
    const allCarry = carrySeparation(m, { place, carry: carry.map((c, i) => (place[i] === 2 ? 1 : c)) }, 0);
    expect(allCarry.bestAucHundreds).toBeNaN();
    expect(allCarry.bestAucTens).toBe(1);
  });

  it('per-place and pooled best AUCs match a pairwise count at every checkpoint', () => {
    const r = mulberry32(17);
    for (let trial = 0; trial < 5; trial++) {
      const n = 50;
      const place = Array.from({ length: n }, () => Math.floor(r() * 4));
      const carry = Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
      const m = new TrajectoryMatrix(n);
      const cols: Float32Array[] = [];
      for (let t = 0; t < 8; t++) {
        // Quarter steps in a small range: exact in float32, and plenty of ties.
        const c = Float32Array.from({ length: n }, (_, i) => Math.round((r() * 3 - (t === 2 + trial && carry[i] && place[i] === 1 ? 1.5 : 0)) * 4) / 4);
        cols.push(c);
        m.append(10 * t, c);
      }
      const s = carrySeparation(m, { place, carry }, trial);
      const brute = (inPlace: (p: number) => boolean) => {
        const idx = [...Array(n).keys()].filter((i) => inPlace(place[i]));
        let best = 0.5;
        let step = 0;
        cols.forEach((c, t) => {
          const a = bruteAuc(idx.filter((i) => carry[i]).map((i) => c[i]), idx.filter((i) => !carry[i]).map((i) => c[i]));
          if (Math.abs(a - 0.5) > Math.abs(best - 0.5)) { best = a; step = 10 * t; }
        });
        return { auc: Math.max(best, 1 - best), step };
      };
      const tens = brute((p) => p === 1);
      const hundreds = brute((p) => p === 2);
      const pooled = brute((p) => p === 1 || p === 2);
      expect(s.bestAucTens).toBeCloseTo(tens.auc, 12);
      expect(s.bestAucTensStep).toBe(tens.step);
      expect(s.bestAucHundreds).toBeCloseTo(hundreds.auc, 12);
      expect(s.bestAucHundredsStep).toBe(hundreds.step);
      expect(s.bestAuc).toBeCloseTo(pooled.auc, 12);
      expect(s.bestAucStep).toBe(pooled.step);
    }
  });

  it('largest drop over a window equals the maximum over all pairs d apart', () => {
    expect(largestDrop([0, 0, -1, -4, -4], 1)).toBe(3);
    expect(largestDrop([0, 0, -1, -4, -4], 2)).toBe(4);
    expect(largestDrop([0, 1, 2], 1)).toBe(-1); // never falls: the smallest rise
    expect(largestDrop([0, 1], 2)).toBe(-Infinity);
    expect(largestDrop([0, NaN, -2, -2], 1)).toBe(0);
    expect(() => largestDrop([0, 1], 0)).toThrow(/d must be a positive integer/);
    const r = mulberry32(5);
    for (let trial = 0; trial < 20; trial++) {
      const f = Array.from({ length: 3 + trial }, () => r() * 4 - 2);
      const d = 1 + (trial % Math.max(1, f.length - 1));
      let best = -Infinity;
      for (let t = 0; t < f.length; t++) for (let u = t; u < f.length; u++) if (u - t === d) best = Math.max(best, f[t] - f[u]);
      expect(largestDrop(f, d)).toBe(best);
    }
  });

  it('ranks the kept datapoints by their largest drop over Δ for the shape-based top carry share', () => {
    // 6 datapoints, 5 checkpoints 20 steps apart. Hand-computed: end value, largest drop over 1 and 2 intervals.
    const rows = [
      [0, -1, -2, -3, -4], //        carry:    end −4,   d=1: 1,    d=2: 2
      [0, 0, 0, -3, -3], //          no carry: end −3,   d=1: 3,    d=2: 3
      [0, 0, -1.75, -3.5, -3.5], //  carry:    end −3.5, d=1: 1.75, d=2: 3.5
      [0, -0.5, -1, -1.5, -5], //    no carry: end −5,   d=1: 3.5,  d=2: 4
      [0, 4, 4, 0, 0.5], //          carry, but rises overall: not kept (d=1: 4)
      [0, -0.5, -0.5, -0.5, -0.5], // carry:   end −0.5, d=1: 0.5,  d=2: 0.5
    ];
    const place = [1, 1, 2, 2, 0, 1];
    const carry = [1, 0, 1, 0, 1, 1];
    const m = new TrajectoryMatrix(6);
    for (let t = 0; t < 5; t++) m.append(20 * t, rows.map((row) => row[t]));
    const at = (delta?: number) => carrySeparation(m, { place, carry }, 0, 2, delta);
    // By end value the top two are datapoints 3 and 0: half carry.
    expect(at(20).topHomogeneity).toBe(0.5);
    // Over one interval: 3 (3.5) and 1 (3), no carry; datapoint 4 drops most but is not kept.
    expect(at(20).topShapeHomogeneity).toBe(0);
    expect(at(20).shapeDelta).toBe(20);
    // Over two intervals: 3 (4) and 2 (3.5), half carry; Δ = 30 steps rounds to 2 intervals too.
    expect(at(40).topShapeHomogeneity).toBe(0.5);
    expect(at(30).topShapeHomogeneity).toBe(0.5);
    expect(at(30).shapeDelta).toBe(40);
    // Over the whole trajectory the drop is L(0) − L(T) = −L(T): the end-value ranking again.
    expect(at(80).topShapeHomogeneity).toBe(at(80).topHomogeneity);
    // The default window, 5 intervals, is longer than this trajectory.
    expect(at().shapeDelta).toBe(100);
    expect(at().topShapeHomogeneity).toBeNaN();
    expect(() => at(-20)).toThrow(/delta must be a positive/);
  });

  it('shape-based top carry share matches a brute-force ranking', () => {
    const r = mulberry32(23);
    for (let trial = 0; trial < 10; trial++) {
      const n = 60;
      const T = 12;
      const place = Array.from({ length: n }, () => Math.floor(r() * 4));
      const carry = Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
      const rows = Array.from({ length: n }, () => {
        let v = 0;
        // Quarter steps: exact in float32, and ties among the drops.
        return Array.from({ length: T }, (_, t) => (t === 0 ? 0 : (v += Math.round((r() - 0.55) * 8) / 4)));
      });
      const m = new TrajectoryMatrix(n);
      for (let t = 0; t < T; t++) m.append(20 * t, rows.map((row) => row[t]));
      const d = 1 + (trial % 6);
      const top = 5 + 3 * trial;
      const s = carrySeparation(m, { place, carry }, 0, top, 20 * d);
      const kept = rows.map((row, i) => ({ i, row })).filter(({ row }) => row[T - 1] < row[0]);
      const drops = kept.map(({ i, row }) => {
        let best = -Infinity;
        for (let t = 0; t + d < T; t++) best = Math.max(best, row[t] - row[t + d]);
        return { i, drop: best };
      });
      drops.sort((a, b) => b.drop - a.drop || a.i - b.i);
      const chosen = drops.slice(0, top);
      expect(s.kept).toBe(kept.length);
      expect(s.topShapeHomogeneity).toBeCloseTo(chosen.filter(({ i }) => carry[i]).length / chosen.length, 12);
      const carries = chosen.filter(({ i }) => carry[i]);
      const tensHundreds = carries.filter(({ i }) => place[i] === 1 || place[i] === 2).length / carries.length;
      if (carries.length === 0) expect(s.topShapeTensHundreds).toBeNaN();
      else expect(s.topShapeTensHundreds).toBeCloseTo(tensHundreds, 12);
    }
  });

  it('prints the shape-based top share and the per-place AUCs after the earlier columns, which keep their places', () => {
    const place = [1, 1, 1, 1, 2, 2, 2, 2, 0, 3];
    const carry = [1, 1, 0, 0, 1, 1, 0, 0, 1, 0];
    const m = new TrajectoryMatrix(10);
    // Straight lines v·t: every checkpoint orders the datapoints alike, so the first (step 20) is best.
    for (let t = 0; t < 7; t++) m.append(20 * t, Float32Array.from([-2, -1, 1, 2, 0, 3, -3, 1.5, -9, -1], (v) => v * t));
    const s = carrySeparation(m, { place, carry }, 3, 4);
    const lines = formatSeparation({ exactLoss: { ...s, basisId: 0 }, vectors: [s] }, 4).split('\n');
    expect(lines[0]).toBe(
      '| trajectories | oscillatory | kept | carry among kept | carry among top 4 | of which 10s/100s | best AUC carry (step) | best AUC near threshold (step) | ' +
        'carry among top 4 by drop over Δ = 100 | best AUC carry 10s (step) | best AUC carry 100s (step) | of which 10s/100s (by drop) |',
    );
    expect(lines[1].split('|').length).toBe(lines[0].split('|').length);
    // Kept (v < 0): 0, 1, 6, 8, 9, of which carry 0, 1, 8. The top 4 by end value, and by drop over 5 intervals
    // (−5v), are 8, 6, 0, 1 (1 before 9 on the tie): ¾ carry, 2 of the 3 carries in the 10s. AUCs as in the test above.
    expect(lines[3]).toBe('| vector 3 | no | 5 | 0.60 | 0.75 | 0.67 | 0.56 (20) | - (0) | 0.75 | 1.00 (20) | 0.75 (20) | 0.67 |');
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
