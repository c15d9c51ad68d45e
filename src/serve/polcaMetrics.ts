/**
 * Prometheus metrics of a polca run (prom-client).
 *
 * @packageDocumentation
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AlertRule, PolcaEvent, TrajectoryKind, TransitionEvent } from '../stream/events.js';
import { PROJECTED_LOSS_KINDS } from '../stream/trajectoryKinds.js';
import { positiveInt } from '../errors/validate.js';

/** Options of {@link createPolcaMetrics}. */
export interface PolcaMetricsOptions {
  /** Registry to register in; a new one by default. */
  registry?: Registry;
  /** The run's name, the `run` label of every series (prom-client default labels). Default `polca`. */
  run?: string;
  /** Most basis vectors with labelled series (eigenvalue, projections, clusters, transitions). Default 64. */
  maxBases?: number;
  /** Most clusters per (kind, basis vector) with series (the largest by member count; transitions: the first ones). Default 16. */
  maxClustersPerBasis?: number;
}

/** One cluster's summary for the per-cluster series. */
export interface ClusterMetric {
  id: number;
  /** Members. */
  size: number;
  /** Median over the members of the projected loss L_b(x, t) at the last checkpoint (projected kinds only). */
  projectedMedian?: number;
  /** Median over the members of the exact loss at the last checkpoint. */
  lossMedian?: number;
}

/** The metrics of one run and the functions that feed them. */
export interface PolcaMetrics {
  readonly registry: Registry;
  /** Updates the metrics from one event. */
  observe(event: PolcaEvent): void;
  /** Replaces the per-cluster series of one (kind, basis vector) clustering. */
  setClusters(kind: TrajectoryKind, basisId: number, clusters: readonly ClusterMetric[]): void;
  /**
   * Sets the per-vector summary: the mean of L_b(x, t) at the last checkpoint
   * over the datapoints kept by the paper's filter (finite, L_b ≤ 0), and how
   * many they are.
   */
  setBasisSummary(basisId: number, projectedLossMean: number, kept: number): void;
  /** Where the clustering counters read the live clustering's seconds and rounds from, at each scrape. */
  watchClustering(stats: () => { seconds: number; rounds: number } | undefined): void;
  /** Serving-side metrics, fed by the gRPC server. */
  readonly serve: {
    subscribers: Gauge;
    lostEvents: Counter;
    ingestErrors: Counter;
  };
}

const ALERT_RULES: AlertRule[] = ['loss-spike', 'loss-stalled', 'non-finite', 'sink-failed'];
const PROJECTED: ReadonlySet<TrajectoryKind> = new Set(PROJECTED_LOSS_KINDS);

type Labels = Record<string, string>;

/**
 * A counter whose series first appear at 0: a series incremented before any
 * scrape has seen it is exposed at 0 by the next scrape and gets its
 * increments from the scrape after. Prometheus's `increase()` and `rate()`
 * need two samples of a series, so a counter born at 1 would never show its
 * first increment (the transition that created the series would be missed by
 * an alert on `increase(…) > 0`).
 */
class ZeroFirstCounter {
  private readonly series = new Map<string, { labels: Labels; shown: boolean; pending: number }>();
  constructor(readonly counter: Counter) {}

  inc(labels: Labels, by = 1): void {
    const key = JSON.stringify(Object.entries(labels).sort());
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, shown: false, pending: 0 }));
    if (s.shown) this.counter.inc(labels, by);
    else s.pending += by;
  }

  /** Called at every scrape, before the values are read. */
  collect(): void {
    for (const s of this.series.values()) {
      if (!s.shown) {
        this.counter.inc(s.labels, 0);
        s.shown = true;
      } else if (s.pending > 0) {
        this.counter.inc(s.labels, s.pending);
        s.pending = 0;
      }
    }
  }
}

