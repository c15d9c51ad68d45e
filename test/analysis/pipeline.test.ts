import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { clusterEvents } from '../../src/analysis/clusterTracker.js';
import { transitions } from '../../src/analysis/onlineDetector.js';
import type { ClustersEvent, PolcaEvent, TransitionEvent } from '../../src/stream/events.js';
import { gauss, polcaEvents, rng } from './helpers.js';

/**
 * End to end: POLCA increments → trajectory builder → HDBSCAN every 10
 * checkpoints → online detector on the cluster medians. 6 groups of 100
 * datapoints; along basis vector 0 group g's projected loss drops by ≈1 at a
 * planted step (a smooth sigmoid of width 10 steps), plus a slow common decline.
 */
describe('pipeline: clusters → transitions', () => {
  it('finds every planted group breakthrough within Δ of its step', async () => {
    const r = rng(21);
    const spacing = 20;
    const T = 80; // steps 0..1600
    const planted = [300, 500, 700, 900, 1100, 1300];
    const L = Array.from({ length: 600 }, (_, x) => {
      const g = Math.floor(x / 100);
      const a = 0.9 + 0.2 * r();
      const t0 = planted[g] + 10 * (r() - 0.5);
      let drift = 0;
      return Array.from({ length: T + 1 }, (_, j) => {
        if (j === 0) return 0;
        drift += 0.002 * gauss(r);
        const s = (t: number) => 1 / (1 + Math.exp((t - t0) / 10));
        return a * (s(j * spacing) - s(0)) - 0.05 * (j / T) + drift;
      });
    });
    const events = polcaEvents([L], [0], spacing) as PolcaEvent[];
    const clusters = await lastValueFrom(from(events).pipe(clusterEvents({ every: 10, minClusterSize: 30, minSamples: 10 }), toArray()));
    const found = await lastValueFrom(from(clusters as PolcaEvent[]).pipe(transitions({ delta: 100 }), toArray()));
    const last = clusters[clusters.length - 1] as ClustersEvent;
    expect(last.step).toBe(1600);
    expect(last.clusters.length).toBe(6);
    // one transition per planted group, on the cluster holding that group, within Δ
    for (const [g, t0] of planted.entries()) {
      const cluster = last.clusters.find((c) => Math.floor(c.members[0] / 100) === g)!;
      expect(cluster.members.every((x) => Math.floor(x / 100) === g)).toBe(true);
      const mine = found.filter((t: TransitionEvent) => t.target.kind === 'cluster' && t.target.clusterId === cluster.id);
      expect(mine.length, `group ${g}`).toBe(1);
      expect(Math.abs(mine[0].step - t0)).toBeLessThanOrEqual(100);
      expect(mine[0].detectedAt).toBeGreaterThanOrEqual(mine[0].step + 100);
    }
    expect(found.length).toBe(6);
  });
});
