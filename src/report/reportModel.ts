/**
 * Everything the HTML report shows, computed from a run's events and probe
 * metadata: header, curves, per-basis-vector cluster bands and compositions,
 * break times, and the quality table. No drawing here (see `charts.ts`).
 *
 * @packageDocumentation
 */
import { checkpointSpacing, hasBreakWindow } from '../analysis/breakthrough.js';
import { clusterBreaks } from '../analysis/clusterBreaks.js';
import { clusterTrajectories, defaultClusterParams, type BasisClustering } from '../analysis/clusterProcedure.js';
import { formatQualityTable, qualityTable, PLACES, type ArithmeticLabels, type QualityRow } from '../analysis/quality.js';
import { TrajectoryBuilder } from '../analysis/trajectories.js';
import type { TrajectoryMatrix } from '../analysis/trajectoryMatrix.js';
import type { ProbeMetaColumn } from '../sinks/arrow/manifest.js';
import type { AlertEvent, BasisEvent, ClustersEvent, PolcaEvent, RunEndEvent, RunStartEvent, TrajectoryKind, TransitionEvent } from '../stream/events.js';
import { evenIndices } from './downsample.js';
import { memberBands, type BandPoint } from './memberBands.js';
import { arithmeticLabels, categoricalColumns } from './probeLabels.js';

/** Options of {@link reportModel} (and of `buildReport`). */
export interface ReportOptions {
  /** HDBSCAN min_cluster_size when clusters are computed. Default `defaultClusterParams(N).minClusterSize`. */
  minClusterSize?: number;
  /** HDBSCAN min_samples when clusters are computed. Default `defaultClusterParams(N).minSamples`. */
  minSamples?: number;
  /** HDBSCAN cluster selection when clusters are computed. Default `'eom'`. */
  selection?: 'eom' | 'leaf';
  /**
   * Recompute the POLCA clusters even when the run recorded `clusters`
   * events. Default false: the last recorded POLCA clustering of each basis
   * vector is shown.
   */
  recluster?: boolean;
  /** Points per curve at most (curves are sampled evenly, ends kept). Default 300. */
  maxPoints?: number;
  /**
   * Δ of eq. (6) in steps. Default: 1% of the checkpoints (the paper's 100
   * of 10,000 steps), at least one checkpoint spacing.
   */
  delta?: number;
  /**
   * τ of eq. (7) in steps. Default: the first checkpoint after which the mean
   * probe loss stays within 5% of its range of its final value (the step
   * "after which the exact aggregate loss is flat").
   */
  tau?: number;
  /**
   * Trajectory kinds of the quality table (arithmetic labels only). Default
   * every kind the run supports: loss, loss-change, fisher, lca (axis bases
   * only), polca-first, polca.
   */
  tableKinds?: readonly TrajectoryKind[];
  /** Composition charts per basis vector at most. Default 4. */
  maxCompositions?: number;
  /**
   * Called after each clustering (figures, then quality table) with how many
   * of the total are done, so a command line can show progress: at N = 5000
   * one HDBSCAN run takes seconds and the table runs one per basis vector
   * and kind.
   */
  onProgress?: (info: ReportProgress) => void;
}

/** Progress of {@link reportModel} (and of `buildReport`, which adds the `render` phase). */
export interface ReportProgress {
  phase: 'cluster' | 'table' | 'render';
  done: number;
  total: number;
}

/** One cluster of a panel. */
export interface ReportCluster {
  id: number;
  /** Legend label, e.g. `cluster 0 (n=41)`. */
  label: string;
  size: number;
  /** Datapoint indices of the members. */
  members: Int32Array;
  medoid: number;
  /** `probeMeta.text` (or `token`) of the medoid, when the run has one. */
  medoidText?: string;
  /** eq. (6) on the cluster's median projected-loss curve (NaN when there are too few checkpoints). */
  medianBreak: number;
  /** Mean of the members' break times (NaN when unavailable). */
  meanBreak: number;
  /** eq. (7) (false when unavailable). */
  hidden: boolean;
}

