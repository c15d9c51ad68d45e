/**
 * The `polca.v1.Polca` gRPC service over a {@link RunView}, installable on
 * any `grpc.Server`.
 *
 * @packageDocumentation
 */
import * as grpc from '@grpc/grpc-js';
import { TRAJECTORY_KINDS } from '../analysis/trajectories.js';
import { numberIn, positiveInt } from '../errors/validate.js';
import type { Event } from './generated/polca/v1/Event.js';
import type { PolcaHandlers } from './generated/polca/v1/Polca.js';
import type { SubscribeRequest__Output } from './generated/polca/v1/SubscribeRequest.js';
import type { LogRecord } from './eventLog.js';
import { clustersMessage, eventMessage, parseKind } from './eventMessage.js';
import { bearerCheck } from './bearerToken.js';
import { loadPolcaProto } from './polcaProto.js';
import type { PolcaMetrics } from './polcaMetrics.js';
import type { RunView, SourceEnd } from './runView.js';
import { Subscription, type SubscriptionFilter } from './subscription.js';
import { type Malformed, isMalformed, tolerantService } from './tolerantService.js';
import { quote, resolveLimits, unique, type RequestLimits } from './requestLimits.js';
import type { GetTrajectoriesRequest__Output } from './generated/polca/v1/GetTrajectoriesRequest.js';
import type { Trajectories } from './generated/polca/v1/Trajectories.js';

/** Options of {@link addToServer}. */
export interface PolcaServiceOptions {
  /** When set, every polca.v1 call needs metadata `authorization: Bearer <token>`. */
  token?: string;
  /** Most events a subscriber may lag behind the live head before the oldest are skipped. Default 4096. */
  subscriberMaxLag?: number;
  /**
   * At run end or `close()`, subscribers still reading get their pending
   * events; they are dropped once none has drained a write for this long.
   * Default 5000 ms.
   */
  drainTimeoutMs?: number;
  /** Serving counters to feed (subscribers, lost events), e.g. a {@link MetricsSink}'s `metrics.serve`. */
  metrics?: Pick<PolcaMetrics['serve'], 'subscribers' | 'lostEvents'>;
  /** Bounds on the work of one request; see {@link RequestLimits}. */
  limits?: RequestLimits;
}

/** The service installed by {@link addToServer}. */
export interface PolcaService {
  /** Open `Subscribe` streams. */
  readonly subscribers: number;
  /**
   * Stops accepting subscriptions, ends the open ones after their pending
   * events (UNAVAILABLE when the run had not ended) and resolves once they
   * drained or `drainTimeoutMs` passed without progress; idempotent. The
   * grpc.Server itself is yours to shut down.
   */
  close(): Promise<void>;
}

/** The full name of the service, as the health service knows it. */
export const POLCA_SERVICE_NAME = 'polca.v1.Polca';

function status(code: grpc.status, details: string): grpc.StatusObject {
  return { code, details, metadata: new grpc.Metadata() };
}

function endStatus(end: SourceEnd): grpc.StatusObject | undefined {
  return end.ok ? undefined : status(grpc.status.UNAVAILABLE, `events$ failed: ${end.message}`);
}

/**
 * Installs `polca.v1.Polca` (`Subscribe`, `GetRun`, `ListClusters`,
 * `GetTrajectories`, `StreamTrajectories`) for the run `view` holds onto `server`, a
 * `grpc.Server` you created and bind yourself (with your own credentials,
 * interceptors and other services).
 *
 * With a token, polca calls without `authorization: Bearer <token>` fail
 * with UNAUTHENTICATED; undecodable or inconsistent requests fail with
 * INVALID_ARGUMENT. The work of one request is bounded by `limits`
 * ({@link RequestLimits}): repeated datapoint indices are answered once,
 * requests beyond a limit fail with RESOURCE_EXHAUSTED naming it, and error
 * details quote at most 64 characters of a client's value. Large trajectory
 * reads go through `StreamTrajectories`, in pages. See {@link Subscription}
 * for the slow-client policy.
 * When the view's run ends, subscribers receive everything still pending and
 * their streams end with OK (UNAVAILABLE when the source failed).
 *
 * @example
 * ```ts
 * const server = new grpc.Server();
 * const view = new RunView({ run: 'mnist' });
 * const polca = addToServer(server, view, { token: process.env.POLCA_TOKEN });
 * view.follow(tracker.events$);
 * server.bindAsync('127.0.0.1:50051', grpc.ServerCredentials.createInsecure(), () => {});
 * // … at the end
 * await polca.close();
 * server.tryShutdown(() => {});
 * ```
 */
