/**
 * The live-serving layer in one call: a {@link RunView} of the run, its
 * {@link MetricsSink}, the polca gRPC service with the standard health
 * service on a server of its own, and the Prometheus endpoint.
 *
 * @packageDocumentation
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Observable } from 'rxjs';
import type { PolcaEvent } from '../stream/events.js';
import { bearerCheck } from './bearerToken.js';
import type { MetricsServer } from './metricsServer.js';
import { MetricsSink } from './metricsSink.js';
import { POLCA_SERVICE_NAME, addToServer, type PolcaService } from './polcaService.js';
import type { PolcaMetrics } from './polcaMetrics.js';
import type { RequestLimits } from './requestLimits.js';
import { RunView } from './runView.js';
import { bindAddress, serverCredentials, type ServeTlsOptions } from './serverCredentials.js';

export type { ServeTlsOptions } from './serverCredentials.js';

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** The run's events, live or replayed. Subscribed to at once. */
  events$: Observable<PolcaEvent>;
  /** The run's name: the `run` label of every metric, and `name` in `GetRun`. Default `polca`. */
  run?: string;
  /** The gRPC server; omitted: no gRPC. */
  grpc?: {
    /** Port, 0 for any free one. Default 0. */
    port?: number;
    /** Default `127.0.0.1`. */
    host?: string;
    /** When set, polca.v1 calls need metadata `authorization: Bearer <token>` (the health service stays open). */
    token?: string;
    /** Serve TLS instead of plaintext. */
    tls?: ServeTlsOptions;
  };
  /** The Prometheus endpoint; omitted: no HTTP server (the registry is still filled). */
  metrics?: {
    /** Port, 0 for any free one. Default 0. */
    port?: number;
    /** Default `127.0.0.1`. */
    host?: string;
    /** Cluster-series bounds, see {@link createPolcaMetrics}. */
    maxBases?: number;
    maxClustersPerBasis?: number;
    /**
     * Seconds `/metrics` keeps answering after the run ends (with
     * `closeOnComplete`), so that Prometheus scrapes the last values — the
     * breakthroughs of the run's last seconds, whose new counter series need
     * two scrapes to show in `increase()`. The endpoint does not keep the
     * process alive meanwhile, `done` does not wait for it, and `close()`
     * ends it at once.
     * Default 0 (`attachSinks` and the callback use 30).
     */
    lingerSeconds?: number;
  };
  /**
   * Events kept for `START_AT_BEGINNING` and `START_AT_STEP` subscriptions:
   * the most recent `maxEvents` (default 100 000) within `maxBytes` estimated
   * bytes (default 256 MiB); older ones are evicted first and late
   * subscribers are told through a `Lost` notice.
   */
  history?: { maxEvents?: number; maxBytes?: number };
  /** Most events a subscriber may lag behind the live head before the oldest are skipped. Default 4096. */
  subscriberMaxLag?: number;
  /** Bounds on the work of one gRPC request; see {@link RequestLimits}. */
  limits?: RequestLimits;
  /** Bound of the projected-loss trajectories kept for `GetTrajectories`, in float32 values. Default 2^25 (128 MiB). */
  trajectoryMaxValues?: number;
  /** Close everything once `events$` completes and subscribers are drained. Default true. */
  closeOnComplete?: boolean;
  /**
   * At run end or close, subscribers still reading get their pending events;
   * they are dropped once none has drained a write for this long. Default 5000 ms.
   */
  drainTimeoutMs?: number;
}

/** A running server. */
export interface PolcaServer {
  /** Bound gRPC port, undefined without gRPC. */
  readonly grpcPort: number | undefined;
  /** Bound metrics port, undefined without the endpoint. */
  readonly metricsPort: number | undefined;
  /** The metrics and their registry. */
  readonly metrics: PolcaMetrics;
  /** Resolves once the server has closed (after `close()`, or after run end when `closeOnComplete`). */
  readonly done: Promise<void>;
  /** Stops everything: drains subscribers (see `drainTimeoutMs`), stops both servers; idempotent. */
  close(): Promise<void>;
}

// These two keep the message style their callers' tests pin ("option grpc.port …").
function checkPort(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0 && value <= 65535)) {
    throw new RangeError(`startServer: option ${name} must be an integer in [0, 65535], got ${value}`);
  }
  return value;
}

