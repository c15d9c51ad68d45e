/**
 * How clusters are judged on 3-digit addition (METHOD.md §5): each output
 * token's digit place and carry, carry homogeneity counted only for clusters
 * whose carry members sit over 85% in the 10s or 100s place, and the place ×
 * carry composition the report draws. This is the task's side of polca's
 * generic label interface (`LabelColumn`, `QualityTarget`, `ReportLabels`).
 *
 * @packageDocumentation
 */
import {
  clusterQuality as labelQuality,
  crossLabels,
  labelColumn,
  qualityTable as labelQualityTable,
  topClusters,
  type ClusterQuality,
  type KindClusterings,
  type LabelColumn,
  type QualityRow,
  type QualityTableOptions,
  type QualityTarget,
} from '../../src/analysis/index.js';
import type { ProbeMetaColumn } from '../../src/sinks/arrow/index.js';
import type { ReportLabels } from '../../src/report/index.js';
import type { ClustersEvent } from '../../src/index.js';
import { PLACE_NAMES } from './data.js';

/** Labels of every datapoint (output token) of the arithmetic probe. */
export interface ArithmeticLabels {
  /** Digit place as a power of ten: 0 = 1s, 1 = 10s, 2 = 100s, 3 = 1000s. */
  place: ArrayLike<number>;
  /** Whether the lower places carry into this digit (true / 1). */
  carry: ArrayLike<number | boolean>;
}

/** Quality of one cluster on the addition task: the generic measures plus composition by place and carry. */
export interface CarryQuality extends ClusterQuality {
  /** Member counts by place (index = power of ten) and carry: `composition[place] = [noCarry, carry]`. */
  composition: [number, number][];
  /** Members labelled carry (the generic `count`). */
  carryCount: number;
  /** Fraction of the carry members whose place is 10s or 100s (NaN when there are none). */
  carryTensHundreds: number;
}

/** Share of the carry members above which a cluster counts for the table (METHOD.md §5). */
const TENS_HUNDREDS_SHARE = 0.85;

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

/** Counts of the members by place and carry, and the share of carry members in the 10s or 100s. */
function placeCarryCounts(members: ArrayLike<number>, labels: ArithmeticLabels): { composition: [number, number][]; carryTensHundreds: number } {
  const composition: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
    [0, 0],
  ];
  for (let k = 0; k < members.length; k++) {
    const x = members[k];
    composition[labels.place[x]][labels.carry[x] ? 1 : 0]++;
  }
  const carry = composition.reduce((s, c) => s + c[1], 0);
  return { composition, carryTensHundreds: carry === 0 ? NaN : (composition[1][1] + composition[2][1]) / carry };
}

/**
 * The digit place as a label column (`1s`…`1000s`).
 *
 * @example
 * ```ts
 * placeColumn({ place: [1, 0], carry: [1, 0] }).values; // ['10s', '1s']
 * ```
 */
export function placeColumn(labels: ArithmeticLabels): LabelColumn {
  return labelColumn('place', Array.from(labels.place, (p) => PLACE_NAMES[p]), PLACE_NAMES);
}

/**
 * Carry as a label column (`no carry` / `carry`).
 *
 * @example
 * ```ts
 * carryColumn({ place: [1, 0], carry: [1, 0] }).values; // ['carry', 'no carry']
 * ```
 */
export function carryColumn(labels: ArithmeticLabels): LabelColumn {
  return { ...labelColumn('carry', Array.from(labels.carry, (c) => (c ? 'carry' : 'no carry')), ['no carry', 'carry']), sources: ['carry'] };
}

/**
 * The place × carry column the report's composition charts use
 * (`1s no carry`, `1s carry`, `10s no carry`, …).
 *
 * @example
 * ```ts
 * placeCarryColumn({ place: [1], carry: [true] }).values; // ['10s carry']
 * ```
 */
export function placeCarryColumn(labels: ArithmeticLabels): LabelColumn {
  validateLabels(labels, 'placeCarryColumn');
  return crossLabels('place × carry', [placeColumn(labels), carryColumn(labels)]);
}

/**
 * The quality target of METHOD.md §5: carry homogeneity, counting only
 * clusters whose carry members are over 85% in the 10s or 100s place.
 *
 * @example
 * ```ts
 * const rows = qualityTable(kinds, carryTarget(labels), { delta: 100, tau: 1000 }); // from polca/analysis
 * ```
 */
