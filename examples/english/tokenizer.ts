/**
 * A word-level vocabulary built from the corpus: one token per corpus word,
 * lower-cased, the most frequent words kept and every other word mapped to
 * `<unk>`.
 *
 * Why words rather than GPT-2's byte-pair encoding (`gpt-tokenizer`): every
 * token is then exactly one word of the corpus with exactly one gold tag, so
 * a probe token's part of speech needs no alignment of sub-word pieces to
 * words; and a vocabulary of a few thousand keeps the unembedding (d × V
 * multiply-adds per token, the largest cost of a small model) affordable on
 * two CPU cores, where GPT-2's 50,257 would not be.
 *
 * @packageDocumentation
 */

/**
 * Token id of unknown words.
 *
 * @example
 * ```ts
 * vocab.id('xylophonist') === UNK_ID; // true when the word is rare
 * ```
 */
export const UNK_ID = 0;
/**
 * Spelling of the unknown-word token.
 *
 * @example
 * ```ts
 * vocab.words[UNK_ID]; // UNK
 * ```
 */
export const UNK = '<unk>';

/**
 * The form a corpus word takes in the vocabulary: lower case, with the
 * corpus's TeX-style quotes `` and '' written `"`.
 *
 * @example
 * ```ts
 * normalizeWord('The'); // 'the'
 * normalizeWord('``');  // '"'
 * ```
 */
export function normalizeWord(word: string): string {
  if (word === '``' || word === "''") return '"';
  return word.toLowerCase();
}

/** A word vocabulary; id 0 is `<unk>`. */
export interface WordVocabulary {
  /** Token strings by id. */
  readonly words: readonly string[];
  /** Number of ids (including `<unk>`). */
  readonly size: number;
  /** Id of a corpus word (normalised first), {@link UNK_ID} when out of vocabulary. */
  id(word: string): number;
  /** Ids of a sequence of corpus words. */
  encode(words: readonly string[]): Int32Array;
  /** Token strings of ids. */
  decode(ids: ArrayLike<number>): string[];
}

/**
 * Builds the vocabulary of the `size − 1` most frequent normalised words of
 * `documents` (ties broken alphabetically, so the result is reproducible)
 * plus `<unk>`.
 *
 * @example
 * ```ts
 * const vocab = buildVocabulary([['The', 'cat', 'the', 'dog']], 3);
 * vocab.words;                 // ['<unk>', 'the', 'cat']
 * vocab.encode(['The', 'dog']); // Int32Array [1, 0]
 * ```
 */
export function buildVocabulary(documents: Iterable<readonly string[]>, size: number): WordVocabulary {
  if (!Number.isInteger(size) || size < 2) throw new Error(`buildVocabulary: argument 'size' must be an integer ≥ 2, got ${size}`);
  const counts = new Map<string, number>();
  for (const doc of documents) for (const w of doc) {
    const n = normalizeWord(w);
    counts.set(n, (counts.get(n) ?? 0) + 1);
  }
  counts.delete(UNK);
  const kept = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, size - 1)
    .map(([w]) => w);
  return vocabularyFromWords([UNK, ...kept]);
}

/**
 * A vocabulary with the given token strings (`words[0]` must be `<unk>`).
 *
 * @example
 * ```ts
 * vocabularyFromWords(['<unk>', 'the']).id('THE'); // 1
 * ```
 */
export function vocabularyFromWords(words: readonly string[]): WordVocabulary {
  if (words[0] !== UNK) throw new Error(`vocabularyFromWords: words[0] must be ${UNK}, got ${JSON.stringify(words[0])}`);
  const index = new Map<string, number>();
  words.forEach((w, i) => {
    if (index.has(w)) throw new Error(`vocabularyFromWords: word ${JSON.stringify(w)} appears twice`);
    index.set(w, i);
  });
  const list = words.slice();
  const id = (word: string): number => index.get(normalizeWord(word)) ?? UNK_ID;
  return {
    words: list,
    size: list.length,
    id,
    encode: (ws) => Int32Array.from(ws, id),
    decode: (ids) => Array.from(ids, (i) => {
      const w = list[i];
      if (w === undefined) throw new Error(`WordVocabulary.decode: id ${i} is outside [0, ${list.length})`);
      return w;
    }),
  };
}
