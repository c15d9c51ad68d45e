import { describe, expect, it } from 'vitest';
import {
  DROPPED,
  OUTLIER,
  clusterAllBasisVectors,
  clusterTrajectories,
  defaultClusterParams,
  isOscillatory,
  medoidOf,
  quantileSorted,
} from '../../src/analysis/clusterProcedure.js';
import { TrajectoryBuilder } from '../../src/analysis/trajectories.js';
import { TrajectoryMatrix } from '../../src/analysis/trajectoryMatrix.js';
import { gauss, polcaEvents, rng } from './helpers.js';

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/**
 * N = 300, 30 intervals. Along basis 0: group A (0–99) drops by ≈1 around
 * interval 8, group B (100–199) around interval 20, group C (200–299) rises.
 * Along basis 1 every datapoint rises (oscillatory vector).
 */
function design(seed: number): number[][][] {
  const r = rng(seed);
  const T = 30;
  const L0: number[][] = [];
  const L1: number[][] = [];
  for (let x = 0; x < 300; x++) {
    const a = 0.9 + 0.2 * r();
    const row = [0];
    const row1 = [0];
    let drift = 0;
    for (let j = 1; j <= T; j++) {
      drift += 0.005 * gauss(r);
      if (x < 100) row.push(-a * (sig(j - 8) - sig(-8)) + drift);
      else if (x < 200) row.push(-a * (sig(j - 20) - sig(-20)) + drift);
      else row.push((0.5 * a * j) / T + drift);
      row1.push((0.3 * a * j) / T + drift);
    }
    L0.push(row);
    L1.push(row1);
  }
  return [L0, L1];
}

function bruteMedoid(m: TrajectoryMatrix, members: ArrayLike<number>): number {
  let best = Infinity;
  let arg = -1;
  for (let a = 0; a < members.length; a++) {
    let s = 0;
    for (let b = 0; b < members.length; b++) {
      const ra = m.row(members[a]);
      const rb = m.row(members[b]);
      s += Math.hypot(...Array.from(ra, (v, t) => v - rb[t]));
    }
    if (s < best - 1e-9) {
      best = s;
      arg = members[a];
    }
  }
  return arg;
}

describe('clusterTrajectories (the paper’s procedure)', () => {
  const builder = new TrajectoryBuilder({ kinds: ['polca'] });
  for (const e of polcaEvents(design(5), [0, 1])) builder.push(e);
  const results = clusterAllBasisVectors(builder, 'polca', { time: 123 });

  it('skips the oscillatory vector and drops rising datapoints', () => {
    expect(results.map((r) => r.event.basisId)).toEqual([0, 1]);
    expect(results[0].trajectories).toBe(builder.matrix('polca', 0));
    expect(results[1].trajectories).toBe(builder.matrix('polca', 1));
    const [r0, r1] = results;
    expect(isOscillatory(builder.matrix('polca', 1)!)).toBe(true);
    expect(isOscillatory(builder.matrix('polca', 0)!)).toBe(false);
    expect(r1.oscillatory).toBe(true);
    expect(r1.event.clusters).toEqual([]);
    expect(r1.event.dropped).toBe(300);
    expect(r0.oscillatory).toBe(false);
    // Group C rises: L_b(x, T) > 0 for all of it and for nothing else.
    const m = builder.matrix('polca', 0)!;
    const rising = Array.from({ length: 300 }, (_, x) => m.get(x, 30) > 0);
    expect(rising.filter(Boolean).length).toBe(100);
    expect(r0.event.dropped).toBe(100);
    for (let x = 200; x < 300; x++) expect(r0.labels[x]).toBe(DROPPED);
  });

  it('recovers the two planted groups with HDBSCAN', () => {
    const r0 = results[0];
    const ev = r0.event;
    expect(ev.type).toBe('clusters');
    expect(ev.kind).toBe('polca');
    expect(ev.time).toBe(123);
    expect(ev.step).toBe(600);
    expect(Array.from(ev.steps)).toEqual(Array.from({ length: 31 }, (_, j) => 20 * j));
    expect(ev.clusters.length).toBe(2);
    expect(ev.clusters.map((c) => c.id)).toEqual([0, 1]);
    const groups = ev.clusters.map((c) => Math.floor(c.members[0] / 100)).sort();
    expect(groups).toEqual([0, 1]);
    let clustered = 0;
    for (const c of ev.clusters) {
      const g = Math.floor(c.members[0] / 100);
      for (const x of c.members) {
        expect(Math.floor(x / 100)).toBe(g);
        expect(r0.labels[x]).toBe(c.id);
      }
      expect(c.members.length).toBeGreaterThanOrEqual(90);
      clustered += c.members.length;
    }
    expect(clustered + ev.outliers + ev.dropped).toBe(300);
    expect(Array.from(r0.labels).filter((l) => l === OUTLIER).length).toBe(ev.outliers);
  });

  it('medoid and quantile curves match brute force', () => {
    const m = builder.matrix('polca', 0)!;
    for (const c of results[0].event.clusters) {
      expect(c.medoid).toBe(bruteMedoid(m, c.members));
      for (const t of [0, 7, 8, 19, 30]) {
        const col = Array.from(c.members, (x) => m.get(x, t)).sort((a, b) => a - b);
        const k = col.length;
        const median = k % 2 ? col[(k - 1) / 2] : (col[k / 2 - 1] + col[k / 2]) / 2;
        expect(c.median[t]).toBeCloseTo(median, 12);
        expect(c.q25[t]).toBeLessThanOrEqual(c.median[t]);
        expect(c.q75[t]).toBeGreaterThanOrEqual(c.median[t]);
        // q25 by type 7: h = (k−1)/4
        const h = (k - 1) / 4;
        expect(c.q25[t]).toBeCloseTo(col[Math.floor(h)] + (h - Math.floor(h)) * (col[Math.floor(h) + 1] - col[Math.floor(h)]), 12);
      }
    }
  });

  it('subsampled medoid stays a member, exact one equals brute force on small sets', () => {
    const m = builder.matrix('polca', 0)!;
    const members = Int32Array.from({ length: 150 }, (_, i) => i);
    expect(medoidOf(m, members)).toBe(bruteMedoid(m, members));
    const sub = medoidOf(m, members, 10);
    expect(Array.from(members)).toContain(sub);
    expect(() => medoidOf(m, [])).toThrow(/medoidOf: members is empty/);
  });
});

