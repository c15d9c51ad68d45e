/**
 * The 3-digit addition task of the paper (METHOD.md §5): problems `a+b=`
 * with a and b drawn uniformly from the three-digit numbers 100–999, followed
 * by the four digits of the sum, most significant first (the 1000s digit is
 * 0 or 1). A problem is the 12-token text `"123+456=0579"`; the model reads
 * its first 11 tokens and is scored on the four sum digits only, so each
 * problem gives four datapoints (output tokens).
 *
 * Every output token carries two labels:
 * - `place`: the power of ten of its digit (3 = 1000s, 2 = 100s, 1 = 10s, 0 = 1s);
 * - `carry`: whether the sum of the lower places carries into it,
 *   `(a mod 10^p + b mod 10^p) ≥ 10^p` for place p. This is the ripple carry
 *   (it includes carries passed on from further down, as in 150 + 850); the
 *   1s digit never has one, and the 1000s digit has one exactly when it is 1.
 *
 * The paper takes its data from Skill-it (Chen et al.), whose addition
 * examples ask for one digit of the sum at a time (`A = 1 2 3 + 4 5 6 , A 2 = ?`).
 * The `query` format is that layout: one 9-token input per (problem, place),
 * `123+456=p` with p the power of ten asked for, and the model's next token
 * is that digit. The datapoints and their labels are the same in both formats.
 *
 * @packageDocumentation
 */
import { mulberry32, randomInt, type Rng } from './prng.js';

/** Token strings, indexed by token id: digits 0–9, then `+` and `=`. */
export const VOCAB: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '='];
/** Number of token ids. */
export const VOCAB_SIZE = VOCAB.length;
/** Token id of `+`. */
export const PLUS = 10;
/** Token id of `=`. */
export const EQUALS = 11;
/** Tokens in a full problem text, `abc+def=wxyz`. */
export const TEXT_LENGTH = 12;
/** Tokens the model reads: the text without its last digit. */
export const SEQ_LEN = TEXT_LENGTH - 1;
/**
 * How a problem is shown to the model: `sequence`, the sum written out after
 * `=` (four outputs per input); `query`, one input per place asking for its
 * digit (one output per input, as in Skill-it's addition data).
 */
export type TaskFormat = 'sequence' | 'query';
/** The formats, for option checks. */
export const TASK_FORMATS: readonly TaskFormat[] = ['sequence', 'query'];
/** Tokens of a `query` input, `abc+def=p`. */
export const QUERY_LEN = 9;
/** Sum digits per problem, i.e. datapoints per problem. */
export const OUTPUTS_PER_PROBLEM = 4;
/** Input positions whose next-token predictions are the four sum digits (1000s first). */
export const OUTPUT_POSITIONS: readonly number[] = [7, 8, 9, 10];
/** Tokens the model reads per input in a format. */
export function inputLength(format: TaskFormat): number {
  return format === 'query' ? QUERY_LEN : SEQ_LEN;
}

/** Outputs (datapoints) per input in a format: 4 for `sequence`, 1 for `query`. */
export function outputsPerInput(format: TaskFormat): number {
  return format === 'query' ? 1 : OUTPUTS_PER_PROBLEM;
}

/** Input positions whose next-token predictions are the outputs, in a format. */
export function outputPositions(format: TaskFormat): readonly number[] {
  return format === 'query' ? [QUERY_LEN - 1] : OUTPUT_POSITIONS;
}

/** Throws unless `format` is one of {@link TASK_FORMATS}; `who` names the caller. */
export function checkFormat(who: string, format: unknown): asserts format is TaskFormat {
  if (!(TASK_FORMATS as readonly unknown[]).includes(format)) {
    throw new Error(`${who}: option format must be one of ${TASK_FORMATS.map((f) => `'${f}'`).join(', ')}, got ${JSON.stringify(format)}`);
  }
}

/** Names of the places, indexed by power of ten. */
export const PLACE_NAMES: readonly string[] = ['1s', '10s', '100s', '1000s'];
/** Smallest operand: operands are three-digit numbers without leading zeros. */
export const MIN_OPERAND = 100;
/** Largest operand. */
export const MAX_OPERAND = 999;
/** Number of distinct problems (ordered pairs of operands). */
export const NUM_PROBLEMS = (MAX_OPERAND - MIN_OPERAND + 1) ** 2;

