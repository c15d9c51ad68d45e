import { describe, it, expect } from 'vitest';
import { makeSplits } from '../../../examples/arithmetic/data.js';
import { summarizeProbe } from '../../../examples/arithmetic/metrics.js';
import { mulberry32 } from '../../../examples/arithmetic/prng.js';

describe('summarizeProbe', () => {
  it('groups losses and accuracies by place and carry like a direct filter', () => {
    const { probe } = makeSplits({ seed: 2, probeSize: 300, hessianSize: 1 });
    const rng = mulberry32(4);
    const n = probe.targets.length;
    const losses = Array.from({ length: n }, () => rng() * 3);
    // Right about 70 % of the time, otherwise a different digit.
    const predicted = Array.from(probe.targets, (t) => (rng() < 0.7 ? t : (t + 1 + Math.floor(rng() * 9)) % 10));
    const report = summarizeProbe(probe, losses, predicted);
    const direct = (keep: (j: number) => boolean): { count: number; meanLoss: number; accuracy: number } => {
      const idx = Array.from({ length: n }, (_, j) => j).filter(keep);
      return {
        count: idx.length,
        meanLoss: idx.reduce((s, j) => s + losses[j], 0) / idx.length,
        accuracy: idx.filter((j) => predicted[j] === probe.targets[j]).length / idx.length,
      };
    };
    const check = (got: { count: number; meanLoss: number; accuracy: number }, want: ReturnType<typeof direct>): void => {
      expect(got.count).toBe(want.count);
      expect(got.meanLoss).toBeCloseTo(want.meanLoss, 10);
      expect(got.accuracy).toBeCloseTo(want.accuracy, 12);
    };
    check(report.all, direct(() => true));
    check(report.carry, direct((j) => probe.carry[j] === 1));
    check(report.noCarry, direct((j) => probe.carry[j] === 0));
    const names = ['1s', '10s', '100s', '1000s'];
    for (let p = 0; p < 4; p++) {
      check(report.byPlace[names[p]], direct((j) => probe.place[j] === p));
      for (const c of [0, 1]) {
        const key = `${names[p]} ${c === 1 ? 'carry' : 'no-carry'}`;
        const want = direct((j) => probe.place[j] === p && probe.carry[j] === c);
        if (want.count === 0) expect(report.byPlaceCarry[key]).toBeUndefined();
        else check(report.byPlaceCarry[key], want);
      }
    }
    expect(report.byPlaceCarry['1s carry']).toBeUndefined();
    let exact = 0;
    for (let i = 0; i < probe.size; i++) {
      if ([0, 1, 2, 3].every((k) => predicted[4 * i + k] === probe.targets[4 * i + k])) exact++;
    }
    expect(report.exactMatch).toBeCloseTo(exact / probe.size, 12);
    expect(exact).toBeGreaterThan(0); // the fixture has whole problems right and wrong
    expect(exact).toBeLessThan(probe.size);
    expect(() => summarizeProbe(probe, losses.slice(1), predicted)).toThrow(/summarizeProbe: losses \(1199\)/);
  });
});
