/**
 * Cluster quality with respect to a label (METHOD.md §5, in general form):
 * how homogeneous each cluster is in one category of a label column, its
 * recall and F1, and the paper's table "trajectory kind × top-3 homogeneity ×
 * fraction of clusters with hidden breakthroughs". The task says which
 * category matters and which clusters count (for 3-digit addition: carry,
 * and clusters whose carry members sit in the 10s or 100s place; see
 * `examples/arithmetic`).
 *
 * @packageDocumentation
 */
import { fail, positiveInt } from '../errors/validate.js';
import type { ClustersEvent, TrajectoryKind } from '../stream/events.js';
import { hasBreakWindow, hidden, type DeltaOptions } from './breakthrough.js';
import type { LabelColumn } from './labels.js';
import { stratifiedCounts, stratifiedExpectation, stratifiedTail } from './stratifiedChance.js';
import type { TrajectoryMatrix } from './trajectoryMatrix.js';

/** What a cluster should be homogeneous in: one category of one label column. */
export interface QualityTarget {
  /** The label column. */
  column: LabelColumn;
  /** The category of interest; a cluster's homogeneity is the share of its members in it. */
  category: string;
  /** Name in table headers ("max carry homogeneity"). Default `<column>=<category>`. */
  name?: string;
  /** One sentence for readers of a report: what is measured and which clusters count. */
  description?: string;
  /**
   * Which clusters the table ranks (for example: those whose target members
   * mostly fall in some category of another column). Gets the cluster's
   * members. Default: every cluster.
   */
  eligible?: (members: ArrayLike<number>) => boolean;
  /**
   * A label the category's base rate depends on (for carry on addition: the
   * digit place, since the share of carries differs by place). With it, each
   * cluster also gets the homogeneity its make-up in this label alone
   * explains ({@link ClusterQuality.expected}) and the chance of its count
   * ({@link ClusterQuality.chance}), so that a cluster that is merely pure in
   * this label is not read as one that found the category.
   */
  stratum?: LabelColumn;
}

/** Quality of one cluster with respect to a {@link QualityTarget}. */
export interface ClusterQuality {
  basisId: number;
  clusterId: number;
  size: number;
  /** Members in the target category. */
  count: number;
  /** count / size (NaN for an empty cluster). */
  homogeneity: number;
  /** count / datapoints in the target category (NaN when there are none). */
  recall: number;
  /** Harmonic mean of homogeneity (precision for the target) and recall; 0 when both are 0. */
  f1: number;
  /** Whether the target's `eligible` admits the cluster (true without one). */
  eligible: boolean;
  /**
   * The homogeneity a cluster with the same make-up in the target's
   * `stratum` would have if its members were picked at random within each
   * stratum (NaN without a stratum).
   */
  expected: number;
  /**
   * P(count ≥ this cluster's) for such a cluster: exact, as a sum of
   * hypergeometric counts, one per stratum (NaN without a stratum). A small
   * value says the cluster holds the category beyond what its strata explain.
   */
  chance: number;
}

/** The display name of a target. */
export function targetName(target: QualityTarget): string {
  return target.name ?? `${target.column.name}=${target.category}`;
}

function checkTarget(target: QualityTarget, fn: string): void {
  if (!target.column.categories.includes(target.category)) {
    fail(fn, 'target.category', `a category of '${target.column.name}' (${target.column.categories.join(', ')})`, target.category);
  }
  const s = target.stratum;
  if (s && s.values.length !== target.column.values.length) {
    fail(fn, 'target.stratum', `a label of the same ${target.column.values.length} datapoints as '${target.column.name}'`, `'${s.name}' with ${s.values.length} values`);
  }
}

/** Datapoints in the target category. */
export function targetTotal(target: QualityTarget): number {
  let c = 0;
  for (const v of target.column.values) if (v === target.category) c++;
  return c;
}

/**
 * Quality of one cluster with respect to `target`.
 *
 * @param members - datapoint indices of the cluster (outliers never belong to one).
 * @param total - datapoints in the target category (computed when omitted).
 * @throws RangeError naming `clusterQuality` for a member that is not a datapoint index; OptionError for a category the column lacks.
 * @example
 * ```ts
 * const carry = labelColumn('carry', [true, true, false, true]);
 * const q = clusterQuality([0, 1, 2], { column: carry, category: 'true' });
 * [q.homogeneity, q.recall]; // [2/3, 2/3]
 * ```
 */
