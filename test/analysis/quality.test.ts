import { describe, expect, it } from 'vitest';
import { labelColumn } from '../../src/analysis/labels.js';
import { clusterQuality, evaluateClusters, formatQualityTable, qualityTable, topClusters, type QualityTarget } from '../../src/analysis/quality.js';
import { TrajectoryMatrix } from '../../src/analysis/trajectoryMatrix.js';
import { meanBreakTime } from '../../src/analysis/breakthrough.js';
import type { ClustersEvent } from '../../src/stream/events.js';

// A part-of-speech-like label on 40 datapoints, from a fixed linear congruential sequence.
const N = 40;
let seed = 12345;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const POS = ['NOUN', 'VERB', 'DET', 'ADJ'];
const tags = Array.from({ length: N }, () => POS[Math.floor(rand() * 4)]);
const pos = labelColumn('pos', tags, POS);
// Noun clusters count only when most of their nouns are even-indexed datapoints: a rule of the task, not of polca.
const target: QualityTarget = {
  column: pos,
  category: 'NOUN',
  name: 'noun',
  eligible: (members) => {
    const nouns = Array.from(members).filter((x) => tags[x] === 'NOUN');
    return nouns.length > 0 && nouns.filter((x) => x % 2 === 0).length / nouns.length > 0.5;
  },
};

const STEPS = Int32Array.from({ length: 9 }, (_, t) => 10 * t);
const dropAt = (x: number) => 1 + (x % 7);
const traj = new TrajectoryMatrix(N);
STEPS.forEach((s, t) => traj.append(s, Array.from({ length: N }, (_, x) => (t < dropAt(x) ? 1 : 0))));

function event(basisId: number, clusters: number[][]): ClustersEvent {
  const T = STEPS.length;
  return {
    type: 'clusters', time: 0, step: 80, kind: 'polca', basisId, steps: STEPS,
    clusters: clusters.map((m, id) => ({ id, members: Int32Array.from(m), medoid: m[0], median: new Float64Array(T), q25: new Float64Array(T), q75: new Float64Array(T) })),
    dropped: 0, outliers: 0,
  };
}
const randomClusters = () => {
  const order = Array.from({ length: N }, (_, i) => i).sort(() => rand() - 0.5);
  return [order.slice(0, 8), order.slice(8, 20), order.slice(20, 23), order.slice(23, 37)];
};
const events = [event(0, randomClusters()), event(1, randomClusters()), event(2, randomClusters())];

/** Homogeneity, recall and F1 counted directly from the tags. */
function direct(members: number[]) {
  const nouns = members.filter((x) => tags[x] === 'NOUN').length;
  const all = tags.filter((t) => t === 'NOUN').length;
  const h = nouns / members.length;
  const r = nouns / all;
  return { h, r, f1: h + r > 0 ? (2 * h * r) / (h + r) : 0 };
}

describe('quality with respect to any label column', () => {
  it('homogeneity, recall and F1 of each cluster equal a direct count', () => {
    const qs = evaluateClusters(events, target);
    expect(qs).toHaveLength(12);
    for (const e of events) {
      for (const c of e.clusters) {
        const q = qs.find((x) => x.basisId === e.basisId && x.clusterId === c.id)!;
        const d = direct(Array.from(c.members));
        expect(q.size).toBe(c.members.length);
        expect(q.homogeneity).toBeCloseTo(d.h, 12);
        expect(q.recall).toBeCloseTo(d.r, 12);
        expect(q.f1).toBeCloseTo(d.f1, 12);
        expect(q.eligible).toBe(target.eligible!(c.members));
      }
    }
    // Without a rule every cluster counts.
    expect(clusterQuality([0, 1], { column: pos, category: 'VERB' }).eligible).toBe(true);
  });

  it('the top clusters are the eligible ones sorted by homogeneity, then F1, basis and cluster id', () => {
    const qs = evaluateClusters(events, target);
    const want = qs
      .filter((q) => q.eligible)
      .map((q) => [q.homogeneity, q.f1, q.basisId, q.clusterId])
      .sort((a, b) => b[0] - a[0] || b[1] - a[1] || a[2] - b[2] || a[3] - b[3])
      .slice(0, 3);
    expect(topClusters(qs).map((q) => [q.homogeneity, q.f1, q.basisId, q.clusterId])).toEqual(want);
    expect(want.length).toBeGreaterThan(0);
  });

  it('the table counts hidden breakthroughs by eq. (7) and names the target in its header', () => {
    const tau = 40;
    const rows = qualityTable([{ kind: 'polca', clusterings: events.map((e) => ({ event: e, trajectories: traj })) }], target, { delta: 10, tau });
    let hiddenCount = 0;
    for (const e of events) {
      for (const c of e.clusters) if (meanBreakTime(Array.from(c.members, (x) => traj.row(x)), STEPS, 10) > tau) hiddenCount++;
    }
    expect(hiddenCount).toBeGreaterThan(0);
    expect(hiddenCount).toBeLessThan(12);
    expect(rows[0]).toMatchObject({ kind: 'polca', target: 'noun', clusters: 12, hiddenClusters: hiddenCount, undeterminedClusters: 0 });
    expect(rows[0].topHomogeneity).toEqual(topClusters(evaluateClusters(events, target)).map((q) => q.homogeneity));
    expect(formatQualityTable(rows).split('\n')[0]).toBe('| trajectories | max noun homogeneity (top 3) | clusters with hidden breakthroughs |');
    // Unnamed targets are named after their column and category.
    const unnamed = qualityTable([{ kind: 'loss', clusterings: [] }], { column: pos, category: 'DET' }, { delta: 10, tau });
    expect(unnamed[0].target).toBe('pos=DET');
  });

  it('refuses a category the column lacks and a bad k, naming function and option', () => {
    expect(() => clusterQuality([0], { column: pos, category: 'PRON' })).toThrow(/^clusterQuality: option 'target.category' must be a category of 'pos' \(NOUN, VERB, DET, ADJ\), got "PRON"$/);
    expect(() => clusterQuality([N], target)).toThrow(`clusterQuality: member ${N} is not a datapoint index in [0, ${N})`);
    expect(() => topClusters([], 1.5)).toThrow(/^topClusters: option 'k' must be a positive integer, got 1.5$/);
  });
});
