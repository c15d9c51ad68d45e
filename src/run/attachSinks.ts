import * as path from 'node:path';
import { isObservable, Observable, ReplaySubject, Subject, type OperatorFunction } from 'rxjs';
import type { RunWriter, RunWriterFailure, RunWriterResult } from '../sinks/arrow/RunWriter.js';
import { startServer, type PolcaServer, type ServeOptions } from '../serve/startServer.js';
import type { AlertEvent, PolcaEvent } from '../stream/events.js';
import { RunStream } from '../stream/runStream.js';
import { WebhookSink, type WebhookOptions } from '../analysis/webhook.js';
import type { ClusterTracker, ClusterTrackerStats } from '../analysis/clusterTracker.js';
import { nonEmptyString } from '../errors/validate.js';
import { analyze } from './analyze.js';
import { liveAnalysisRecord, resolveLiveAnalysis, writeLiveAnalysis, type LiveAnalysisOptions } from './liveAnalysis.js';
import { eventsOf, recordRun, type RecordableRun, type RecordRunOptions } from './recordRun.js';

/** Where a run's events go besides the caller. */
export interface RunSinksOptions {
  /**
   * Online analysis merged into the stream. With a log or a server, every
   * part is on by default — live clustering within a 5% time budget,
   * transition detection on those clusters, the alert rules — and a part
   * given here is merged over its default (`false` turns it off); see
   * {@link resolveLiveAnalysis}. Without sinks only the parts given run
   * (and the alert rules).
   */
  analysis?: LiveAnalysisOptions;
  /** Log to an Arrow run directory (which also records the live analysis in `analysis/live.json`). */
  log?: { dir: string } & RecordRunOptions;
  /** Serve live over gRPC and/or Prometheus. */
  serve?: Omit<ServeOptions, 'events$'>;
  /**
   * The run's name: the `run` label of every Prometheus series, the name in
   * webhook messages and gRPC `GetRun`. Default: the base name of `log.dir`,
   * else `polca`.
   */
  name?: string;
  /**
   * Send transitions and alerts to a webhook as they happen (retried,
   * rate-limited, never blocking training): `{ webhook: url }`, or
   * `{ webhook: { url, format: 'slack' } }` for a Slack-compatible body
   * (`{ text }`), with any other {@link WebhookOptions}.
   */
  alerts?: { webhook: string | WebhookOptions };
}

/** A sink that stopped on its own: training went on without it. */
export interface SinkFailure {
  /** Which sink: the Arrow log or the server. */
  sink: 'log' | 'serve';
  /** Why it stopped. */
  reason: string;
  /** Events that sink will never have (for the log: not on disk). */
  lostEvents: number;
  /** Last step the run had reached when it stopped (−1 before the first). */
  step: number;
}

/** What {@link RunSinks.close} reports once every sink has ended. */
export interface RunSinksReport {
  /** The log's ending (null without a log). */
  log: RunWriterResult | null;
  /** Every sink that failed during the run, in order. */
  failures: SinkFailure[];
}

/** The attached sinks. */
export interface RunSinks {
  /**
   * The run's events with the analysis merged in: what the sinks see. When
   * the run is a tracker not yet started, this is the tracker's own
   * `events$` (the analysis and sink failures are piped into it), so a run
   * has one stream.
   */
  readonly events$: Observable<PolcaEvent>;
  readonly writer: RunWriter | null;
  readonly server: PolcaServer | null;
  readonly webhook: WebhookSink | null;
  /** The run's name (see {@link RunSinksOptions.name}). */
  readonly name: string;
  /** Time spent on live clustering so far (undefined when it is off); also served as `polca_clustering_seconds_total`. */
  readonly clusterStats: ClusterTrackerStats | undefined;
  /** Sinks that stopped on an error, as they happen (replayed to late subscribers; completes when the sinks have ended). Each also reaches the stream as an `alert` event with rule `sink-failed`. */
  readonly failures$: Observable<SinkFailure>;
  /** Resolves with the {@link RunSinksReport} when the log is closed, the server has shut down and the webhook has drained (after the run ends, or after {@link close}). Never rejects. */
  readonly closed: Promise<RunSinksReport>;
  /** Ends every sink now, whether or not the run has ended, and resolves like {@link closed}. Idempotent. */
  close(): Promise<RunSinksReport>;
}

/**
 * Connects a run (a tracker, or a stream of events) to the analysis, the
 * Arrow log, the servers and a webhook, in the one direction data flows:
 * tracker → events → analysis → sinks. With a tracker, call it before the
 * first `step`: the analysis becomes part of the tracker's own `events$`.
 *
 * No sink can stop training: a sink that fails (an unwritable directory, a
 * full disk, a crashed server) stops itself, an `alert` event with rule
 * `sink-failed` says so in the stream, {@link RunSinks.failures$} carries it,
 * and a log that failed is marked `failed` in its run.json.
 *
 * @example
 * ```ts
 * const sinks = await attachSinks(tracker, { log: { dir: 'runs/a' }, serve: { grpc: { port: 0 }, metrics: { port: 0 } } });
 * console.log('gRPC on', sinks.server?.grpcPort);
 * // … train, then:
 * await tracker.close();
 * const { failures } = await sinks.closed;
 * ```
 */
