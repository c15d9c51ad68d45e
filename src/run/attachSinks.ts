import * as path from 'node:path';
import type { Observable } from 'rxjs';
import type { RunWriter } from '../sinks/arrow/RunWriter.js';
import { startServer, type PolcaServer, type ServeOptions } from '../serve/startServer.js';
import type { PolcaEvent } from '../stream/events.js';
import { WebhookSink, type WebhookOptions } from '../analysis/webhook.js';
import type { ClusterTracker, ClusterTrackerStats } from '../analysis/clusterTracker.js';
import { analyze } from './analyze.js';
import { liveAnalysisRecord, resolveLiveAnalysis, writeLiveAnalysis, type LiveAnalysisOptions } from './liveAnalysis.js';
import { recordRun, type RecordableRun, type RecordRunOptions } from './recordRun.js';

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

/** The attached sinks. */
export interface RunSinks {
  /** The run's events with the analysis merged in: what the sinks see. */
  readonly events$: Observable<PolcaEvent>;
  readonly writer: RunWriter | null;
  readonly server: PolcaServer | null;
  readonly webhook: WebhookSink | null;
  /** The run's name (see {@link RunSinksOptions.name}). */
  readonly name: string;
  /** Time spent on live clustering so far (undefined when it is off); also served as `polca_clustering_seconds_total`. */
  readonly clusterStats: ClusterTrackerStats | undefined;
  /** Resolves when the log is closed, the server has shut down and the webhook has drained (after the run ends). */
  readonly closed: Promise<void>;
}

/**
 * Connects a run (a tracker, or a callback's tracker) to the analysis, the
 * Arrow log, the servers and a webhook, in the one direction data flows:
 * tracker → events → analysis → sinks. Call before the first `step`.
 *
 * @example
 * ```ts
 * const sinks = await attachSinks(tracker, { log: { dir: 'runs/a' }, serve: { grpc: { port: 0 }, metrics: { port: 0 } } });
 * console.log('gRPC on', sinks.server?.grpcPort);
 * // … train, then:
 * await tracker.close();
 * await sinks.closed;
 * ```
 */
export async function attachSinks(run: RecordableRun, options: RunSinksOptions = {}): Promise<RunSinks> {
  const hasSinks = options.log !== undefined || options.serve !== undefined || options.alerts !== undefined;
  const resolved = resolveLiveAnalysis(options.analysis, { sinks: hasSinks });
  let clusterTracker: ClusterTracker | undefined;
  const events$ = analyze(run.events$, resolved, { onClusterTracker: (t) => (clusterTracker = t) });
  const name = options.name ?? (options.log ? path.basename(path.resolve(options.log.dir)) : 'polca');
  if (typeof name !== 'string' || name.length === 0) throw new TypeError(`attachSinks: option name must be a non-empty string, got ${JSON.stringify(name)}`);
  const hookOptions = options.alerts?.webhook;
  if (options.alerts && hookOptions === undefined) throw new TypeError('attachSinks: option alerts needs { webhook: url }');
  const webhook = hookOptions === undefined ? null : new WebhookSink({ run: name, ...(typeof hookOptions === 'string' ? { url: hookOptions } : hookOptions) });
  const source: RecordableRun = {
    events$,
    get basisVectors() {
      return run.basisVectors;
    },
    readTheta: () => run.readTheta(),
  };
  let writer: RunWriter | null = null;
  if (options.log) {
    const { dir, ...rest } = options.log;
    writer = recordRun(source, dir, rest);
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
  let hookDone: Promise<void> | undefined;
  if (webhook) {
    hookDone = new Promise<void>((resolve) => {
      const end = () => void webhook.close().then(resolve);
      events$.subscribe({ next: (e) => void webhook.write(e), error: end, complete: end });
    });
  }
  const closed = Promise.all([writer?.closed, server?.done, hookDone]).then(() => undefined);
  return {
    events$,
    writer,
    server,
    webhook,
    name,
    closed,
    get clusterStats() {
      return clusterTracker?.stats;
    },
  };
}
