import { describe, expect, it } from 'vitest';
import { TrajectoryBuilder } from '../../src/analysis/trajectories.js';
import { TrajectoryMatrix } from '../../src/analysis/trajectoryMatrix.js';
import type { CheckpointEvent } from '../../src/stream/events.js';
import { polcaEvents, rng } from './helpers.js';

describe('TrajectoryMatrix', () => {
  it('grows by doubling and keeps every value', () => {
    const r = rng(2);
    const n = 7;
    const m = new TrajectoryMatrix(n, 1);
    const ref: number[][] = Array.from({ length: n }, () => []);
    for (let t = 0; t < 37; t++) {
      const col = Array.from({ length: n }, () => Math.fround(r()));
      col.forEach((v, i) => ref[i].push(v));
      m.append(t * 5, col);
    }
    expect(m.length).toBe(37);
    for (let i = 0; i < n; i++) expect(Array.from(m.row(i))).toEqual(ref[i]);
    expect(Array.from(m.column(3))).toEqual(ref.map((row) => row[3]));
    expect(m.meanCurve([1, 4])[5]).toBeCloseTo((ref[1][5] + ref[4][5]) / 2, 12);
    expect(() => m.append(0, new Array(n).fill(0))).toThrow(/step must increase/);
    expect(() => m.append(1000, [1])).toThrow(/expected 7 values, got 1/);
    expect(() => m.row(7)).toThrow(/TrajectoryMatrix.row/);
  });
});

describe('TrajectoryBuilder', () => {
  const n = 4;
  const T = 6;
  // L[b][x][j]: designed cumulative projected losses, L[·][·][0] = 0
  const L = [0, 1].map((b) => Array.from({ length: n }, (_, x) => Array.from({ length: T + 1 }, (_, j) => (j === 0 ? 0 : -0.25 * j * (x + 1) + b * j * j * 0.125))));
  const events = polcaEvents(L, [3, 8]);

  it('projected loss is the cumulative sum of the increments (eq. 5)', () => {
    const b = new TrajectoryBuilder({ kinds: ['polca', 'polca-first', 'fisher', 'loss', 'loss-change', 'lca'] });
    b.push({ type: 'basis', time: 0, id: 3, step: 0, kind: 'axis', eigenvalue: NaN, residual: NaN, hvps: 0 });
    b.push({ type: 'basis', time: 0, id: 8, step: 0, kind: 'hessian', eigenvalue: 1, residual: 0, hvps: 1 });
    for (const e of events) b.push(e);
    expect(b.n).toBe(n);
    expect(b.basisIds('polca')).toEqual([3, 8]);
    for (const [k, id] of [3, 8].entries()) {
      const m = b.matrix('polca', id)!;
      expect(m.steps).toEqual([0, 20, 40, 60, 80, 100, 120]);
      const first = b.matrix('polca-first', id)!;
      for (let x = 0; x < n; x++) {
        for (let j = 0; j <= T; j++) {
          expect(m.get(x, j)).toBeCloseTo(L[k][x][j], 5);
          expect(first.get(x, j)).toBeCloseTo(0.9 * L[k][x][j], 5);
        }
      }
      // Fisher: ⟨b, g⟩² at each fromStep; helper derivative 0.1·(x+1)·(k+1)·(j+1)
      const f = b.matrix('fisher', id)!;
      expect(f.steps).toEqual([0, 20, 40, 60, 80, 100]);
      expect(f.get(2, 4)).toBeCloseTo((0.1 * 3 * (k + 1) * 5) ** 2, 4);
    }
    // lca only along the axis-aligned vector
    expect(b.basisIds('lca')).toEqual([3]);
    expect(b.matrix('lca', 3)!.get(1, 6)).toBeCloseTo(L[0][1][6], 5);
    // loss from polca events: 5 − 0.01 j at step 20 j
    const loss = b.matrix('loss')!;
    expect(loss.steps).toEqual([0, 20, 40, 60, 80, 100, 120]);
    expect(loss.get(0, 6)).toBeCloseTo(4.94, 5);
    const change = b.matrix('loss-change')!;
    expect(change.steps).toEqual([20, 40, 60, 80, 100, 120]);
    expect(change.get(3, 2)).toBeCloseTo(-0.01, 5);
  });

  it('prefers checkpoint losses when they come first and validates input', () => {
    const b = new TrajectoryBuilder({ kinds: ['loss'] });
    const ck = (step: number, v: number): CheckpointEvent => ({ type: 'checkpoint', time: 0, step, losses: new Float32Array(n).fill(v), meanLoss: v, nonFinite: 0, seconds: 0 });
    b.push(ck(0, 9));
    b.push(events[0]);
    b.push(ck(20, 7)); // already covered by the polca event's lossAfter
    expect(Array.from(b.matrix('loss')!.row(0))).toEqual([9, Math.fround(4.99)]);
    expect(() => b.matrix('polca')).toThrow(/TrajectoryBuilder.matrix: kind "polca" was not requested/);
    expect(() => new TrajectoryBuilder({ kinds: ['nope' as never] })).toThrow(/TrajectoryBuilder: option 'kinds' must be 'loss', .* or 'polca', got "nope"/);
    const g = new TrajectoryBuilder();
    g.push(events[0]);
    expect(() => g.push(events[2])).toThrow(/starts at step 40 but its polca trajectory ends at step 20/);
    expect(() => g.push({ ...events[1], lossBefore: new Float32Array(3) })).toThrow(/event has 3 datapoints but the run has 4/);
  });

  it('starts a basis vector found later at its first interval', () => {
    const b = new TrajectoryBuilder();
    for (const e of events.slice(0, 2)) b.push({ ...e, basisIds: [3], values: [e.values[0]], firstOrder: [e.firstOrder[0]], derivatives: [e.derivatives[0]] });
    for (const e of events.slice(2)) b.push(e);
    expect(b.matrix('polca', 3)!.steps).toEqual([0, 20, 40, 60, 80, 100, 120]);
    const late = b.matrix('polca', 8)!;
    expect(late.steps).toEqual([40, 60, 80, 100, 120]);
    // value at step 120 = Σ increments of intervals 2..5 = L[1][x][6] − L[1][x][2]
    expect(late.get(1, 4)).toBeCloseTo(L[1][1][6] - L[1][1][2], 5);
    expect(late.get(1, 0)).toBe(0);
  });
});
