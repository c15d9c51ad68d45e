/**
 * Part-of-speech labels for clusters of text tokens (METHOD.md §5, English),
 * the English task's side of cluster evaluation:
 * per position (the three predecessors and the target token), the smallest
 * set of tags that covers 70% of the cluster, plus the contexts nearest the
 * cluster medoid.
 *
 * @packageDocumentation
 */
import { nearestToMedoid, type TrajectoryMatrix } from '../../src/analysis/index.js';
import type { ClusterSummary } from '../../src/index.js';

/** Options of {@link posLabel}. */
export interface PosLabelOptions {
  /** Fraction of the members a position's tag set must cover. Default 0.7. */
  coverage?: number;
  /** A position needing more tags than this gets no label (`*`). Default 2. */
  maxTags?: number;
}

/** The label of one cluster. */
export interface PosLabel {
  /**
   * Per position (oldest predecessor first, the target token last): the
   * smallest covering tag set, most frequent first, or `null` when it needs
   * more than `maxTags` tags.
   */
  positions: (string[] | null)[];
  /** Fraction of the members each position's tag set covers (of the full set when null). */
  covered: number[];
  /**
   * Positions joined by spaces, tags of one position by `/`, `*` for a
   * dropped position — e.g. `"* ADP DET NOUN/PROPN"`; `undefined` when every
   * position was dropped (the cluster gets no label).
   */
  text: string | undefined;
}

/**
 * Smallest set of values covering at least `coverage` of `values`: the most
 * frequent values taken in order (ties: alphabetical), which is minimal
 * because any k values cover at most the k largest counts.
 *
 * @example
 * ```ts
 * smallestCover(['NOUN', 'NOUN', 'VERB', 'ADJ'], 0.7); // { tags: ['NOUN', 'ADJ'], covered: 0.75 }
 * ```
 */
export function smallestCover(values: readonly string[], coverage: number): { tags: string[]; covered: number } {
  if (!(coverage > 0 && coverage <= 1)) throw new RangeError(`smallestCover: coverage must be in (0, 1], got ${coverage}`);
  if (values.length === 0) return { tags: [], covered: NaN };
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const order = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const need = coverage * values.length - 1e-9 * values.length;
  const tags: string[] = [];
  let sum = 0;
  for (const [tag, c] of order) {
    tags.push(tag);
    sum += c;
    if (sum >= need) break;
  }
  return { tags, covered: sum / values.length };
}

/**
 * POS label of a cluster. `tags[x]` holds the gold tags of datapoint x's
 * context, oldest predecessor first and the target token last (the paper
 * uses three predecessors and the target: 4 positions; missing predecessors
 * at a document start can be given as any placeholder string, which then
 * counts as a tag). Positions that need more than `maxTags` tags to cover
 * `coverage` of the members are dropped (shown as `*`); a cluster with every
 * position dropped has no label.
 *
 * @example
 * ```ts
 * posLabel([0, 1, 2], [['DET', 'NOUN'], ['DET', 'NOUN'], ['DET', 'VERB']]).text; // "DET NOUN"
 * ```
 */
export function posLabel(members: ArrayLike<number>, tags: readonly (readonly string[])[], options: PosLabelOptions = {}): PosLabel {
  const fn = 'posLabel';
  const coverage = options.coverage ?? 0.7;
  const maxTags = options.maxTags ?? 2;
  if (!(coverage > 0 && coverage <= 1)) throw new RangeError(`${fn}: options.coverage must be in (0, 1], got ${coverage}`);
  if (!Number.isInteger(maxTags) || maxTags < 1) throw new RangeError(`${fn}: options.maxTags must be a positive integer, got ${maxTags}`);
  if (members.length === 0) throw new RangeError(`${fn}: members is empty`);
  let width = -1;
  for (let k = 0; k < members.length; k++) {
    const x = members[k];
    const row = tags[x];
    if (row === undefined) throw new RangeError(`${fn}: member ${x} has no tags (tags has ${tags.length} rows)`);
    if (width === -1) width = row.length;
    else if (row.length !== width) throw new RangeError(`${fn}: tags[${x}] has ${row.length} positions, expected ${width}`);
  }
  const positions: (string[] | null)[] = [];
  const covered: number[] = [];
  for (let p = 0; p < width; p++) {
    const column = Array.from({ length: members.length }, (_, k) => tags[members[k]][p]);
    const c = smallestCover(column, coverage);
    positions.push(c.tags.length > maxTags ? null : c.tags);
    covered.push(c.covered);
  }
  const text = positions.every((p) => p === null) ? undefined : positions.map((p) => (p === null ? '*' : p.join('/'))).join(' ');
  return { positions, covered, text };
}

/** A labelled cluster, as shown in the paper's English tables. */
export interface LabelledCluster {
  clusterId: number;
  label: PosLabel;
  /** The datapoints nearest the medoid, and their contexts when given. */
  nearest: number[];
  contexts?: string[];
}

/**
 * Labels a cluster: its POS label and the ten contexts nearest its medoid.
 *
 * @param contexts - optional text of every datapoint's context (for display).
 *
 * @example
 * ```ts
 * const l = labelCluster(event.clusters[0], builder.matrix('polca', 3)!, tags, contexts);
 * l.label.text; l.contexts;
 * ```
 */
export function labelCluster(
  cluster: ClusterSummary,
  trajectories: TrajectoryMatrix,
  tags: readonly (readonly string[])[],
  contexts?: readonly string[],
  options: PosLabelOptions & { nearest?: number } = {},
): LabelledCluster {
  const nearest = nearestToMedoid(trajectories, cluster.members, cluster.medoid, options.nearest ?? 10);
  const out: LabelledCluster = { clusterId: cluster.id, label: posLabel(cluster.members, tags, options), nearest };
  if (contexts) out.contexts = nearest.map((x) => contexts[x]);
  return out;
}
