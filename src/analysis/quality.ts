/**
 * Cluster quality on the 3-digit addition task (METHOD.md §5): composition by
 * digit place and carry, carry homogeneity, recall, F1, and the paper's
 * table "trajectory kind × top-3 carry homogeneity × fraction of clusters
 * with hidden breakthroughs".
 *
 * @packageDocumentation
 */
import type { ClustersEvent, TrajectoryKind } from '../stream/events.js';
import { hasBreakWindow, hidden, type DeltaOptions } from './breakthrough.js';
import type { TrajectoryMatrix } from './trajectoryMatrix.js';

/**
 * Names of the digit places, indexed by power of ten (as in `examples/arithmetic`).
 *
 * @example
 * ```ts
 * PLACES[q.composition.findIndex(([, c]) => c > 0)]; // first place holding carry members
 * ```
 */
export const PLACES: readonly string[] = ['1s', '10s', '100s', '1000s'];

/** Labels of every datapoint (output token) of the arithmetic probe. */
export interface ArithmeticLabels {
  /** Digit place as a power of ten: 0 = 1s, 1 = 10s, 2 = 100s, 3 = 1000s. */
  place: ArrayLike<number>;
  /** Whether the lower places carry into this digit (true / 1). */
  carry: ArrayLike<number | boolean>;
}

/** Quality of one cluster. */
export interface ClusterQuality {
  basisId: number;
  clusterId: number;
  size: number;
  /** Member counts by place (index = power of ten) and carry: `composition[place] = [noCarry, carry]`. */
  composition: [number, number][];
  /** Members labelled carry. */
  carryCount: number;
  /** Carry homogeneity: carryCount / size. */
  homogeneity: number;
  /** Fraction of the carry members whose place is 10s or 100s (NaN when there are none). */
  carryTensHundreds: number;
  /** Whether the cluster counts for the table: over 85% of its carry members are in the 10s or 100s place. */
  eligible: boolean;
  /** Carry recall: carryCount / number of carry datapoints in the probe set. */
  recall: number;
  /** Harmonic mean of homogeneity (precision for the carry label) and recall; 0 when both are 0. */
  f1: number;
}

function validateLabels(labels: ArithmeticLabels, fn: string): number {
  const n = labels.place.length;
  if (labels.carry.length !== n) {
    throw new RangeError(`${fn}: labels.place has ${n} entries but labels.carry has ${labels.carry.length}`);
  }
  for (let i = 0; i < n; i++) {
    const p = labels.place[i];
    if (!(p === 0 || p === 1 || p === 2 || p === 3)) throw new RangeError(`${fn}: labels.place[${i}] must be 0, 1, 2 or 3, got ${p}`);
  }
  return n;
}

function totalCarry(labels: ArithmeticLabels): number {
  let c = 0;
  for (let i = 0; i < labels.carry.length; i++) if (labels.carry[i]) c++;
  return c;
}

/**
 * Quality of one cluster given the labels of every datapoint.
 *
 * @param members - datapoint indices of the cluster (outliers never belong to one).
 * @param carryTotal - carry datapoints in the probe set (computed from `labels` when omitted).
 *
 * @example
 * ```ts
 * const q = clusterQuality([0, 1, 2], { place: [1, 1, 2], carry: [1, 1, 0] });
 * q.homogeneity; // 2/3
 * ```
 */
export function clusterQuality(
  members: ArrayLike<number>,
  labels: ArithmeticLabels,
  ids: { basisId?: number; clusterId?: number } = {},
  carryTotal?: number,
): ClusterQuality {
  const fn = 'clusterQuality';
  const n = validateLabels(labels, fn);
  const composition: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  for (let k = 0; k < members.length; k++) {
    const x = members[k];
    if (!Number.isInteger(x) || x < 0 || x >= n) throw new RangeError(`${fn}: member ${x} is not a datapoint index in [0, ${n})`);
    composition[labels.place[x]][labels.carry[x] ? 1 : 0]++;
  }
  const size = members.length;
  const carryCount = composition.reduce((s, c) => s + c[1], 0);
  const tensHundreds = composition[1][1] + composition[2][1];
  const homogeneity = size === 0 ? NaN : carryCount / size;
  const carryTensHundreds = carryCount === 0 ? NaN : tensHundreds / carryCount;
  const total = carryTotal ?? totalCarry(labels);
  const recall = total === 0 ? NaN : carryCount / total;
  const f1 = homogeneity + recall > 0 ? (2 * homogeneity * recall) / (homogeneity + recall) : 0;
  return {
    basisId: ids.basisId ?? -1,
    clusterId: ids.clusterId ?? -1,
    size,
    composition,
    carryCount,
    homogeneity,
    carryTensHundreds,
    eligible: carryTensHundreds > 0.85,
    recall,
    f1,
  };
}

/**
 * Quality of every cluster of several `clusters` events (for example one per
 * basis vector).
 *
 * @example
 * ```ts
 * const qs = evaluateClusters(results.map((r) => r.event), labels);
 * ```
 */
export function evaluateClusters(events: readonly ClustersEvent[], labels: ArithmeticLabels): ClusterQuality[] {
  const total = totalCarry(labels);
  const out: ClusterQuality[] = [];
  for (const e of events) for (const c of e.clusters) out.push(clusterQuality(c.members, labels, { basisId: e.basisId, clusterId: c.id }, total));
  return out;
}

/**
 * The top `k` eligible clusters (over 85% of their carry members in the 10s or
 * 100s place) over all basis vectors, by carry homogeneity (ties: higher F1,
 * then lower basis id, then lower cluster id).
 *
 * @example
 * ```ts
 * topCarryClusters(evaluateClusters(events, labels)).map((q) => q.homogeneity); // e.g. [0.97, 0.95, 0.90]
 * ```
 */
export function topCarryClusters(qualities: readonly ClusterQuality[], k = 3): ClusterQuality[] {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`topCarryClusters: k must be a positive integer, got ${k}`);
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
 * The paper's comparison table: for each trajectory kind, the carry
 * homogeneity of the top three eligible clusters over all basis vectors, and
 * the fraction of all its clusters (eligible or not, outliers never count)
 * that have a hidden breakthrough by eq. (7), the break times being taken on
 * the clustered trajectories themselves at the steps of the `clusters` event.
 *
 * @example
 * ```ts
 * const clusterings = clusterAllBasisVectors(builder, 'polca'); // BasisClustering has event and trajectories
 * const rows = qualityTable([{ kind: 'polca', clusterings }], labels, { delta: 100, tau: 1000 });
 * formatQualityTable(rows);
 * ```
 */
export function qualityTable(kinds: readonly KindClusterings[], labels: ArithmeticLabels, options: QualityTableOptions): QualityRow[] {
  const k = options.k ?? 3;
  return kinds.map(({ kind, clusterings }) => {
    const qualities = evaluateClusters(
      clusterings.map((c) => c.event),
      labels,
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
    const top = topCarryClusters(qualities, k);
    return {
      kind,
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
 * METHOD.md §5 (three decimals).
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
  const lines = [`| trajectories | max carry homogeneity (top ${k}) | clusters with hidden breakthroughs |`, '|---|---|---|'];
  for (const r of rows) {
    const h = r.topHomogeneity.length === 0 ? '-' : r.topHomogeneity.map((v) => v.toFixed(3)).join(' / ');
    const f = Number.isNaN(r.hiddenFraction) ? '-' : r.hiddenFraction.toFixed(3);
    lines.push(`| ${r.kind} | ${h} | ${f} |`);
  }
  return lines.join('\n');
}
