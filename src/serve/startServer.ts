/**
 * The live-serving layer: a gRPC server (`polca.v1.Polca` and
 * `grpc.health.v1.Health`) and a Prometheus `/metrics` endpoint fed by a
 * run's event stream.
 *
 * @packageDocumentation
 */
import { timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Observable, Subscription as RxSubscription } from 'rxjs';
import type { PolcaEvent, TrajectoryKind } from '../stream/events.js';
import { PROJECTED_LOSS_KINDS as PROJECTED_KINDS, TRAJECTORY_KINDS } from '../stream/trajectoryKinds.js';
import type { Event } from './generated/polca/v1/Event.js';
import type { PolcaHandlers } from './generated/polca/v1/Polca.js';
import type { SubscribeRequest__Output } from './generated/polca/v1/SubscribeRequest.js';
import type { Run } from './generated/polca/v1/Run.js';
import type { Basis } from './generated/polca/v1/Basis.js';
import { EventLog, type LogRecord } from './eventLog.js';
import { type ClustersLookup, clustersMessage, eventBytes, eventMessage, eventStep, finiteMedian, kindNumber, parseKind } from './eventMessage.js';
import { loadPolcaProto } from './polcaProto.js';
import { createPolcaMetrics, type PolcaMetrics } from './polcaMetrics.js';
import { startMetricsServer, type MetricsServer } from './metricsServer.js';
import { RunState } from './runState.js';
import { Subscription, type SubscriptionFilter } from './subscription.js';
import { TrajectoryStore } from './trajectoryStore.js';

/** TLS material for the gRPC server (PEM). */
export interface ServeTlsOptions {
  cert: Buffer | string;
  key: Buffer | string;
  /** CA bundle to verify client certificates against. */
  ca?: Buffer | string;
  /** Require and verify client certificates (needs `ca`). Default false. */
  requireClientCert?: boolean;
}

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

const SERVICE_NAME = 'polca.v1.Polca';

/** Marks a request whose bytes did not decode, so the handler can answer INVALID_ARGUMENT. */
interface Malformed {
  readonly malformed: string;
}

function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && 'malformed' in value;
}

