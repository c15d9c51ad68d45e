import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { brownDirectory, loadBrown, universalTag } from '../../../examples/english/corpus.js';
import { makeProbe, probeTagRows, sampleWindows, splitDocuments, tokenStream } from '../../../examples/english/data.js';
import { UNK_ID, buildVocabulary } from '../../../examples/english/tokenizer.js';
import { mulberry32 } from '../../../examples/arithmetic/prng.js';

describe('probe set with part-of-speech metadata', () => {
  const docs = loadBrown({ ids: ['ca01', 'ca02'] });
  // Every word of the two documents in the vocabulary: no target is skipped.
  const full = buildVocabulary(docs.map((d) => d.words), 100_000);
  const stream = tokenStream(docs, full);
  const T = 8;
  const slots = Math.floor(stream.ids.length / (T + 1));
  const probe = makeProbe(stream, { seqLen: T, size: slots * (T - 4), seed: 3 });

  it('labels hand-checked tokens of ca01 with their gold tags and those of their three predecessors', () => {
    // Slot 0 is words 0..8 of ca01: "The Fulton County Grand Jury said Friday an investigation".
    const at = (index: number) => probe.tokens.findIndex((t) => stream.doc[t.streamIndex] === 'ca01' && stream.index[t.streamIndex] === index);
    const said = at(5);
    expect(said).toBeGreaterThanOrEqual(0);
    expect(probe.meta.token[said]).toBe('said');
    expect([probe.meta.pos3[said], probe.meta.pos2[said], probe.meta.pos1[said], probe.meta.pos[said]]).toEqual(['NOUN', 'ADJ', 'NOUN', 'VERB']);
    expect(probe.meta.tag[said]).toBe('vbd');
    expect(probe.meta.context[said]).toBe('The Fulton County Grand Jury [said]');
    const inv = at(8);
    expect(probe.meta.token[inv]).toBe('investigation');
    expect(probeTagRows(probe.meta)[inv]).toEqual(['VERB', 'NOUN', 'DET', 'NOUN']); // said Friday an [investigation]
    expect(probe.meta.context[inv]).toBe('The Fulton County Grand Jury said Friday an [investigation]');
    // Positions 0–3 of a window are not scored: "Fulton" (index 1) is no datapoint.
    expect(at(1)).toBe(-1);
  });

  it('agrees with the raw corpus files for every datapoint', () => {
    const raw = new Map(docs.map((d) => [d.id, readFileSync(path.join(brownDirectory(), d.id), 'utf8').trim().split(/[ \t\n]+/)]));
    expect(probe.tokens.length).toBe(slots * (T - 4));
    probe.tokens.forEach((tok, x) => {
      const file = raw.get(probe.meta.doc[x])!;
      const i = probe.meta.index[x];
      const tagOf = (k: number) => file[k].slice(file[k].lastIndexOf('/') + 1);
      expect(file[i].slice(0, file[i].lastIndexOf('/'))).toBe(probe.meta.token[x]);
      expect(probe.meta.tag[x]).toBe(tagOf(i));
      expect(probe.meta.pos[x]).toBe(universalTag(tagOf(i)));
      // Predecessors are in the same window here (position ≥ 4), so in the same document or the one before.
      if (i >= 3) expect([probe.meta.pos1[x], probe.meta.pos2[x], probe.meta.pos3[x]]).toEqual([1, 2, 3].map((k) => universalTag(tagOf(i - k))));
      // The model's window holds the target at position + 1.
      expect(probe.windows[tok.window][tok.position + 1]).toBe(stream.ids[tok.streamIndex]);
      expect(probe.rows[x]).toBe(tok.window * T + tok.position);
    });
  });

  it('skips out-of-vocabulary targets and fails when the text is too short', () => {
    const small = buildVocabulary(docs.map((d) => d.words), 50);
    const s = tokenStream(docs, small);
    const p = makeProbe(s, { seqLen: T, size: 200, seed: 1 });
    expect(p.tokens).toHaveLength(200);
    for (const t of p.tokens) expect(s.ids[t.streamIndex]).not.toBe(UNK_ID);
    expect(() => makeProbe(s, { seqLen: T, size: 1_000_000, seed: 1 })).toThrow(/makeProbe: the held-out stream gives only \d+ datapoints/);
    expect(() => makeProbe(s, { seqLen: T, size: 10, seed: 1, minPosition: 2 })).toThrow(/option 'minPosition'/);
  });

  it('splits documents every k-th and samples windows inside the stream', () => {
    const all = loadBrown({ ids: ['ca01', 'ca02', 'ca03', 'ca04', 'ca05', 'ca06'] });
    const { train, heldOut } = splitDocuments(all, 3);
    expect(heldOut.map((d) => d.id)).toEqual(['ca03', 'ca06']);
    expect(train.map((d) => d.id)).toEqual(['ca01', 'ca02', 'ca04', 'ca05']);
    const w = sampleWindows(stream.ids, T, 50, mulberry32(5));
    for (const win of w) {
      expect(win).toHaveLength(T + 1);
      // Each window is a contiguous piece of the stream.
      const s = stream.ids;
      let found = false;
      for (let i = 0; i + T < s.length && !found; i++) found = win.every((id, k) => s[i + k] === id);
      expect(found).toBe(true);
    }
  });
});
