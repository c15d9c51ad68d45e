import { describe, expect, it } from 'vitest';
import { stratifiedCounts, stratifiedExpectation, stratifiedTail } from '../../src/analysis/stratifiedChance.js';
import { labelColumn } from '../../src/analysis/labels.js';
import { clusterQuality, formatStratumTable, qualityTable, type QualityTarget } from '../../src/analysis/quality.js';
import { TrajectoryMatrix } from '../../src/analysis/trajectoryMatrix.js';
import type { ClustersEvent } from '../../src/stream/events.js';

/** Every way to pick `k` of `items`. */
function* subsets<T>(items: readonly T[], k: number, start = 0, acc: T[] = []): Generator<T[]> {
  if (acc.length === k) {
    yield acc.slice();
    return;
  }
  for (let i = start; i <= items.length - (k - acc.length); i++) {
    acc.push(items[i]);
    yield* subsets(items, k, i + 1, acc);
    acc.pop();
  }
}

/** Enumerates every cluster with the same number of members per stratum: the exact null, by brute force. */
function bruteForce(members: number[], isTarget: boolean[], stratum: string[]) {
  const keys = [...new Set(stratum)];
  const need = keys.map((k) => members.filter((x) => stratum[x] === k).length);
  const pools = keys.map((k) => stratum.map((s, x) => (s === k ? x : -1)).filter((x) => x >= 0));
  const observed = members.filter((x) => isTarget[x]).length;
  let draws = [[] as number[]];
  keys.forEach((_, i) => {
    const next: number[][] = [];
    for (const d of draws) for (const pick of subsets(pools[i], need[i])) next.push([...d, ...pick]);
    draws = next;
  });
  let atLeast = 0;
  let total = 0;
  for (const d of draws) {
    const c = d.filter((x) => isTarget[x]).length;
    total += c;
    if (c >= observed) atLeast++;
  }
  return { tail: atLeast / draws.length, mean: total / draws.length / members.length };
}

/**
 * The count's distribution by drawing members one at a time, without
 * replacement, stratum after stratum: a Markov chain over (drawn, hits),
 * independent of the hypergeometric formula and of the convolution.
 */
function sequentialTail(strata: { total: number; inTarget: number; members: number }[], observed: number): number {
  let dist = new Map<number, number>([[0, 1]]);
  for (const s of strata) {
    let local = new Map<number, number>([[0, 1]]);
    for (let d = 0; d < s.members; d++) {
      const next = new Map<number, number>();
      for (const [h, p] of local) {
        const left = s.total - d;
        const hitsLeft = s.inTarget - h;
        const pHit = hitsLeft / left;
        if (pHit > 0) next.set(h + 1, (next.get(h + 1) ?? 0) + p * pHit);
        if (pHit < 1) next.set(h, (next.get(h) ?? 0) + p * (1 - pHit));
      }
      local = next;
    }
    const merged = new Map<number, number>();
    for (const [a, p] of dist) for (const [b, q] of local) merged.set(a + b, (merged.get(a + b) ?? 0) + p * q);
    dist = merged;
  }
  let tail = 0;
  for (const [c, p] of dist) if (c >= observed) tail += p;
  return tail;
}

// A fixed linear congruential sequence, so the populations are the same on every run.
let seed = 987654321;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

