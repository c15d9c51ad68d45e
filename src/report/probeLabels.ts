/**
 * Categorical label columns of a run's `probeMeta` (run.json), which the
 * report draws compositions by when the task gives none of its own.
 *
 * @packageDocumentation
 */
import type { LabelColumn } from '../analysis/labels.js';
import type { ProbeMetaColumn } from '../sinks/arrow/manifest.js';

/**
 * A probe-metadata column with few distinct values, as strings: a
 * {@link LabelColumn} whose categories are in order of first appearance
 * (numbers and booleans sorted ascending).
 */
export interface CategoricalColumn extends LabelColumn {
  values: string[];
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