/** A band curve of one cluster, as plotted. */
export interface ClusterBand {
  cluster: string;
  points: BandPoint[];
}

/** Member counts of every cluster by the categories of one label column. */
export interface Composition {
  /** Column name, or `place × carry` for the arithmetic labels. */
  column: string;
  categories: string[];
  rows: { cluster: string; clusterId: number; category: string; count: number }[];
}

/** Everything shown for one basis vector with clusters. */
export interface BasisPanel {
  basisId: number;
  basis?: { kind: string; step: number; eigenvalue: number; residual: number };
  /** Whether the clusters were read from the run or computed for the report. */
  source: 'recorded' | 'computed';
  /** Last checkpoint step the clustering covered. */
  clusteredAt: number;
  /** Checkpoints the clustering covered. */
  clusteredCheckpoints: number;
  dropped: number;
  outliers: number;
  clusters: ReportCluster[];
  /** L_b(x, t) bands (kind `polca`) over every checkpoint of the vector, sampled to `maxPoints`. */
  projected: ClusterBand[];
  /** ℓ_x(θ_t) bands over every checkpoint of the run, sampled to `maxPoints`. */
  exact: ClusterBand[];
  compositions: Composition[];
}

/** The run header. */
export interface ReportHeader {
  config: Record<string, unknown>;
  numParams: number;
  numProbe: number;
  backend: string;
  hvpMode: string;
  hvpReason: string;
  versions: { polca: string; tfjs: string };
  model?: string;
  startTime: number;
  /** Run-end reason (`closed` / `error`) or `incomplete` when the run has no run-end event. */
  end: string;
  endError?: string;
  lastStep: number;
  checkpoints: number;
  basisVectors: number;
  /** Kinds of the basis vectors (from `basis` events), e.g. `['hessian']`. */
  basisKinds: string[];
  polcaIntervals: number;
  probeMetaColumns: string[];
}

/** What the report shows, before drawing. */
export interface ReportModel {
  header: ReportHeader;
  /** Training loss of `step` events (sampled). */
  trainingLoss: { step: number; loss: number }[];
  /** Mean probe loss of `checkpoint` events (sampled). */
  probeLoss: { step: number; meanLoss: number }[];
  /** Eigenvalue (Ritz value) of every basis vector at the step it was found. */
  eigenvalues: { basisId: number; step: number; eigenvalue: number; kind: string }[];
  /** Δ and τ used for break times, when they could be set. */
  breaks?: { delta: number; tau: number; tauSource: 'option' | 'mean probe loss' };
  /** Cluster parameters used when clusters were computed. */
  clusterParams: { minClusterSize: number; minSamples: number; selection: 'eom' | 'leaf' };
  panels: BasisPanel[];
  /** Breakthroughs recorded during the run (`transition` events), in order. */
  transitions: TransitionEvent[];
  /** Alerts recorded during the run (`alert` events), in order. */
  alerts: AlertEvent[];
  /** Basis vectors skipped as oscillatory (mean L_b rises). */
  oscillatory: number[];
  /** Basis vectors whose clustering found no cluster. */
  noClusters: number[];
  /** The paper's quality table (trajectory kinds), when the probe has arithmetic labels. */
  quality?: { rows: QualityRow[]; markdown: string };
  /** POLCA rows of this run and of the runs it is compared with (other bases), set by `buildReport`'s `compare`. */
  basisQuality?: { rows: QualityRow[]; markdown: string };
  /** Things the reader should know (defaults chosen, parts left out and why). */
  notes: string[];
}

const ALL_KINDS: readonly TrajectoryKind[] = ['loss', 'loss-change', 'fisher', 'lca', 'polca-first', 'polca'];