describe('stratified chance of a cluster', () => {
  it('one stratum: the hypergeometric tail in closed form', () => {
    // 10 datapoints, 4 in the target; a cluster of 3 holding 2 of them. P(X ≥ 2) = (C(4,2)C(6,1) + C(4,3)) / C(10,3) = 40/120.
    const isTarget = [true, true, true, true, false, false, false, false, false, false];
    const c = stratifiedCounts([0, 1, 5], isTarget, Array(10).fill('a'));
    expect(c.count).toBe(2);
    expect(stratifiedTail(c)).toBeCloseTo(40 / 120, 14);
    expect(stratifiedExpectation(c)).toBeCloseTo(0.4, 14);
  });

  it('several strata: tail and mean equal the enumeration of every cluster of the same make-up', () => {
    for (let trial = 0; trial < 12; trial++) {
      const n = 12;
      const stratum = Array.from({ length: n }, () => ['1s', '10s', '100s'][Math.floor(rand() * 3)]);
      const isTarget = Array.from({ length: n }, (_, x) => stratum[x] !== '1s' && rand() < 0.5);
      const members = Array.from({ length: n }, (_, x) => x).filter(() => rand() < 0.5);
      if (members.length === 0) continue;
      const want = bruteForce(members, isTarget, stratum);
      const c = stratifiedCounts(members, isTarget, stratum);
      expect(stratifiedTail(c)).toBeCloseTo(want.tail, 12);
      expect(stratifiedExpectation(c)).toBeCloseTo(want.mean, 12);
    }
  });

  it('a probe-sized population: the tail equals drawing one member at a time, down to tiny values', () => {
    // Places of a 3-digit addition probe of 1000 tokens: carry rates near 0 %, 45 %, 50 %, 50 %.
    const n = 1000;
    const stratum = Array.from({ length: n }, (_, x) => ['1s', '10s', '100s', '1000s'][x % 4]);
    const rates: Record<string, number> = { '1s': 0, '10s': 0.45, '100s': 0.5, '1000s': 0.5 };
    const isTarget = stratum.map((s) => rand() < rates[s]);
    // A cluster of 10s tokens enriched in carry, with a few 1s and 1000s tokens.
    const tens = stratum.map((s, x) => (s === '10s' ? x : -1)).filter((x) => x >= 0);
    const members = [
      ...tens.filter((x) => isTarget[x]).slice(0, 45),
      ...tens.filter((x) => !isTarget[x]).slice(0, 15),
      ...[0, 4, 8, 12, 16],
      ...[3, 7, 11],
    ];
    const c = stratifiedCounts(members, isTarget, stratum);
    const observed = c.count;
    const p = stratifiedTail(c);
    const ref = sequentialTail(c.strata, observed);
    expect(p).toBeLessThan(1e-4);
    expect(Math.abs(p - ref) / ref).toBeLessThan(1e-9);
    // One count lower and one higher too: the tail is monotone and matches at each.
    for (const k of [observed - 5, observed + 3]) {
      expect(Math.abs(stratifiedTail({ ...c, count: k }) - sequentialTail(c.strata, k))).toBeLessThan(1e-12);
    }
    // At the lowest possible count the tail is the whole distribution.
    expect(stratifiedTail({ ...c, count: 0 })).toBeCloseTo(1, 12);
  });

  it('names a member outside the datapoints and a stratum of the wrong length', () => {
    expect(() => stratifiedCounts([0, 7], [true, false], ['a', 'b'])).toThrow(/member 7 is not a datapoint index in \[0, 2\)/);
    expect(() => stratifiedCounts([0], [true, false], ['a'])).toThrow(/2 target flags but 1 strata/);
  });
});

describe('the quality table with a stratum', () => {
  const place = labelColumn('place', ['1s', '1s', '10s', '10s', '10s', '10s', '100s', '100s'], ['1s', '10s', '100s']);
  const carry = labelColumn('carry', ['no', 'no', 'yes', 'yes', 'no', 'no', 'yes', 'no'], ['no', 'yes']);
  const target: QualityTarget = { column: carry, category: 'yes', name: 'carry', stratum: place };

  it("gives each cluster the homogeneity its strata explain and the chance of its count", () => {
    // Two 10s carries and a 1s token: 2/3 carry, where the strata predict (2·0.5 + 0) / 3.
    const q = clusterQuality([2, 3, 0], target);
    expect(q.homogeneity).toBeCloseTo(2 / 3, 14);
    expect(q.expected).toBeCloseTo(1 / 3, 14);
    // P(both 10s picks are the two carries) = 1 / C(4,2).
    expect(q.chance).toBeCloseTo(1 / 6, 14);
    const plain = clusterQuality([2, 3, 0], { ...target, stratum: undefined });
    expect(plain.expected).toBeNaN();
    expect(plain.chance).toBeNaN();
  });

  it('refuses a stratum of other datapoints, naming the option', () => {
    const short = labelColumn('place', ['1s'], ['1s']);
    expect(() => clusterQuality([0], { ...target, stratum: short })).toThrow(/target\.stratum/);
  });

  it('prints the best cluster of each row beside what its strata explain', () => {
    const steps = Int32Array.of(0, 10, 20);
    const traj = new TrajectoryMatrix(8);
    steps.forEach((s) => traj.append(s, new Float64Array(8)));
    const event: ClustersEvent = {
      type: 'clusters', time: 0, step: 20, kind: 'polca', basisId: 3, steps,
      clusters: [{ id: 0, members: Int32Array.of(2, 3, 0), medoid: 2, median: new Float64Array(3), q25: new Float64Array(3), q75: new Float64Array(3) }],
      dropped: 0, outliers: 0,
    };
    const rows = qualityTable([{ kind: 'polca', clusterings: [{ event, trajectories: traj }] }, { kind: 'loss', clusterings: [] }], target, { delta: 10, tau: 10 });
    expect(rows[0].stratum).toBe('place');
    const text = formatStratumTable(rows).split('\n');
    expect(text[0]).toBe('| trajectories | best eligible cluster | carry homogeneity | explained by place | above it | chance |');
    expect(text[2]).toBe('| polca | vector 3, 3 members | 0.667 | 0.333 | +0.333 | 0.17 |');
    expect(text[3]).toBe('| loss | none | - | - | - | - |');
    expect(formatStratumTable(qualityTable([{ kind: 'polca', clusterings: [] }], { ...target, stratum: undefined }, { delta: 10, tau: 10 }))).toBe('');
  });
});