/**
 * Whether the lower places of a + b carry into place `power` (0 = 1s … 3 = 1000s).
 *
 * @example
 * ```ts
 * carryInto(150, 850, 2); // true: 50 + 50 = 100 carries into the 100s
 * carryInto(123, 456, 1); // false: 3 + 6 < 10
 * ```
 */
export function carryInto(a: number, b: number, power: number): boolean {
  const m = 10 ** power;
  return (a % m) + (b % m) >= m;
}

/**
 * Whether the two digits of column `power` (0 = 1s, 1 = 10s, 2 = 100s) sum
 * to 5–8: the skill the demo's `--mid-sums-from` holds out of training.
 *
 * @example
 * ```ts
 * midSumColumn(123, 456, 1); // true: 2 + 5 = 7
 * midSumColumn(123, 456, 0); // false: 3 + 6 = 9
 * ```
 */
export function midSumColumn(a: number, b: number, power: number): boolean {
  if (!(Number.isInteger(power) && power >= 0 && power <= 2)) throw new RangeError(`midSumColumn: power must be 0, 1 or 2, got ${power}`);
  const m = 10 ** power;
  const sum = (Math.floor(a / m) % 10) + (Math.floor(b / m) % 10);
  return sum >= 5 && sum <= 8;
}

/**
 * The sum of the column below place `power` including the carry entering
 * that column (0–19): the quantity whose crossing of 10 makes the carry into
 * `power`. Tokens with 9 or 10 here are the ones the carry is hardest to
 * tell for, carry and no-carry alike. `power` must be 1–3 (the 1s place has no
 * column below).
 *
 * @example
 * ```ts
 * belowColumnSum(150, 850, 2); // 10: 5 + 5 in the 10s column, nothing from the 1s
 * belowColumnSum(145, 856, 2); // 10: 4 + 5 + the carry of 5 + 6
 * ```
 */
export function belowColumnSum(a: number, b: number, power: number): number {
  if (!(Number.isInteger(power) && power >= 1 && power <= 3)) throw new RangeError(`belowColumnSum: power must be 1, 2 or 3, got ${power}`);
  const m = 10 ** power;
  return Math.floor(((a % m) + (b % m)) / (m / 10));
}

/**
 * The 12 token ids of `a+b=` followed by the four sum digits, 1000s first.
 *
 * @example
 * ```ts
 * problemTokens(123, 456); // [1,2,3,10,4,5,6,11,0,5,7,9]
 * ```
 */
export function problemTokens(a: number, b: number): number[] {
  checkOperand('problemTokens', 'a', a);
  checkOperand('problemTokens', 'b', b);
  const s = a + b;
  return [
    Math.floor(a / 100), Math.floor(a / 10) % 10, a % 10, PLUS,
    Math.floor(b / 100), Math.floor(b / 10) % 10, b % 10, EQUALS,
    Math.floor(s / 1000), Math.floor(s / 100) % 10, Math.floor(s / 10) % 10, s % 10,
  ];
}

/**
 * The 9 token ids of the query asking for the digit of place `power`
 * (0 = 1s … 3 = 1000s) of a + b: `a+b=` followed by `power`.
 *
 * @example
 * ```ts
 * queryTokens(123, 456, 1); // [1,2,3,10,4,5,6,11,1] — its answer is 7
 * ```
 */
export function queryTokens(a: number, b: number, power: number): number[] {
  checkOperand('queryTokens', 'a', a);
  checkOperand('queryTokens', 'b', b);
  if (!(Number.isInteger(power) && power >= 0 && power <= 3)) throw new RangeError(`queryTokens: power must be 0, 1, 2 or 3, got ${power}`);
  return [...problemTokens(a, b).slice(0, 8), power];
}

/**
 * The problem as text, e.g. `"123+456=0579"`.
 *
 * @example
 * ```ts
 * problemText(999, 999); // "999+999=1998"
 * ```
 */
export function problemText(a: number, b: number): string {
  return problemTokens(a, b).map((t) => VOCAB[t]).join('');
}

/**
 * A set of problems in the arrays the model and the analysis use. Datapoint
 * `4i + k` is output token k (k = 0 is the 1000s digit) of problem i.
 */
