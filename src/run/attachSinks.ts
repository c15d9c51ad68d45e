import type { Observable } from 'rxjs';
import type { RunWriter } from '../sinks/arrow/RunWriter.js';
import { startServer, type PolcaServer, type ServeOptions } from '../serve/startServer.js';
import type { PolcaEvent } from '../stream/events.js';
import { analyze, type AnalyzeOptions } from './analyze.js';
import { recordRun, type RecordableRun, type RecordRunOptions } from './recordRun.js';

/** Where a run's events go besides the caller. */
export interface RunSinksOptions {
  /** Online analysis (clusters, transitions, alerts) merged into the stream. Default: alerts only. */
  analysis?: AnalyzeOptions;
  /** Log to an Arrow run directory. */
  log?: { dir: string } & RecordRunOptions;
  /** Serve live over gRPC and/or Prometheus. */
  serve?: Omit<ServeOptions, 'events$'>;
}

/** The attached sinks. */
export interface RunSinks {
  /** The run's events with the analysis merged in: what the sinks see. */
  readonly events$: Observable<PolcaEvent>;
  readonly writer: RunWriter | null;
  readonly server: PolcaServer | null;
  /** Resolves when the log is closed and the server has shut down (after the run ends). */
  readonly closed: Promise<void>;
}

/**
 * Connects a run (a tracker, or a callback's tracker) to the analysis, the
 * Arrow log and the servers, in the one direction data flows: tracker →
 * events → analysis → sinks. Call before the first `step`.
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
  const events$ = analyze(run.events$, options.analysis ?? {});
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
  }
  let server: PolcaServer | null = null;
  try {
    if (options.serve) server = await startServer({ ...options.serve, events$ });
  } catch (e) {
    writer?.abort(e);
    throw e;
  }
  const closed = Promise.all([writer?.closed, server?.done]).then(() => undefined);
  return { events$, writer, server, closed };
}
