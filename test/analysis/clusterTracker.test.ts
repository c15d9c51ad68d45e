import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { ClusterTracker, clusterEvents, jaccard, matchClusterIds } from '../../src/analysis/clusterTracker.js';
import type { ClustersEvent, PolcaEvent } from '../../src/stream/events.js';
import { gauss, polcaEvents, rng } from './helpers.js';
import { hdbscan } from '../../src/analysis/hdbscan.js';
import type { Clusterer } from '../../src/analysis/clusterProcedure.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * N = 300 along one basis vector, 30 intervals: A (0–99) drops around
 * interval 5, B (100–219) around interval 15, C (220–299) around 25.
 * After 10 intervals B and C look alike; after 20, C still looks like
 * nothing happened; after 30 all three are apart. Everyone also declines
 * slowly, so that nobody is dropped as rising.
 */
function design(seed: number): number[][][] {
  const r = rng(seed);
  const at = (x: number) => (x < 100 ? 5 : x < 220 ? 15 : 25);
  const L = Array.from({ length: 300 }, (_, x) => {
    const a = 0.9 + 0.2 * r();
    let drift = 0;
    return Array.from({ length: 31 }, (_, j) => {
      if (j === 0) return 0;
      drift += 0.003 * gauss(r);
      // a slow common decline keeps datapoints that have not broken through from being dropped as rising
      return -a * (sig((j - at(x)) * 1.5) - sig(-at(x) * 1.5)) - (0.1 * j) / 30 + drift;
    });
  });
  return [L];
}

describe('ClusterTracker', () => {
  it('re-clusters every M intervals and keeps ids where membership persists', () => {
    const t = new ClusterTracker({ every: 10, minClusterSize: 20, minSamples: 10, now: () => 42 });
    const emitted: ClustersEvent[] = [];
    for (const e of polcaEvents(design(9), [0])) emitted.push(...t.push(e));
    expect(emitted.map((e) => e.step)).toEqual([200, 400, 600]);
    expect(emitted.every((e) => e.time === 42 && e.basisId === 0 && e.kind === 'polca')).toBe(true);
    const groupOf = (x: number) => (x < 100 ? 'A' : x < 220 ? 'B' : 'C');
    const describeEv = (e: ClustersEvent) =>
      Object.fromEntries(e.clusters.map((c) => [c.id, [...new Set(Array.from(c.members, groupOf))].sort().join('')]));
    // After 10: A apart from B∪C; ids 0, 1 in HDBSCAN order.
    const first = describeEv(emitted[0]);
    expect(Object.values(first).sort()).toEqual(['A', 'BC']);
    const idA = Number(Object.keys(first).find((k) => first[Number(k)] === 'A'));
    const idBC = Number(Object.keys(first).find((k) => first[Number(k)] === 'BC'));
    // After 20: A, B, C. A keeps its id; B∪C → B has Jaccard ≈ 120/200 = 0.6 ≥ 0.5, so B inherits it; C is new (id 2).
    const second = describeEv(emitted[1]);
    expect(emitted.map((e) => e.dropped)).toEqual([0, 0, 0]);
    expect(second[idA]).toBe('A');
    expect(second[idBC]).toBe('B');
    expect(second[2]).toBe('C');
    // After 30 nothing new: the same ids.
    expect(describeEv(emitted[2])).toEqual(second);
    // labels carry the ids
    const labels = t.labels('polca', 0)!;
    for (const c of emitted[2].clusters) for (const x of c.members) expect(labels[x]).toBe(c.id);
    expect(t.current('polca', 0)).toBe(emitted[2]);
  });

  it('re-clusters once more at run end and works as an RxJS operator', async () => {
    const events: PolcaEvent[] = polcaEvents(design(9), [0]).slice(0, 25);
    events.push({ type: 'run-end', time: 0, step: 500, reason: 'closed' });
    const out = await lastValueFrom(from(events).pipe(clusterEvents({ every: 10, minClusterSize: 20, minSamples: 10 }), toArray()));
    expect(out.map((e) => e.step)).toEqual([200, 400, 500]);
    const noFinal = await lastValueFrom(from(events).pipe(clusterEvents({ every: 10, minClusterSize: 20, minSamples: 10, finalRecluster: false }), toArray()));
    expect(noFinal.map((e) => e.step)).toEqual([200, 400]);
  });

  it('spreads a round over the following events with maxPerPush and finishes it at run end', () => {
    const L = design(9)[0];
    const t = new ClusterTracker({ every: 10, minClusterSize: 20, minSamples: 10, maxPerPush: 1 });
    const seen: [number, number][] = [];
    for (const e of polcaEvents([L, L, L], [0, 1, 2])) for (const c of t.push(e)) seen.push([c.basisId, c.step]);
    // round at interval 10 (step 200): vector 0 then, 1 and 2 at the next two intervals (steps 220, 240)
    expect(seen).toEqual([
      [0, 200], [1, 220], [2, 240],
      [0, 400], [1, 420], [2, 440],
      [0, 600],
    ]);
    expect(t.pendingCount).toBe(2);
    const end = t.push({ type: 'run-end', time: 0, step: 600, reason: 'closed' });
    expect(end.map((c) => [c.basisId, c.step])).toEqual([[1, 600], [2, 600]]);
    expect(t.pendingCount).toBe(0);
    // the same data along three vectors: ids agree with an unspread tracker on the last round
    const u = new ClusterTracker({ every: 10, minClusterSize: 20, minSamples: 10 });
    for (const e of polcaEvents([L, L, L], [0, 1, 2])) u.push(e);
    expect(Array.from(t.labels('polca', 2)!)).toEqual(Array.from(u.labels('polca', 2)!));
  });

  it('validates options', () => {
    expect(() => new ClusterTracker({ every: 1, maxPerPush: 0 })).toThrow(/option 'maxPerPush' must be a positive integer or Infinity, got 0/);
    expect(() => new ClusterTracker({ every: 0 })).toThrow(/ClusterTracker: option 'every' must be a positive integer or 'auto', got 0/);
    expect(() => new ClusterTracker({ every: 'auto', budget: 0 })).toThrow(/ClusterTracker: option 'budget' must be a number in \(0, 1\], got 0/);
    expect(() => new ClusterTracker({ every: 'auto', minEvery: 0 })).toThrow(/option 'minEvery' must be a positive integer, got 0/);
    expect(() => new ClusterTracker({ every: 1, jaccardThreshold: 0 })).toThrow(/option 'jaccardThreshold'/);
    expect(() => new ClusterTracker({ every: 1, kinds: [] })).toThrow(/option 'kinds' must be a non-empty list of trajectory kinds, got an array of length 0/);
  });
});

