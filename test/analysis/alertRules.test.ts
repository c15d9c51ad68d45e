import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { AlertRules, alerts } from '../../src/analysis/alertRules.js';
import type { AlertEvent, PolcaEvent, StepEvent } from '../../src/stream/events.js';
import { gauss, rng } from './helpers.js';

const stepEv = (step: number, loss: number): StepEvent => ({ type: 'step', time: 0, step, loss });

describe('loss-spike', () => {
  it('fires once at each planted spike and at the start of a high plateau', () => {
    const r = rng(1);
    const spikes = new Set([300, 700, 701, 702]); // 700–702: one three-step plateau
    const events = Array.from({ length: 1000 }, (_, t) => stepEv(t, (spikes.has(t) ? 3 : 1) * (2 - t / 1000) * (1 + 0.02 * gauss(r))));
    const rules = new AlertRules({ stall: false, now: () => 5 });
    const out = events.flatMap((e) => rules.push(e));
    expect(out.map((a) => [a.rule, a.step])).toEqual([
      ['loss-spike', 300],
      ['loss-spike', 700],
    ]);
    expect(out[0].value).toBeCloseTo(events[300].loss!, 12);
    expect(out[0].time).toBe(5);
    expect(out[0].message).toMatch(/training loss .* at step 300 is above its running median/);
  });

  it('does not fire on a smooth noisy decrease', () => {
    const r = rng(2);
    const rules = new AlertRules({ stall: false });
    const out = Array.from({ length: 3000 }, (_, t) => stepEv(t, 3 * Math.exp(-t / 500) + 0.2 + 0.01 * gauss(r))).flatMap((e) => rules.push(e));
    expect(out).toEqual([]);
  });
});

describe('loss-stalled', () => {
  it('fires once when the window mean stops improving, where a direct computation says', () => {
    // 2 → 1 linearly over steps 0–2000 (checked every 10 steps), then flat at 1.
    const steps = Array.from({ length: 501 }, (_, i) => 10 * i);
    const f = (t: number) => (t < 2000 ? 2 - t / 2000 : 1);
    const W = 500;
    const rules = new AlertRules({ spike: false, stall: { window: W, minImprovement: 0.01 } });
    const out = steps.flatMap((t) => rules.push(stepEv(t, f(t))));
    // direct computation: first step t ≥ 2W where (m₀ − m₁)/|m₀| < 0.01
    let expected = NaN;
    for (const t of steps) {
      if (t < 2 * W) continue;
      const w1 = steps.filter((s) => s > t - W && s <= t).map(f);
      const w0 = steps.filter((s) => s > t - 2 * W && s <= t - W).map(f);
      const m1 = w1.reduce((a, b) => a + b) / w1.length;
      const m0 = w0.reduce((a, b) => a + b) / w0.length;
      if ((m0 - m1) / m0 < 0.01) {
        expected = t;
        break;
      }
    }
    expect(expected).toBeGreaterThan(2000);
    expect(expected).toBeLessThanOrEqual(3000);
    expect(out.map((a) => [a.rule, a.step])).toEqual([['loss-stalled', expected]]);
    expect(out[0].value).toBeLessThan(0.01);
  });

  it('watches the probe mean loss when asked', () => {
    const rules = new AlertRules({ signal: 'probe', spike: false, stall: { window: 100 } });
    const ck = (step: number, meanLoss: number): PolcaEvent => ({ type: 'checkpoint', time: 0, step, losses: new Float32Array(1), meanLoss, nonFinite: 0, seconds: 0 });
    const out: AlertEvent[] = [];
    for (let t = 0; t <= 400; t += 20) {
      out.push(...rules.push(stepEv(t, 5))); // flat training loss is ignored with signal 'probe'
      out.push(...rules.push(ck(t, t < 200 ? 2 - t / 200 : 1)));
    }
    // probe loss flat from 200: the window (t−100, t] vs (t−200, t−100] means are equal from t = 300 on;
    // at t = 280: w1 = {200..280} all 1, w0 = {100..180}: 1.5, 1.4, 1.3, 1.2, 1.1 → mean 1.3 → improving
    // at t = 300: w1 = {220..300} = 1, w0 = {120..200}: 1.4, 1.3, 1.2, 1.1, 1 → 1.2 → improving
    // at t = 380: w0 = {200..280} = 1 → improvement 0 → fires; t = 360: w0 = {180..260} → mean (1.1 + 4)/5 = 1.02 → 1.96% ≥ 1%
    expect(out.map((a) => [a.rule, a.step])).toEqual([['loss-stalled', 380]]);
  });
});

describe('non-finite', () => {
  it('fires when non-finite values start, per source', () => {
    const rules = new AlertRules({ spike: false, stall: false });
    const seq: PolcaEvent[] = [
      stepEv(0, 1),
      stepEv(1, NaN),
      stepEv(2, NaN),
      stepEv(3, 1),
      stepEv(4, Infinity),
      { type: 'checkpoint', time: 0, step: 4, losses: new Float32Array([NaN, 1]), meanLoss: 1, nonFinite: 1, seconds: 0 },
      { type: 'checkpoint', time: 0, step: 8, losses: new Float32Array([NaN, 1]), meanLoss: 1, nonFinite: 1, seconds: 0 },
    ];
    const out = seq.flatMap((e) => rules.push(e));
    expect(out.map((a) => [a.rule, a.step, a.value])).toEqual([
      ['non-finite', 1, NaN],
      ['non-finite', 4, Infinity],
      ['non-finite', 4, 1],
    ]);
    expect(out[2].message).toBe('1 probe losses are not finite at step 4');
  });

  it('works as an RxJS operator and validates options', async () => {
    const out = await lastValueFrom(from([stepEv(0, 1), stepEv(1, NaN)] as PolcaEvent[]).pipe(alerts(), toArray()));
    expect(out.map((a) => a.rule)).toEqual(['non-finite']);
    expect(() => new AlertRules({ spike: { window: 0 } })).toThrow(/AlertRules: option 'spike.window' must be a positive integer, got 0/);
    expect(() => new AlertRules({ stall: { window: -5 } })).toThrow(/option 'stall.window'/);
    expect(() => new AlertRules({ spike: { threshold: -1 } })).toThrow("AlertRules: option 'spike.threshold' must be a non-negative number, got -1");
    expect(() => new AlertRules({ stall: { minImprovement: NaN } })).toThrow("AlertRules: option 'stall.minImprovement' must be a non-negative number, got NaN");
    expect(() => new AlertRules({ signal: 'x' as never })).toThrow(/option 'signal'/);
  });
});