export async function attachSinks(run: RecordableRun, options: RunSinksOptions = {}): Promise<RunSinks> {
  if (!isObservable(run) && !isObservable(run?.events$)) {
    throw new TypeError(`attachSinks: argument 'run' must be a tracker or an Observable of events, got ${typeof run}`);
  }
  const hasSinks = options.log !== undefined || options.serve !== undefined || options.alerts !== undefined;
  const resolved = resolveLiveAnalysis(options.analysis, { sinks: hasSinks });
  const name = options.name ?? (options.log ? path.basename(path.resolve(options.log.dir)) : 'polca');
  nonEmptyString('attachSinks', 'name', name);
  const hookOptions = options.alerts?.webhook;
  if (options.alerts && hookOptions === undefined) throw new TypeError("attachSinks: option 'alerts' must be { webhook: url }, got an object without 'webhook'");

  // The analysis and the sinks' failures join the run's stream as one stage.
  let clusterTracker: ClusterTracker | undefined;
  const failureAlerts = new Subject<AlertEvent>();
  const failures = new ReplaySubject<SinkFailure>();
  const failureList: SinkFailure[] = [];
  let lastStep = -1;
  const stage: OperatorFunction<PolcaEvent, PolcaEvent> = (source) =>
    analyze(withFailureAlerts(source, failureAlerts), resolved, { onClusterTracker: (t) => (clusterTracker = t) });
  let events$: Observable<PolcaEvent>;
  if (!isObservable(run) && run.pipeEvents) {
    run.pipeEvents(stage);
    events$ = run.events$;
  } else {
    events$ = new RunStream(stage(eventsOf(run)));
  }
  events$.subscribe({ next: (e) => void ('step' in e && typeof e.step === 'number' && (lastStep = Math.max(lastStep, e.step))), error: () => undefined });
  const reportFailure = (f: Omit<SinkFailure, 'step'>) => {
    const failure = { ...f, step: lastStep };
    failureList.push(failure);
    failures.next(failure);
    failureAlerts.next({
      type: 'alert',
      time: Date.now(),
      step: lastStep,
      rule: 'sink-failed',
      message: `polca ${f.sink} stopped: ${f.reason} (${f.lostEvents} events lost); training goes on`,
      value: f.lostEvents,
    });
  };

  const webhook = hookOptions === undefined ? null : new WebhookSink({ run: name, ...(typeof hookOptions === 'string' ? { url: hookOptions } : hookOptions) });
  let writer: RunWriter | null = null;
  if (options.log) {
    const { dir, ...rest } = options.log;
    const source: RecordableRun = isObservable(run) ? events$ : { events$, addEventFields: run.addEventFields?.bind(run) };
    writer = recordRun(source, dir, {
      ...rest,
      onFailure: (f: RunWriterFailure) => {
        rest.onFailure?.(f);
        reportFailure({ sink: 'log', reason: f.reason, lostEvents: f.lostEvents });
      },
    });
    const record = liveAnalysisRecord(resolved);
    // At run-start, after the writer made the directory, so that a directory it refused is left alone.
    events$.subscribe({
      next: (e) => {
        if (e.type !== 'run-start') return;
        try {
          writeLiveAnalysis(dir, record);
        } catch {
          // The post-hoc commands then use their defaults; the log reports its own failures.
        }
      },
      error: () => undefined,
    });
  }
  let server: PolcaServer | null = null;
  try {
    if (options.serve) {
      const { metrics, ...serve } = options.serve;
      // /metrics answers 30 s more after the run (without holding the process), for the last scrapes.
      server = await startServer({ run: name, ...serve, metrics: metrics && { lingerSeconds: 30, ...metrics }, events$ });
    }
  } catch (e) {
    writer?.abort(e);
    throw e;
  }
  server?.metrics.watchClustering(() => clusterTracker?.stats);
  const srv = server;
  void srv?.failed.then((err) => {
    if (err) reportFailure({ sink: 'serve', reason: err.message, lostEvents: srv.droppedEvents });
  });
  let hookDone: Promise<void> | undefined;
  if (webhook) {
    hookDone = new Promise<void>((resolve) => {
      const end = () => void webhook.close().then(resolve);
      events$.subscribe({ next: (e) => void webhook.write(e), error: end, complete: end });
    });
  }
  const w = writer;
  // closed rejects only after abort() (the run's stream failed, or an event could not be stored): that ending is reported, not thrown.
  const logDone: Promise<RunWriterResult | null> = w
    ? w.closed.catch((): RunWriterResult => ({ status: 'aborted', committedEvents: w.committedEvents, lostEvents: w.acceptedEvents - w.committedEvents, failure: w.failure }))
    : Promise.resolve(null);
  const closed: Promise<RunSinksReport> = Promise.all([logDone, server?.done.catch(() => undefined), hookDone]).then(([log]) => {
    failures.complete();
    failureAlerts.complete();
    return { log, failures: [...failureList] };
  });
  let closing: Promise<RunSinksReport> | null = null;
  return {
    events$,
    writer,
    server,
    webhook,
    name,
    closed,
    failures$: failures.asObservable(),
    get clusterStats() {
      return clusterTracker?.stats;
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([writer?.close(), server?.close(), webhook?.close()]);
        return closed;
      })();
      return closing;
    },
  };
}

/** The source's events, with the sink-failure alerts interleaved as they happen; ends with the source. */
function withFailureAlerts(source: Observable<PolcaEvent>, alerts: Observable<AlertEvent>): Observable<PolcaEvent> {
  return new Observable<PolcaEvent>((subscriber) => {
    let ended = false;
    const a = alerts.subscribe((e) => {
      if (!ended) subscriber.next(e);
    });
    const s = source.subscribe({
      next: (e) => {
        if (e.type === 'run-end') ended = true;
        subscriber.next(e);
      },
      error: (e) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
    return () => {
      a.unsubscribe();
      s.unsubscribe();
    };
  });
}