export function clusterQuality(
  members: ArrayLike<number>,
  target: QualityTarget,
  ids: { basisId?: number; clusterId?: number } = {},
  total?: number,
): ClusterQuality {
  const fn = 'clusterQuality';
  checkTarget(target, fn);
  const { values } = target.column;
  const n = values.length;
  let count = 0;
  for (let k = 0; k < members.length; k++) {
    const x = members[k];
    if (!Number.isInteger(x) || x < 0 || x >= n) throw new RangeError(`${fn}: member ${x} is not a datapoint index in [0, ${n})`);
    if (values[x] === target.category) count++;
  }
  const size = members.length;
  const homogeneity = size === 0 ? NaN : count / size;
  const t = total ?? targetTotal(target);
  const recall = t === 0 ? NaN : count / t;
  const f1 = homogeneity + recall > 0 ? (2 * homogeneity * recall) / (homogeneity + recall) : 0;
  let expected = NaN;
  let chance = NaN;
  if (target.stratum) {
    const counts = stratifiedCounts(members, Array.from(values, (v) => v === target.category), target.stratum.values);
    expected = stratifiedExpectation(counts);
    chance = stratifiedTail(counts);
  }
  return {
    basisId: ids.basisId ?? -1,
    clusterId: ids.clusterId ?? -1,
    size,
    count,
    homogeneity,
    recall,
    f1,
    eligible: target.eligible ? target.eligible(members) : true,
    expected,
    chance,
  };
}

/**
 * Quality of every cluster of several `clusters` events (for example one per
 * basis vector).
 *
 * @example
 * ```ts
 * const qs = evaluateClusters(results.map((r) => r.event), target);
 * ```
 */
export function evaluateClusters(events: readonly ClustersEvent[], target: QualityTarget): ClusterQuality[] {
  const total = targetTotal(target);
  const out: ClusterQuality[] = [];
  for (const e of events) for (const c of e.clusters) out.push(clusterQuality(c.members, target, { basisId: e.basisId, clusterId: c.id }, total));
  return out;
}

/**
 * The top `k` eligible clusters over all basis vectors, by homogeneity (ties:
 * higher F1, then lower basis id, then lower cluster id).
 *
 * @throws OptionError naming `topClusters` when `k` is not a positive integer.
 * @example
 * ```ts
 * topClusters(evaluateClusters(events, target)).map((q) => q.homogeneity); // e.g. [0.97, 0.95, 0.90]
 * ```
 */
export function topClusters(qualities: readonly ClusterQuality[], k = 3): ClusterQuality[] {
  positiveInt('topClusters', 'k', k);
  return qualities
    .filter((q) => q.eligible)
    .sort((a, b) => b.homogeneity - a.homogeneity || b.f1 - a.f1 || a.basisId - b.basisId || a.clusterId - b.clusterId)
    .slice(0, k);
}

/** The clusterings of one trajectory kind: one `clusters` event per basis vector, with its trajectories. */
export interface KindClusterings {
  kind: TrajectoryKind | string;
  clusterings: readonly { event: ClustersEvent; trajectories: TrajectoryMatrix }[];
}

/** One row of {@link qualityTable}. */
export interface QualityRow {
  kind: string;
  /** Name of the target (see {@link targetName}), for table headers. */
  target: string;
  /** Name of the target's stratum label, when it has one (see {@link QualityTarget.stratum}). */
  stratum?: string;
  /** Up to `k` eligible clusters by homogeneity. */
  top: ClusterQuality[];
  /** Their homogeneities. */
  topHomogeneity: number[];
  /** Clusters over all basis vectors, and those with a hidden breakthrough (eq. 7). */
  clusters: number;
  hiddenClusters: number;
  /**
   * Clusters whose trajectories are too short for a break point with window Δ
   * (online vectors found near the end): counted in `clusters`, never hidden.
   */
  undeterminedClusters: number;
  /** hiddenClusters / clusters (NaN with no clusters). */
  hiddenFraction: number;
}

/** Options of {@link qualityTable}. */
export interface QualityTableOptions extends DeltaOptions {
  /** Δ in steps for eq. (6) (paper: 100). */
  delta: number;
  /** τ in steps for eq. (7) (paper: 1000). */
  tau: number;
  /** How many top clusters to report. Default 3. */
  k?: number;
}

/**
 * The paper's comparison table for any label: for each trajectory kind, the
 * homogeneity of the top three eligible clusters over all basis vectors, and
 * the fraction of all its clusters (eligible or not, outliers never count)
 * that have a hidden breakthrough by eq. (7), the break times being taken on
 * the clustered trajectories themselves at the steps of the `clusters` event.
 *
 * @example
 * ```ts
 * const clusterings = clusterAllBasisVectors(builder, 'polca'); // BasisClustering has event and trajectories
 * const rows = qualityTable([{ kind: 'polca', clusterings }], target, { delta: 100, tau: 1000 });
 * formatQualityTable(rows);
 * ```
 */