export function carryTarget(labels: ArithmeticLabels): QualityTarget {
  validateLabels(labels, 'carryTarget');
  return {
    column: carryColumn(labels),
    category: 'carry',
    name: 'carry',
    description: 'Carry homogeneity of the top clusters whose carry members are over 85% in the 10s or 100s place, over all basis vectors',
    eligible: (members) => placeCarryCounts(members, labels).carryTensHundreds > TENS_HUNDREDS_SHARE,
    // Carries are 0 % of the 1s tokens and about half of the others: a cluster pure in place is far from pure noise.
    stratum: placeColumn(labels),
  };
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
): CarryQuality {
  validateLabels(labels, 'clusterQuality');
  const q = labelQuality(members, carryTarget(labels), ids, carryTotal);
  const { composition, carryTensHundreds } = placeCarryCounts(members, labels);
  return { ...q, composition, carryCount: q.count, carryTensHundreds };
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
export function evaluateClusters(events: readonly ClustersEvent[], labels: ArithmeticLabels): CarryQuality[] {
  let total = 0;
  for (let i = 0; i < labels.carry.length; i++) if (labels.carry[i]) total++;
  const out: CarryQuality[] = [];
  for (const e of events) for (const c of e.clusters) out.push(clusterQuality(c.members, labels, { basisId: e.basisId, clusterId: c.id }, total));
  return out;
}

/**
 * The most carry-homogeneous of `clusters` among the eligible ones (METHOD.md
 * §5: over 85% of their carry members in the 10s or 100s place), or
 * `undefined` when none is eligible.
 *
 * @example
 * ```ts
 * bestEligibleCluster(event.clusters, labels)?.homogeneity; // e.g. 0.435
 * ```
 */
export function bestEligibleCluster(clusters: readonly { members: ArrayLike<number> }[], labels: ArithmeticLabels): CarryQuality | undefined {
  let best: CarryQuality | undefined;
  for (const c of clusters) {
    const q = clusterQuality(c.members, labels);
    if (q.eligible && (best === undefined || q.homogeneity > best.homogeneity)) best = q;
  }
  return best;
}

/**
 * The top `k` eligible clusters over all basis vectors, by carry homogeneity
 * (ties: higher F1, then lower basis id, then lower cluster id).
 *
 * @example
 * ```ts
 * topCarryClusters(evaluateClusters(events, labels)).map((q) => q.homogeneity); // e.g. [0.97, 0.95, 0.90]
 * ```
 */
export function topCarryClusters(qualities: readonly CarryQuality[], k = 3): CarryQuality[] {
  return topClusters(qualities, k) as CarryQuality[];
}

/**
 * The paper's table (METHOD.md §5) for the addition task: polca's
 * `qualityTable` with the {@link carryTarget}.
 *
 * @example
 * ```ts
 * formatQualityTable(qualityTable([{ kind: 'polca', clusterings }], labels, { delta: 100, tau: 1000 }));
 * ```
 */
export function qualityTable(kinds: readonly KindClusterings[], labels: ArithmeticLabels, options: QualityTableOptions): QualityRow[] {
  return labelQualityTable(kinds, carryTarget(labels), options);
}

/**
 * The arithmetic labels `{ place, carry }` of a run's probe metadata, when its
 * `place` column holds digit places (`'1s'`…`'1000s'`, or powers of ten 0–3)
 * and its `carry` column holds booleans (or 0/1, or `'true'`/`'false'`);
 * `undefined` otherwise.
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
    const idx = typeof v === 'number' ? v : typeof v === 'string' ? PLACE_NAMES.indexOf(v) : -1;
    if (!(idx === 0 || idx === 1 || idx === 2 || idx === 3)) return undefined;
    p[i] = idx;
    const w: unknown = carry[i];
    if (w === true || w === 1 || w === 'true') c[i] = 1;
    else if (w === false || w === 0 || w === 'false') c[i] = 0;
    else return undefined;
  }
  return { place: p, carry: c };
}

/**
 * The arithmetic labels of a run directory's manifest; throws, naming
 * `owner`, when its probe metadata has no digit places and carries (a run
 * the demo did not record).
 */
export function runLabels(manifest: { probeMeta?: Record<string, ProbeMetaColumn>; numProbe: number }, owner: string): ArithmeticLabels {
  const labels = arithmeticLabels(manifest.probeMeta ?? {}, manifest.numProbe);
  if (!labels) throw new Error(`${owner}: the run's probe metadata has no 'place' and 'carry' columns of ${manifest.numProbe} digit places and carries (a run of the addition demo has them)`);
  return labels;
}

/**
 * The quality target of a run's probe metadata (see {@link arithmeticLabels}),
 * for `clustersCommand`'s `quality` option; `undefined` without place and carry.
 *
 * @example
 * ```ts
 * await clustersCommand('runs/arith', { quality: arithmeticTarget });
 * ```
 */
export function arithmeticTarget(probeMeta: Record<string, ProbeMetaColumn>, n: number): QualityTarget | undefined {
  const labels = arithmeticLabels(probeMeta, n);
  return labels && carryTarget(labels);
}

/**
 * What the report shows for an addition run: the place × carry composition
 * and the carry quality table; `undefined` when the probe metadata has no
 * place and carry columns. Pass it as the report's `labels` option.
 *
 * @example
 * ```ts
 * await reportCommand('runs/arith', { labels: arithmeticReportLabels });
 * ```
 */
export function arithmeticReportLabels(probeMeta: Record<string, ProbeMetaColumn>, n: number): ReportLabels | undefined {
  const labels = arithmeticLabels(probeMeta, n);
  return labels && { compositions: [placeCarryColumn(labels)], quality: carryTarget(labels) };
}

/**
 * The labels-module exports the command line reads:
 * `polca clusters|report <dir> --labels examples/arithmetic/evaluation.ts`.
 */
export const quality = arithmeticTarget;
/** See {@link quality}. */
export const reportLabels = arithmeticReportLabels;
