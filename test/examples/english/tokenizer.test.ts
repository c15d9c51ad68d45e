import { describe, expect, it } from 'vitest';
import { loadBrown } from '../../../examples/english/corpus.js';
import { UNK, UNK_ID, buildVocabulary, normalizeWord, vocabularyFromWords } from '../../../examples/english/tokenizer.js';

describe('word vocabulary', () => {
  it('keeps the most frequent normalised words, ties alphabetical', () => {
    const v = buildVocabulary([['The', 'cat', 'the', 'dog', 'A', 'a', 'b']], 4);
    // counts: the 2, a 2, b 1, cat 1, dog 1 → the/a tie (alphabetical: a, the), then b
    expect(v.words).toEqual([UNK, 'a', 'the', 'b']);
    expect(Array.from(v.encode(['THE', 'dog', 'b', 'A']))).toEqual([2, UNK_ID, 3, 1]);
    expect(v.decode([1, 2, 0])).toEqual(['a', 'the', UNK]);
    expect(() => v.decode([4])).toThrow(/WordVocabulary.decode: id 4 is outside \[0, 4\)/);
  });

  it('matches a brute-force count on a real document', () => {
    const [doc] = loadBrown({ ids: ['ca01'] });
    const v = buildVocabulary([doc.words], 200);
    const counts: Record<string, number> = {};
    for (const w of doc.words) {
      const n = w === '``' || w === "''" ? '"' : w.toLowerCase();
      counts[n] = (counts[n] ?? 0) + 1;
    }
    const ranked = Object.keys(counts).sort((a, b) => counts[b] - counts[a] || a.localeCompare(b, 'en', { sensitivity: 'variant' }) || (a < b ? -1 : 1));
    // Compare counts rank by rank (string collation may differ inside a tie; the counts may not).
    expect(v.words.slice(1).map((w) => counts[w])).toEqual(ranked.slice(0, 199).map((w) => counts[w]));
    expect(v.words.slice(1, 7)).toEqual(['the', '.', ',', '"', 'of', 'to']); // counted with grep: 155, 88, 87, 67, 65, 55
    // Every word of the document outside the vocabulary is rarer than every word inside.
    const minIn = Math.min(...v.words.slice(1).map((w) => counts[w]));
    for (const w of doc.words) if (v.id(w) === UNK_ID) expect(counts[normalizeWord(w)]).toBeLessThanOrEqual(minIn);
  });

  it('normalises case and TeX quotes', () => {
    expect(normalizeWord('Fulton')).toBe('fulton');
    expect(normalizeWord('``')).toBe('"');
    expect(normalizeWord("''")).toBe('"');
  });

  it('validates its arguments', () => {
    expect(() => buildVocabulary([['a']], 1)).toThrow(/buildVocabulary: argument 'size' must be an integer ≥ 2, got 1/);
    expect(() => vocabularyFromWords(['a'])).toThrow(/vocabularyFromWords: words\[0\] must be <unk>/);
    expect(() => vocabularyFromWords([UNK, 'a', 'a'])).toThrow(/appears twice/);
  });
});
