import { describe, expect, it } from 'vitest';
import { nearestToMedoid, TrajectoryMatrix } from '../../../src/analysis/index.js';
import { labelCluster, posLabel, smallestCover } from '../../../examples/english/posLabels.js';

// Contexts (t−3, t−2, t−1, target) of 10 tokens.
const tags = [
  ['NOUN', 'VERB', 'DET', 'NOUN'],
  ['NOUN', 'VERB', 'DET', 'NOUN'],
  ['PROPN', 'VERB', 'DET', 'NOUN'],
  ['NOUN', 'AUX', 'DET', 'ADJ'],
  ['PRON', 'VERB', 'DET', 'NOUN'],
  ['ADJ', 'VERB', 'DET', 'PROPN'],
  ['NOUN', 'VERB', 'ADJ', 'NOUN'],
  ['VERB', 'AUX', 'DET', 'NOUN'],
  ['PUNCT', 'AUX', 'DET', 'PROPN'],
  ['ADP', 'VERB', 'DET', 'PROPN'],
];

describe('posLabel (70% cover, at most two tags)', () => {
  it('labels a hand example', () => {
    const l = posLabel([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], tags);
    // position t−3: NOUN 4, six tags once → NOUN + ADJ + ADP + PRON (alphabetical among ties) = 7/10; 4 tags > 2 → dropped
    // position t−2: VERB 7, AUX 3 → VERB alone covers exactly 7/10
    // position t−1: DET 9, ADJ 1 → DET covers 9/10
    // target: NOUN 6, PROPN 3, ADJ 1 → NOUN 6/10 < 0.7, NOUN + PROPN 9/10
    expect(l.positions).toEqual([null, ['VERB'], ['DET'], ['NOUN', 'PROPN']]);
    expect(l.covered).toEqual([0.7, 0.7, 0.9, 0.9]);
    expect(l.text).toBe('* VERB DET NOUN/PROPN');
  });

  it('gives no label when every position needs more than two tags', () => {
    // members 3, 6, 8 with maxTags 1:
    // t−3 NOUN, NOUN, PUNCT → NOUN 2/3 < 0.7 → needs 2 > 1; t−2 AUX, VERB, AUX → 2/3 → 2 tags;
    // t−1 DET, ADJ, DET → 2 tags; target ADJ, NOUN, PROPN → 3 tags.
    const l = posLabel([3, 6, 8], tags, { maxTags: 1 });
    expect(l.positions).toEqual([null, null, null, null]);
    expect(l.text).toBeUndefined();
    // with the default of two tags: NOUN/PUNCT AUX/VERB DET/ADJ, target needs three (ADJ, NOUN, PROPN) → *
    expect(posLabel([3, 6, 8], tags).text).toBe('NOUN/PUNCT AUX/VERB DET/ADJ *');
  });

  it('smallestCover is minimal and validates', () => {
    expect(smallestCover(['a', 'b', 'b', 'c', 'c', 'c'], 0.5)).toEqual({ tags: ['c'], covered: 0.5 });
    expect(smallestCover(['a', 'b', 'b', 'c', 'c', 'c'], 0.51)).toEqual({ tags: ['c', 'b'], covered: 5 / 6 });
    expect(() => smallestCover(['a'], 0)).toThrow(/coverage must be in \(0, 1\], got 0/);
    expect(() => posLabel([], tags)).toThrow(/posLabel: members is empty/);
    expect(() => posLabel([0, 11], tags)).toThrow(/member 11 has no tags/);
    expect(() => posLabel([0], tags, { maxTags: 0 })).toThrow(/options.maxTags/);
  });
});

describe('contexts nearest the medoid', () => {
  // trajectory of datapoint x: [0, v_x] with v = [0, 5, 3, 9, 4, 4.5, 8, 1, 2, 6]
  const v = [0, 5, 3, 9, 4, 4.5, 8, 1, 2, 6];
  const m = new TrajectoryMatrix(10);
  m.append(0, new Array(10).fill(0));
  m.append(20, v);

  it('orders members by distance to the medoid', () => {
    // medoid 4 (v = 4): distances 0 (4), 0.5 (5), 1 (1: v=5 and 2: v=3), 2 (8: v=2 and 9: v=6; tie → lower index 8)
    expect(nearestToMedoid(m, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4, 5)).toEqual([4, 5, 1, 2, 8]);
    expect(nearestToMedoid(m, [3, 6, 4], 4, 10)).toEqual([4, 6, 3]);
  });

  it('labelCluster combines label and contexts', () => {
    const contexts = tags.map((t, i) => `ctx${i}:${t.join(' ')}`);
    const cluster = { id: 3, members: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), medoid: 4, median: new Float64Array(2), q25: new Float64Array(2), q75: new Float64Array(2) };
    const l = labelCluster(cluster, m, tags, contexts, { nearest: 3 });
    expect(l.clusterId).toBe(3);
    expect(l.label.text).toBe('* VERB DET NOUN/PROPN');
    expect(l.nearest).toEqual([4, 5, 1]);
    expect(l.contexts).toEqual([contexts[4], contexts[5], contexts[1]]);
  });
});
