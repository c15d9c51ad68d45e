/**
 * Prometheus metrics of a run, fed from a {@link RunView}: no gRPC needed.
 *
 * @packageDocumentation
 */
import { TRAJECTORY_KINDS, isProjectedLoss } from '../analysis/trajectories.js';
import type { PolcaEvent, TrajectoryKind } from '../stream/events.js';
import { finiteMedian } from './eventMessage.js';
import { startMetricsServer, type MetricsServer } from './metricsServer.js';
import { createPolcaMetrics, type PolcaMetrics } from './polcaMetrics.js';
import type { RunView } from './runView.js';

/** Options of {@link MetricsSink}. */
export interface MetricsSinkOptions {
  /** Cluster-series bounds, see {@link createPolcaMetrics}. */
  maxBases?: number;
  maxClustersPerBasis?: number;
}

/**
 * Keeps a run's {@link PolcaMetrics} up to date from a {@link RunView}:
 * every event is observed, and the per-cluster and per-vector series are
 * recomputed from the view's latest clusterings and live projected losses
 * when an interval, a clustering or a checkpoint arrives. Serve the registry
 * with {@link MetricsSink.listen}, or read `metrics.registry` yourself.
 *
 * @example
 * ```ts
 * const view = new RunView({ run: 'mnist' });
 * const sink = new MetricsSink(view);
 * view.follow(tracker.events$);
 * const http = await sink.listen({ port: 9464 }); // curl http://127.0.0.1:9464/metrics
 * ```
 */
export class MetricsSink {
  readonly metrics: PolcaMetrics;
  private lastLosses: Float32Array | undefined;
  private readonly unlisten: () => void;

  constructor(
    private readonly view: RunView,
    options: MetricsSinkOptions = {},
  ) {
    this.metrics = createPolcaMetrics({ run: view.name, maxBases: options.maxBases, maxClustersPerBasis: options.maxClustersPerBasis });
    this.unlisten = view.listen({
      event: (event, ingested) => {
        if (!ingested) this.metrics.serve.ingestErrors.inc();
        try {
          this.observe(event);
        } catch {
          if (ingested) this.metrics.serve.ingestErrors.inc();
        }
      },
    });
  }

  /** Serves the registry at `http://host:port/metrics` (see {@link startMetricsServer}). */
  listen(options: { port?: number; host?: string } = {}): Promise<MetricsServer> {
    return startMetricsServer(this.metrics.registry, options);
  }

  /** Stops following the view; idempotent. */
  close(): void {
    this.unlisten();
  }

  private observe(event: PolcaEvent): void {
    this.metrics.observe(event);
    const state = this.view.state;
    if (event.type === 'polca') {
      for (const id of event.basisIds) {
        this.updateBasisSummary(id);
        for (const kind of TRAJECTORY_KINDS) if (isProjectedLoss(kind)) this.updateClusters(kind, id);
      }
    } else if (event.type === 'clusters') {
      this.updateClusters(event.kind, event.basisId);
    } else if (event.type === 'checkpoint') {
      this.lastLosses = event.losses;
      for (const kind of TRAJECTORY_KINDS) for (const c of state.allClusters(kind)) this.updateClusters(kind, c.basisId);
    }
  }

  private projectedNow(kind: TrajectoryKind, basisId: number): Float64Array | undefined {
    const t = this.view.trajectories;
    return kind === 'polca' || kind === 'lca' ? t.current(basisId) : kind === 'polca-first' ? t.currentFirstOrder(basisId) : undefined;
  }

  private updateClusters(kind: TrajectoryKind, basisId: number): void {
    const clustering = this.view.state.latestClusters(kind, basisId);
    if (!clustering) return;
    const current = this.projectedNow(kind, basisId);
    const losses = this.lastLosses;
    this.metrics.setClusters(
      kind,
      basisId,
      clustering.clusters.map((c) => ({
        id: c.id,
        size: c.members.length,
        // The live curve after the latest interval; the clustering's own last median when the server holds no increments.
        projectedMedian: current ? finiteMedian(current, c.members) : c.median[c.median.length - 1],
        lossMedian: losses && losses.length > 0 ? finiteMedian(losses, c.members) : undefined,
      })),
    );
  }

  private updateBasisSummary(basisId: number): void {
    const current = this.view.trajectories.current(basisId);
    if (!current) return;
    let sum = 0;
    let kept = 0;
    for (let i = 0; i < current.length; i++) {
      const v = current[i];
      if (Number.isFinite(v) && v <= 0) {
        sum += v;
        kept++;
      }
    }
    this.metrics.setBasisSummary(basisId, kept > 0 ? sum / kept : NaN, kept);
  }
}
