import { describe, expect, it } from 'vitest';
import { TrajectoryStore } from '../../src/serve/trajectoryStore.js';
import type { PolcaIncrementEvent } from '../../src/stream/events.js';

function increment(fromStep: number, basisIds: number[], n: number, f: (b: number, x: number, t: number) => number): PolcaIncrementEvent {
  const arr = (g: (x: number) => number) => Float32Array.from({ length: n }, (_, x) => g(x));
  const values = basisIds.map((b) => arr((x) => f(b, x, fromStep)));
  return {
    type: 'polca', time: 0, fromStep, toStep: fromStep + 10, basisIds, projections: basisIds.map(() => 1), values, firstOrder: values, derivatives: values,
    lossBefore: arr(() => 0), lossAfter: arr(() => 0), residual: arr(() => 0), secondOrder: 'none', nonFinite: 0,
  };
}

describe('TrajectoryStore', () => {
  it('keeps L_b(x,t) as the cumulative sum of increments, from 0 where each vector appears', () => {
    const store = new TrajectoryStore({ maxValues: 1e6 });
    const f = (b: number, x: number, t: number) => Math.sin(b + x * 0.7 + t * 0.01) / 3;
    store.add(increment(0, [0], 5, f));
    store.add(increment(10, [0, 1], 5, f));
    store.add(increment(20, [0, 1], 5, f));
    const s0 = store.select(0, [4, 1])!;
    expect(s0.steps).toEqual([0, 10, 20, 30]);
    for (const [i, x] of [4, 1].entries()) {
      let c = 0;
      expect(Array.from(s0.values[i])).toEqual([0, ...[0, 10, 20].map((t) => Math.fround((c += Math.fround(f(0, x, t)))))]);
    }
    const s1 = store.select(1, [2])!;
    expect(s1.steps).toEqual([10, 20, 30]);
    expect(s1.values[0][0]).toBe(0);
    expect(store.select(2, [0])).toBeUndefined();
    expect(() => store.select(0, [5])).toThrow(/TrajectoryStore.select: datapoint index .* 5/);
    expect(() => store.add(increment(30, [0], 4, f))).toThrow(/length 4, expected 5/);
  });

  it('drops the oldest columns beyond maxValues and says so, values staying cumulative', () => {
    const store = new TrajectoryStore({ maxValues: 3 * 4 });
    for (let t = 0; t < 6; t++) store.add(increment(t * 10, [0], 4, () => 1));
    const s = store.select(0, [0, 3])!;
    expect(s.truncated).toBe(true);
    expect(store.storedValues).toBeLessThanOrEqual(12);
    expect(s.steps).toEqual([40, 50, 60]);
    expect(Array.from(s.values[1])).toEqual([4, 5, 6]);
  });
});
