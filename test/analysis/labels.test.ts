import { describe, expect, it } from 'vitest';
import { composition, crossLabels, labelColumn } from '../../src/analysis/labels.js';
import { OptionError } from '../../src/errors/validate.js';

describe('label columns', () => {
  it('infers categories: numbers and booleans sorted, strings in order of first appearance', () => {
    expect(labelColumn('digit', [3, 1, 2, 1]).categories).toEqual(['1', '2', '3']);
    expect(labelColumn('carry', [true, false]).categories).toEqual(['false', 'true']);
    expect(labelColumn('pos', ['VERB', 'NOUN', 'VERB']).categories).toEqual(['VERB', 'NOUN']);
    expect(labelColumn('pos', ['VERB', 'NOUN'], ['NOUN', 'VERB', 'ADJ'])).toEqual({ name: 'pos', values: ['VERB', 'NOUN'], categories: ['NOUN', 'VERB', 'ADJ'] });
  });

  it('refuses a value outside the given categories and an empty name, naming the function', () => {
    expect(() => labelColumn('pos', ['VERB', 'X'], ['VERB'])).toThrow(OptionError);
    expect(() => labelColumn('pos', ['VERB', 'X'], ['VERB'])).toThrow(/^labelColumn: option 'values\[1\]' must be one of the categories of 'pos' \(VERB\), got "X"$/);
    expect(() => labelColumn('', [1])).toThrow(/^labelColumn: option 'name' must be a non-empty string/);
  });

  it('crosses columns: every combination, the first varying slowest, values joined per datapoint', () => {
    const a = labelColumn('place', ['1s', '10s', '10s', '100s'], ['1s', '10s', '100s']);
    const b = labelColumn('carry', ['no', 'yes', 'no', 'yes'], ['no', 'yes']);
    const c = labelColumn('parity', [0, 1, 0, 1]);
    const x = crossLabels('place × carry × parity', [a, b, c], '/');
    const want: string[] = [];
    for (const p of a.categories) for (const q of b.categories) for (const r of c.categories) want.push(`${p}/${q}/${r}`);
    expect(x.categories).toEqual(want);
    expect(x.values).toEqual(a.values.map((v, i) => `${v}/${b.values[i]}/${c.values[i]}`));
    expect(x.sources).toEqual(['place', 'carry', 'parity']);
    expect(() => crossLabels('bad', [a, labelColumn('short', [1])])).toThrow(/^crossLabels: option 'columns 'short'' must be 4 values/);
    expect(() => crossLabels('none', [])).toThrow(/^crossLabels: option 'columns' must be at least one label column/);
  });

  it('composition counts each cluster\u2019s members per category, as a direct count does', () => {
    const values = Array.from({ length: 50 }, (_, i) => ['a', 'b', 'c'][(i * 7) % 3]);
    const col = labelColumn('abc', values, ['c', 'b', 'a', 'unused']);
    const clusters = [
      { id: 4, label: 'c4', members: Int32Array.from({ length: 20 }, (_, k) => 2 * k) },
      { id: 9, label: 'c9', members: [1, 3, 5] },
    ];
    const comp = composition(col, clusters);
    expect(comp.column).toBe('abc');
    expect(comp.categories).toEqual(['c', 'b', 'a', 'unused']);
    for (const c of clusters) {
      for (const cat of col.categories) {
        const count = Array.from(c.members).filter((x) => values[x] === cat).length;
        const row = comp.rows.find((r) => r.clusterId === c.id && r.category === cat);
        expect(row?.count ?? 0).toBe(count);
        if (row) expect(row.cluster).toBe(c.label);
      }
    }
    expect(comp.rows.every((r) => r.count > 0)).toBe(true);
  });
});
