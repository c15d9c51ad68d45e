/**
 * Everything the HTML report shows, computed from a run's events and probe
 * metadata: header, curves, per-basis-vector cluster bands and compositions,
 * break times, and the quality table. No drawing here (see `charts.ts`).
 *
 * @packageDocumentation
 */
import { fail, oneOf, positiveInt, positiveNumber } from '../errors/validate.js';
import { checkpointSpacing, hasBreakWindow } from '../analysis/breakthrough.js';
import { defaultDeltaForSteps, flatAfter as flatAfterSteps } from '../analysis/breakParameters.js';
import { clusterBreaks } from '../analysis/clusterBreaks.js';
import { clusterTrajectories, defaultClusterParams, type BasisClustering } from '../analysis/clusterProcedure.js';
import { composition, type Composition, type LabelColumn } from '../analysis/labels.js';
import { formatQualityTable, qualityTable, type QualityRow, type QualityTarget } from '../analysis/quality.js';
import { TrajectoryBuilder } from '../analysis/trajectories.js';
import { TRAJECTORY_KINDS, isBasisFree } from '../stream/trajectoryKinds.js';
import type { TrajectoryMatrix } from '../analysis/trajectoryMatrix.js';
import type { ProbeMetaColumn } from '../sinks/arrow/manifest.js';
import type { AlertEvent, BasisEvent, ClustersEvent, PolcaEvent, RunEndEvent, RunStartEvent, TrajectoryKind, TransitionEvent } from '../stream/events.js';
import { evenIndices } from './downsample.js';
import { memberBands, type BandPoint } from './memberBands.js';
import { categoricalColumns } from './probeLabels.js';

export type { Composition } from '../analysis/labels.js';

/**
 * What a task tells the report about its datapoints: label columns to draw
 * compositions by, and the target of the quality table. Without a target the
 * report has no quality table; without compositions it draws every
 * categorical probe-metadata column.
 */
export interface ReportLabels {
  /**
   * Composition charts per panel, drawn first (e.g. a crossed place × carry
   * column). The categorical probe-metadata columns they were not made from
   * follow.
   */
  compositions?: readonly LabelColumn[];
  /** The quality table's target (homogeneity in one category of a label column). */
  quality?: QualityTarget;
}

