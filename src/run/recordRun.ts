import { map, type Observable } from 'rxjs';
import { writeRun, type RunWriter, type RunWriterOptions } from '../sinks/arrow/RunWriter.js';
import type { PolcaEvent } from '../stream/events.js';

/** What {@link recordRun} needs of a tracker (a `PolcaTracker`, or a callback's tracker). */
export interface RecordableRun {
  readonly events$: Observable<PolcaEvent>;
  /** Host copies of the basis vectors so far. */
  readonly basisVectors: readonly Float32Array[];
  /** Current θ. */
  readTheta(): Float32Array;
}

/** Options of {@link recordRun}. */
export interface RecordRunOptions extends Omit<RunWriterOptions, 'keepParams'> {
  /**
   * Keep θ of every POLCA checkpoint (4·P bytes each, uncompressed float32 in
   * `params.ipc`) and every basis vector (4·P bytes each), so that
   * `polca backfill` can complete the trajectories of vectors found late.
   * Default false.
   */
  keepParams?: boolean;
}

/**
 * Logs a run to an Arrow run directory: subscribes a {@link RunWriter} to the
 * tracker's events and, with `keepParams`, stores θ at every checkpoint and
 * puts each basis vector into its `basis` event. Events are delivered
 * synchronously while the tracker computes a checkpoint, so θ read at the
 * `checkpoint` event is θ of that step.
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
  const events$ = keep
    ? run.events$.pipe(map((e): PolcaEvent => (e.type === 'basis' && !e.vector ? { ...e, vector: run.basisVectors[e.id].slice() } : e)))
    : run.events$;
  const writer = writeRun(events$, dir, { ...options, keepParams: keep });
  if (keep) {
    run.events$.subscribe({
      next: (e) => {
        if (e.type !== 'checkpoint') return;
        try {
          writer.writeParams({ step: e.step, theta: run.readTheta() });
        } catch {
          // Only after the writer aborted, which `writer.closed` already reports.
        }
      },
      error: () => undefined,
    });
  }
  return writer;
}