export interface ArithmeticBatch {
  /** Number of problems. */
  size: number;
  /** How `inputs` shows the problems. */
  format: TaskFormat;
  /** First operands. */
  a: Int32Array;
  /** Second operands. */
  b: Int32Array;
  /**
   * Input token ids, row-major: `size × SEQ_LEN` (`sequence`), or
   * `size × 4 × QUERY_LEN` (`query`, row 4i + k asking for output k of problem i).
   */
  inputs: Int32Array;
  /** Target digit of every datapoint, `size × 4`. */
  targets: Int32Array;
  /** Place (power of ten, 3 = 1000s … 0 = 1s) of every datapoint. */
  place: Int8Array;
  /** 1 when the datapoint's place receives a carry, else 0. */
  carry: Uint8Array;
}

/**
 * Builds a batch from explicit operand pairs.
 *
 * @param format - how the inputs show the problems (default `sequence`).
 * @example
 * ```ts
 * const batch = makeBatch([123, 150], [456, 850]);
 * batch.carry; // Uint8Array [0,0,0,0, 1,1,1,0]
 * ```
 */
export function makeBatch(a: ArrayLike<number>, b: ArrayLike<number>, format: TaskFormat = 'sequence'): ArithmeticBatch {
  checkFormat('makeBatch', format);
  if (a.length !== b.length) {
    throw new Error(`makeBatch: a and b must have the same length, got ${a.length} and ${b.length}`);
  }
  const size = a.length;
  const batch: ArithmeticBatch = {
    size,
    format,
    a: Int32Array.from(a),
    b: Int32Array.from(b),
    inputs: new Int32Array(size * OUTPUTS_PER_PROBLEM * inputLength(format) / outputsPerInput(format)),
    targets: new Int32Array(size * OUTPUTS_PER_PROBLEM),
    place: new Int8Array(size * OUTPUTS_PER_PROBLEM),
    carry: new Uint8Array(size * OUTPUTS_PER_PROBLEM),
  };
  for (let i = 0; i < size; i++) {
    const tokens = problemTokens(a[i], b[i]);
    if (format === 'sequence') batch.inputs.set(tokens.slice(0, SEQ_LEN), i * SEQ_LEN);
    for (let k = 0; k < OUTPUTS_PER_PROBLEM; k++) {
      const j = i * OUTPUTS_PER_PROBLEM + k;
      const power = OUTPUTS_PER_PROBLEM - 1 - k;
      if (format === 'query') batch.inputs.set(queryTokens(a[i], b[i], power), j * QUERY_LEN);
      batch.targets[j] = tokens[SEQ_LEN - OUTPUTS_PER_PROBLEM + 1 + k];
      batch.place[j] = power;
      batch.carry[j] = carryInto(a[i], b[i], power) ? 1 : 0;
    }
  }
  return batch;
}

/** One probe datapoint, described for a run manifest. */
export interface DatapointMeta {
  /** Datapoint index (4 × problem + k). */
  index: number;
  /** Problem index within its set. */
  problem: number;
  /** The full problem text, e.g. `"123+456=0579"`. */
  text: string;
  /** Character index in `text` of the token being predicted (8–11). */
  target: number;
  /** Place name: `1000s`, `100s`, `10s` or `1s`. */
  place: string;
  /** Whether a carry comes into this place. */
  carry: boolean;
}

/**
 * One manifest entry per datapoint of a batch.
 *
 * @example
 * ```ts
 * datapointMeta(makeBatch([123], [456]))[1];
 * // { index: 1, problem: 0, text: '123+456=0579', target: 9, place: '100s', carry: false }
 * ```
 */
export function datapointMeta(batch: ArithmeticBatch): DatapointMeta[] {
  const out: DatapointMeta[] = [];
  for (let i = 0; i < batch.size; i++) {
    const text = problemText(batch.a[i], batch.b[i]);
    for (let k = 0; k < OUTPUTS_PER_PROBLEM; k++) {
      const j = i * OUTPUTS_PER_PROBLEM + k;
      out.push({
        index: j,
        problem: i,
        text,
        target: TEXT_LENGTH - OUTPUTS_PER_PROBLEM + k,
        place: PLACE_NAMES[batch.place[j]],
        carry: batch.carry[j] === 1,
      });
    }
  }
  return out;
}

