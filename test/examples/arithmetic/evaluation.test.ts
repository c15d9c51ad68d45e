import { describe, expect, it } from 'vitest';
import { formatQualityTable, TrajectoryMatrix } from '../../../src/analysis/index.js';
import type { ClustersEvent } from '../../../src/index.js';
import { arithmeticLabels, bestEligibleCluster, clusterQuality, evaluateClusters, qualityTable, runLabels, topCarryClusters } from '../../../examples/arithmetic/evaluation.js';

// 20 datapoints:
//   0–4  10s carry     5–7  100s carry     8–9   1000s carry   (10 carry tokens)
//   10–13 10s no-carry 14–16 1s no-carry  17–19 100s no-carry
const place = [1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2];
const carry = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const labels = { place, carry };

const STEPS = Int32Array.from([0, 100, 200, 300, 400, 500, 600]);
// Each trajectory is 1 before index s and 0 from s on. With Δ = 100 (d = 1) the
// second difference is −1 at s−1 and +1 at s, so break = 100·s.
//   s = 2 for 0–4 (break 200), 4 for 5–9 (400), 5 for 10–14 (500), 1 for 15–19 (100)
const dropAt = (x: number) => (x < 5 ? 2 : x < 10 ? 4 : x < 15 ? 5 : 1);
const traj = new TrajectoryMatrix(20);
STEPS.forEach((t, j) => traj.append(t, Array.from({ length: 20 }, (_, x) => (j < dropAt(x) ? 1 : 0))));

function event(basisId: number, clusters: [number, number[]][], kind: ClustersEvent['kind'] = 'polca'): ClustersEvent {
  return {
    type: 'clusters',
    time: 0,
    step: 600,
    kind,
    basisId,
    steps: STEPS,
    clusters: clusters.map(([id, m]) => ({ id, members: Int32Array.from(m), medoid: m[0], median: new Float64Array(7), q25: new Float64Array(7), q75: new Float64Array(7) })),
    dropped: 0,
    outliers: 0,
  };
}

const b0 = event(0, [
  [0, [0, 1, 2, 3, 10]],
  [1, [8, 9, 4, 14]],
]);
const b1 = event(1, [
  [5, [5, 6, 7, 17]],
  [6, [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11]],
  [7, [14, 15, 16]],
]);
const b2 = event(2, [[0, [0, 1, 2, 3, 4, 10, 11, 12, 13, 5, 6]]]);

