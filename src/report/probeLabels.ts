/**
 * Reading per-datapoint labels from a run's `probeMeta` (run.json).
 *
 * @packageDocumentation
 */
import { PLACES, type ArithmeticLabels } from '../analysis/quality.js';
import type { ProbeMetaColumn } from '../sinks/arrow/manifest.js';

/**
 * The arithmetic labels `{ place, carry }` of a run's probe metadata, when its
 * `place` column holds digit places (`'1s'`…`'1000s'` as written by
 * `examples/arithmetic`, or powers of ten 0–3) and its `carry` column holds
 * booleans (or 0/1, or `'true'`/`'false'`); `undefined` otherwise.
 *
 * @example
 * ```ts
 * arithmeticLabels({ place: ['1s', '10s'], carry: [false, true] }, 2);
 * // { place: Int8Array [0, 1], carry: Uint8Array [0, 1] }
 * ```
 */
export function arithmeticLabels(probeMeta: Record<string, ProbeMetaColumn>, n: number): ArithmeticLabels | undefined {
  const place = probeMeta.place;
  const carry = probeMeta.carry;
  if (!Array.isArray(place) || !Array.isArray(carry) || place.length !== n || carry.length !== n) return undefined;
  const p = new Int8Array(n);
  const c = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v: unknown = place[i];
    const idx = typeof v === 'number' ? v : typeof v === 'string' ? PLACES.indexOf(v) : -1;
    if (!(idx === 0 || idx === 1 || idx === 2 || idx === 3)) return undefined;
    p[i] = idx;
    const w: unknown = carry[i];
    if (w === true || w === 1 || w === 'true') c[i] = 1;
    else if (w === false || w === 0 || w === 'false') c[i] = 0;
    else return undefined;
  }
  return { place: p, carry: c };
}

/** A probe-metadata column with few distinct values, as strings. */
export interface CategoricalColumn {
  name: string;
  /** One category per datapoint. */
  values: string[];
  /** The distinct categories, in order of first appearance (numbers sorted ascending). */
  categories: string[];
}

/**
 * The columns of `probeMeta` that are categorical: of length `n`, with at most
 * `maxCategories` distinct values and, for `n > 4`, at most `n / 2` of them
 * (a column with a value per datapoint, such as token text or an index, is
 * not a category).
 *
 * @example
 * ```ts
 * categoricalColumns({ carry: [true, false, true, true], text: ['a', 'b', 'c', 'd'] }, 4);
 * // [{ name: 'carry', values: ['true', 'false', 'true', 'true'], categories: ['false', 'true'] }]
 * ```
 */
export function categoricalColumns(probeMeta: Record<string, ProbeMetaColumn>, n: number, maxCategories = 12): CategoricalColumn[] {
  const out: CategoricalColumn[] = [];
  for (const [name, column] of Object.entries(probeMeta)) {
    if (!Array.isArray(column) || column.length !== n) continue;
    const distinct = new Set<unknown>(column as readonly unknown[]);
    if (distinct.size > maxCategories || (n > 4 && distinct.size > n / 2)) continue;
    const raw = [...distinct];
    const sorted = raw.every((v) => typeof v === 'number')
      ? (raw as number[]).sort((a, b) => a - b)
      : raw.every((v) => typeof v === 'boolean')
        ? (raw as boolean[]).sort((a, b) => Number(a) - Number(b))
        : raw;
    out.push({ name, values: (column as readonly unknown[]).map(String), categories: sorted.map(String) });
  }
  return out;
}