export function qualityTable(kinds: readonly KindClusterings[], target: QualityTarget, options: QualityTableOptions): QualityRow[] {
  const k = options.k ?? 3;
  const name = targetName(target);
  return kinds.map(({ kind, clusterings }) => {
    const qualities = evaluateClusters(
      clusterings.map((c) => c.event),
      target,
    );
    let clusters = 0;
    let hiddenClusters = 0;
    let undeterminedClusters = 0;
    for (const { event, trajectories } of clusterings) {
      const T = event.steps.length;
      if (trajectories.length < T) {
        throw new RangeError(
          `qualityTable: the ${kind} trajectories of basis ${event.basisId} have ${trajectories.length} checkpoints but the clusters event has ${T}`,
        );
      }
      const breakable = hasBreakWindow(event.steps, options.delta, options);
      for (const c of event.clusters) {
        clusters++;
        if (!breakable) {
          undeterminedClusters++;
          continue;
        }
        const rows = Array.from(c.members, (x) => trajectories.row(x).subarray(0, T));
        if (hidden(rows, event.steps, options.delta, options.tau, options)) hiddenClusters++;
      }
    }
    const top = topClusters(qualities, k);
    return {
      kind,
      target: name,
      ...(target.stratum ? { stratum: target.stratum.name } : {}),
      top,
      topHomogeneity: top.map((q) => q.homogeneity),
      clusters,
      hiddenClusters,
      undeterminedClusters,
      hiddenFraction: clusters === 0 ? NaN : hiddenClusters / clusters,
    };
  });
}

/**
 * Formats {@link qualityTable} rows as a Markdown table in the layout of
 * METHOD.md §5 (three decimals), the header naming the rows' target.
 *
 * @example
 * ```ts
 * formatQualityTable(rows);
 * // | trajectories | max carry homogeneity (top 3) | clusters with hidden breakthroughs |
 * // |---|---|---|
 * // | polca | 0.973 / 0.946 / 0.903 | 0.355 |
 * ```
 */
export function formatQualityTable(rows: readonly QualityRow[]): string {
  const k = Math.max(3, ...rows.map((r) => r.top.length));
  const target = rows[0]?.target ?? 'target';
  const lines = [`| trajectories | max ${target} homogeneity (top ${k}) | clusters with hidden breakthroughs |`, '|---|---|---|'];
  for (const r of rows) {
    const h = r.topHomogeneity.length === 0 ? '-' : r.topHomogeneity.map((v) => v.toFixed(3)).join(' / ');
    const f = Number.isNaN(r.hiddenFraction) ? '-' : r.hiddenFraction.toFixed(3);
    lines.push(`| ${r.kind} | ${h} | ${f} |`);
  }
  return lines.join('\n');
}

/**
 * Formats the best eligible cluster of each {@link qualityTable} row against
 * what its make-up in the target's stratum explains: its homogeneity, the
 * homogeneity the stratum alone predicts, the difference, and the chance of
 * its count within the strata. Empty when the rows have no stratum.
 *
 * @example
 * ```ts
 * formatStratumTable(rows);
 * // | trajectories | best eligible cluster | carry homogeneity | explained by place | above it | chance |
 * // |---|---|---|---|---|---|
 * // | polca-first | vector 0, 406 members | 0.414 | 0.320 | +0.094 | 5.1e-8 |
 * ```
 */
export function formatStratumTable(rows: readonly QualityRow[]): string {
  const stratum = rows.find((r) => r.stratum !== undefined)?.stratum;
  if (stratum === undefined) return '';
  const target = rows[0].target;
  const lines = [`| trajectories | best eligible cluster | ${target} homogeneity | explained by ${stratum} | above it | chance |`, '|---|---|---|---|---|---|'];
  for (const r of rows) {
    const q = r.top[0];
    if (!q) {
      lines.push(`| ${r.kind} | none | - | - | - | - |`);
      continue;
    }
    const where = q.basisId >= 0 ? `vector ${q.basisId}, ` : '';
    const above = q.homogeneity - q.expected;
    lines.push(`| ${r.kind} | ${where}${q.size} members | ${q.homogeneity.toFixed(3)} | ${q.expected.toFixed(3)} | ${above >= 0 ? '+' : ''}${above.toFixed(3)} | ${formatChance(q.chance)} |`);
  }
  return lines.join('\n');
}

/** A probability in two significant digits, tiny ones in exponent form. */
export function formatChance(p: number): string {
  if (Number.isNaN(p)) return '-';
  return p < 1e-3 ? p.toExponential(1) : p.toPrecision(2);
}
