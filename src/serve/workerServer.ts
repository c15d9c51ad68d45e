/**
 * The training thread's side of a server running in a worker thread.
 *
 * @packageDocumentation
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { Observable, Subscription } from 'rxjs';
import type { PolcaEvent } from '../stream/events.js';
import { positiveInt } from '../errors/validate.js';
import { packEvent } from './eventTransfer.js';
import { EVENT_KIND_COUNT, kindNumber } from './eventMessage.js';
import { createPolcaMetrics, type PolcaMetrics } from './polcaMetrics.js';
import type { FromWorker, ToWorker, WorkerInput } from './serveWorker.js';
import type { ComposeOptions } from './composeServer.js';
import type { ServeOptions } from './serveOptions.js';

/** What {@link startWorkerServer} returns, before {@link startServer} shapes it. */
export interface WorkerServer {
  grpcPort: number | undefined;
  metricsPort: number | undefined;
  metrics: PolcaMetrics;
  done: Promise<void>;
  failed: Promise<Error | undefined>;
  droppedEvents(): number;
  close(): Promise<void>;
}

/**
 * How the worker module is loaded: the compiled `.js` directly; from the
 * TypeScript sources (tests, `tsx`), through tsx's loader registered in the
 * worker first.
 */
function spawnWorker(input: WorkerInput, resourceLimits: ResourceLimits | undefined): Worker {
  const url = new URL(import.meta.url.endsWith('.ts') ? './serveWorker.ts' : './serveWorker.js', import.meta.url);
  if (url.pathname.endsWith('.js')) return new Worker(url, { workerData: input, resourceLimits });
  const tsx = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(code, { eval: true, workerData: input, resourceLimits });
}

/**
 * Starts the servers in a worker thread and feeds it `events$` through a
 * bounded channel: each event's typed arrays are copied once and moved to
 * the worker; when more than `maxQueuedEvents` events or `maxQueuedBytes`
 * bytes are in flight (the worker is not keeping up), newer events are
 * dropped and counted instead of queued without bound; the worker records
 * each run of dropped events as a gap, which subscribers receive as a `Lost`
 * notice (reason `server-behind`) with its counts by kind. The worker
 * encodes each event once for all its subscribers.
 *
 * A crash or out-of-memory of the worker resolves `failed` with the error
 * (it never rejects), stops the feed and resolves `done`; the training
 * thread carries on.
 */