/** Δ = 1% of the checkpoints (at least one spacing), as a multiple of the spacing. */
function defaultDelta(steps: readonly number[]): number {
  const spacing = checkpointSpacing(steps, 'reportModel');
  const d = Math.max(1, Math.min(Math.floor((steps.length - 1) / 2), Math.round((steps.length - 1) / 100)));
  return d * spacing;
}

/** First step after which the curve stays within 5% of its range of its final value. */
function flatAfter(curve: readonly { step: number; meanLoss: number }[]): number {
  const finite = curve.filter((p) => Number.isFinite(p.meanLoss));
  if (finite.length === 0) return NaN;
  const last = finite[finite.length - 1].meanLoss;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of finite) {
    lo = Math.min(lo, p.meanLoss);
    hi = Math.max(hi, p.meanLoss);
  }
  const tol = 0.05 * (hi - lo);
  let k = finite.length - 1;
  while (k > 0 && Math.abs(finite[k - 1].meanLoss - last) <= tol) k--;
  return finite[k].step;
}

function sample<T>(items: readonly T[], max: number): T[] {
  return evenIndices(items.length, max).map((i) => items[i]);
}

function positive(fn: string, name: string, v: number | undefined, integer: boolean): void {
  if (v === undefined) return;
  if (!(Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`${fn}: options.${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
}

function compositionOf(
  column: string,
  clusters: readonly { id: number; label: string; members: Int32Array }[],
  values: readonly string[],
  categories: readonly string[],
): Composition {
  const rows: Composition['rows'] = [];
  for (const c of clusters) {
    const counts = new Map<string, number>(categories.map((k) => [k, 0]));
    for (const x of c.members) counts.set(values[x], (counts.get(values[x]) ?? 0) + 1);
    for (const [category, count] of counts) if (count > 0) rows.push({ cluster: c.label, clusterId: c.id, category, count });
  }
  return { column, categories: [...categories], rows };
}

/**
 * Computes what the report shows from a run's events (in order) and its probe
 * metadata. The figures use, per basis vector, the last recorded `clusters`
 * event of kind `polca`; when the run recorded none (or `recluster` is set)
 * the clusters are computed with the paper's procedure
 * (`clusterTrajectories`). The exact-loss bands, compositions and break times
 * are always computed here from the events, for the same members.
 *
 * @throws RangeError for a bad option, or a run without a `run-start` event.
 * @example
 * ```ts
 * const events = [...decodeEvents(await readRun('runs/arith'))];
 * const model = reportModel(events, run.manifest.probeMeta, { maxPoints: 200 });
 * model.panels[0].projected[0].points[0]; // { step, median, q25, q75, count }
 * ```
 */
export function reportModel(
  events: readonly PolcaEvent[],
  probeMeta: Record<string, ProbeMetaColumn> = {},
  options: ReportOptions = {},
): ReportModel {
  const fn = 'reportModel';
  positive(fn, 'minClusterSize', options.minClusterSize, true);
  positive(fn, 'minSamples', options.minSamples, true);
  positive(fn, 'delta', options.delta, false);
  positive(fn, 'maxCompositions', options.maxCompositions, true);
  if (options.tau !== undefined && !Number.isFinite(options.tau)) throw new RangeError(`${fn}: options.tau must be a finite step, got ${options.tau}`);
  const maxPoints = options.maxPoints ?? 300;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new RangeError(`${fn}: options.maxPoints must be an integer ≥ 2, got ${maxPoints}`);
  const selection = options.selection ?? 'eom';
  if (selection !== 'eom' && selection !== 'leaf') throw new RangeError(`${fn}: options.selection must be 'eom' or 'leaf', got ${JSON.stringify(selection)}`);
  for (const k of options.tableKinds ?? []) {
    if (!ALL_KINDS.includes(k)) throw new RangeError(`${fn}: options.tableKinds contains unknown kind ${JSON.stringify(k)}`);
  }

  const start = events.find((e): e is RunStartEvent => e.type === 'run-start');
  if (!start) throw new RangeError(`${fn}: the events hold no run-start event`);
  const n = start.numProbe;
  const notes: string[] = [];
  const labels = arithmeticLabels(probeMeta, n);
  const axisBasis = events.some((e) => e.type === 'basis' && e.kind === 'axis');
  const tableKinds = labels ? (options.tableKinds ?? ALL_KINDS.filter((k) => k !== 'lca' || axisBasis)) : [];
  const builder = new TrajectoryBuilder({ kinds: [...new Set<TrajectoryKind>(['loss', 'polca', ...tableKinds])] });

  const trainingLoss: { step: number; loss: number }[] = [];
  const probeLoss: { step: number; meanLoss: number }[] = [];
  const basis = new Map<number, BasisEvent>();
  const recorded = new Map<number, ClustersEvent>();
  let end: RunEndEvent | undefined;
  const transitions: TransitionEvent[] = [];
  const alerts: AlertEvent[] = [];
  let lastStep = -1;
  let checkpoints = 0;
  for (const e of events) {
    builder.push(e);
    if (e.type === 'step') {
      lastStep = Math.max(lastStep, e.step);
      if (e.loss !== undefined && Number.isFinite(e.loss)) trainingLoss.push({ step: e.step, loss: e.loss });
    } else if (e.type === 'checkpoint') {
      checkpoints++;
      lastStep = Math.max(lastStep, e.step);
      probeLoss.push({ step: e.step, meanLoss: e.meanLoss });
    } else if (e.type === 'basis') {
      basis.set(e.id, e);
    } else if (e.type === 'clusters' && e.kind === 'polca' && e.basisId >= 0) {
      recorded.set(e.basisId, e);
    } else if (e.type === 'transition') {
      transitions.push(e);
    } else if (e.type === 'alert') {
      alerts.push(e);
    } else if (e.type === 'run-end') {
      end = e;
    }
  }

  const defaults = defaultClusterParams(n);
  const clusterParams = {
    minClusterSize: options.minClusterSize ?? defaults.minClusterSize,
    minSamples: options.minSamples ?? defaults.minSamples,
    selection,
  };
  const procedure = { ...clusterParams, time: 0 };

  // Δ and τ for break times; a run with non-uniform or too few checkpoints gets none.
  const lossMatrix = builder.matrix('loss');
  let breaks: ReportModel['breaks'];
  try {
    const steps = lossMatrix?.steps ?? [];
    const delta = options.delta ?? defaultDelta(steps);
    const tau = options.tau ?? flatAfter(probeLoss);
    if (!Number.isFinite(tau)) throw new RangeError('the mean probe loss has no finite value to set τ from');
    breaks = { delta, tau, tauSource: options.tau === undefined ? 'mean probe loss' : 'option' };
  } catch (e) {
    notes.push(`Break times are not shown: ${(e as Error).message}.`);
  }

  // POLCA clusterings: the last recorded one per basis vector, or computed.
  const polcaIds = builder.basisIds('polca');
  const clusterings: BasisClustering[] = [];
  const sources = new Map<number, 'recorded' | 'computed'>();
  const progress = options.onProgress;
  for (const [done, id] of polcaIds.entries()) {
    if (done > 0) progress?.({ phase: 'cluster', done, total: polcaIds.length });
    const matrix = builder.matrix('polca', id)!;
    const rec = options.recluster ? undefined : recorded.get(id);
    if (rec) {
      const steps = matrix.steps;
      const matches = rec.steps.length <= steps.length && Array.from(rec.steps).every((s, t) => s === steps[t]);
      if (matches) {
        clusterings.push({ event: rec, labels: new Int32Array(0), oscillatory: false, trajectories: matrix });
        sources.set(id, 'recorded');
        continue;
      }
      notes.push(`The recorded clusters of basis vector ${id} cover steps that its POLCA trajectories do not; they were recomputed.`);
    }
    clusterings.push(clusterTrajectories(matrix, { ...procedure, kind: 'polca', basisId: id }));
    sources.set(id, 'computed');
  }
  if (polcaIds.length > 0) progress?.({ phase: 'cluster', done: polcaIds.length, total: polcaIds.length });
  if ([...sources.values()].includes('computed')) {
    notes.push(
      `Clusters computed for this report (the run recorded none${options.recluster ? ', or recluster was asked for' : ''}): ` +
        `HDBSCAN min_cluster_size ${clusterParams.minClusterSize}, min_samples ${clusterParams.minSamples}, selection ${selection}.`,
    );
  }

  const metaText = probeMeta.text ?? probeMeta.token;
  const textOf = (x: number): string | undefined => (Array.isArray(metaText) && metaText.length === n ? String(metaText[x]) : undefined);
  const cats = categoricalColumns(probeMeta, n).filter((c) => !(labels && (c.name === 'place' || c.name === 'carry')));
  const placeCarry = labels
    ? Array.from({ length: n }, (_, x) => `${PLACES[labels.place[x]]} ${labels.carry[x] ? 'carry' : 'no carry'}`)
    : undefined;
  const placeCarryCats = PLACES.flatMap((p) => [`${p} no carry`, `${p} carry`]);
  const maxCompositions = options.maxCompositions ?? 4;

  const oscillatory: number[] = [];
  const noClusters: number[] = [];
  const panels: BasisPanel[] = [];
  const lossCols = lossMatrix ? evenIndices(lossMatrix.length, maxPoints) : [];
  for (const c of clusterings) {
    const id = c.event.basisId;
    if (c.oscillatory) {
      oscillatory.push(id);
      continue;
    }
    if (c.event.clusters.length === 0) {
      noClusters.push(id);
      continue;
    }
    const matrix = c.trajectories;
    const T = c.event.steps.length;
    let br: ReturnType<typeof clusterBreaks> | undefined;
    // A vector found too late for a window of Δ on both sides: its clusters get no break times.
    if (breaks && hasBreakWindow(c.event.steps, breaks.delta, { round: true })) {
      br = clusterBreaks(c.event, matrix, { delta: breaks.delta, tau: breaks.tau, round: true });
    }
    const clusters: ReportCluster[] = c.event.clusters.map((k, j) => ({
      id: k.id,
      label: `cluster ${k.id} (n=${k.members.length})`,
      size: k.members.length,
      members: k.members,
      medoid: k.medoid,
      medoidText: textOf(k.medoid),
      medianBreak: br?.[j].median.step ?? NaN,
      meanBreak: br?.[j].meanBreak ?? NaN,
      hidden: br?.[j].hidden ?? false,
    }));
    const projCols = evenIndices(matrix.length, maxPoints);
    const withMembers = c.event.clusters.map((k, j) => ({ id: k.id, label: clusters[j].label, members: k.members }));
    const compositions: Composition[] = [];
    if (placeCarry) compositions.push(compositionOf('place × carry', withMembers, placeCarry, placeCarryCats));
    for (const col of cats) compositions.push(compositionOf(col.name, withMembers, col.values, col.categories));
    const b = basis.get(id);
    panels.push({
      basisId: id,
      basis: b && { kind: b.kind, step: b.step, eigenvalue: b.eigenvalue, residual: b.residual },
      source: sources.get(id)!,
      clusteredAt: c.event.step,
      clusteredCheckpoints: T,
      dropped: c.event.dropped,
      outliers: c.event.outliers,
      clusters,
      projected: withMembers.map((k) => ({ cluster: k.label, points: memberBands(matrix, k.members, projCols) })),
      exact: lossMatrix ? withMembers.map((k) => ({ cluster: k.label, points: memberBands(lossMatrix, k.members, lossCols) })) : [],
      compositions: compositions.slice(0, maxCompositions),
    });
  }
  if (polcaIds.length === 0) notes.push('The run has no POLCA intervals, so there are no projected losses to cluster.');

  let quality: ReportModel['quality'];
  if (!labels) {
    notes.push('The quality table needs arithmetic labels (probeMeta columns place and carry); this run has none.');
  } else if (!breaks) {
    notes.push('The quality table is not shown: break times (Δ, τ) could not be set.');
  } else {
    quality = qualityFor(builder, tableKinds, clusterings, labels, breaks, procedure, notes, progress);
  }

  return {
    header: {
      config: start.config,
      numParams: start.numParams,
      numProbe: n,
      backend: start.backend,
      hvpMode: start.hvpMode,
      hvpReason: start.hvpReason,
      versions: start.versions,
      model: start.model,
      startTime: start.time,
      end: end ? end.reason : 'incomplete',
      endError: end?.error,
      lastStep: end ? Math.max(end.step, lastStep) : lastStep,
      checkpoints,
      basisVectors: basis.size,
      basisKinds: [...new Set([...basis.values()].map((b) => b.kind))],
      polcaIntervals: builder.intervalCount,
      probeMetaColumns: Object.keys(probeMeta),
    },
    trainingLoss: sample(trainingLoss, maxPoints),
    probeLoss: sample(probeLoss, maxPoints),
    eigenvalues: [...basis.values()].filter((b) => Number.isFinite(b.eigenvalue)).map((b) => ({ basisId: b.id, step: b.step, eigenvalue: b.eigenvalue, kind: b.kind })),
    breaks,
    clusterParams,
    panels,
    transitions,
    alerts,
    oscillatory,
    noClusters,
    quality,
    notes,
  };
}

/** The quality table over `kinds`; POLCA rows reuse the figures' clusterings. */
function qualityFor(
  builder: TrajectoryBuilder,
  kinds: readonly TrajectoryKind[],
  polca: readonly BasisClustering[],
  labels: ArithmeticLabels,
  breaks: NonNullable<ReportModel['breaks']>,
  procedure: { minClusterSize: number; minSamples: number; selection: 'eom' | 'leaf'; time: number },
  notes: string[],
  progress: ReportOptions['onProgress'],
): ReportModel['quality'] {
  const lossSteps = builder.matrix('loss')?.steps ?? [];
  let spacing: number;
  try {
    spacing = checkpointSpacing(lossSteps, 'reportModel');
  } catch (e) {
    notes.push(`The quality table is not shown: ${(e as Error).message}.`);
    return undefined;
  }
  const d = Math.max(1, Math.round(breaks.delta / spacing));
  const minT = 2 * d + 1;
  const rows: QualityRow[] = [];
  const short = new Set<number>();
  const total = kinds.reduce((t, k) => t + (k === 'polca' ? 0 : builder.basisIds(k).length), 0);
  let done = 0;
  for (const kind of kinds) {
    let all: { event: ClustersEvent; trajectories: TrajectoryMatrix }[];
    if (kind === 'polca') all = [...polca];
    else {
      all = [];
      for (const id of builder.basisIds(kind)) {
        const m = builder.matrix(kind, id);
        if (m && m.length > 0) all.push(clusterTrajectories(m, { ...procedure, kind, basisId: id }));
        progress?.({ phase: 'table', done: ++done, total });
      }
    }
    // eq. (6) needs 2d+1 checkpoints: vectors found too late to have them are left out of the table.
    const usable = all.filter((c) => {
      const ok = c.event.steps.length >= minT;
      if (!ok) short.add(c.event.basisId);
      return ok;
    });
    rows.push(...qualityTable([{ kind, clusterings: usable }], labels, { delta: breaks.delta, tau: breaks.tau, round: true }));
  }
  if (short.size > 0) {
    notes.push(
      `Quality table: basis vectors ${[...short].filter((b) => b >= 0).sort((a, b) => a - b).join(', ') || '(none)'} have fewer than ` +
        `2d+1 = ${minT} checkpoints and are left out.`,
    );
  }
  return { rows, markdown: formatQualityTable(rows) };
}