describe('cluster quality (METHOD.md §5), hand-computed', () => {
  const qs = evaluateClusters([b0, b1, b2], labels);
  const get = (basisId: number, clusterId: number) => qs.find((q) => q.basisId === basisId && q.clusterId === clusterId)!;

  it('composition, homogeneity, eligibility, recall, F1', () => {
    // b0/c0 = {0,1,2,3,10}: 4 carry (all 10s) of 5 → h = 0.8; 4/4 in 10s/100s → eligible;
    // recall 4/10 = 0.4; F1 = 2·0.8·0.4/(0.8+0.4) = 0.64/1.2 = 0.5333…
    const a = get(0, 0);
    expect(a.composition).toEqual([[0, 0], [1, 4], [0, 0], [0, 0]]);
    expect(a.size).toBe(5);
    expect(a.carryCount).toBe(4);
    expect(a.homogeneity).toBeCloseTo(0.8, 12);
    expect(a.carryTensHundreds).toBe(1);
    expect(a.eligible).toBe(true);
    expect(a.recall).toBeCloseTo(0.4, 12);
    expect(a.f1).toBeCloseTo(0.64 / 1.2, 12);
    // b0/c1 = {8,9,4,14}: carry 8, 9 (1000s) and 4 (10s) → h = 3/4; 1/3 in 10s/100s → not eligible
    const b = get(0, 1);
    expect(b.homogeneity).toBeCloseTo(0.75, 12);
    expect(b.carryTensHundreds).toBeCloseTo(1 / 3, 12);
    expect(b.eligible).toBe(false);
    // b1/c5 = {5,6,7,17}: 3 carry (100s) of 4 → h = 0.75, eligible, recall 0.3,
    // F1 = 2·0.75·0.3/1.05 = 0.45/1.05 = 0.428571…
    const c = get(1, 5);
    expect(c.homogeneity).toBeCloseTo(0.75, 12);
    expect(c.eligible).toBe(true);
    expect(c.recall).toBeCloseTo(0.3, 12);
    expect(c.f1).toBeCloseTo(0.45 / 1.05, 12);
    // b1/c6: 11 members, carry 0–8 = 9 (8 in 10s/100s, 1 in 1000s) → 8/9 = 0.889 > 0.85 eligible;
    // h = 9/11; recall 0.9; F1 = 2·(9/11)·0.9/(9/11 + 0.9) = (16.2/11)/(18.9/11) = 16.2/18.9
    const d = get(1, 6);
    expect(d.homogeneity).toBeCloseTo(9 / 11, 12);
    expect(d.carryTensHundreds).toBeCloseTo(8 / 9, 12);
    expect(d.eligible).toBe(true);
    expect(d.f1).toBeCloseTo(16.2 / 18.9, 12);
    // b1/c7: no carry → homogeneity 0, share of 10s/100s undefined, not eligible, F1 0
    const e = get(1, 7);
    expect(e.homogeneity).toBe(0);
    expect(e.carryTensHundreds).toBeNaN();
    expect(e.eligible).toBe(false);
    expect(e.f1).toBe(0);
    // b2/c0: carry 0–4, 5, 6 = 7 of 11, all 10s/100s → h = 7/11, recall 0.7,
    // F1 = 2·(7/11)·0.7/(7/11 + 0.7) = (9.8/11)/(14.7/11) = 2/3
    expect(get(2, 0).f1).toBeCloseTo(2 / 3, 12);
  });

  it('what the place alone explains, by hand', () => {
    // Carry rates by place: 1s 0/3, 10s 5/9, 100s 3/6, 1000s 2/2.
    // b0/c0 = {0,1,2,3,10}: five 10s tokens → expected 5/9; 4 carries of the 10s' 5 in 5 draws of 9:
    // P(X ≥ 4) = [C(5,4)C(4,1) + C(5,5)] / C(9,5) = 21/126.
    const a = get(0, 0);
    expect(a.expected).toBeCloseTo(5 / 9, 12);
    expect(a.chance).toBeCloseTo(21 / 126, 12);
    // b1/c5 = {5,6,7,17}: four 100s tokens, 3 carries of the 100s' 3 → expected 1/2, P = C(3,3)C(3,1)/C(6,4) = 3/15.
    const c = get(1, 5);
    expect(c.expected).toBeCloseTo(0.5, 12);
    expect(c.chance).toBeCloseTo(3 / 15, 12);
    // b1/c7 = {14,15,16}: 1s tokens never carry → expected 0, and a count of 0 is certain.
    expect(get(1, 7).expected).toBe(0);
    expect(get(1, 7).chance).toBeCloseTo(1, 12);
    // b0/c1 = {8,9,4,14}: 1000s ×2 (always carry here), 10s, 1s → (2 + 5/9 + 0)/4; 3 carries happen iff the 10s pick is one, 5/9.
    expect(get(0, 1).expected).toBeCloseTo((2 + 5 / 9) / 4, 12);
    expect(get(0, 1).chance).toBeCloseTo(5 / 9, 12);
  });

  it('top three eligible clusters over all basis vectors', () => {
    // eligible: b1/c6 (0.818), b0/c0 (0.8), b1/c5 (0.75), b2/c0 (0.636); b0/c1 (0.75) is not eligible
    const top = topCarryClusters(qs);
    expect(top.map((q) => [q.basisId, q.clusterId])).toEqual([
      [1, 6],
      [0, 0],
      [1, 5],
    ]);
  });

  it('table: top-3 homogeneity and fraction of clusters with hidden breakthroughs', () => {
    // Mean break times (τ = 300):
    //   b0/c0 {0,1,2,3,10}: (4·200 + 500)/5 = 260 → no
    //   b0/c1 {8,9,4,14}: (400 + 400 + 200 + 500)/4 = 375 → hidden
    //   b1/c5 {5,6,7,17}: (3·400 + 100)/4 = 325 → hidden
    //   b1/c6: (5·200 + 4·400 + 2·500)/11 = 3600/11 = 327.3 → hidden
    //   b1/c7 {14,15,16}: (500 + 100 + 100)/3 = 233.3 → no
    //   b2/c0: (5·200 + 4·500 + 2·400)/11 = 3800/11 = 345.5 → hidden
    // → 4 of 6. The loss kind: one cluster {15..19}, break 100 → 0 of 1, no carry.
    const loss = event(-1, [[0, [15, 16, 17, 18, 19]]], 'loss');
    const rows = qualityTable(
      [
        { kind: 'loss', clusterings: [{ event: loss, trajectories: traj }] },
        { kind: 'polca', clusterings: [b0, b1, b2].map((e) => ({ event: e, trajectories: traj })) },
      ],
      labels,
      { delta: 100, tau: 300 },
    );
    expect(rows[0]).toMatchObject({ kind: 'loss', clusters: 1, hiddenClusters: 0, hiddenFraction: 0, topHomogeneity: [] });
    expect(rows[1]).toMatchObject({ kind: 'polca', clusters: 6, hiddenClusters: 4, undeterminedClusters: 0 });
    expect(rows[1].hiddenFraction).toBeCloseTo(4 / 6, 12);
    expect(rows[1].topHomogeneity.map((h) => h.toFixed(3))).toEqual(['0.818', '0.800', '0.750']);
    expect(formatQualityTable(rows)).toBe(
      [
        '| trajectories | max carry homogeneity (top 3) | clusters with hidden breakthroughs |',
        '|---|---|---|',
        '| loss | - | 0.000 |',
        '| polca | 0.818 / 0.800 / 0.750 | 0.667 |',
      ].join('\n'),
    );
  });

  it('clusters on trajectories too short for the break window count as undetermined, not hidden', () => {
    // 7 checkpoints 100 steps apart; Δ = 400 needs 2·4 + 1 = 9.
    const rows = qualityTable([{ kind: 'polca', clusterings: [b0, b1].map((e) => ({ event: e, trajectories: traj })) }], labels, { delta: 400, tau: 300 });
    expect(rows[0]).toMatchObject({ clusters: 5, hiddenClusters: 0, undeterminedClusters: 5, hiddenFraction: 0 });
    expect(rows[0].topHomogeneity.map((h) => h.toFixed(3))).toEqual(['0.818', '0.800', '0.750']);
  });

  it('validates its input', () => {
    expect(() => clusterQuality([0], { place: [4], carry: [0] })).toThrow(/clusterQuality: labels.place\[0\] must be 0, 1, 2 or 3, got 4/);
    expect(() => clusterQuality([3], { place: [0], carry: [0] })).toThrow(/member 3 is not a datapoint index/);
    expect(() => clusterQuality([0], { place: [0, 1], carry: [0] })).toThrow(/labels.place has 2 entries but labels.carry has 1/);
    expect(() => topCarryClusters([], 0)).toThrow(/option 'k' must be a positive integer, got 0/);
    const short = new TrajectoryMatrix(20);
    short.append(0, new Array(20).fill(0));
    expect(() => qualityTable([{ kind: 'polca', clusterings: [{ event: b0, trajectories: short }] }], labels, { delta: 100, tau: 300 })).toThrow(
      /qualityTable: the polca trajectories of basis 0 have 1 checkpoints but the clusters event has 7/,
    );
  });
});