export async function startWorkerServer(events$: Observable<PolcaEvent>, options: ComposeOptions & { worker?: ServeOptions['worker'] }): Promise<WorkerServer> {
  const { worker: workerOpts, ...compose } = options;
  const maxQueuedEvents = positiveInt('startServer', 'worker.maxQueuedEvents', workerOpts?.maxQueuedEvents ?? 100_000);
  const maxQueuedKiB = Math.ceil(positiveInt('startServer', 'worker.maxQueuedBytes', workerOpts?.maxQueuedBytes ?? 256 * 2 ** 20, 1024) / 1024);
  const warmUp = workerOpts?.warmUp ?? true;
  if (typeof warmUp !== 'boolean') throw new TypeError(`startServer: option 'worker.warmUp' must be a boolean, got ${JSON.stringify(warmUp)}`);
  const shared = new SharedArrayBuffer(12);
  const ingested = new Int32Array(shared);
  const worker = spawnWorker({ options: compose, ingested: shared, warmUp }, workerOpts?.resourceLimits);

  let sentEvents = 0;
  let sentKiB = 0;
  let dropped = 0;
  // Dropped since the last message, by kind: the worker records them as a gap before the next event.
  let droppedByKind: number[] | undefined;
  const reportDropped = () => {
    if (!droppedByKind) return;
    post({ type: 'dropped', byKind: droppedByKind });
    droppedByKind = undefined;
  };
  let dead = false;
  const post = (m: ToWorker, transfer?: ArrayBuffer[]) => {
    if (!dead) worker.postMessage(m, transfer);
  };

  let resolveFailed!: (e: Error | undefined) => void;
  const failed = new Promise<Error | undefined>((r) => (resolveFailed = r));
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  let ready: ((m: Extract<FromWorker, { type: 'ready' }>) => void) | undefined;
  let startFailed: ((e: Error) => void) | undefined;
  const pending = new Map<number, (m: Extract<FromWorker, { type: 'counts' }>) => void>();
  let lastCounts = { subscribers: 0, lostEvents: 0, ingestErrors: 0 };
  let closing: Promise<void> | undefined;
  let source: Subscription | undefined;

  const fail = (err: Error): void => {
    if (dead) return;
    dead = true;
    source?.unsubscribe();
    for (const resolve of pending.values()) resolve({ type: 'counts', id: -1, ...lastCounts });
    pending.clear();
    startFailed?.(err);
    resolveFailed(err);
    resolveDone();
    resolveClosed();
  };
  worker.on('message', (m: FromWorker) => {
    if (m.type === 'ready') ready?.(m);
    else if (m.type === 'start-failed') startFailed?.(new Error(m.message));
    else if (m.type === 'counts') {
      lastCounts = m;
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    } else if (m.type === 'done') {
      resolveDone();
      // The thread must not hold the process; a lingering /metrics still answers while it runs.
      worker.unref();
      const linger = setTimeout(() => void close(), 1000 * (compose.metrics?.lingerSeconds ?? 0));
      linger.unref();
    } else if (m.type === 'closed') {
      dead = true;
      resolveFailed(undefined);
      resolveDone();
      resolveClosed();
    }
  });
  // 'error' carries uncaught exceptions and ERR_WORKER_OUT_OF_MEMORY; 'exit' anything else unexpected.
  worker.on('error', (err) => fail(err instanceof Error ? err : new Error(String(err))));
  worker.on('exit', (code) => fail(new Error(`the polca server's worker thread exited with code ${code}`)));

  let clusteringStats: Parameters<PolcaMetrics['watchClustering']>[0] | undefined;
  // Subscribed before the worker is up: a hot stream loses nothing (messages queue in the port).
  source = events$.subscribe({
    next(e) {
      if (dead) return;
      const inFlight = sentEvents - Atomics.load(ingested, 0);
      const inFlightKiB = sentKiB - Atomics.load(ingested, 1);
      if (inFlight >= maxQueuedEvents || inFlightKiB >= maxQueuedKiB) {
        dropped++;
        (droppedByKind ??= new Array<number>(EVENT_KIND_COUNT).fill(0))[kindNumber(e.type)]++;
        return;
      }
      reportDropped();
      // Clustering counters travel with the clusterings (and the run's end), so a scrape that sees one sees the other.
      if (clusteringStats && (e.type === 'clusters' || e.type === 'run-end')) post({ type: 'clustering', stats: clusteringStats() });
      const packed = packEvent(e);
      sentEvents++;
      sentKiB += Math.ceil(packed.bytes / 1024);
      post({ type: 'event', event: packed.event, bytes: packed.bytes }, packed.transfer);
      Atomics.store(ingested, 2, sentEvents);
    },
    error(err: unknown) {
      reportDropped();
      post({ type: 'end', error: err instanceof Error ? err.message : String(err) });
    },
    complete() {
      reportDropped();
      post({ type: 'end' });
    },
  });

  const started = await new Promise<Extract<FromWorker, { type: 'ready' }>>((resolve, reject) => {
    ready = resolve;
    startFailed = reject;
  }).catch(async (err: Error) => {
    source?.unsubscribe();
    dead = true;
    await worker.terminate();
    throw err;
  });
  startFailed = undefined;

  // The training thread's view of the metrics: the serving counters, read from the worker when collected.
  const metrics = createPolcaMetrics({ run: compose.run, maxBases: compose.metrics?.maxBases, maxClustersPerBasis: compose.metrics?.maxClustersPerBasis });
  let nextId = 0;
  const counts = () =>
    dead
      ? Promise.resolve(lastCounts)
      : new Promise<typeof lastCounts>((resolve) => {
          const id = nextId++;
          pending.set(id, resolve);
          post({ type: 'counts', id });
        });
  const mirror = (metric: object, set: (c: typeof lastCounts, m: { set?(v: number): void; reset(): void; inc?(v: number): void }) => void) => {
    (metric as { collect?: () => Promise<void> }).collect = async function (this: { set?(v: number): void; reset(): void; inc?(v: number): void }) {
      set(await counts(), this);
    };
  };
  mirror(metrics.serve.subscribers, (c, m) => m.set!(c.subscribers));
  mirror(metrics.serve.lostEvents, (c, m) => (m.reset(), m.inc!(c.lostEvents)));
  mirror(metrics.serve.ingestErrors, (c, m) => (m.reset(), m.inc!(c.ingestErrors)));
  metrics.watchClustering = (stats) => {
    clusteringStats = stats;
    // The clustering runs on the training thread; its counters are sent with every clustering, and once a second.
    const timer = setInterval(() => post({ type: 'clustering', stats: stats() }), 1000);
    timer.unref();
    void done.then(() => clearInterval(timer));
  };

  function close(): Promise<void> {
    closing ??= (async () => {
      source?.unsubscribe();
      if (dead) return;
      post({ type: 'close' });
      await closed;
    })();
    return closing;
  }

  return {
    grpcPort: started.grpcPort,
    metricsPort: started.metricsPort,
    metrics,
    done,
    failed,
    droppedEvents: () => dropped,
    close,
  };
}
