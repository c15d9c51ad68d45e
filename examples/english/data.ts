/**
 * Splits of the Brown corpus for the language model: training text, a fixed
 * Hessian sample of training windows, and a probe set of held-out target
 * words, each carrying its gold part-of-speech tag and the tags of its three
 * predecessors (METHOD.md §5, English).
 *
 * @packageDocumentation
 */
import { mulberry32, type Rng } from '../arithmetic/prng.js';
import type { BrownDocument, UniversalTag } from './corpus.js';
import { UNK_ID, type WordVocabulary } from './tokenizer.js';

/** Words of several documents laid end to end, with where each came from. */
export interface TokenStream {
  /** Token ids. */
  ids: Int32Array;
  /** Words as written in the corpus. */
  words: string[];
  /** Universal tag of every word. */
  pos: UniversalTag[];
  /** Gold Brown tag of every word. */
  tags: string[];
  /** Document id of every word. */
  doc: string[];
  /** Index of every word within its document. */
  index: Int32Array;
}

/**
 * Lays documents end to end and encodes them.
 *
 * @example
 * ```ts
 * const s = tokenStream(loadBrown({ ids: ['ca01'] }), vocab);
 * s.words[0]; // 'The'
 * ```
 */
export function tokenStream(docs: readonly BrownDocument[], vocab: WordVocabulary): TokenStream {
  const words: string[] = [];
  const pos: UniversalTag[] = [];
  const tags: string[] = [];
  const doc: string[] = [];
  const index: number[] = [];
  for (const d of docs) {
    d.words.forEach((w, i) => {
      words.push(w);
      pos.push(d.pos[i]);
      tags.push(d.tags[i]);
      doc.push(d.id);
      index.push(i);
    });
  }
  return { ids: vocab.encode(words), words, pos, tags, doc, index: Int32Array.from(index) };
}

/**
 * Splits documents into training and held-out sets: every `heldOutEvery`-th
 * document (the last of each group, so every genre is represented) is held out.
 *
 * @example
 * ```ts
 * const { train, heldOut } = splitDocuments(loadBrown(), 10); // 450 / 50
 * ```
 */
export function splitDocuments(docs: readonly BrownDocument[], heldOutEvery: number): { train: BrownDocument[]; heldOut: BrownDocument[] } {
  if (!Number.isInteger(heldOutEvery) || heldOutEvery < 2) throw new Error(`splitDocuments: argument 'heldOutEvery' must be an integer ≥ 2, got ${heldOutEvery}`);
  const train: BrownDocument[] = [];
  const heldOut: BrownDocument[] = [];
  docs.forEach((d, i) => ((i + 1) % heldOutEvery === 0 ? heldOut : train).push(d));
  return { train, heldOut };
}

/**
 * Random windows of `seqLen + 1` consecutive ids from a stream.
 *
 * @example
 * ```ts
 * const sample = sampleWindows(stream.ids, 32, 16, mulberry32(1));
 * ```
 */
export function sampleWindows(ids: Int32Array, seqLen: number, count: number, rng: Rng): Int32Array[] {
  const span = ids.length - seqLen - 1;
  if (span < 0) throw new Error(`sampleWindows: the stream has ${ids.length} ids, fewer than seqLen + 1 = ${seqLen + 1}`);
  return Array.from({ length: count }, () => {
    const start = Math.floor(rng() * (span + 1));
    return ids.slice(start, start + seqLen + 1);
  });
}

/** One probe datapoint: a target word and its context. */
export interface ProbeToken {
  /** Window of the probe set and position within it (the model reads the window's ids 0..t and predicts id t + 1). */
  window: number;
  position: number;
  /** Flattened row `window·T + position`. */
  row: number;
  /** Index of the target word in the held-out stream. */
  streamIndex: number;
}

/** The probe set: windows, the scored positions and per-datapoint metadata. */
export interface EnglishProbe {
  /** Windows of `seqLen + 1` ids. */
  windows: Int32Array[];
  /** Rows scored, in datapoint order. */
  rows: Int32Array;
  tokens: ProbeToken[];
  /**
   * Columns for the run manifest: `token` (the target word), `pos` (its
   * universal tag), `pos1`–`pos3` (the tags of the 1st–3rd preceding words),
   * `tag` (its gold Brown tag), `doc` and `index` (where it is in the
   * corpus) and `context` (up to eight preceding words and the target in
   * brackets, as the model saw them, out-of-vocabulary words included).
   */
  meta: {
    token: string[];
    pos: string[];
    pos1: string[];
    pos2: string[];
    pos3: string[];
    tag: string[];
    doc: string[];
    index: number[];
    context: string[];
  };
}

