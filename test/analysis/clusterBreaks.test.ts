import { describe, expect, it } from 'vitest';
import { breakTime } from '../../src/analysis/breakthrough.js';
import { clusterBreaks } from '../../src/analysis/clusterBreaks.js';
import { clusterTrajectories } from '../../src/analysis/clusterProcedure.js';
import { TrajectoryMatrix } from '../../src/analysis/trajectoryMatrix.js';
import { gauss, rng } from './helpers.js';

describe('clusterBreaks', () => {
  it('matches per-member eq. (6) and eq. (7) computed one by one', () => {
    const r = rng(3);
    const m = new TrajectoryMatrix(200);
    const t0 = (x: number) => (x < 100 ? 400 : 1400);
    for (let j = 0; j <= 100; j++) {
      m.append(j * 20, Array.from({ length: 200 }, (_, x) => (j === 0 ? 0 : -1 / (1 + Math.exp(-(j * 20 - t0(x) - 30 * (r() - 0.5)) / 15)) + 0.01 * gauss(r))));
    }
    const { event } = clusterTrajectories(m, { kind: 'polca', basisId: 0, minClusterSize: 20, minSamples: 10, dropRising: false });
    expect(event.clusters.length).toBe(2);
    // the matrix grows after clustering: clusterBreaks must use the event's steps only
    m.append(5000, new Array(200).fill(9));
    const breaks = clusterBreaks(event, m, { delta: 100, tau: 1000 });
    const steps = Array.from(event.steps);
    for (const [k, c] of event.clusters.entries()) {
      const each = Array.from(c.members, (x) => breakTime(Array.from(m.row(x)).slice(0, steps.length), steps, 100));
      const mean = each.reduce((a, b) => a + b, 0) / each.length;
      expect(breaks[k].clusterId).toBe(c.id);
      expect(breaks[k].meanBreak).toBeCloseTo(mean, 9);
      expect(breaks[k].hidden).toBe(mean > 1000);
      expect(breaks[k].median.step).toBe(breakTime(c.median, steps, 100));
    }
    expect(breaks.map((b) => b.hidden).sort()).toEqual([false, true]);
    expect(() => clusterBreaks(event, m, { delta: 100, tau: NaN })).toThrow(/clusterBreaks: option 'tau' must be a finite step, got NaN/);
    expect(() => clusterBreaks(event, m, { delta: 30, tau: 1 })).toThrow(/clusterBreaks: delta=30/);
  });
});