/** Options of {@link reportModel} (and of `buildReport`). */
export interface ReportOptions {
  /** HDBSCAN min_cluster_size when clusters are computed. Default `defaultClusterParams(N).minClusterSize`. */
  minClusterSize?: number;
  /** HDBSCAN min_samples when clusters are computed. Default `defaultClusterParams(N).minSamples`. */
  minSamples?: number;
  /** HDBSCAN cluster selection when clusters are computed. Default `'eom'`. */
  selection?: 'eom' | 'leaf';
  /**
   * Recompute the clusters even when the run recorded `clusters` events.
   * Default false: the last recorded clustering of each kind and basis
   * vector is shown when it covers the run (live clustering records them).
   * `buildReport` sets it when HDBSCAN sizes other than the live ones are asked for.
   */
  recluster?: boolean;
  /**
   * Trajectory kinds drawn (a section of cluster figures per kind that has
   * clusters). Default every kind the run supports: polca, polca-first,
   * lca (axis bases only), fisher, loss, loss-change.
   */
  kinds?: readonly TrajectoryKind[];
  /** Points per curve at most (curves are sampled evenly, ends kept). Default 300. */
  maxPoints?: number;
  /**
   * Δ of eq. (6) in steps. Default 5 checkpoint intervals (the paper's 100
   * steps at 20-step checkpoints) — the rule the live detector and
   * `polca clusters` use; `buildReport` passes the run's live Δ when it
   * recorded one.
   */
  delta?: number;
  /**
   * τ of eq. (7) in steps. Default: the first checkpoint after which the mean
   * probe loss stays within 5% of its drop of its final value (the step
   * "after which the exact aggregate loss is flat"), as `polca clusters`.
   */
  tau?: number;
  /**
   * The task's labels: compositions to draw and the quality table's target,
   * or a function making them from the run's probe metadata and N (so runs
   * compared by `buildReport` get their own). Default: none, which draws the
   * categorical probe-metadata columns and no quality table.
   */
  labels?: ReportLabels | ((probeMeta: Record<string, ProbeMetaColumn>, numProbe: number) => ReportLabels | undefined);
  /**
   * Trajectory kinds of the quality table (with a quality target only). Default
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

/** Everything shown for one basis vector (or, for basis-free kinds, the run) with clusters. */
export interface BasisPanel {
  /** Trajectory kind clustered. */
  kind: TrajectoryKind;
  /** Basis vector id, −1 for the basis-free kinds (loss, loss-change). */
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
  /** Bands of the clustered trajectories (L_b(x, t) for `polca`) over every checkpoint of the vector, sampled to `maxPoints`. */
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
  /** POLCA panels, one per basis vector with clusters. */
  panels: BasisPanel[];
  /** Panels of the other trajectory kinds with clusters (`kinds`), in the order polca-first, lca, fisher, loss, loss-change. */
  kindPanels: BasisPanel[];
  /** Per kind drawn: vectors clustered, skipped as oscillatory, and without clusters. */
  kindSummaries: { kind: TrajectoryKind; panels: number; oscillatory: number[]; noClusters: number[] }[];
  /** Breakthroughs recorded during the run (`transition` events), in order. */
  transitions: TransitionEvent[];
  /** Alerts recorded during the run (`alert` events), in order. */
  alerts: AlertEvent[];
  /** Basis vectors skipped as oscillatory (mean L_b rises). */
  oscillatory: number[];
  /** Basis vectors whose clustering found no cluster. */
  noClusters: number[];
  /** The paper's quality table (trajectory kinds), when `labels` gave a quality target; `description` is the target's. */
  quality?: { rows: QualityRow[]; markdown: string; description?: string };
  /** POLCA rows of this run and of the runs it is compared with (other bases), set by `buildReport`'s `compare`. */
  basisQuality?: { rows: QualityRow[]; markdown: string };
  /** Things the reader should know (defaults chosen, parts left out and why). */
  notes: string[];
}

const ALL_KINDS: readonly TrajectoryKind[] = TRAJECTORY_KINDS;
/** Order of the figure sections: POLCA first, then its first-order part, LCA, Fisher, the exact-loss baselines. */
const FIGURE_ORDER: readonly TrajectoryKind[] = ['polca', 'polca-first', 'lca', 'fisher', 'loss', 'loss-change'];

function sample<T>(items: readonly T[], max: number): T[] {
  return evenIndices(items.length, max).map((i) => items[i]);
}

/**
 * Computes what the report shows from a run's events (in order) and its probe
 * metadata. The figures use, per basis vector, the last recorded `clusters`
 * event of kind `polca`; when the run recorded none (or `recluster` is set)
 * the clusters are computed with the paper's procedure
 * (`clusterTrajectories`). The exact-loss bands, compositions and break times
 * are always computed here from the events, for the same members.
 *
 * @throws OptionError for a bad option; RangeError for a run without a `run-start` event.
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
  if (options.minClusterSize !== undefined) positiveInt(fn, 'minClusterSize', options.minClusterSize);
  if (options.minSamples !== undefined) positiveInt(fn, 'minSamples', options.minSamples);
  if (options.delta !== undefined) positiveNumber(fn, 'delta', options.delta);
  if (options.maxCompositions !== undefined) positiveInt(fn, 'maxCompositions', options.maxCompositions);
  if (options.tau !== undefined && !Number.isFinite(options.tau)) fail(fn, 'tau', 'a finite step', options.tau);
  const maxPoints = positiveInt(fn, 'maxPoints', options.maxPoints ?? 300, 2);
  const selection = oneOf(fn, 'selection', options.selection ?? 'eom', ['eom', 'leaf'] as const);
  for (const k of options.tableKinds ?? []) oneOf(fn, 'tableKinds', k, ALL_KINDS);
  for (const k of options.kinds ?? []) oneOf(fn, 'kinds', k, ALL_KINDS);

  const start = events.find((e): e is RunStartEvent => e.type === 'run-start');
  if (!start) throw new RangeError(`${fn}: the events hold no run-start event`);
  const n = start.numProbe;
  const notes: string[] = [];
  const given = typeof options.labels === 'function' ? options.labels(probeMeta, n) : options.labels;
  const target = given?.quality;
  for (const c of [...(given?.compositions ?? []), ...(target ? [target.column] : [])]) {
    if (c.values.length !== n) throw new RangeError(`${fn}: options.labels column '${c.name}' has ${c.values.length} values but the run has ${n} probe datapoints`);
  }
  const axisBasis = events.some((e) => e.type === 'basis' && e.kind === 'axis');
  const supported = ALL_KINDS.filter((k) => k !== 'lca' || axisBasis);
  const tableKinds = target ? (options.tableKinds ?? supported) : [];
  const figureKinds = FIGURE_ORDER.filter((k) => (options.kinds ?? supported).includes(k));
  const builder = new TrajectoryBuilder({ kinds: [...new Set<TrajectoryKind>(['loss', 'polca', ...tableKinds, ...figureKinds])] });

  const trainingLoss: { step: number; loss: number }[] = [];
  const probeLoss: { step: number; meanLoss: number }[] = [];
  const basis = new Map<number, BasisEvent>();
  /** Last recorded clustering per `${kind}:${basisId}`. */
  const recorded = new Map<string, ClustersEvent>();
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
    } else if (e.type === 'clusters') {
      recorded.set(`${e.kind}:${e.basisId}`, e);
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
    const delta = options.delta ?? defaultDeltaForSteps(steps);
    const tau = options.tau ?? flatAfterSteps(probeLoss.map((p) => p.step), probeLoss.map((p) => p.meanLoss));
    if (!Number.isFinite(tau)) throw new RangeError('the mean probe loss has no finite value to set τ from');
    breaks = { delta, tau, tauSource: options.tau === undefined ? 'mean probe loss' : 'option' };
  } catch (e) {
    notes.push(`Break times are not shown: ${(e as Error).message}.`);
  }

  // Clusterings of every kind drawn or tabled: the last recorded one (live clustering) when it covers the
  // trajectories and no HDBSCAN size was asked for, else computed with the paper's procedure.
  const recompute = options.recluster === true;
  const allKinds = [...new Set<TrajectoryKind>([...figureKinds, ...tableKinds])];
  const clusterings = new Map<TrajectoryKind, BasisClustering[]>();
  const sources = new Map<string, 'recorded' | 'computed'>();
  const progress = options.onProgress;
  const targets = allKinds.flatMap((kind) => builder.basisIds(kind).map((id) => ({ kind, id })));
  const stale: string[] = [];
  for (const [done, { kind, id }] of targets.entries()) {
    if (done > 0) progress?.({ phase: 'cluster', done, total: targets.length });
    const matrix = builder.matrix(kind, id);
    if (!matrix || matrix.length < 1) continue;
    let list = clusterings.get(kind);
    if (!list) clusterings.set(kind, (list = []));
    const key = `${kind}:${id}`;
    const rec = recompute ? undefined : recorded.get(key);
    if (rec) {
      const steps = matrix.steps;
      // The recorded clustering stands for the run when it covers every checkpoint of the trajectories.
      if (rec.steps.length === steps.length && Array.from(rec.steps).every((s, t) => s === steps[t])) {
        list.push({ event: rec, labels: new Int32Array(0), oscillatory: false, trajectories: matrix });
        sources.set(key, 'recorded');
        continue;
      }
      stale.push(isBasisFree(kind) ? kind : `${kind} b${id}`);
    }
    list.push(clusterTrajectories(matrix, { ...procedure, kind, basisId: id }));
    sources.set(key, 'computed');
  }
  if (targets.length > 0) progress?.({ phase: 'cluster', done: targets.length, total: targets.length });
  if (stale.length > 0) notes.push(`The recorded clusters of ${stale.join(', ')} do not cover every checkpoint of their trajectories; they were recomputed.`);
  if ([...sources.values()].includes('computed')) {
    notes.push(
      `Clusters computed for this report (${recompute ? 'recluster was asked for' : 'where the run recorded none covering its trajectories'}): ` +
        `HDBSCAN min_cluster_size ${clusterParams.minClusterSize}, min_samples ${clusterParams.minSamples}, selection ${selection}.`,
    );
  }

  const metaText = probeMeta.text ?? probeMeta.token;
  const textOf = (x: number): string | undefined => (Array.isArray(metaText) && metaText.length === n ? String(metaText[x]) : undefined);
  // The task's columns first, then the categorical probe-metadata columns they were not made from.
  const own = given?.compositions ?? [];
  const covered = new Set(own.flatMap((c) => c.sources ?? [c.name]));
  const compositionColumns = [...own, ...categoricalColumns(probeMeta, n).filter((c) => !covered.has(c.name))];
  const maxCompositions = options.maxCompositions ?? 4;

  const lossCols = lossMatrix ? evenIndices(lossMatrix.length, maxPoints) : [];
  const panelOf = (kind: TrajectoryKind, c: BasisClustering): BasisPanel => {
    const id = c.event.basisId;
    const matrix = c.trajectories;
    const T = c.event.steps.length;
    let br: ReturnType<typeof clusterBreaks> | undefined;
    // A vector found too late for a window of Δ on both sides: its clusters get no break times.
    if (breaks && T >= 2 && hasBreakWindow(c.event.steps, breaks.delta, { round: true })) {
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
    const compositions: Composition[] = compositionColumns.map((col) => composition(col, withMembers));
    const b = basis.get(id);
    return {
      kind,
      basisId: id,
      basis: b && { kind: b.kind, step: b.step, eigenvalue: b.eigenvalue, residual: b.residual },
      source: sources.get(`${kind}:${id}`)!,
      clusteredAt: c.event.step,
      clusteredCheckpoints: T,
      dropped: c.event.dropped,
      outliers: c.event.outliers,
      clusters,
      projected: withMembers.map((k) => ({ cluster: k.label, points: memberBands(matrix, k.members, projCols) })),
      // The exact-loss kind's own bands are already the exact loss.
      exact: lossMatrix && kind !== 'loss' ? withMembers.map((k) => ({ cluster: k.label, points: memberBands(lossMatrix, k.members, lossCols) })) : [],
      compositions: compositions.slice(0, maxCompositions),
    };
  };

  const panels: BasisPanel[] = [];
  const kindPanels: BasisPanel[] = [];
  const kindSummaries: ReportModel['kindSummaries'] = [];
  let oscillatory: number[] = [];
  let noClusters: number[] = [];
  for (const kind of figureKinds) {
    const summary = { kind, panels: 0, oscillatory: [] as number[], noClusters: [] as number[] };
    for (const c of clusterings.get(kind) ?? []) {
      if (c.oscillatory) summary.oscillatory.push(c.event.basisId);
      else if (c.event.clusters.length === 0) summary.noClusters.push(c.event.basisId);
      else {
        (kind === 'polca' ? panels : kindPanels).push(panelOf(kind, c));
        summary.panels++;
      }
    }
    kindSummaries.push(summary);
    if (kind === 'polca') ({ oscillatory, noClusters } = summary);
  }
  if (builder.basisIds('polca').length === 0) notes.push('The run has no POLCA intervals, so there are no projected losses to cluster.');

  let quality: ReportModel['quality'];
  if (!target) {
    notes.push(
      'The quality table needs a quality target in the labels option (for example the arithmetic labels of examples/arithmetic, ' +
        'from probeMeta columns place and carry); none was given for this run.',
    );
  } else if (!breaks) {
    notes.push('The quality table is not shown: break times (Δ, τ) could not be set.');
  } else {
    quality = qualityFor(builder, tableKinds, clusterings, target, breaks, notes);
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
    kindPanels,
    kindSummaries,
    transitions,
    alerts,
    oscillatory,
    noClusters,
    quality,
    notes,
  };
}

