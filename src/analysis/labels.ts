/**
 * Datapoint labels as named categorical columns: the generic form in which a
 * task hands its own labels (digit place and carry for addition, parts of
 * speech for text, anything else) to the quality table and the report.
 *
 * @packageDocumentation
 */
import { fail } from '../errors/validate.js';

/** One categorical label of every datapoint. */
export interface LabelColumn {
  /** Column name, shown in charts and tables (e.g. `carry`, `place × carry`). */
  readonly name: string;
  /** The category of each datapoint, indexed by datapoint. */
  readonly values: readonly string[];
  /** Every category, in display order. */
  readonly categories: readonly string[];
  /**
   * The probe-metadata columns this one was made from (e.g. `['place', 'carry']`
   * for their cross), so a report that draws it need not draw them again.
   * Default: the column's own name.
   */
  readonly sources?: readonly string[];
}

function inferredCategories(values: readonly unknown[]): string[] {
  const distinct = [...new Set(values)];
  if (distinct.every((v) => typeof v === 'number')) return (distinct as number[]).sort((a, b) => a - b).map(String);
  if (distinct.every((v) => typeof v === 'boolean')) return (distinct as boolean[]).sort((a, b) => Number(a) - Number(b)).map(String);
  return distinct.map(String);
}

/**
 * A label column from one value per datapoint. Values are turned into
 * strings; `categories` gives the display order and must hold every value
 * (default: the distinct values, numbers and booleans sorted ascending, other
 * values in order of first appearance).
 *
 * @throws OptionError naming `labelColumn` for an empty name or a value outside `categories`.
 * @example
 * ```ts
 * labelColumn('carry', [true, false, true]).categories; // ['false', 'true']
 * labelColumn('place', ['10s', '1s'], ['1s', '10s', '100s']).values; // ['10s', '1s']
 * ```
 */
export function labelColumn(name: string, values: ArrayLike<unknown>, categories?: readonly string[]): LabelColumn {
  const fn = 'labelColumn';
  if (typeof name !== 'string' || name.length === 0) fail(fn, 'name', 'a non-empty string', name);
  const raw = Array.from(values);
  const cats = categories ? [...categories] : inferredCategories(raw);
  const known = new Set(cats);
  const strings = raw.map((v, x) => {
    const s = String(v);
    if (!known.has(s)) fail(fn, `values[${x}]`, `one of the categories of '${name}' (${cats.join(', ')})`, v);
    return s;
  });
  return { name, values: strings, categories: cats };
}

/**
 * The cross of several label columns over the same datapoints: each datapoint
 * gets the categories of every column joined by `separator`, and the
 * categories are every combination, the first column varying slowest.
 *
 * @throws OptionError naming `crossLabels` when the columns differ in length or there are none.
 * @example
 * ```ts
 * const place = labelColumn('place', ['1s', '10s'], ['1s', '10s']);
 * const carry = labelColumn('carry', ['no carry', 'carry'], ['no carry', 'carry']);
 * crossLabels('place × carry', [place, carry]).values; // ['1s no carry', '10s carry']
 * ```
 */
export function crossLabels(name: string, columns: readonly LabelColumn[], separator = ' '): LabelColumn {
  const fn = 'crossLabels';
  if (columns.length === 0) fail(fn, 'columns', 'at least one label column', columns);
  const n = columns[0].values.length;
  for (const c of columns) if (c.values.length !== n) fail(fn, `columns '${c.name}'`, `${n} values (as '${columns[0].name}')`, `${c.values.length} values`);
  let categories: string[] = [''];
  columns.forEach((c, k) => (categories = categories.flatMap((prefix) => c.categories.map((cat) => (k === 0 ? cat : `${prefix}${separator}${cat}`)))));
  const values = Array.from({ length: n }, (_, x) => columns.map((c) => c.values[x]).join(separator));
  return { name, values, categories, sources: columns.flatMap((c) => c.sources ?? [c.name]) };
}

/**
 * Member counts of every cluster by the categories of one label column (the
 * bars of a composition chart): one row per cluster and category it holds.
 *
 * @example
 * ```ts
 * const carry = labelColumn('carry', [true, true, false]);
 * composition(carry, [{ id: 0, label: 'c0', members: [0, 2] }]);
 * // { column: 'carry', categories: ['false', 'true'], rows: [{ cluster: 'c0', clusterId: 0, category: 'false', count: 1 }, { …, category: 'true', count: 1 }] }
 * ```
 */
export function composition(
  column: LabelColumn,
  clusters: readonly { id: number; label: string; members: ArrayLike<number> }[],
): Composition {
  const rows: Composition['rows'] = [];
  for (const c of clusters) {
    const counts = new Map<string, number>(column.categories.map((k) => [k, 0]));
    for (let k = 0; k < c.members.length; k++) {
      const v = column.values[c.members[k]];
      counts.set(v, (counts.get(v) ?? 0) + 1);
    }
    for (const [category, count] of counts) if (count > 0) rows.push({ cluster: c.label, clusterId: c.id, category, count });
  }
  return { column: column.name, categories: [...column.categories], rows };
}

/** Member counts of every cluster by the categories of one label column. */
export interface Composition {
  /** Column name, e.g. `place × carry`. */
  column: string;
  categories: string[];
  rows: { cluster: string; clusterId: number; category: string; count: number }[];
}