/**
 * Creates the polca metrics. Names follow the Prometheus conventions: the
 * `polca_` prefix, base units in the name (`_seconds`), `_total` on counters.
 * Every series carries the label `run` (the run's name), so that one
 * Prometheus can scrape several runs.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `polca_training_loss` | gauge | |
 * | `polca_training_step` | gauge | |
 * | `polca_training_learning_rate` | gauge | |
 * | `polca_last_step_timestamp_seconds` | gauge (event time of the last step) | |
 * | `polca_run_active` | gauge (1 between run start and run end) | |
 * | `polca_checkpoint_step` | gauge | |
 * | `polca_checkpoints_total` | counter | |
 * | `polca_checkpoint_duration_seconds` | histogram (POLCA seconds per checkpoint) | |
 * | `polca_probe_loss_mean` | gauge | |
 * | `polca_probe_nonfinite_losses` | gauge (non-finite probe losses at the last checkpoint) | |
 * | `polca_basis_size` | gauge | |
 * | `polca_basis_eigenvalue` | gauge | basis |
 * | `polca_basis_found_step` | gauge (training step at which the vector was found) | basis |
 * | `polca_basis_projection` | gauge (⟨b,Δθ⟩ of the last live interval) | basis |
 * | `polca_basis_projected_loss_mean` | gauge (mean L_b(x,t) over the kept datapoints) | basis |
 * | `polca_basis_kept_datapoints` | gauge (datapoints with finite L_b(x,t) ≤ 0) | basis |
 * | `polca_cluster_projected_loss_median` | gauge (projected kinds) | kind, basis, cluster |
 * | `polca_cluster_loss_median` | gauge (median exact loss of the members) | kind, basis, cluster |
 * | `polca_cluster_members` | gauge | kind, basis, cluster |
 * | `polca_transitions_total` | counter | kind, basis, cluster — or set |
 * | `polca_transition_step` | gauge (training step of the latest breakthrough) | kind, basis, cluster — or set |
 * | `polca_transition_timestamp_seconds` | gauge (when the latest breakthrough was detected, Unix seconds) | kind, basis, cluster — or set |
 * | `polca_clustering_seconds_total` | counter (seconds of live re-clustering, on the training thread) | |
 * | `polca_clustering_rounds_total` | counter (live re-clustering rounds) | |
 * | `polca_alerts_total` | counter | rule |
 * | `polca_events_total` | counter | type |
 * | `polca_serve_subscribers` | gauge | |
 * | `polca_serve_lost_events_total` | counter | |
 * | `polca_serve_ingest_errors_total` | counter | |
 *
 * Cardinality: `basis` takes at most `maxBases` values (the first vectors
 * found; basis-free kinds such as the exact loss use −1); `cluster` at most
 * `maxClustersPerBasis` per (kind, basis) in the cluster gauges (the largest
 * clusters of the latest clustering; series of clusters that disappear are
 * removed); `kind` is one of six trajectory kinds. Transition counters cannot
 * be removed (a vanished counter resets `increase()`), so their labels are
 * capped instead: the first `maxClustersPerBasis` clusters of a (kind, basis)
 * that break through get their id, later ones `cluster="other"`, and vectors
 * past `maxBases` get `basis="other"` — at most 6 × (maxBases + 1) ×
 * (maxClustersPerBasis + 1) transition series (7,000 at the defaults; a
 * live run clustering three kinds and breaking through a few clusters has a
 * handful), plus one per named datapoint set (`set`). `rule` and `type` are
 * closed sets. New transition series appear at 0 one scrape before their
 * first increment, so that `increase(polca_transitions_total[5m])` sees the
 * first breakthrough of a cluster (unless another scraper took that 0);
 * alerts and annotations use `polca_transition_timestamp_seconds`, which
 * needs no history: `time() - polca_transition_timestamp_seconds < 300`.
 *
 * @example
 * ```ts
 * const metrics = createPolcaMetrics({ run: 'addition' });
 * metrics.observe({ type: 'step', time: Date.now(), step: 1, loss: 0.7 });
 * await metrics.registry.metrics(); // '… polca_training_loss{run="addition"} 0.7 …'
 * ```
 */