/** Options of {@link makeProbe}. */
export interface ProbeOptions {
  /** Context length T. */
  seqLen: number;
  /** Number of datapoints (target words). */
  size: number;
  /** Smallest position scored: the target's predecessors must be in the window. Default 4. */
  minPosition?: number;
  /** Score out-of-vocabulary targets too. Default false: their one "word" `<unk>` stands for thousands. */
  includeUnknown?: boolean;
  /** Seed of the window placement. */
  seed: number;
}

/**
 * The probe set: non-overlapping windows at random places of the held-out
 * stream, scoring positions `minPosition … T − 1` whose target is in the
 * vocabulary, until `size` datapoints are collected. The three predecessors
 * of every target are inside its window (`minPosition ≥ 3`), so the tags
 * used for labels are of words the model reads.
 *
 * @example
 * ```ts
 * const probe = makeProbe(heldOutStream, { seqLen: 32, size: 3000, seed: 1 });
 * probe.meta.pos[0]; // e.g. 'NOUN'
 * ```
 */
export function makeProbe(stream: TokenStream, options: ProbeOptions): EnglishProbe {
  const { seqLen: T, size } = options;
  const minPosition = options.minPosition ?? 4;
  if (!Number.isInteger(size) || size < 1) throw new Error(`makeProbe: option 'size' must be a positive integer, got ${size}`);
  if (!Number.isInteger(minPosition) || minPosition < 3 || minPosition >= T) {
    throw new Error(`makeProbe: option 'minPosition' must be an integer in [3, seqLen), got ${minPosition}`);
  }
  const slots = Math.floor(stream.ids.length / (T + 1));
  // Shuffle the non-overlapping window slots (Fisher–Yates with a seeded generator).
  const rng = mulberry32(options.seed);
  const order = Array.from({ length: slots }, (_, i) => i);
  for (let i = slots - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const windows: Int32Array[] = [];
  const tokens: ProbeToken[] = [];
  for (const slot of order) {
    if (tokens.length >= size) break;
    const start = slot * (T + 1);
    const w = windows.length;
    let used = false;
    for (let t = minPosition; t < T && tokens.length < size; t++) {
      const target = start + t + 1;
      if (!options.includeUnknown && stream.ids[target] === UNK_ID) continue;
      tokens.push({ window: w, position: t, row: w * T + t, streamIndex: target });
      used = true;
    }
    if (used) windows.push(stream.ids.slice(start, start + T + 1));
  }
  if (tokens.length < size) throw new Error(`makeProbe: the held-out stream gives only ${tokens.length} datapoints, fewer than option 'size' = ${size}`);
  const at = (i: number, k: number) => stream.pos[i - k];
  const meta: EnglishProbe['meta'] = { token: [], pos: [], pos1: [], pos2: [], pos3: [], tag: [], doc: [], index: [], context: [] };
  for (const tok of tokens) {
    const i = tok.streamIndex;
    meta.token.push(stream.words[i]);
    meta.pos.push(at(i, 0));
    meta.pos1.push(at(i, 1));
    meta.pos2.push(at(i, 2));
    meta.pos3.push(at(i, 3));
    meta.tag.push(stream.tags[i]);
    meta.doc.push(stream.doc[i]);
    meta.index.push(stream.index[i]);
    const from = Math.max(i - tok.position - 1, i - 8);
    meta.context.push(`${stream.words.slice(from, i).join(' ')} [${stream.words[i]}]`);
  }
  return { windows, rows: Int32Array.from(tokens, (t) => t.row), tokens, meta };
}

/**
 * Tags of every probe datapoint as {@link posLabel} wants them: oldest
 * predecessor first, the target last.
 *
 * @example
 * ```ts
 * probeTagRows(probe.meta)[0]; // ['DET', 'ADJ', 'NOUN', 'VERB']
 * ```
 */
export function probeTagRows(meta: { pos: readonly string[]; pos1: readonly string[]; pos2: readonly string[]; pos3: readonly string[] }): string[][] {
  return meta.pos.map((p, x) => [meta.pos3[x], meta.pos2[x], meta.pos1[x], p]);
}
