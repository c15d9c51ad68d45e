import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adjustedRandIndex } from '../../src/analysis/adjustedRand.js';
import { hdbscan } from '../../src/analysis/hdbscan.js';
import { coreDistances } from '../../src/analysis/hdbscan/coreDistances.js';
import { primMst } from '../../src/analysis/hdbscan/primMst.js';
import { exceeds, projectionBound } from '../../src/analysis/hdbscan/projectionBound.js';
import { squaredDistance } from '../../src/analysis/hdbscan/squaredDistance.js';
import { FIXTURE_CASES, hashPoints, mixture, mulberry32 } from '../fixtures/hdbscan/points.js';

/** What make-fixtures.R stores per case (R's dbscan::hdbscan; 0 = noise). */
interface RFixture {
  name: string;
  n: number;
  d: number;
  minPts: number;
  hash: string;
  dbscan: string;
  cluster: number[];
  cluster_scores: (number | null)[];
  coredist: number[];
  membership_prob: number[];
  outlier_scores: number[];
  leaf_cluster: number[];
  lambda_prob: number[];
}

function loadFixture(name: string): RFixture {
  const url = new URL(`../fixtures/hdbscan/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as RFixture;
}

function countClusters(labels: ArrayLike<number>, noise: number): number {
  const set = new Set<number>();
  for (let i = 0; i < labels.length; i++) if (labels[i] !== noise) set.add(labels[i]);
  return set.size;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function euclid(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] - b[j]) ** 2;
  return Math.sqrt(s);
}

describe('hdbscan against R dbscan::hdbscan', () => {
  const leafDiffersSomewhere: boolean[] = [];
  for (const c of FIXTURE_CASES) {
    it(`${c.name}: same clusters, core distances, stabilities, probabilities and outlier scores as R`, () => {
      const f = loadFixture(c.name);
      const points = c.points();
      // The generator must still produce the exact points R clustered.
      expect(hashPoints(points)).toBe(f.hash);
      expect([points.length, points[0].length, c.minPts]).toEqual([f.n, f.d, f.minPts]);

      const eom = hdbscan(points, { minClusterSize: c.minPts });
      const rClusters = countClusters(f.cluster, 0);
      expect(eom.numClusters).toBe(rClusters);
      expect(countClusters(eom.labels, -1)).toBe(rClusters);
      expect(adjustedRandIndex(eom.labels, f.cluster)).toBeGreaterThanOrEqual(0.99);
      // Noise is noise in both.
      expect(Array.from(eom.labels, (l) => l < 0)).toEqual(f.cluster.map((l) => l === 0));

      // Core distances: grid coordinates make every distance exact, so equality up to rounding of sqrt.
      expect(maxAbsDiff(eom.coreDistances, f.coredist)).toBeLessThanOrEqual(1e-12 * Math.max(...f.coredist));

      if (rClusters > 0) {
        // Stability of each cluster vs R's cluster_scores (R label k ↔ cluster_scores[k − 1]).
        for (let k = 0; k < eom.numClusters; k++) {
          const rLabel = f.cluster[eom.labels.indexOf(k)];
          const rScore = f.cluster_scores[rLabel - 1] as number;
          expect(Math.abs(eom.clusterStabilities[k] - rScore)).toBeLessThanOrEqual(1e-9 * Math.abs(rScore));
        }
        // λ-based probabilities vs the same quantity computed in R from R's condensed tree.
        expect(maxAbsDiff(eom.probabilities, f.lambda_prob)).toBeLessThan(1e-9);
        expect(maxAbsDiff(eom.outlierScores, f.outlier_scores)).toBeLessThan(1e-9);
        // R's membership_prob (1 − core/max core within the cluster) from our labels and core distances.
        const maxCore = new Float64Array(eom.numClusters);
        eom.labels.forEach((l, i) => {
          if (l >= 0) maxCore[l] = Math.max(maxCore[l], eom.coreDistances[i]);
        });
        const rStyle = Array.from(eom.labels, (l, i) => (l < 0 ? 0 : (maxCore[l] - eom.coreDistances[i]) / maxCore[l]));
        expect(maxAbsDiff(rStyle, f.membership_prob)).toBeLessThan(1e-9);
        // The probabilities are not trivially all 0/1.
        expect(eom.probabilities.some((p) => p > 0 && p < 1)).toBe(true);
      }

      const leaf = hdbscan(points, { minClusterSize: c.minPts, selection: 'leaf' });
      const rLeaf = countClusters(f.leaf_cluster, 0);
      expect(leaf.numClusters).toBe(rLeaf);
      expect(adjustedRandIndex(leaf.labels, f.leaf_cluster)).toBeGreaterThanOrEqual(0.99);
      leafDiffersSomewhere.push(rLeaf !== rClusters);
    });
  }

  it('the fixtures exercise leaf selection differing from EOM and R finding nothing', () => {
    expect(leafDiffersSomewhere.filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expect(FIXTURE_CASES.some((c) => countClusters(loadFixture(c.name).cluster, 0) === 0)).toBe(true);
  });
});

describe('hdbscan, hand-worked example', () => {
  // Two groups on a line. A = {0,1,2} ∪ {3.5,4.5,5.5}, B = {100,101,102,104}.
  // minSamples 2: every core distance is 1 except 104's (2). Mutual
  // reachability: 1 inside each triple, 1.5 between the triples, 2 from 104 to
  // 102, 94.5 between A and B. With minClusterSize 3 the root splits at 94.5
  // into A and B; A splits at 1.5 into its two triples A1, A2.
  //   stab(A1) = stab(A2) = 3·(1 − 1/1.5) = 1
  //   stab(A)  = 6·(1/1.5 − 1/94.5)            ≈ 3.93651 > 2 → EOM keeps A
  //   stab(B)  = 3·(1 − 1/94.5) + (1/2 − 1/94.5) ≈ 3.45767
  const points = [[0], [1], [2], [3.5], [4.5], [5.5], [100], [101], [102], [104]];

  it('EOM keeps the parent cluster when it is more stable than its children', () => {
    const r = hdbscan(points, { minClusterSize: 3, minSamples: 2 });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    expect(r.numClusters).toBe(2);
    expect(r.clusterStabilities[0]).toBeCloseTo(6 * (1 / 1.5 - 1 / 94.5), 12);
    expect(r.clusterStabilities[1]).toBeCloseTo(3 * (1 - 1 / 94.5) + (1 / 2 - 1 / 94.5), 12);
    expect(Array.from(r.coreDistances)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 2]);
    // 104 leaves B at ε = 2 (λ = 0.5) while B's densest level is λ = 1.
    expect(Array.from(r.probabilities)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 0.5]);
    expect(Array.from(r.outlierScores)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]);
  });

  it('leaf selection returns the finest clusters', () => {
    const r = hdbscan(points, { minClusterSize: 3, minSamples: 2, selection: 'leaf' });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 2]);
    expect(Array.from(r.clusterStabilities)).toEqual([1, 1, r.clusterStabilities[2]]);
    expect(r.clusterStabilities[0]).toBeCloseTo(1, 12);
  });

  it('EOM prefers children when they are more stable (triples far apart)', () => {
    // Triples 8 apart: stab(A) = 6·(1/8 − 1/88) ≈ 0.68 < stab(A1) + stab(A2) = 2·3·(1 − 1/8) = 5.25.
    const far = [[0], [1], [2], [10], [11], [12], [100], [101], [102]];
    const r = hdbscan(far, { minClusterSize: 3, minSamples: 2 });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    expect(r.clusterStabilities[0]).toBeCloseTo(3 * (1 - 1 / 8), 12);
    expect(r.clusterStabilities[2]).toBeCloseTo(3 * (1 - 1 / 88), 12);
  });

  it('a straggler beyond every cluster is noise', () => {
    const r = hdbscan([[0], [1], [2], [10], [11], [12], [50]], { minClusterSize: 3, minSamples: 2 });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 1, 1, 1, -1]);
    expect(r.probabilities[6]).toBe(0);
    // 50 joins at ε = 38 (its core distance); the densest level below the root is 1.
    expect(r.outlierScores[6]).toBeCloseTo(1 - 1 / 38, 14);
  });
});

describe('hdbscan, building blocks against brute force', () => {
  const points = mixture({ seed: 5, dim: 3, spread: 4, noise: 15, noiseBox: 6, blobs: [{ n: 40, sd: 0.5 }, { n: 35, sd: 0.8 }] });
  const n = points.length;
  const x = Float64Array.from(points.flat());

  it('core distances equal the sorted-distance k-th neighbour for several minSamples', () => {
    for (const minSamples of [1, 2, 5, 17]) {
      const r = hdbscan(points, { minClusterSize: 5, minSamples });
      for (let i = 0; i < n; i++) {
        const others = points.filter((_, j) => j !== i).map((q) => euclid(points[i], q));
        others.sort((a, b) => a - b);
        const expected = minSamples === 1 ? 0 : others[minSamples - 2];
        expect(Math.abs(r.coreDistances[i] - expected)).toBeLessThan(1e-12);
      }
    }
  });

  it('both core-distance passes (pairwise heaps and per-row heaps) agree with sorting', () => {
    const rows = 300;
    const big = mixture({ seed: 6, dim: 4, spread: 3, noise: 0, noiseBox: 1, blobs: [{ n: rows, sd: 1 }] });
    const xb = Float64Array.from(big.flat());
    for (const k of [1, 7, 40]) {
      const pairwise = coreDistances(xb, rows, 4, k);
      const perRow = coreDistances(xb, rows, 4, k, undefined, 0);
      expect(Array.from(perRow)).toEqual(Array.from(pairwise));
      for (let i = 0; i < rows; i += 13) {
        const ds = big.filter((_, j) => j !== i).map((q) => euclid(big[i], q)).sort((a, b) => a - b);
        expect(Math.abs(pairwise[i] - ds[k - 1])).toBeLessThan(1e-12);
      }
    }
  });

  it('the spanning tree has the minimum total mutual-reachability weight (vs Kruskal on the full matrix)', () => {
    for (const minSamples of [1, 3, 9]) {
      const core = coreDistances(x, n, 3, minSamples - 1);
      const tree = primMst(x, n, 3, core);
      let ours = 0;
      for (let v = 1; v < n; v++) {
        const p = tree.parent[v];
        const mrd = Math.max(core[v], core[p], euclid(points[v], points[p]));
        // The recorded weight is the real edge weight.
        expect(Math.abs(tree.weight[v] - mrd)).toBeLessThan(1e-12);
        ours += tree.weight[v];
      }
      const edges: [number, number, number][] = [];
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) edges.push([Math.max(core[i], core[j], euclid(points[i], points[j])), i, j]);
      }
      edges.sort((a, b) => a[0] - b[0]);
      const uf = Array.from({ length: n }, (_, i) => i);
      const find = (i: number): number => (uf[i] === i ? i : (uf[i] = find(uf[i])));
      let kruskal = 0;
      for (const [w, i, j] of edges) {
        const a = find(i);
        const b = find(j);
        if (a !== b) {
          uf[a] = b;
          kruskal += w;
        }
      }
      expect(Math.abs(ours - kruskal)).toBeLessThan(1e-9);
    }
  });

  it('minSamples and minClusterSize act separately', () => {
    const a = hdbscan(points, { minClusterSize: 5, minSamples: 5 });
    const b = hdbscan(points, { minClusterSize: 5, minSamples: 15 });
    const c = hdbscan(points, { minClusterSize: 30, minSamples: 5 });
    // Larger minSamples: larger core distances everywhere.
    expect(b.coreDistances.every((v, i) => v >= a.coreDistances[i])).toBe(true);
    // Larger minClusterSize: same density, no cluster smaller than 30.
    expect(Array.from(c.coreDistances)).toEqual(Array.from(a.coreDistances));
    for (let k = 0; k < c.numClusters; k++) expect(c.labels.filter((l) => l === k).length).toBeGreaterThanOrEqual(30);
    expect(a.numClusters).toBeGreaterThanOrEqual(2);
  });
});

describe('hdbscan, ties, duplicates, input forms', () => {
  it('exact duplicates: two stacks of identical points are two clusters', () => {
    const pts = [...Array.from({ length: 6 }, () => [0, 0]), ...Array.from({ length: 6 }, () => [5, 5])];
    const r = hdbscan(pts, { minClusterSize: 3 });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
    expect(Array.from(r.coreDistances)).toEqual(new Array(12).fill(0));
    expect(Array.from(r.probabilities)).toEqual(new Array(12).fill(1));
    expect(Array.from(r.outlierScores)).toEqual(new Array(12).fill(0));
  });

  it('evenly spaced points (all distances tied) give one cluster per group, deterministically', () => {
    const pts = [...Array.from({ length: 20 }, (_, i) => [i]), ...Array.from({ length: 20 }, (_, i) => [40 + i])];
    const a = hdbscan(pts, { minClusterSize: 4, minSamples: 2 });
    const b = hdbscan(pts, { minClusterSize: 4, minSamples: 2 });
    expect(Array.from(a.labels)).toEqual([...new Array(20).fill(0), ...new Array(20).fill(1)]);
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
  });

  // Mutual reachability has many exact ties (every pair within a core distance is
  // worth that core distance), and tie order decides which equal-height merge
  // counts as a split — as in R — so a permutation may move a few points.
  it('permuting the points permutes the labels up to tie-breaking', () => {
    const c = FIXTURE_CASES.find((k) => k.name === 'blobs-2d')!;
    const pts = c.points();
    const rand = mulberry32(99);
    const perm = Array.from(pts.keys());
    for (let i = perm.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const a = hdbscan(pts, { minClusterSize: c.minPts });
    const b = hdbscan(perm.map((i) => pts[i]), { minClusterSize: c.minPts });
    expect(b.numClusters).toBe(a.numClusters);
    expect(adjustedRandIndex(perm.map((i) => a.labels[i]), b.labels)).toBeGreaterThanOrEqual(0.99);
  });

  it('Float32Array rows give the same result as number[] rows', () => {
    const c = FIXTURE_CASES.find((k) => k.name === 'blobs-50d')!;
    const pts = c.points();
    const a = hdbscan(pts, { minClusterSize: c.minPts });
    const b = hdbscan(pts.map((r) => Float32Array.from(r)), { minClusterSize: c.minPts });
    expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
    expect(Array.from(b.probabilities)).toEqual(Array.from(a.probabilities));
  });

  it('labels are numbered in order of first appearance', () => {
    const r = hdbscan([[100], [101], [102], [0], [1], [2]], { minClusterSize: 3, minSamples: 2 });
    expect(Array.from(r.labels)).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('hdbscan, degenerate sizes', () => {
  it('no points: empty result', () => {
    const r = hdbscan([], { minClusterSize: 5 });
    expect(r.labels.length).toBe(0);
    expect(r.numClusters).toBe(0);
  });

  it('fewer points than minClusterSize: all noise, core distances still computed', () => {
    const r = hdbscan([[0], [1], [3]], { minClusterSize: 5, minSamples: 2 });
    expect(Array.from(r.labels)).toEqual([-1, -1, -1]);
    expect(Array.from(r.probabilities)).toEqual([0, 0, 0]);
    expect(Array.from(r.coreDistances)).toEqual([1, 1, 2]);
  });

  it('minSamples above n: nothing is dense, all noise, infinite core distances', () => {
    const r = hdbscan([[0], [1], [3], [4]], { minClusterSize: 2, minSamples: 5 });
    expect(Array.from(r.labels)).toEqual([-1, -1, -1, -1]);
    expect(Array.from(r.coreDistances)).toEqual([Infinity, Infinity, Infinity, Infinity]);
  });

  it('a single point is noise', () => {
    const r = hdbscan([[1, 2]], { minClusterSize: 2, minSamples: 1 });
    expect(Array.from(r.labels)).toEqual([-1]);
  });
});

describe('hdbscan, input validation', () => {
  const ok = [[0, 0], [1, 1], [2, 2]];
  it.each([
    [() => hdbscan(ok, { minClusterSize: 1 }), /hdbscan: option 'minClusterSize' must be an integer ≥ 2, got 1/],
    [() => hdbscan(ok, { minClusterSize: 2.5 }), /option 'minClusterSize' .* got 2\.5/],
    [() => hdbscan(ok, {} as never), /option 'minClusterSize' .* got undefined/],
    [() => hdbscan(ok, { minClusterSize: 2, minSamples: 0 }), /hdbscan: option 'minSamples' must be a positive integer, got 0/],
    [() => hdbscan(ok, { minClusterSize: 2, minSamples: NaN }), /option 'minSamples' .* got NaN/],
    [() => hdbscan(ok, { minClusterSize: 2, selection: 'max' as never }), /hdbscan: option 'selection' must be 'eom' or 'leaf', got "max"/],
    [() => hdbscan(ok, undefined as never), /hdbscan: options must be an object/],
    [() => hdbscan('points' as never, { minClusterSize: 2 }), /hdbscan: points must be an array of rows, got "points"/],
    [() => hdbscan([[0, 0], [1]], { minClusterSize: 2 }), /hdbscan: points\[1\] has length 1, expected 2/],
    [() => hdbscan([[0, 0], [1, NaN]], { minClusterSize: 2 }), /hdbscan: points\[1\]\[1\] is NaN; coordinates must be finite/],
    [() => hdbscan([[0, Infinity]], { minClusterSize: 2 }), /points\[0\]\[1\] is Infinity/],
    [() => hdbscan([[0, 0], null as never], { minClusterSize: 2 }), /hdbscan: points\[1\] must be an array of numbers, got null/],
    [() => hdbscan([[]], { minClusterSize: 2 }), /hdbscan: points\[0\] is empty/],
  ])('rejects bad input %#', (call, message) => {
    expect(call).toThrow(message);
  });
});

describe('hdbscan, projection lower bound', () => {
  const c = FIXTURE_CASES.find((k) => k.name === 'trajectories-50d')!;
  const pts = c.points();
  const n = pts.length;
  const d = pts[0].length;

  it('never claims a pair is farther than its computed distance, even far from the origin and rank-deficient', () => {
    const rand = mulberry32(8);
    const offset = pts.slice(0, 150).map((r) => r.map((v) => v + 1e6));
    // 40 points in 60 dimensions lying on a 3-dimensional subspace.
    const basis = Array.from({ length: 3 }, () => Array.from({ length: 60 }, () => rand() - 0.5));
    const lowRank = Array.from({ length: 40 }, () => {
      const w = [rand(), rand(), rand()];
      return basis[0].map((_, j) => w[0] * basis[0][j] + w[1] * basis[1][j] + w[2] * basis[2][j]);
    });
    for (const set of [pts.slice(0, 200), offset, lowRank]) {
      const xs = Float64Array.from(set.flat());
      const dim = set[0].length;
      const b = projectionBound(xs, set.length, dim, 8);
      let claimed = 0;
      for (let i = 0; i < set.length; i++) {
        for (let j = 0; j < set.length; j++) {
          const dist = Math.sqrt(squaredDistance(xs, i, j, dim, Infinity));
          expect(exceeds(b, i, j, dist)).toBe(false);
          if (exceeds(b, i, j, 0.8 * dist)) claimed++;
        }
      }
      // The bound is tight enough to prune (the shortcut is exercised).
      expect(claimed).toBeGreaterThan(0.2 * set.length * set.length);
      // And the passes that use it stay exact on these sets too.
      for (const k of [1, 9]) {
        const plain = coreDistances(xs, set.length, dim, k);
        expect(Array.from(coreDistances(xs, set.length, dim, k, b))).toEqual(Array.from(plain));
        expect(Array.from(coreDistances(xs, set.length, dim, k, b, 0))).toEqual(Array.from(plain));
        const t0 = primMst(xs, set.length, dim, plain);
        const t1 = primMst(xs, set.length, dim, plain, b);
        expect(Array.from(t1.parent)).toEqual(Array.from(t0.parent));
        expect(Array.from(t1.weight)).toEqual(Array.from(t0.weight));
      }
    }
  });

  it('core distances and the spanning tree are bitwise the same with and without the bound', () => {
    const x = Float64Array.from(pts.flat());
    const b = projectionBound(x, n, d, 8);
    for (const k of [1, 14, 60]) {
      const plain = coreDistances(x, n, d, k);
      const bounded = coreDistances(x, n, d, k, b);
      const perRow = coreDistances(x, n, d, k, b, 0);
      expect(Array.from(bounded)).toEqual(Array.from(plain));
      expect(Array.from(perRow)).toEqual(Array.from(plain));
      const t0 = primMst(x, n, d, plain);
      const t1 = primMst(x, n, d, plain, b);
      expect(Array.from(t1.parent)).toEqual(Array.from(t0.parent));
      expect(Array.from(t1.weight)).toEqual(Array.from(t0.weight));
    }
  });
});