function status(code: grpc.status, details: string): grpc.StatusObject {
  return { code, details, metadata: new grpc.Metadata() };
}

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
 * trajectories, and feeds the Prometheus metrics.
 *
 * gRPC: `polca.v1.Polca` (`Subscribe`, `GetRun`, `ListClusters`,
 * `GetTrajectories`) and the standard `grpc.health.v1.Health`. With a token,
 * polca calls without `authorization: Bearer <token>` fail with
 * UNAUTHENTICATED; undecodable or inconsistent requests fail with
 * INVALID_ARGUMENT. See {@link Subscription} for the slow-client policy.
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
  const metricsPortAsked = checkPort(metricsOpts?.port ?? 0, 'metrics.port');
  const token = grpcOpts?.token;
  if (token !== undefined && (typeof token !== 'string' || token.length === 0 || /\s/.test(token))) {
    throw new TypeError(`startServer: option grpc.token must be a non-empty string without spaces, got ${JSON.stringify(token)}`);
  }
  const maxLag = checkPositive(options.subscriberMaxLag ?? 4096, 'subscriberMaxLag');
  const drainTimeoutMs = options.drainTimeoutMs ?? 5000;
  const lingerMs = 1000 * (metricsOpts?.lingerSeconds ?? 0);
  if (!(lingerMs >= 0) || !Number.isFinite(lingerMs)) throw new RangeError(`startServer: option metrics.lingerSeconds must be a number >= 0, got ${metricsOpts?.lingerSeconds}`);
  if (!(drainTimeoutMs >= 0)) throw new RangeError(`startServer: option drainTimeoutMs must be >= 0, got ${drainTimeoutMs}`);

  const log = new EventLog({
    maxEvents: checkPositive(options.history?.maxEvents ?? 100_000, 'history.maxEvents'),
    maxBytes: checkPositive(options.history?.maxBytes ?? 256 * 2 ** 20, 'history.maxBytes'),
  });
  const trajectories = new TrajectoryStore({ maxValues: checkPositive(options.trajectoryMaxValues ?? 2 ** 25, 'trajectoryMaxValues') });
  const state = new RunState();
  const runName = options.run ?? 'polca';
  if (typeof runName !== 'string' || runName.length === 0) throw new TypeError(`startServer: option run must be a non-empty string, got ${JSON.stringify(runName)}`);
  const metrics = createPolcaMetrics({ run: runName, maxBases: metricsOpts?.maxBases, maxClustersPerBasis: metricsOpts?.maxClustersPerBasis });
  const subscriptions = new Set<Subscription>();
  const basisMessages = new Map<number, Basis>();
  const proto = loadPolcaProto();
  const serviceDef = proto.polca.v1.Polca.service;
  const serializeEvent = serviceDef.Subscribe.responseSerialize as (value: Event) => Buffer;

  const polcaClusters = (basisId: number) => state.latestClusters('polca', basisId)?.clusters;

  let lastLosses: Float32Array | undefined;
  const projectedNow = (kind: TrajectoryKind, basisId: number): Float64Array | undefined =>
    kind === 'polca' || kind === 'lca' ? trajectories.current(basisId) : kind === 'polca-first' ? trajectories.currentFirstOrder(basisId) : undefined;

  const updateClusters = (kind: TrajectoryKind, basisId: number): void => {
    const clustering = state.latestClusters(kind, basisId);
    if (!clustering) return;
    const current = projectedNow(kind, basisId);
    metrics.setClusters(
      kind,
      basisId,
      clustering.clusters.map((c) => ({
        id: c.id,
        size: c.members.length,
        // The live curve after the latest interval; the clustering's own last median when the server holds no increments.
        projectedMedian: current ? finiteMedian(current, c.members) : c.median[c.median.length - 1],
        lossMedian: lastLosses && lastLosses.length > 0 ? finiteMedian(lastLosses, c.members) : undefined,
      })),
    );
  };

  const updateBasisSummary = (basisId: number): void => {
    const current = trajectories.current(basisId);
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
    metrics.setBasisSummary(basisId, kept > 0 ? sum / kept : NaN, kept);
  };

  let sourceEnded = false;
  let sourceError: grpc.StatusObject | undefined;

  const ingest = (raw: PolcaEvent): void => {
    // The basis vector (length P) is never served; do not retain it.
    const event = raw.type === 'basis' && raw.vector ? { ...raw, vector: undefined } : raw;
    const seq = log.end;
    const lookup = event.type === 'polca' ? snapshotClusters(event.basisIds, polcaClusters) : undefined;
    const summary = eventMessage(raw, seq, { datapoints: false, clusters: lookup });
    log.append({ event, kind: kindNumber(event.type), step: eventStep(event), bytes: eventBytes(event), summary, clusters: lookup });
    state.observe(event);
    metrics.observe(event);
    if (summary.basis) basisMessages.set(event.type === 'basis' ? event.id : -1, summary.basis);
    if (event.type === 'polca') {
      trajectories.add(event);
      for (const id of event.basisIds) {
        updateBasisSummary(id);
        for (const kind of PROJECTED_KINDS) updateClusters(kind, id);
      }
    } else if (event.type === 'clusters') {
      updateClusters(event.kind, event.basisId);
    } else if (event.type === 'checkpoint') {
      lastLosses = event.losses;
      for (const kind of TRAJECTORY_KINDS) for (const c of state.allClusters(kind)) updateClusters(kind, c.basisId);
    }
  };

  const encode = (rec: LogRecord, filter: SubscriptionFilter): Buffer | null => {
    if (filter.kinds && !filter.kinds.has(rec.kind)) return null;
    const basis = filter.basisIds;
    const e = rec.event;
    if (basis) {
      if (e.type === 'basis' && !basis.has(e.id)) return null;
      if (e.type === 'clusters' && !basis.has(e.basisId)) return null;
      if (e.type === 'transition' && e.target.kind === 'cluster' && !basis.has(e.target.basisId)) return null;
      if (e.type === 'polca' && e.basisIds.some((id) => !basis.has(id))) {
        const msg = filter.datapoints ? eventMessage(e, rec.seq, { datapoints: true, clusters: rec.clusters }) : rec.summary;
        const polca = msg.polca as NonNullable<Event['polca']>;
        return serializeEvent({ ...msg, polca: { ...polca, bases: (polca.bases ?? []).filter((b) => basis.has(b.basisId as number)) } });
      }
    }
    if (!filter.datapoints || (e.type !== 'polca' && e.type !== 'checkpoint')) {
      return (rec.encodedSummary ??= serializeEvent(rec.summary));
    }
    return (rec.encodedFull ??= serializeEvent(eventMessage(e, rec.seq, { datapoints: true, clusters: rec.clusters })));
  };

  const subscriptionContext = {
    log,
    maxLag,
    encode,
    encodeMessage: serializeEvent,
    onLost: (n: number) => metrics.serve.lostEvents.inc(n),
    onProgress: () => {
      lastProgress = Date.now();
    },
    onClosed: (sub: Subscription) => {
      if (subscriptions.delete(sub)) metrics.serve.subscribers.set(subscriptions.size);
      if (sourceEnded && subscriptions.size === 0) allDrained?.();
    },
  };

  let allDrained: (() => void) | undefined;
  let lastProgress = 0;
  let started = false;
  let closeWhenStarted = false;
  // `let`: a synchronous source (a replay with `from(events)`) completes inside subscribe().
  let rx: RxSubscription | undefined;
  rx = options.events$.subscribe({
    next(event) {
      try {
        ingest(event);
      } catch {
        // A malformed event must not take the server down; it is counted (and, if it failed
        // before reaching the history, not served).
        metrics.serve.ingestErrors.inc();
      }
      for (const sub of subscriptions) sub.pump();
    },
    error(err: unknown) {
      sourceError = status(grpc.status.UNAVAILABLE, `events$ failed: ${err instanceof Error ? err.message : String(err)}`);
      endOfRun();
    },
    complete() {
      endOfRun();
    },
  });

  // ---- gRPC ---------------------------------------------------------------
  const authorized = (metadata: grpc.Metadata): boolean => {
    if (token === undefined) return true;
    const value = metadata.get('authorization')[0];
    if (typeof value !== 'string') return false;
    const got = Buffer.from(value);
    const want = Buffer.from(`Bearer ${token}`);
    return got.length === want.length && timingSafeEqual(got, want);
  };
  const unauthenticated = () => status(grpc.status.UNAUTHENTICATED, 'missing or wrong bearer token in metadata "authorization"');
  const invalid = (details: string) => status(grpc.status.INVALID_ARGUMENT, details);

  const parseFilter = (req: SubscribeRequest__Output): SubscriptionFilter | string => {
    const start = (req.start as string | number) ?? 'START_AT_UNSPECIFIED';
    if (!['START_AT_UNSPECIFIED', 'START_AT_BEGINNING', 'START_AT_STEP', 'START_AT_LIVE'].includes(start as string)) {
      return `Subscribe: start must be a StartAt value, got ${String(start)}`;
    }
    if (start === 'START_AT_STEP' && !(Number.isInteger(req.fromStep) && req.fromStep >= 0)) {
      return `Subscribe: from_step must be an integer >= 0 with START_AT_STEP, got ${req.fromStep}`;
    }
    if (start !== 'START_AT_STEP' && req.fromStep !== 0) {
      return `Subscribe: from_step is only meaningful with START_AT_STEP, got ${req.fromStep} with ${String(start)}`;
    }
    const kinds = new Set<number>();
    for (const k of req.kinds ?? []) {
      const n = parseKind(k);
      if (n < 1) return `Subscribe: kinds must hold EventKind values other than UNSPECIFIED, got ${String(k)}`;
      kinds.add(n);
    }
    for (const id of req.basisIds ?? []) {
      if (!(Number.isInteger(id) && id >= 0)) return `Subscribe: basis_ids must be integers >= 0, got ${id}`;
    }
    return {
      kinds: kinds.size ? kinds : null,
      basisIds: req.basisIds?.length ? new Set(req.basisIds) : null,
      datapoints: req.datapoints === true,
      fromStep: start === 'START_AT_STEP' ? req.fromStep : undefined,
    };
  };

  const handlers: PolcaHandlers = {
    Subscribe(call) {
      const req = call.request as SubscribeRequest__Output | Malformed;
      if (!authorized(call.metadata)) return void call.emit('error', unauthenticated());
      if (isMalformed(req)) return void call.emit('error', invalid(`Subscribe: ${req.malformed}`));
      if (closing) return void call.emit('error', status(grpc.status.UNAVAILABLE, 'Subscribe: the server is closing'));
      const filter = parseFilter(req);
      if (typeof filter === 'string') return void call.emit('error', invalid(filter));
      // From the run's first event, so that a notice reports what left the history; from_step
      // subscribers are told only when an evicted event could have been at or after their step.
      const startSeq =
        req.start === 'START_AT_LIVE' ? log.end : filter.fromStep !== undefined && log.evictedMaxStep < filter.fromStep ? log.start : 0;
      const sub = new Subscription(call as unknown as grpc.ServerWritableStream<unknown, Buffer>, subscriptionContext, filter, startSeq);
      subscriptions.add(sub);
      metrics.serve.subscribers.set(subscriptions.size);
      // Headers now, not with the first event: a live-only client learns at once that it is subscribed.
      call.sendMetadata(new grpc.Metadata());
      if (sourceEnded) sub.finish(sourceError);
      else sub.pump();
    },
    GetRun(call, callback) {
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(call.request)) return callback(invalid(`GetRun: ${(call.request as Malformed).malformed}`));
      callback(null, runMessage());
    },
    ListClusters(call, callback) {
      const req = call.request;
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(req)) return callback(invalid(`ListClusters: ${req.malformed}`));
      if (req.hasBasisId && !(req.basisId >= -1)) return callback(invalid(`ListClusters: basis_id must be >= -1, got ${req.basisId}`));
      const kind = req.kind || 'polca';
      if (!(TRAJECTORY_KINDS as readonly string[]).includes(kind)) {
        return callback(invalid(`ListClusters: kind must be one of ${TRAJECTORY_KINDS.join(', ')}, got ${JSON.stringify(kind)}`));
      }
      const all = state.allClusters(kind).filter((c) => !req.hasBasisId || c.basisId === req.basisId);
      callback(null, { clusterings: all.map(clustersMessage) });
    },
    GetTrajectories(call, callback) {
      const req = call.request;
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(req)) return callback(invalid(`GetTrajectories: ${req.malformed}`));
      if (!(req.basisId >= 0)) return callback(invalid(`GetTrajectories: basis_id must be >= 0, got ${req.basisId}`));
      let indices: number[];
      if (req.select === 'clusterId') {
        const cluster = state.latestClusters('polca', req.basisId)?.clusters.find((c) => c.id === req.clusterId);
        if (!cluster) {
          return callback(status(grpc.status.NOT_FOUND, `GetTrajectories: no cluster ${req.clusterId} along basis vector ${req.basisId}`));
        }
        indices = Array.from(cluster.members);
      } else if (req.select === 'datapoints') {
        indices = req.datapoints?.indices ?? [];
        if (indices.length === 0) return callback(invalid('GetTrajectories: datapoints.indices must not be empty'));
      } else {
        return callback(invalid('GetTrajectories: set cluster_id or datapoints'));
      }
      if (!trajectories.basisIds().includes(req.basisId)) {
        return callback(status(grpc.status.NOT_FOUND, `GetTrajectories: no polca increments along basis vector ${req.basisId} yet`));
      }
      const n = trajectories.numDatapoints;
      const bad = indices.find((x) => !(Number.isInteger(x) && x >= 0 && x < n));
      if (bad !== undefined) return callback(invalid(`GetTrajectories: datapoint index must lie in [0, ${n}), got ${bad}`));
      const sel = trajectories.select(req.basisId, indices);
      if (!sel) return callback(status(grpc.status.NOT_FOUND, `GetTrajectories: unknown basis vector ${req.basisId}`));
      callback(null, {
        basisId: sel.basisId,
        steps: sel.steps,
        truncated: sel.truncated,
        trajectories: indices.map((x, i) => ({ datapoint: x, values: Array.from(sel.values[i]) })),
      });
    },
  };

  const runMessage = (): Run => {
    const start = state.start ? eventMessage(state.start, 0, { datapoints: false }).runStart : null;
    const end = state.end ? eventMessage(state.end, 0, { datapoints: false }).runEnd : null;
    return {
      name: runName,
      start,
      started: state.start !== undefined,
      ended: state.end !== undefined,
      end,
      lastStep: state.lastStep,
      lastLoss: state.lastLoss,
      checkpoints: state.checkpoints,
      basis: [...basisMessages.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]),
      events: state.events,
      historyFirstSeq: log.start,
      historyEndSeq: log.end,
      transitions: state.transitions,
      alerts: state.alerts,
    };
  };

  let grpcServer: grpc.Server | undefined;
  let health: HealthImplementation | undefined;
  let boundGrpcPort: number | undefined;
  let metricsServer: MetricsServer | undefined;
  let closing: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  try {
    if (grpcOpts) {
      grpcServer = new grpc.Server();
      grpcServer.addService(withTolerantDeserializers(serviceDef), handlers as grpc.UntypedServiceImplementation);
      health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
      health.addToServer(grpcServer);
      const tls = grpcOpts.tls;
      const creds = tls
        ? grpc.ServerCredentials.createSsl(
            tls.ca ? Buffer.from(tls.ca) : null,
            [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
            tls.requireClientCert ?? false,
          )
        : grpc.ServerCredentials.createInsecure();
      const host = grpcOpts.host ?? '127.0.0.1';
      const address = host.includes(':') ? `[${host}]:${grpcPort}` : `${host}:${grpcPort}`;
      const server = grpcServer;
      boundGrpcPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
      );
    }
    if (metricsOpts) {
      metricsServer = await startMetricsServer(metrics.registry, { port: metricsPortAsked, host: metricsOpts.host });
    }
  } catch (err) {
    rx?.unsubscribe();
    grpcServer?.forceShutdown();
    await metricsServer?.close();
    throw new Error(`startServer: could not bind: ${err instanceof Error ? err.message : String(err)}`);
  }
  started = true;
  if (closeWhenStarted) void shutdown(true);

  function endOfRun(): void {
    if (sourceEnded) return;
    sourceEnded = true;
    for (const sub of [...subscriptions]) sub.finish(sourceError);
    if (!(options.closeOnComplete ?? true)) return;
    if (started) void shutdown(true);
    else closeWhenStarted = true;
  }

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
      rx?.unsubscribe();
      health?.setStatus('', 'NOT_SERVING');
      health?.setStatus(SERVICE_NAME, 'NOT_SERVING');
      if (!sourceEnded) {
        // Closed before the run ended: tell subscribers after what they were sent.
        sourceEnded = true;
        for (const sub of [...subscriptions]) sub.finish(status(grpc.status.UNAVAILABLE, 'the polca server is closing'));
      }
      if (subscriptions.size > 0) {
        // Wait while subscribers keep reading; give up on them after drainTimeoutMs without progress.
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout;
          const check = () => {
            const idle = Date.now() - lastProgress;
            if (idle >= drainTimeoutMs) resolve();
            else timer = setTimeout(check, drainTimeoutMs - idle);
          };
          lastProgress = Date.now();
          check();
          allDrained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      for (const sub of [...subscriptions]) sub.abort(status(grpc.status.UNAVAILABLE, 'the polca server closed'));
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

  return {
    grpcPort: boundGrpcPort,
    metricsPort: metricsServer?.port,
    metrics,
    done,
    close,
  };
}

/** Freezes the clusters each vector had when a polca event arrived, so a later full encoding sees the same. */
function snapshotClusters(basisIds: number[], lookup: ClustersLookup): ClustersLookup {
  const snapshot = new Map(basisIds.map((id) => [id, lookup(id)]));
  return (id: number) => snapshot.get(id);
}

/**
 * The service definition with request decoders that report undecodable bytes
 * to the handler (INVALID_ARGUMENT) instead of failing the call with
 * INTERNAL, and a Subscribe encoder that passes pre-encoded events through
 * (each event is encoded once, not once per subscriber).
 */
function withTolerantDeserializers(def: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    const decode = method.requestDeserialize;
    const encode = method.responseSerialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return { malformed: `request does not decode: ${err instanceof Error ? err.message : String(err)}` } satisfies Malformed;
        }
      },
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)),
    };
  }
  return out;
}
