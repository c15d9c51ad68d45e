import { describe, it, expect } from 'vitest';
import { clusterMix, formatMix, tokenSkill, TOKEN_SKILLS, type Membership, type TokenSkill } from '../../../examples/arithmetic/clusterMix.js';
import { datapointMeta, makeBatch } from '../../../examples/arithmetic/data.js';
import { mulberry32 } from '../../helpers/prng.js';

describe('cluster make-up by skill', () => {
  it('labels every token as the operands say: carry by place, column sums 5–8 without a carry', () => {
    const r = mulberry32(11);
    const a = Array.from({ length: 400 }, () => 100 + Math.floor(r() * 900));
    const b = Array.from({ length: 400 }, () => 100 + Math.floor(r() * 900));
    const batch = makeBatch(a, b);
    const meta = datapointMeta(batch);
    const seen = new Set<TokenSkill>();
    meta.forEach((m, j) => {
      const i = m.problem;
      const power = batch.place[j];
      // From the operands' arithmetic, not the text: the carry into `power`, and the column's own digit sum.
      const m10 = 10 ** power;
      const carries = (a[i] % m10) + (b[i] % m10) >= m10;
      const own = (Math.floor(a[i] / m10) % 10) + (Math.floor(b[i] / m10) % 10);
      const want: TokenSkill = carries ? (power === 3 ? 'carry-1000s' : 'carry') : power < 3 && own >= 5 && own <= 8 ? 'mid-sum' : 'other';
      expect(tokenSkill(m.text, m.target, m.carry), `${m.text} @${m.target}`).toBe(want);
      seen.add(want);
    });
    expect([...seen].sort()).toEqual([...TOKEN_SKILLS].sort());
    expect(() => tokenSkill('123+456=0579', 7, false)).toThrow(/tokenSkill: target must be a sum digit \(8–11\) of a 12-character problem, got 7/);
  });

  it('counts each cluster’s members by skill, outliers left out', () => {
    const r = mulberry32(5);
    const skills = Array.from({ length: 60 }, () => TOKEN_SKILLS[Math.floor(r() * 4)]);
    const rows: Membership[] = [];
    for (const kind of ['loss', 'polca']) {
      for (let d = 0; d < 60; d++) rows.push({ kind, basisId: kind === 'loss' ? -1 : d % 2, clusterId: Math.floor(r() * 4) - 1, datapoint: d });
    }
    const mixes = clusterMix(rows, skills);
    // Brute force: for every cluster, filter the rows and count.
    const keys = new Set(rows.filter((x) => x.clusterId >= 0).map((x) => `${x.kind}/${x.basisId}/${x.clusterId}`));
    expect(mixes).toHaveLength(keys.size);
    for (const m of mixes) {
      const members = rows.filter((x) => x.kind === m.kind && x.basisId === m.basisId && x.clusterId === m.clusterId);
      expect(m.size).toBe(members.length);
      for (const s of TOKEN_SKILLS) expect(m.counts[s]).toBe(members.filter((x) => skills[x.datapoint] === s).length);
    }
    const table = formatMix(mixes).split('\n');
    expect(table).toHaveLength(2 + mixes.length);
    const first = table[2].split('|').map((c) => c.trim());
    expect(Number(first[5]) + Number(first[6]) + Number(first[7]) + Number(first[8])).toBeCloseTo(1, 2);
    expect(() => clusterMix([{ kind: 'loss', basisId: -1, clusterId: 0, datapoint: 60 }], skills)).toThrow(/datapoint 60 is outside the probe's 60/);
  });
});
