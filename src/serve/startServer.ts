/**
 * The live-serving layer in one call: the run's events served over gRPC
 * (`polca.v1.Polca` and `grpc.health.v1.Health`) and Prometheus, from a
 * worker thread by default.
 *
 * @packageDocumentation
 */
import { composeServer } from './composeServer.js';
import type { PolcaMetrics } from './polcaMetrics.js';
import { checkServeOptions, type ServeOptions } from './serveOptions.js';
import { startWorkerServer } from './workerServer.js';

export type { ServeOptions } from './serveOptions.js';
export type { ServeTlsOptions } from './serverCredentials.js';

/** A running server. */
export interface PolcaServer {
  /** Bound gRPC port, undefined without gRPC. */
  readonly grpcPort: number | undefined;
  /** Bound metrics port, undefined without the endpoint. */
  readonly metricsPort: number | undefined;
  /**
   * The metrics and their registry. With `thread: 'worker'` the series live
   * in the worker (scrape them at `metricsPort`); this registry then holds
   * the serving counters (`metrics.serve`, read from the worker when
   * collected), and `watchClustering` forwards the training thread's
   * clustering counters to the worker.
   */
  readonly metrics: PolcaMetrics;
  /** Resolves once the server has closed (after `close()`, after run end when `closeOnComplete`, or after a failure). */
  readonly done: Promise<void>;
  /**
   * Resolves with the error when the server failed while serving (its
   * worker thread crashed or ran out of memory: the training thread goes
   * on, the events are no longer served), with undefined once it closed
   * cleanly. Never rejects.
   */
  readonly failed: Promise<Error | undefined>;
  /** Events not sent to the worker because the channel was full (0 in the calling thread). */
  readonly droppedEvents: number;
  /** Stops everything: drains subscribers (see `drainTimeoutMs`), stops both servers; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts serving a run. Subscribes to `events$` immediately (before the
 * ports are bound, so no event of a hot stream is missed), keeps a bounded
 * history, the run summary, the latest clusterings and the projected-loss
 * trajectories ({@link RunView}), and feeds the Prometheus metrics
 * ({@link MetricsSink}).
 *
 * gRPC: `polca.v1.Polca` (see {@link addToServer}, which installs the same
 * service on a server of yours) and the standard `grpc.health.v1.Health`.
 *
 * By default everything runs in a worker thread (`thread: 'worker'`), so
 * that the server answers while the training thread is busy and a failure
 * of the server is reported on `failed` instead of taking training down.
 *
 * When `events$` completes, subscribers receive everything still pending
 * and their streams end with OK; then (by default) both servers close. When
 * it errors, streams end with UNAVAILABLE after the pending events.
 *
 * @example
 * ```ts
 * const server = await startServer({ events$: tracker.events$, grpc: { port: 0 }, metrics: { port: 0 } });
 * console.log(`grpc on ${server.grpcPort}, metrics on http://127.0.0.1:${server.metricsPort}/metrics`);
 * void server.failed.then((err) => err && console.warn(`polca server failed: ${err.message}`));
 * await server.done; // the run ended and everything closed
 * ```
 */
export async function startServer(options: ServeOptions): Promise<PolcaServer> {
  if (!options || typeof options.events$?.subscribe !== 'function') {
    throw new TypeError(`startServer: option events$ must be an Observable, got ${String(options?.events$)}`);
  }
  const { events$, thread = 'worker', worker, ...compose } = options;
  checkServeOptions(compose);
  if (thread !== 'worker' && thread !== 'main') throw new TypeError(`startServer: option 'thread' must be 'worker' or 'main', got ${JSON.stringify(thread)}`);
  if (thread === 'worker') {
    const w = await startWorkerServer(events$, { ...compose, worker });
    return {
      grpcPort: w.grpcPort,
      metricsPort: w.metricsPort,
      metrics: w.metrics,
      done: w.done,
      failed: w.failed,
      get droppedEvents() {
        return w.droppedEvents();
      },
      close: w.close,
    };
  }
  const s = await composeServer(compose, (view) => view.follow(events$));
  return {
    grpcPort: s.grpcPort,
    metricsPort: s.metricsPort,
    metrics: s.metrics,
    done: s.done,
    failed: s.done.then(() => undefined),
    droppedEvents: 0,
    close: s.close,
  };
}