export function createPolcaMetrics(options: PolcaMetricsOptions = {}): PolcaMetrics {
  const registry = options.registry ?? new Registry();
  const maxBases = positiveInt('createPolcaMetrics', 'maxBases', options.maxBases ?? 64);
  const maxClusters = positiveInt('createPolcaMetrics', 'maxClustersPerBasis', options.maxClustersPerBasis ?? 16);
  const run = options.run ?? 'polca';
  if (typeof run !== 'string' || run.length === 0) throw new RangeError(`createPolcaMetrics: option run must be a non-empty string, got ${JSON.stringify(run)}`);
  registry.setDefaultLabels({ run });
  const registers = [registry];

  const trainingLoss = new Gauge({ name: 'polca_training_loss', help: 'Training loss of the last step that reported one.', registers });
  const trainingStep = new Gauge({ name: 'polca_training_step', help: 'Last training step seen.', registers });
  const learningRate = new Gauge({ name: 'polca_training_learning_rate', help: 'Learning rate of the last step that reported one.', registers });
  const lastStepTime = new Gauge({
    name: 'polca_last_step_timestamp_seconds',
    help: 'Time at which the last step event was produced (Unix seconds).',
    registers,
  });
  const runActive = new Gauge({ name: 'polca_run_active', help: '1 between run start and run end, 0 otherwise.', registers });
  const checkpointStep = new Gauge({ name: 'polca_checkpoint_step', help: 'Step of the last POLCA checkpoint.', registers });
  const checkpoints = new Counter({ name: 'polca_checkpoints_total', help: 'POLCA checkpoints taken.', registers });
  const checkpointSeconds = new Histogram({
    name: 'polca_checkpoint_duration_seconds',
    help: 'Seconds polca spent per checkpoint (losses, derivatives, POLCA, basis growth).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers,
  });
  const probeLoss = new Gauge({ name: 'polca_probe_loss_mean', help: 'Mean finite probe loss at the last checkpoint.', registers });
  const nonFinite = new Gauge({
    name: 'polca_probe_nonfinite_losses',
    help: 'Probe datapoints whose loss was not finite at the last checkpoint.',
    registers,
  });
  const basisSize = new Gauge({ name: 'polca_basis_size', help: 'Number of basis vectors found.', registers });
  const basisLabels = ['basis'];
  const eigenvalue = new Gauge({
    name: 'polca_basis_eigenvalue',
    help: 'Ritz value of each Hessian basis vector (label basis: its id).',
    labelNames: basisLabels,
    registers,
  });
  const foundStep = new Gauge({ name: 'polca_basis_found_step', help: 'Training step at which each basis vector was found.', labelNames: basisLabels, registers });
  const projection = new Gauge({
    name: 'polca_basis_projection',
    help: 'Projection <b, delta theta> of the parameter change on each basis vector over the last live POLCA interval.',
    labelNames: basisLabels,
    registers,
  });
  const projectedMean = new Gauge({
    name: 'polca_basis_projected_loss_mean',
    help: 'Mean projected loss L_b(x,t) at the last checkpoint over the datapoints kept by the paper filter (finite, L_b <= 0).',
    labelNames: basisLabels,
    registers,
  });
  const kept = new Gauge({
    name: 'polca_basis_kept_datapoints',
    help: 'Datapoints whose projected loss along the vector is finite and has not risen (kept for clustering).',
    labelNames: basisLabels,
    registers,
  });
  const clusterLabels = ['kind', 'basis', 'cluster'];
  const clusterMedian = new Gauge({
    name: 'polca_cluster_projected_loss_median',
    help: 'Median over the cluster members of the projected loss L_b(x,t) at the last checkpoint (projected kinds: polca, polca-first, lca).',
    labelNames: clusterLabels,
    registers,
  });
  const clusterLoss = new Gauge({
    name: 'polca_cluster_loss_median',
    help: 'Median over the cluster members of the exact probe loss at the last checkpoint.',
    labelNames: clusterLabels,
    registers,
  });
  const clusterMembers = new Gauge({
    name: 'polca_cluster_members',
    help: 'Members of each cluster of the latest clustering of its kind and basis vector.',
    labelNames: clusterLabels,
    registers,
  });
  const transitionLabels = ['kind', 'basis', 'cluster', 'set'];
  let transitions: ZeroFirstCounter | undefined;
  const transitionCounter = new Counter({
    name: 'polca_transitions_total',
    help: 'Breakthroughs detected, by cluster (kind, basis, cluster) or named datapoint set (set).',
    labelNames: transitionLabels,
    registers,
    collect() {
      transitions?.collect();
    },
  });
  transitions = new ZeroFirstCounter(transitionCounter);
  const transitionStep = new Gauge({
    name: 'polca_transition_step',
    help: 'Training step of the latest breakthrough of each cluster or datapoint set.',
    labelNames: transitionLabels,
    registers,
  });
  let clusteringStats: (() => { seconds: number; rounds: number } | undefined) | undefined;
  const shown = { seconds: 0, rounds: 0 };
  // Counters read at each scrape from the clustering's own accounting (0 when nothing clusters live, as in a replay).
  new Counter({
    name: 'polca_clustering_seconds_total',
    help: 'Seconds spent on live re-clustering (HDBSCAN and cluster-id matching), on the training thread.',
    registers,
    collect() {
      const s = clusteringStats?.();
      if (s && s.seconds > shown.seconds) {
        this.inc(s.seconds - shown.seconds);
        shown.seconds = s.seconds;
      } else this.inc(0);
    },
  });
  new Counter({
    name: 'polca_clustering_rounds_total',
    help: 'Live re-clustering rounds started.',
    registers,
    collect() {
      const s = clusteringStats?.();
      if (s && s.rounds > shown.rounds) {
        this.inc(s.rounds - shown.rounds);
        shown.rounds = s.rounds;
      } else this.inc(0);
    },
  });
  const transitionTime = new Gauge({
    name: 'polca_transition_timestamp_seconds',
    help: 'Time at which the latest breakthrough of each cluster or datapoint set was detected (Unix seconds).',
    labelNames: transitionLabels,
    registers,
  });
  const alerts = new Counter({ name: 'polca_alerts_total', help: 'Alerts raised, by rule.', labelNames: ['rule'], registers });
  const events = new Counter({ name: 'polca_events_total', help: 'Events received, by type.', labelNames: ['type'], registers });
  const subscribers = new Gauge({ name: 'polca_serve_subscribers', help: 'Open gRPC subscriptions.', registers });
  const lostEvents = new Counter({
    name: 'polca_serve_lost_events_total',
    help: 'Events skipped for slow or late subscribers.',
    registers,
  });
  const ingestErrors = new Counter({
    name: 'polca_serve_ingest_errors_total',
    help: 'Events the server could not process.',
    registers,
  });
  // Counters that alert rules take increase() of must exist from the start.
  for (const rule of ALERT_RULES) alerts.inc({ rule }, 0);
  basisSize.set(0);
  runActive.set(0);

  let size = 0;
  const labelledBases = new Set<number>();
  const clusterSeries = new Map<string, Set<number>>();
  /** (basis, cluster id) → kind, from the clusterings seen (ids are unique per basis across kinds). */
  const kindOf = new Map<string, TrajectoryKind>();
  /** (kind, basis) → cluster ids with a transition label of their own. */
  const transitionIds = new Map<string, Set<number>>();
  const basisAllowed = (id: number): boolean => {
    if (labelledBases.has(id)) return true;
    if (id < 0) return true;
    if (labelledBases.size >= maxBases) return false;
    labelledBases.add(id);
    return true;
  };

  const transitionTarget = (t: TransitionEvent['target']): Labels => {
    if (t.kind === 'datapoints') return { set: t.name };
    const kind = kindOf.get(`${t.basisId}:${t.clusterId}`);
    const basis = basisAllowed(t.basisId) ? String(t.basisId) : 'other';
    const key = `${kind ?? ''}:${basis}`;
    let ids = transitionIds.get(key);
    if (!ids) transitionIds.set(key, (ids = new Set()));
    if (!ids.has(t.clusterId) && ids.size < maxClusters) ids.add(t.clusterId);
    const cluster = basis !== 'other' && ids.has(t.clusterId) ? String(t.clusterId) : 'other';
    return kind ? { kind, basis, cluster } : { basis, cluster };
  };

  return {
    registry,
    serve: { subscribers, lostEvents, ingestErrors },
    observe(event) {
      events.inc({ type: event.type });
      switch (event.type) {
        case 'run-start':
          runActive.set(1);
          break;
        case 'run-end':
          runActive.set(0);
          break;
        case 'step':
          trainingStep.set(event.step);
          lastStepTime.set(event.time / 1000);
          if (event.loss !== undefined) trainingLoss.set(event.loss);
          if (event.lr !== undefined) learningRate.set(event.lr);
          break;
        case 'checkpoint':
          checkpointStep.set(event.step);
          checkpoints.inc();
          checkpointSeconds.observe(event.seconds);
          probeLoss.set(event.meanLoss);
          nonFinite.set(event.nonFinite);
          break;
        case 'basis':
          size = Math.max(size, event.id + 1);
          basisSize.set(size);
          if (basisAllowed(event.id)) {
            eigenvalue.set({ basis: String(event.id) }, event.eigenvalue);
            foundStep.set({ basis: String(event.id) }, event.step);
          }
          break;
        case 'polca':
          // A filled-in interval lies in the past: the projection series follows the live intervals.
          if (event.filled) break;
          event.basisIds.forEach((id, k) => {
            if (basisAllowed(id)) projection.set({ basis: String(id) }, event.projections[k]);
          });
          break;
        case 'clusters':
          for (const c of event.clusters) kindOf.set(`${event.basisId}:${c.id}`, event.kind);
          break;
        case 'transition': {
          const labels = transitionTarget(event.target);
          transitions!.inc(labels);
          transitionStep.set(labels, event.step);
          transitionTime.set(labels, event.time / 1000);
          break;
        }
        case 'alert':
          alerts.inc({ rule: event.rule });
          break;
        default:
          break;
      }
    },
    setClusters(kind, basisId, clusters) {
      if (!basisAllowed(basisId)) return;
      const keep = [...clusters].sort((a, b) => b.size - a.size || a.id - b.id).slice(0, maxClusters);
      const key = `${kind}:${basisId}`;
      const old = clusterSeries.get(key) ?? new Set<number>();
      const basis = String(basisId);
      const ids = new Set(keep.map((c) => c.id));
      for (const id of old) {
        if (!ids.has(id)) {
          const labels = { kind, basis, cluster: String(id) };
          clusterMedian.remove(labels);
          clusterLoss.remove(labels);
          clusterMembers.remove(labels);
        }
      }
      for (const c of keep) {
        const labels = { kind, basis, cluster: String(c.id) };
        if (PROJECTED.has(kind) && c.projectedMedian !== undefined) clusterMedian.set(labels, c.projectedMedian);
        if (c.lossMedian !== undefined) clusterLoss.set(labels, c.lossMedian);
        clusterMembers.set(labels, c.size);
      }
      clusterSeries.set(key, ids);
    },
    watchClustering(stats) {
      clusteringStats = stats;
    },
    setBasisSummary(basisId, mean, count) {
      if (!basisAllowed(basisId)) return;
      projectedMean.set({ basis: String(basisId) }, mean);
      kept.set({ basis: String(basisId) }, count);
    },
  };
}