describe('ClusterTracker live', () => {
  const L = design(9)[0];

  it('counts live intervals only: filled-in earlier intervals of a late vector trigger no round', () => {
    // Vector 0 from the start; vector 1 joins at interval 20 and gets its 20 earlier intervals filled in, newest first.
    const live = polcaEvents([L, L], [0, 1]).map((e, j) => (j < 20 ? { ...e, basisIds: [0], projections: [1], values: [e.values[0]], firstOrder: [e.firstOrder[0]], derivatives: [e.derivatives[0]] } : e));
    const filled = polcaEvents([L], [1]).slice(0, 20).reverse().map((e) => ({ ...e, filled: true }));
    const t = new ClusterTracker({ every: 10, minClusterSize: 20, minSamples: 10 });
    const steps: number[] = [];
    for (const e of [...live.slice(0, 21), ...filled, ...live.slice(21)]) for (const c of t.push(e)) steps.push(c.step);
    // Rounds at live intervals 10, 20 and 30 only (counting the 20 filled ones would add two);
    // vector 1's full trajectory (31 checkpoints) is clustered at the last.
    expect(steps).toEqual([200, 400, 600, 600]);
    expect(t.current('polca', 1)!.steps.length).toBe(31);
  });

  it('gives ids unique per basis vector across kinds, so (basis, cluster) names one cluster', () => {
    const t = new ClusterTracker({ every: 30, kinds: ['polca', 'polca-first'], minClusterSize: 20, minSamples: 10 });
    const out = polcaEvents([L], [0]).flatMap((e) => t.push(e));
    expect(out.map((c) => c.kind)).toEqual(['polca', 'polca-first']);
    const ids = out.map((c) => c.clusters.map((k) => k.id));
    expect(ids[0].length).toBeGreaterThan(1);
    expect(ids[1].some((id) => ids[0].includes(id))).toBe(false);
  });

  it("'auto' spaces rounds so that clustering seconds stay within the budget of the elapsed time", () => {
    // A clock the test moves: an interval of training takes 1000 ms, a clustering 500 ms.
    let now = 0;
    const clusterer: Clusterer = (points, options) => {
      now += 500;
      return hdbscan(points, options);
    };
    const t = new ClusterTracker({ every: 'auto', budget: 0.1, minClusterSize: 20, minSamples: 10, clock: () => now, clusterer });
    const rounds: number[] = [];
    polcaEvents([L], [0]).forEach((e, j) => {
      now += 1000;
      if (t.push(e).length) rounds.push(j + 1);
    });
    const s = t.stats;
    expect(s.clusterings).toBe(rounds.length);
    expect(s.seconds).toBeCloseTo(0.5 * rounds.length, 9);
    expect(s.longest).toBeCloseTo(0.5, 9);
    // The first round as soon as there are minCheckpoints (3) checkpoints, then whenever spent ≤ 10% of elapsed:
    // within one clustering's overshoot of the budget, and far fewer rounds than intervals.
    expect(rounds[0]).toBe(2);
    expect(s.seconds).toBeLessThanOrEqual(0.1 * s.elapsed + 0.5);
    expect(s.seconds).toBeGreaterThan(0.1 * s.elapsed - 1.5);
    expect(rounds.length).toBeGreaterThan(2);
    expect(rounds.length).toBeLessThan(10);
    // A fixed cadence ignores the clock.
    const fixed = new ClusterTracker({ every: 5, minClusterSize: 20, minSamples: 10, clock: () => now, clusterer });
    expect(polcaEvents([L], [0]).filter((e) => fixed.push(e).length > 0)).toHaveLength(6);
  });
});