describe('procedure options', () => {
  it('scales the paper’s defaults with N', () => {
    expect(defaultClusterParams(5000)).toEqual({ minClusterSize: 150, minSamples: 333 });
    expect(defaultClusterParams(300)).toEqual({ minClusterSize: 9, minSamples: 20 });
    expect(defaultClusterParams(20)).toEqual({ minClusterSize: 2, minSamples: 1 });
    expect(() => defaultClusterParams(0)).toThrow(/defaultClusterParams: option 'n' must be a positive integer, got 0/);
  });

  it('validates options and passes them to the clusterer', () => {
    const m = new TrajectoryMatrix(30);
    for (let t = 0; t < 5; t++) m.append(t * 10, Array.from({ length: 30 }, (_, i) => -t * (i % 3)));
    expect(() => clusterTrajectories(m, { kind: 'polca', basisId: 0, minClusterSize: 1 })).toThrow(/option 'minClusterSize' must be an integer ≥ 2, got 1/);
    expect(() => clusterTrajectories(m, { kind: 'polca', basisId: 0, minSamples: 0.5 })).toThrow(/option 'minSamples'/);
    expect(() => clusterTrajectories(m, { kind: 'polca', basisId: 0, selection: 'x' as never })).toThrow(/option 'selection'/);
    let seen: unknown;
    const r = clusterTrajectories(m, {
      kind: 'polca',
      basisId: 0,
      minClusterSize: 4,
      minSamples: 3,
      selection: 'leaf',
      clusterer: (points, o) => {
        seen = { n: points.length, ...o };
        return { labels: Int32Array.from(points, (_, k) => (k < 2 ? -1 : k % 2)) };
      },
    });
    // rows with i % 3 == 0 stay at 0 (not rising), none rises: all 30 kept
    expect(seen).toEqual({ n: 30, minClusterSize: 4, minSamples: 3, selection: 'leaf' });
    expect(r.event.outliers).toBe(2);
    expect(r.event.clusters.map((c) => c.members.length)).toEqual([14, 14]);
  });

  it('does not run HDBSCAN on fewer datapoints than minClusterSize, and drops non-finite rows', () => {
    const m = new TrajectoryMatrix(5);
    m.append(0, [0, 0, 0, 0, 0]);
    m.append(20, [-1, -1, NaN, 1, -2]);
    const r = clusterTrajectories(m, { kind: 'polca', basisId: 2, minClusterSize: 4, clusterer: () => { throw new Error('must not run'); } });
    expect(r.event.dropped).toBe(2);
    expect(r.event.outliers).toBe(3);
    expect(Array.from(r.labels)).toEqual([OUTLIER, OUTLIER, DROPPED, DROPPED, OUTLIER]);
    // exact-loss kinds keep rising datapoints by default
    const l = clusterTrajectories(m, { kind: 'loss', basisId: -1, minClusterSize: 5, clusterer: () => { throw new Error('must not run'); } });
    expect(l.event.dropped).toBe(1);
  });

  it('quantileSorted follows NumPy’s linear rule', () => {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25]
    expect([0.25, 0.5, 0.75].map((q) => quantileSorted([1, 2, 3, 4], q))).toEqual([1.75, 2.5, 3.25]);
    expect(quantileSorted([7], 0.25)).toBe(7);
  });
});
