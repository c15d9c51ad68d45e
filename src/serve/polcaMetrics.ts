/**
 * Prometheus metrics of a polca run (prom-client).
 *
 * @packageDocumentation
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AlertRule, PolcaEvent } from '../stream/events.js';

/** Options of {@link createPolcaMetrics}. */
export interface PolcaMetricsOptions {
  /** Registry to register in; a new one by default. */
  registry?: Registry;
  /** Most basis vectors with labelled series (basis eigenvalue, cluster medians). Default 64. */
  maxBases?: number;
  /** Most clusters per basis vector with a median series (the largest by member count). Default 16. */
  maxClustersPerBasis?: number;
}

/** The metrics of one run and the functions that feed them. */
export interface PolcaMetrics {
  readonly registry: Registry;
  /** Updates the metrics from one event. */
  observe(event: PolcaEvent): void;
  /**
   * Replaces the per-cluster median projected loss series of one basis
   * vector: `medians` maps cluster id → median over its members of L_b(x, t)
   * at the latest checkpoint, `sizes` cluster id → member count.
   */
  setClusterMedians(basisId: number, medians: Map<number, number>, sizes: Map<number, number>): void;
  /** Serving-side metrics, fed by the gRPC server. */
  readonly serve: {
    subscribers: Gauge;
    lostEvents: Counter;
    ingestErrors: Counter;
  };
}

const ALERT_RULES: AlertRule[] = ['loss-spike', 'loss-stalled', 'non-finite'];

function checkCount(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`createPolcaMetrics: option ${name} must be an integer >= 1, got ${value}`);
  }
  return value;
}

/**
 * Creates the polca metrics. Names follow the Prometheus conventions: the
 * `polca_` prefix, base units in the name (`_seconds`), `_total` on counters.
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
 * | `polca_cluster_projected_loss_median` | gauge | basis, cluster |
 * | `polca_cluster_members` | gauge | basis, cluster |
 * | `polca_transitions_total` | counter | |
 * | `polca_alerts_total` | counter | rule |
 * | `polca_events_total` | counter | type |
 * | `polca_serve_subscribers` | gauge | |
 * | `polca_serve_lost_events_total` | counter | |
 * | `polca_serve_ingest_errors_total` | counter | |
 *
 * Cardinality: `basis` takes at most `maxBases` values (the first vectors
 * found), `cluster` at most `maxClustersPerBasis` per basis (the largest
 * clusters of the latest `polca` clustering; series of clusters that
 * disappear are removed), so the cluster series number at most
 * `maxBases × maxClustersPerBasis` (1024 by default). `rule` and `type` are
 * closed sets.
 *
 * @example
 * ```ts
 * const metrics = createPolcaMetrics();
 * metrics.observe({ type: 'step', time: Date.now(), step: 1, loss: 0.7 });
 * await metrics.registry.metrics(); // '… polca_training_loss 0.7 …'
 * ```
 */
export function createPolcaMetrics(options: PolcaMetricsOptions = {}): PolcaMetrics {
  const registry = options.registry ?? new Registry();
  const maxBases = checkCount(options.maxBases ?? 64, 'maxBases');
  const maxClusters = checkCount(options.maxClustersPerBasis ?? 16, 'maxClustersPerBasis');
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
  const eigenvalue = new Gauge({
    name: 'polca_basis_eigenvalue',
    help: 'Ritz value of each Hessian basis vector (label basis: its id).',
    labelNames: ['basis'],
    registers,
  });
  const clusterMedian = new Gauge({
    name: 'polca_cluster_projected_loss_median',
    help: 'Median over the cluster members of the projected loss L_b(x,t) at the last checkpoint.',
    labelNames: ['basis', 'cluster'],
    registers,
  });
  const clusterMembers = new Gauge({
    name: 'polca_cluster_members',
    help: 'Members of each cluster of the latest polca clustering.',
    labelNames: ['basis', 'cluster'],
    registers,
  });
  const transitions = new Counter({ name: 'polca_transitions_total', help: 'Breakthroughs detected.', registers });
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
  const clusterSeries = new Map<number, Set<number>>();
  const basisAllowed = (id: number): boolean => {
    if (labelledBases.has(id)) return true;
    if (labelledBases.size >= maxBases) return false;
    labelledBases.add(id);
    return true;
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
          if (basisAllowed(event.id)) eigenvalue.set({ basis: String(event.id) }, event.eigenvalue);
          break;
        case 'transition':
          transitions.inc();
          break;
        case 'alert':
          alerts.inc({ rule: event.rule });
          break;
        default:
          break;
      }
    },
    setClusterMedians(basisId, medians, sizes) {
      if (!basisAllowed(basisId)) return;
      const keep = [...medians.keys()]
        .sort((a, b) => (sizes.get(b) ?? 0) - (sizes.get(a) ?? 0) || a - b)
        .slice(0, maxClusters);
      const old = clusterSeries.get(basisId) ?? new Set<number>();
      const basis = String(basisId);
      for (const id of old) {
        if (!keep.includes(id)) {
          clusterMedian.remove({ basis, cluster: String(id) });
          clusterMembers.remove({ basis, cluster: String(id) });
        }
      }
      for (const id of keep) {
        clusterMedian.set({ basis, cluster: String(id) }, medians.get(id) as number);
        clusterMembers.set({ basis, cluster: String(id) }, sizes.get(id) ?? 0);
      }
      clusterSeries.set(basisId, new Set(keep));
    },
  };
}