describe('matchClusterIds', () => {
  it('matches by Jaccard', () => {
    expect(jaccard([1, 2, 3], [2, 3, 4])).toBe(0.5);
    expect(jaccard([], [])).toBe(0);
    // prev 7 = {1,2,3}, prev 3 = {10..13}; new: {9}, {1,2,3,4} (J=3/4 with 7), {10,11} (J=2/4 with 3)
    expect(matchClusterIds([{ id: 7, members: [1, 2, 3] }, { id: 3, members: [10, 11, 12, 13] }], [[9], [1, 2, 3, 4], [10, 11]], 0.5, 8)).toEqual([8, 7, 3]);
    // with threshold 0.6 the J = 0.5 pair no longer matches
    expect(matchClusterIds([{ id: 7, members: [1, 2, 3] }, { id: 3, members: [10, 11, 12, 13] }], [[9], [1, 2, 3, 4], [10, 11]], 0.6, 8)).toEqual([8, 7, 9]);
    expect(() => matchClusterIds([], [], 1.5, 0)).toThrow(/threshold must be in \(0, 1\], got 1.5/);
  });

  it('equals the best assignment (brute force) for thresholds above 0.5', () => {
    const r = rng(4);
    for (let trial = 0; trial < 200; trial++) {
      const n = 20;
      const part = (k: number) => {
        const lab = Array.from({ length: n }, () => Math.floor(r() * (k + 1)) - 1); // −1 = not clustered
        return Array.from({ length: k }, (_, c) => lab.flatMap((l, i) => (l === c ? [i] : []))).filter((m) => m.length > 0);
      };
      const prev = part(1 + Math.floor(r() * 3)).map((members, i) => ({ id: 10 + i, members }));
      const next = part(1 + Math.floor(r() * 3));
      const ids = matchClusterIds(prev, next, 0.51, 100);
      // brute force: every injective partial map next → prev, pairs with J ≥ 0.51, maximise total J
      let best = -1;
      let bestIds: number[] = [];
      const rec = (k: number, used: Set<number>, acc: number[], total: number) => {
        if (k === next.length) {
          if (total > best + 1e-12) {
            best = total;
            bestIds = acc.slice();
          }
          return;
        }
        rec(k + 1, used, [...acc, -1], total);
        prev.forEach((p, i) => {
          const j = jaccard(p.members, next[k]);
          if (!used.has(i) && j >= 0.51) rec(k + 1, new Set([...used, i]), [...acc, p.id], total + j);
        });
      };
      rec(0, new Set(), [], 0);
      const matched = ids.map((id) => (id >= 100 ? -1 : id));
      expect(matched).toEqual(bestIds);
    }
  });
});