export function addToServer(server: grpc.Server, view: RunView, options: PolcaServiceOptions = {}): PolcaService {
  const fn = 'addToServer';
  const maxLag = positiveInt(fn, 'subscriberMaxLag', options.subscriberMaxLag ?? 4096);
  const drainTimeoutMs = numberIn(fn, 'drainTimeoutMs', options.drainTimeoutMs ?? 5000, 0, 2 ** 31 - 1);
  const authorized = bearerCheck(fn, options.token);
  const limits = resolveLimits(fn, options.limits);
  const counters = options.metrics;
  const log = view.log;
  const state = view.state;
  const trajectories = view.trajectories;
  const serviceDef = loadPolcaProto().polca.v1.Polca.service;
  const serializeEvent = serviceDef.Subscribe.responseSerialize as (value: Event) => Buffer;

  const subscriptions = new Set<Subscription>();
  let lastProgress = 0;
  let allDrained: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  /** Set when the run ended or the service closes: new subscribers get the rest and this status. */
  let ended: { error?: grpc.StatusObject } | undefined = view.sourceEnd && { error: endStatus(view.sourceEnd) };

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
    // Encoded once per event (and per detail level), shared by every subscriber.
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
    onLost: (n: number) => counters?.lostEvents.inc(n),
    onProgress: () => {
      lastProgress = Date.now();
    },
    onClosed: (sub: Subscription) => {
      if (subscriptions.delete(sub)) counters?.subscribers.set(subscriptions.size);
      if (ended && subscriptions.size === 0) allDrained?.();
    },
  };

  const pumpAll = (): void => {
    for (const sub of subscriptions) sub.pump();
  };
  const unlisten = view.listen({
    event: pumpAll,
    gap: pumpAll,
    end: (end) => {
      if (ended) return;
      ended = { error: endStatus(end) };
      for (const sub of [...subscriptions]) sub.finish(ended.error);
    },
  });

  const unauthenticated = () => status(grpc.status.UNAUTHENTICATED, 'missing or wrong bearer token in metadata "authorization"');
  const invalid = (details: string) => status(grpc.status.INVALID_ARGUMENT, details);
  const exhausted = (details: string) => status(grpc.status.RESOURCE_EXHAUSTED, details);
  const refused = (method: string, req: Malformed) => status(req.code, `${method}: ${req.malformed}`);

  /** The validated selection of a trajectory request, or the status to answer with. */
  const selection = (method: string, req: GetTrajectoriesRequest__Output): { basisId: number; indices: number[] } | grpc.StatusObject => {
    if (!(req.basisId >= 0)) return invalid(`${method}: basis_id must be >= 0, got ${req.basisId}`);
    let indices: number[];
    if (req.select === 'clusterId') {
      const cluster = state.latestClusters('polca', req.basisId)?.clusters.find((c) => c.id === req.clusterId);
      if (!cluster) return status(grpc.status.NOT_FOUND, `${method}: no cluster ${req.clusterId} along basis vector ${req.basisId}`);
      indices = Array.from(cluster.members);
    } else if (req.select === 'datapoints') {
      const asked = req.datapoints?.indices ?? [];
      if (asked.length === 0) return invalid(`${method}: datapoints.indices must not be empty`);
      if (asked.length > limits.maxIndices) {
        return exhausted(`${method}: datapoints.indices has ${asked.length} entries, more than the limit maxIndices = ${limits.maxIndices}`);
      }
      indices = unique(asked);
    } else {
      return invalid(`${method}: set cluster_id or datapoints`);
    }
    if (!trajectories.basisIds().includes(req.basisId)) {
      return status(grpc.status.NOT_FOUND, `${method}: no polca increments along basis vector ${req.basisId} yet`);
    }
    const n = trajectories.numDatapoints;
    const bad = indices.find((x) => !(Number.isInteger(x) && x >= 0 && x < n));
    if (bad !== undefined) return invalid(`${method}: datapoint index must lie in [0, ${n}), got ${bad}`);
    return { basisId: req.basisId, indices };
  };

  /** Upper bound of the encoded bytes of `count` curves of `points` values each, with the steps. */
  const trajectoryBytes = (count: number, points: number) => 16 + 11 * points + count * (16 + 4 * points);

  const trajectoriesMessage = (basisId: number, indices: number[], from: number, to: number): Trajectories | undefined => {
    const sel = trajectories.select(basisId, indices, from, to);
    if (!sel) return undefined;
    return {
      basisId: sel.basisId,
      steps: sel.steps,
      truncated: sel.truncated,
      trajectories: sel.values.map((values, i) => ({ datapoint: indices[from + i], values: Array.from(values) })),
    };
  };

  const parseFilter = (req: SubscribeRequest__Output): SubscriptionFilter | string | { exhausted: string } => {
    const start = (req.start as string | number) ?? 'START_AT_UNSPECIFIED';
    if (!['START_AT_UNSPECIFIED', 'START_AT_BEGINNING', 'START_AT_STEP', 'START_AT_LIVE'].includes(start as string)) {
      return `Subscribe: start must be a StartAt value, got ${quote(start)}`;
    }
    if (start === 'START_AT_STEP' && !(Number.isInteger(req.fromStep) && req.fromStep >= 0)) {
      return `Subscribe: from_step must be an integer >= 0 with START_AT_STEP, got ${req.fromStep}`;
    }
    if (start !== 'START_AT_STEP' && req.fromStep !== 0) {
      return `Subscribe: from_step is only meaningful with START_AT_STEP, got ${req.fromStep} with ${String(start)}`;
    }
    if ((req.kinds?.length ?? 0) > limits.maxKinds) {
      return { exhausted: `Subscribe: kinds has ${req.kinds.length} entries, more than the limit maxKinds = ${limits.maxKinds}` };
    }
    if ((req.basisIds?.length ?? 0) > limits.maxBasisIds) {
      return { exhausted: `Subscribe: basis_ids has ${req.basisIds.length} entries, more than the limit maxBasisIds = ${limits.maxBasisIds}` };
    }
    const kinds = new Set<number>();
    for (const k of req.kinds ?? []) {
      const n = parseKind(k);
      if (n < 1) return `Subscribe: kinds must hold EventKind values other than UNSPECIFIED, got ${quote(k)}`;
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

  /** Runs `answer` once the view holds every event sent before the request (at once in the feeding thread). */
  const afterCatchUp = (answer: () => void): void => {
    const waiting = view.caughtUp();
    if (waiting) void waiting.then(answer);
    else answer();
  };

  const handlers: PolcaHandlers = {
    Subscribe(call) {
      const req = call.request as SubscribeRequest__Output | Malformed;
      if (!authorized(call.metadata)) return void call.emit('error', unauthenticated());
      if (isMalformed(req)) return void call.emit('error', refused('Subscribe', req));
      if (closing) return void call.emit('error', status(grpc.status.UNAVAILABLE, 'Subscribe: the server is closing'));
      const filter = parseFilter(req);
      if (typeof filter === 'string') return void call.emit('error', invalid(filter));
      if ('exhausted' in filter) return void call.emit('error', exhausted(filter.exhausted));
      // From the run's first event, so that a notice reports what left the history; from_step
      // subscribers are told only when an evicted event could have been at or after their step.
      const startSeq =
        req.start === 'START_AT_LIVE' ? log.end : filter.fromStep !== undefined && log.evictedMaxStep < filter.fromStep ? log.start : 0;
      const sub = new Subscription(call as unknown as grpc.ServerWritableStream<unknown, Buffer>, subscriptionContext, filter, startSeq);
      subscriptions.add(sub);
      counters?.subscribers.set(subscriptions.size);
      // Headers now, not with the first event: a live-only client learns at once that it is subscribed.
      call.sendMetadata(new grpc.Metadata());
      if (ended) sub.finish(ended.error);
      else sub.pump();
    },
    GetRun(call, callback) {
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(call.request)) return callback(refused('GetRun', call.request));
      afterCatchUp(() => callback(null, view.runMessage()));
    },
    ListClusters(call, callback) {
      const req = call.request;
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(req)) return callback(refused('ListClusters', req));
      if (req.hasBasisId && !(req.basisId >= -1)) return callback(invalid(`ListClusters: basis_id must be >= -1, got ${req.basisId}`));
      const kind = req.kind || 'polca';
      if (!(TRAJECTORY_KINDS as readonly string[]).includes(kind)) {
        return callback(invalid(`ListClusters: kind must be one of ${TRAJECTORY_KINDS.join(', ')}, got ${quote(kind)}`));
      }
      afterCatchUp(() => {
        const all = state.allClusters(kind).filter((c) => !req.hasBasisId || c.basisId === req.basisId);
        callback(null, { clusterings: all.map(clustersMessage) });
      });
    },
    GetTrajectories(call, callback) {
      const req = call.request;
      if (!authorized(call.metadata)) return callback(unauthenticated());
      if (isMalformed(req)) return callback(refused('GetTrajectories', req));
      afterCatchUp(() => getTrajectories(req, callback));
    },
    StreamTrajectories(call) {
      const req = call.request;
      if (!authorized(call.metadata)) return void call.emit('error', unauthenticated());
      if (isMalformed(req)) return void call.emit('error', refused('StreamTrajectories', req));
      afterCatchUp(() => streamTrajectories(call));
    },
  };

  const getTrajectories = (req: GetTrajectoriesRequest__Output, callback: grpc.sendUnaryData<Trajectories>): void => {
    const sel = selection('GetTrajectories', req);
    if ('code' in sel) return callback(sel);
    const points = trajectories.length(sel.basisId);
    const bytes = trajectoryBytes(sel.indices.length, points);
    if (bytes > limits.maxResponseBytes) {
      return callback(
        exhausted(
          `GetTrajectories: ${sel.indices.length} curves of ${points} points would take up to ${bytes} bytes, more than the limit ` +
            `maxResponseBytes = ${limits.maxResponseBytes}; StreamTrajectories sends them in pages`,
        ),
      );
    }
    const message = trajectoriesMessage(sel.basisId, sel.indices, 0, sel.indices.length);
    if (!message) return callback(status(grpc.status.NOT_FOUND, `GetTrajectories: unknown basis vector ${sel.basisId}`));
    callback(null, message);
  };

  const streamTrajectories = (call: grpc.ServerWritableStream<GetTrajectoriesRequest__Output, Trajectories>): void => {
    const sel = selection('StreamTrajectories', call.request);
    if ('code' in sel) return void call.emit('error', sel);
    const { basisId, indices } = sel;
    let next = 0;
    let gone = false;
    const stop = () => {
      gone = true;
    };
    call.on('cancelled', stop);
    call.on('error', stop);
    // One page per turn of the event loop, and only once the client read the last one:
    // a large read neither piles up in memory nor holds up other calls.
    const writePage = (): void => {
      if (gone) return;
      if (next >= indices.length) {
        call.off('cancelled', stop);
        call.off('error', stop);
        return void call.end();
      }
      const points = trajectories.length(basisId);
      const perPage = Math.max(1, Math.floor((limits.maxResponseBytes - trajectoryBytes(0, points)) / (16 + 4 * points)));
      const to = Math.min(indices.length, next + perPage);
      const page = trajectoriesMessage(basisId, indices, next, to);
      if (!page) return void call.emit('error', status(grpc.status.NOT_FOUND, `StreamTrajectories: unknown basis vector ${basisId}`));
      next = to;
      if (call.write(page)) setImmediate(writePage);
      else call.once('drain', writePage);
    };
    writePage();
  };

  // A datapoint index takes at most 11 bytes on the wire (tag and negative varint), so larger requests could only exceed maxIndices.
  const maxTrajectoryRequest = { bytes: 64 + 11 * limits.maxIndices, why: `a request within the limit maxIndices = ${limits.maxIndices} can take` };
  server.addService(
    tolerantService(serviceDef, { GetTrajectories: maxTrajectoryRequest, StreamTrajectories: maxTrajectoryRequest }),
    handlers as grpc.UntypedServiceImplementation,
  );

  function close(): Promise<void> {
    closing ??= (async () => {
      unlisten();
      if (!ended) {
        // Closed before the run ended: tell subscribers after what they were sent.
        ended = { error: status(grpc.status.UNAVAILABLE, 'the polca server is closing') };
        for (const sub of [...subscriptions]) sub.finish(ended.error);
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
    })();
    return closing;
  }

  return {
    get subscribers() {
      return subscriptions.size;
    },
    close,
  };
}
