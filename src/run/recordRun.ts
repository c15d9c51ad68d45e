import { isObservable, type Observable, type OperatorFunction } from 'rxjs';
import { writeRun, type RunWriter, type RunWriterOptions } from '../sinks/arrow/RunWriter.js';
import type { PolcaEvent } from '../stream/events.js';

/**
 * What the sinks take of a run: its events, and — from a tracker not yet
 * started — the wiring hooks that let sinks ask for what they need in the
 * events instead of reading the tracker while it computes.
 */
export interface RunSource {
  readonly events$: Observable<PolcaEvent>;
  /** See `PolcaTracker.pipeEvents`. */
  pipeEvents?(stage: OperatorFunction<PolcaEvent, PolcaEvent>): void;
  /** See `PolcaTracker.addEventFields`. */
  addEventFields?(fields: { theta?: boolean; vectors?: boolean }): void;
}

/** A run's events, or a tracker (or anything with `events$`). */
export type RecordableRun = Observable<PolcaEvent> | RunSource;

/** The events of a {@link RecordableRun}. */
export function eventsOf(run: RecordableRun): Observable<PolcaEvent> {
  return isObservable(run) ? run : run.events$;
}

/** Options of {@link recordRun}. */
export interface RecordRunOptions extends Omit<RunWriterOptions, 'keepParams'> {
  /**
   * Keep θ of every POLCA checkpoint (4·P bytes each, uncompressed float32 in
   * the params table) and every basis vector (4·P bytes each), so that
   * `polca backfill` can complete the trajectories of vectors found late.
   * The events must carry them: pass the tracker itself before its first
   * step (it is asked for them), or create it with `emitParams` and
   * `emitVectors`. Default false.
   */
  keepParams?: boolean;
}

/**
 * Logs a run to an Arrow run directory: subscribes a {@link RunWriter} to the
 * run's events and, with `keepParams`, stores the θ and basis vectors that
 * the events carry.
 *
 * @example
 * ```ts
 * const writer = recordRun(tracker, 'runs/addition', { keepParams: true, probeMeta: { text } });
 * // … train …
 * await tracker.close();
 * await writer.closed;
 * ```
 */
export function recordRun(run: RecordableRun, dir: string, options: RecordRunOptions = {}): RunWriter {
  const keep = options.keepParams ?? false;
  if (keep && !isObservable(run)) run.addEventFields?.({ theta: true, vectors: true });
  const events$ = eventsOf(run);
  const writer = writeRun(events$, dir, { ...options, keepParams: keep });
  if (keep) {
    events$.subscribe({
      next: (e) => {
        if (e.type !== 'checkpoint') return;
        try {
          if (!e.theta) throw new Error("recordRun: option 'keepParams' needs θ in the checkpoint events: pass the tracker itself, or create it with emitParams: true and emitVectors: true");
          writer.writeParams({ step: e.step, theta: e.theta });
        } catch (err) {
          // After the writer aborted this is a no-op; otherwise the log stops here and says why.
          writer.abort(err);
        }
      },
      error: () => undefined,
    });
  }
  return writer;
}