function checkPositive(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(`startServer: option ${name} must be an integer >= 1, got ${value}`);
  }
  return value;
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
 * When `events$` completes, subscribers receive everything still pending
 * and their streams end with OK; then (by default) both servers close. When
 * it errors, streams end with UNAVAILABLE after the pending events.
 *
 * @example
 * ```ts
 * const server = await startServer({ events$: tracker.events$, grpc: { port: 0 }, metrics: { port: 0 } });
 * console.log(`grpc on ${server.grpcPort}, metrics on http://127.0.0.1:${server.metricsPort}/metrics`);
 * await server.done; // the run ended and everything closed
 * ```
 */
export async function startServer(options: ServeOptions): Promise<PolcaServer> {
  if (!options || typeof options.events$?.subscribe !== 'function') {
    throw new TypeError(`startServer: option events$ must be an Observable, got ${String(options?.events$)}`);
  }
  const grpcOpts = options.grpc;
  const metricsOpts = options.metrics;
  const grpcPort = checkPort(grpcOpts?.port ?? 0, 'grpc.port');
  const metricsPort = checkPort(metricsOpts?.port ?? 0, 'metrics.port');
  bearerCheck('startServer', grpcOpts?.token);
  const subscriberMaxLag = checkPositive(options.subscriberMaxLag ?? 4096, 'subscriberMaxLag');
  const drainTimeoutMs = options.drainTimeoutMs ?? 5000;
  const lingerMs = 1000 * (metricsOpts?.lingerSeconds ?? 0);
  if (!(lingerMs >= 0) || !Number.isFinite(lingerMs)) throw new RangeError(`startServer: option metrics.lingerSeconds must be a number >= 0, got ${metricsOpts?.lingerSeconds}`);
  if (!(drainTimeoutMs >= 0)) throw new RangeError(`startServer: option drainTimeoutMs must be >= 0, got ${drainTimeoutMs}`);

  const view = new RunView({ run: options.run, history: options.history, trajectoryMaxValues: options.trajectoryMaxValues });
  const sink = new MetricsSink(view, { maxBases: metricsOpts?.maxBases, maxClustersPerBasis: metricsOpts?.maxClustersPerBasis });
  let grpcServer: grpc.Server | undefined;
  let service: PolcaService | undefined;
  let health: HealthImplementation | undefined;
  if (grpcOpts) {
    grpcServer = new grpc.Server();
    service = addToServer(grpcServer, view, {
      token: grpcOpts.token,
      subscriberMaxLag,
      drainTimeoutMs,
      metrics: sink.metrics.serve,
      limits: options.limits,
    });
    health = new HealthImplementation({ '': 'SERVING', [POLCA_SERVICE_NAME]: 'SERVING' });
    health.addToServer(grpcServer);
  }

  let started = false;
  let closeWhenStarted = false;
  view.listen({
    end: () => {
      if (!(options.closeOnComplete ?? true)) return;
      if (started) void shutdown(true);
      else closeWhenStarted = true;
    },
  });
  // Before binding: a hot stream loses nothing; a synchronous one may complete right here.
  const unfollow = view.follow(options.events$);

  let boundGrpcPort: number | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    if (grpcServer && grpcOpts) {
      const server = grpcServer;
      const creds = serverCredentials(grpcOpts.tls);
      const address = bindAddress(grpcOpts.host ?? '127.0.0.1', grpcPort);
      boundGrpcPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
      );
    }
    if (metricsOpts) metricsServer = await sink.listen({ port: metricsPort, host: metricsOpts.host });
  } catch (err) {
    unfollow();
    grpcServer?.forceShutdown();
    await metricsServer?.close();
    throw new Error(`startServer: could not bind: ${err instanceof Error ? err.message : String(err)}`);
  }

  let closing: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let lingering: NodeJS.Timeout | undefined;

  function close(): Promise<void> {
    // An explicit close ends a lingering metrics endpoint at once.
    if (lingering) {
      clearTimeout(lingering);
      lingering = undefined;
      void metricsServer?.close();
    }
    return shutdown(false);
  }

  function shutdown(linger: boolean): Promise<void> {
    closing ??= (async () => {
      unfollow();
      health?.setStatus('', 'NOT_SERVING');
      health?.setStatus(POLCA_SERVICE_NAME, 'NOT_SERVING');
      await service?.close();
      sink.close();
      const server = grpcServer;
      if (server) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, drainTimeoutMs);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      if (linger && lingerMs > 0 && metricsServer) {
        const m = metricsServer;
        m.unref();
        lingering = setTimeout(() => {
          lingering = undefined;
          void m.close();
        }, lingerMs);
        lingering.unref();
      } else {
        await metricsServer?.close();
      }
      resolveDone();
    })();
    return closing;
  }

  started = true;
  if (closeWhenStarted) void shutdown(true);

  return {
    grpcPort: boundGrpcPort,
    metricsPort: metricsServer?.port,
    metrics: sink.metrics,
    done,
    close,
  };
}