/** The quality table over `kinds`, from the clusterings the figures use. */
function qualityFor(
  builder: TrajectoryBuilder,
  kinds: readonly TrajectoryKind[],
  clusterings: ReadonlyMap<TrajectoryKind, readonly BasisClustering[]>,
  target: QualityTarget,
  breaks: NonNullable<ReportModel['breaks']>,
  notes: string[],
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
  for (const kind of kinds) {
    const all: { event: ClustersEvent; trajectories: TrajectoryMatrix }[] = [...(clusterings.get(kind) ?? [])].filter((c) => !c.oscillatory);
    // eq. (6) needs 2d+1 checkpoints: vectors found too late to have them are left out of the table.
    const usable = all.filter((c) => {
      const ok = c.event.steps.length >= minT;
      if (!ok) short.add(c.event.basisId);
      return ok;
    });
    rows.push(...qualityTable([{ kind, clusterings: usable }], target, { delta: breaks.delta, tau: breaks.tau, round: true }));
  }
  if (short.size > 0) {
    notes.push(
      `Quality table: basis vectors ${[...short].filter((b) => b >= 0).sort((a, b) => a - b).join(', ') || '(none)'} have fewer than ` +
        `2d+1 = ${minT} checkpoints and are left out.`,
    );
  }
  return { rows, markdown: formatQualityTable(rows), description: target.description };
}