/** Options of {@link makeSplits}. */
export interface SplitOptions {
  /** Seed of the generator; the same seed gives the same sets and training stream. */
  seed: number;
  /** Problems in the probe set (paper: 1250 = 5000 datapoints). */
  probeSize?: number;
  /** Problems in the Hessian sample (paper: 1250). */
  hessianSize?: number;
  /** How every batch shows its problems (default `sequence`); the problems drawn do not depend on it. */
  format?: TaskFormat;
}

/** Draws training batches from the problems outside the probe and Hessian sets. */
export interface TrainSampler {
  /**
   * The next `batchSize` problems, drawn uniformly with replacement from the
   * training pool — from its problems that `accept` takes, when given (a
   * curriculum; the stream stays deterministic for a given sequence of calls).
   */
  next(batchSize: number, accept?: (a: number, b: number) => boolean): ArithmeticBatch;
}

/** Disjoint probe set, Hessian sample and training stream. */
export interface ArithmeticSplits {
  probe: ArithmeticBatch;
  hessian: ArithmeticBatch;
  train: TrainSampler;
  /** Problem ids ((a − 100)·900 + (b − 100)) held out of training. */
  heldOut: ReadonlySet<number>;
}

/**
 * Draws the probe set and the Hessian sample without replacement from the
 * 810,000 ordered operand pairs, and a training stream that never returns a
 * held-out problem.
 *
 * @example
 * ```ts
 * const { probe, hessian, train } = makeSplits({ seed: 0 });
 * probe.size; // 1250
 * const batch = train.next(64);
 * ```
 */
export function makeSplits(options: SplitOptions): ArithmeticSplits {
  const { seed } = options;
  const probeSize = options.probeSize ?? 1250;
  const hessianSize = options.hessianSize ?? 1250;
  const format = options.format ?? 'sequence';
  checkFormat('makeSplits', format);
  if (!Number.isInteger(seed)) throw new Error(`makeSplits: option seed must be an integer, got ${seed}`);
  for (const [name, v] of [['probeSize', probeSize], ['hessianSize', hessianSize]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 100_000) {
      throw new Error(`makeSplits: option ${name} must be an integer in [1, 100000], got ${v}`);
    }
  }
  const rng = mulberry32(seed);
  const heldOut = new Set<number>();
  const draw = (n: number): ArithmeticBatch => {
    const a: number[] = [];
    const b: number[] = [];
    while (a.length < n) {
      const id = randomInt(rng, 0, NUM_PROBLEMS - 1);
      if (heldOut.has(id)) continue;
      heldOut.add(id);
      a.push(MIN_OPERAND + Math.floor(id / 900));
      b.push(MIN_OPERAND + (id % 900));
    }
    return makeBatch(a, b, format);
  };
  const probe = draw(probeSize);
  const hessian = draw(hessianSize);
  // A separate stream, so the training data do not depend on how many draws the held-out sets needed.
  const trainRng: Rng = mulberry32((seed ^ 0x5eed1234) + 1);
  const train: TrainSampler = {
    next(batchSize: number, accept?: (a: number, b: number) => boolean): ArithmeticBatch {
      if (!Number.isInteger(batchSize) || batchSize < 1) {
        throw new Error(`TrainSampler.next: batchSize must be a positive integer, got ${batchSize}`);
      }
      const a = new Int32Array(batchSize);
      const b = new Int32Array(batchSize);
      let tries = 0;
      for (let i = 0; i < batchSize; ) {
        // A predicate that (nearly) nothing passes would otherwise loop for ever.
        if (++tries > 10_000 * batchSize) throw new Error('TrainSampler.next: accept rejected 10,000 draws per problem; it takes (almost) no problem');
        const id = randomInt(trainRng, 0, NUM_PROBLEMS - 1);
        if (heldOut.has(id)) continue;
        const x = MIN_OPERAND + Math.floor(id / 900);
        const y = MIN_OPERAND + (id % 900);
        if (accept && !accept(x, y)) continue;
        a[i] = x;
        b[i] = y;
        i++;
      }
      return makeBatch(a, b, format);
    },
  };
  return { probe, hessian, train, heldOut };
}

function checkOperand(fn: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < MIN_OPERAND || v > MAX_OPERAND) {
    throw new Error(`${fn}: ${name} must be an integer in [${MIN_OPERAND}, ${MAX_OPERAND}], got ${v}`);
  }
}