describe('probe labels', () => {
  it('reads arithmetic place/carry written as names or numbers, and nothing else', () => {
    expect(arithmeticLabels({ place: ['1s', '10s', '100s', '1000s'], carry: [false, true, 'true', 0] as never }, 4)).toEqual({
      place: Int8Array.from([0, 1, 2, 3]),
      carry: Uint8Array.from([0, 1, 1, 0]),
    });
    expect(arithmeticLabels({ place: [2, 1], carry: [1, 0] }, 2)).toEqual({ place: Int8Array.from([2, 1]), carry: Uint8Array.from([1, 0]) });
    expect(arithmeticLabels({ place: ['1s', 'tens'], carry: [true, false] }, 2)).toBeUndefined();
    expect(arithmeticLabels({ place: ['1s', '10s'], carry: [true, 'maybe'] as never }, 2)).toBeUndefined();
    expect(arithmeticLabels({ place: ['1s', '10s'], carry: [true, false] }, 3)).toBeUndefined();
    expect(arithmeticLabels({ text: ['a', 'b'] }, 2)).toBeUndefined();
  });
});

describe('bestEligibleCluster and runLabels', () => {
  it('picks the most carry-homogeneous eligible cluster, counted by hand', () => {
    // {0,1,2,10}: carries 0–2 all 10s, 3/4 carry → eligible, 0.75.
    // {0,5,6,14,15}: carries 0,5,6 (10s/100s), 3/5 → eligible, 0.6.
    // {8,9,0}: carries 8,9 in the 1000s → 1/3 of carries in 10s/100s → not eligible, though 3/3 carry.
    const clusters = [{ members: [0, 5, 6, 14, 15] }, { members: [8, 9, 0] }, { members: [0, 1, 2, 10] }];
    const best = bestEligibleCluster(clusters, labels)!;
    expect(best.homogeneity).toBeCloseTo(3 / 4, 12);
    expect(best.size).toBe(4);
    expect(bestEligibleCluster([{ members: [8, 9] }], labels)).toBeUndefined();
    expect(bestEligibleCluster([], labels)).toBeUndefined();
  });

  it('reads a run manifest’s labels, and names the owner when it has none', () => {
    expect(runLabels({ probeMeta: { place: [1, 3], carry: [true, false] }, numProbe: 2 }, 'x')).toEqual({ place: Int8Array.from([1, 3]), carry: Uint8Array.from([1, 0]) });
    expect(() => runLabels({ probeMeta: { text: ['a'] }, numProbe: 1 }, 'oracleControl')).toThrow(/^oracleControl: the run's probe metadata has no 'place' and 'carry' columns of 1/);
    expect(() => runLabels({ numProbe: 1 }, 'pathClosure')).toThrow(/^pathClosure: /);
  });
});
