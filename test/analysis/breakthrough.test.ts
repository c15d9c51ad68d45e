import { describe, expect, it } from 'vitest';
import {
  acceleration,
  breakPoint,
  breakTime,
  checkpointSpacing,
  deltaToOffset,
  hidden,
  meanBreakTime,
} from '../../src/analysis/breakthrough.js';
import { mulberry32 as rng } from '../helpers/prng.js';

/**
 * Naive transcription of eq. (6): f is a function of the step; candidates are
 * the sampled steps t for which t − Δ and t + Δ are sampled too; the first
 * maximiser wins.
 */
function naiveBreak(values: number[], steps: number[], delta: number): number {
  const f = new Map<number, number>();
  steps.forEach((t, i) => f.set(t, values[i]));
  let best = -Infinity;
  let arg = NaN;
  for (const t of steps) {
    if (!f.has(t - delta) || !f.has(t + delta)) continue;
    const v = f.get(t + delta)! - f.get(t)! - (f.get(t)! - f.get(t - delta)!);
    if (v > best) {
      best = v;
      arg = t;
    }
  }
  return arg;
}

const sigmoidDown = (t: number, t0: number, w: number) => 1 / (1 + Math.exp((t - t0) / w));

describe('breakTime (eq. 6)', () => {
  it('agrees with a naive transcription on noisy sigmoids', () => {
    const r = rng(1);
    for (let trial = 0; trial < 200; trial++) {
      const spacing = [5, 20, 50][trial % 3];
      const T = 60 + Math.floor(r() * 100);
      const offset = spacing * Math.floor(r() * 10);
      const steps = Array.from({ length: T }, (_, i) => offset + spacing * i);
      const d = 1 + Math.floor(r() * 6);
      const delta = d * spacing;
      const t0 = offset + spacing * T * (0.2 + 0.6 * r());
      const w = spacing * (0.3 + 3 * r());
      const amp = r() < 0.5 ? 1 : -2;
      const f = steps.map((t) => amp * sigmoidDown(t, t0, w) + 0.02 * (r() - 0.5));
      expect(breakTime(f, steps, delta)).toBe(naiveBreak(f, steps, delta));
    }
  });

  it('places the break of a narrow falling sigmoid about Δ/2 after its inflection', () => {
    // For s(v) = 1/(1+e^{v/w}) with w ≪ Δ the second difference on (0, Δ) is
    // ≈ 1 − e^{−(Δ−v)/w} − 2e^{−v/w}, maximal at v = Δ/2 + (w ln 2)/2.
    const steps = Array.from({ length: 300 }, (_, i) => 20 * i);
    for (const t0 of [1000, 2010, 3333, 4500]) {
      const w = 8;
      const f = steps.map((t) => sigmoidDown(t, t0, w));
      const expected = t0 + 50 + (w * Math.LN2) / 2;
      expect(Math.abs(breakTime(f, steps, 100) - expected)).toBeLessThanOrEqual(20);
    }
  });

  it('returns index and magnitude of the maximal second difference', () => {
    const f = [5, 5, 5, 1, 1, 1];
    const steps = [0, 20, 40, 60, 80, 100];
    expect(breakPoint(f, steps, 20)).toEqual({ step: 60, index: 3, magnitude: 4 });
    // lag d = 2: i=2: f4−2f2+f0 = 1−10+5 = −4; i=3: f5−2f3+f1 = 1−2+5 = 4 → step 60
    expect(breakPoint(f, steps, 40)).toEqual({ step: 60, index: 3, magnitude: 4 });
    expect(Array.from(acceleration(f, 1))).toEqual([0, -4, 4, 0]);
  });

  it('maps Δ to checkpoint intervals and validates it', () => {
    expect(deltaToOffset(20, 100)).toBe(5);
    expect(() => deltaToOffset(20, 110)).toThrow(/deltaToOffset: delta=110 .*multiple .*20/);
    expect(deltaToOffset(20, 110, { round: true })).toBe(6);
    expect(deltaToOffset(20, 5, { round: true })).toBe(1);
    expect(() => deltaToOffset(20, 0)).toThrow(/delta must be a positive/);
    expect(() => breakTime([1, 2, 3], [0, 20, 40], 100)).toThrow(/breakPoint: trajectory has 3 checkpoints, needs at least 2·d\+1 = 11/);
    expect(() => checkpointSpacing([0, 20, 50])).toThrow(/uniformly spaced/);
    expect(() => checkpointSpacing([0, 0])).toThrow(/strictly increasing/);
    expect(() => breakTime([1, 2], [0, 20, 40], 20)).toThrow(/f has 2 values but steps has 3/);
  });
});

describe('hidden (eq. 7)', () => {
  it('compares the mean break time with τ', () => {
    const steps = Array.from({ length: 200 }, (_, i) => 20 * i);
    const late = [1500, 1700, 1900].map((t0) => steps.map((t) => sigmoidDown(t, t0, 5)));
    const early = [300, 400, 500].map((t0) => steps.map((t) => sigmoidDown(t, t0, 5)));
    const naiveMean = (set: number[][]) => set.reduce((s, f) => s + naiveBreak(f, steps, 100), 0) / set.length;
    expect(meanBreakTime(late, steps, 100)).toBeCloseTo(naiveMean(late), 10);
    expect(meanBreakTime([...late, ...early], steps, 100)).toBeCloseTo(naiveMean([...late, ...early]), 10);
    expect(hidden(late, steps, 100, 1000)).toBe(naiveMean(late) > 1000);
    expect(hidden(late, steps, 100, 1000)).toBe(true);
    expect(hidden(early, steps, 100, 1000)).toBe(false);
    // mean of breaks ≈ (1550+1750+1950+350+450+550)/6 ≈ 1100 > 1000
    expect(hidden([...late, ...early], steps, 100, 1000)).toBe(naiveMean([...late, ...early]) > 1000);
    expect(() => hidden(late, steps, 100, NaN)).toThrow(/hidden: tau/);
  });
});
