/**
 * Options of {@link startServer} and their validation.
 *
 * @packageDocumentation
 */
import type { ResourceLimits } from 'node:worker_threads';
import type { Observable } from 'rxjs';
import type { PolcaEvent } from '../stream/events.js';
import { nonNegativeNumber, port, positiveInt } from '../errors/validate.js';
import { bearerCheck } from './bearerToken.js';
import type { RequestLimits } from './requestLimits.js';
import type { ServeTlsOptions } from './serverCredentials.js';

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
  /**
   * Where the servers run. `'worker'` (the default): a worker thread, fed
   * the events through a bounded channel, so that requests and scrapes are
   * answered while the training thread is busy (a POLCA checkpoint, a
   * Lanczos run) and a crash or an out-of-memory of the server never takes
   * the training thread with it (see {@link PolcaServer.failed}). `'main'`:
   * the calling thread.
   */
  thread?: 'worker' | 'main';
  /** The worker thread, with `thread: 'worker'`. */
  worker?: {
    /** Heap limits of the worker (its out-of-memory ends the server, not the process). Default: Node's. */
    resourceLimits?: ResourceLimits;
    /**
     * Most events, and estimated bytes, sent to the worker and not yet
     * ingested; beyond either the newest events are dropped (counted in
     * `droppedEvents`) rather than queued without bound. Default 100 000
     * events, 256 MiB.
     */
    maxQueuedEvents?: number;
    maxQueuedBytes?: number;
    /**
     * Run the event encoders over a sample of every event kind at start-up
     * (about 0.1 s of the worker's time, before `startServer` resolves), so
     * that their code generation and compilation do not delay the run's
     * first events. Default true.
     */
    warmUp?: boolean;
  };
}

/** Validated numbers of {@link ServeOptions}. */
export interface CheckedServeOptions {
  grpcPort: number;
  metricsPort: number;
  subscriberMaxLag: number;
  drainTimeoutMs: number;
  lingerMs: number;
}

/**
 * Validates the options every thread mode shares.
 *
 * @example
 * ```ts
 * checkServeOptions({ grpc: { port: 70000 } }); // throws: startServer: option 'grpc.port' must be a port number from 0 to 65535, got 70000
 * ```
 */
export function checkServeOptions(options: Omit<ServeOptions, 'events$'>): CheckedServeOptions {
  const grpcPort = port('startServer', 'grpc.port', options.grpc?.port ?? 0);
  const metricsPort = port('startServer', 'metrics.port', options.metrics?.port ?? 0);
  bearerCheck('startServer', options.grpc?.token, 'grpc.token');
  const subscriberMaxLag = positiveInt('startServer', 'subscriberMaxLag', options.subscriberMaxLag ?? 4096);
  const drainTimeoutMs = nonNegativeNumber('startServer', 'drainTimeoutMs', options.drainTimeoutMs ?? 5000);
  const lingerMs = 1000 * nonNegativeNumber('startServer', 'metrics.lingerSeconds', options.metrics?.lingerSeconds ?? 0);
  return { grpcPort, metricsPort, subscriberMaxLag, drainTimeoutMs, lingerMs };
}
