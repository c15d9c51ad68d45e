/**
 * Replaying a recorded run directory as the event stream that produced it.
 *
 * @packageDocumentation
 */
import { Observable } from 'rxjs';
import { nonNegativeInt } from '../../errors/validate.js';
import type { PolcaEvent } from '../../stream/events.js';
import { openEventStream, type EventStream } from './openEventStream.js';

/**
 * Options of {@link replay}.
 *
 * @example
 * ```ts
 * replay(dir, { pace: 'recorded', speed: 60 }); // an hour of training in a minute
 * ```
 */
export interface ReplayOptions {
  /**
   * `fast` (default): emit the events as fast as they are read, yielding to
   * the event loop about every 20 ms.
   * `recorded`: wait between events for the difference of their `time`
   * fields, divided by `speed`.
   */
  pace?: 'fast' | 'recorded';
  /** Speed-up of `recorded` pacing (2 = twice as fast). Default 1. */
  speed?: number;
  /**
   * Fail before the first event instead of replaying the recoverable prefix
   * of a crashed or damaged run (reads the whole run into memory). Default false.
   */
  strict?: boolean;
  /** Emit at most this many events (e.g. `verifyRun`'s `intactEvents` for a damaged run). Default: all. */
  limit?: number;
}

/**
 * Cold Observable of the events recorded in a run directory, in their
 * original order and with their original values (typed arrays bit-equal,
 * `time` kept). Each subscription reads the directory afresh, one table
 * batch at a time, so long runs replay in bounded memory; a run whose
 * writer was killed replays up to its last completed flush.
 *
 * Errors (missing directory, newer schema version, damaged tables) are
 * delivered as the Observable's error, as `RunFormatError`.
 *
 * @example
 * ```ts
 * replay('runs/arith', { pace: 'recorded', speed: 10 })
 *   .pipe(filter((e) => e.type === 'checkpoint'))
 *   .subscribe((e) => console.log(e.step, e.meanLoss));
 * ```
 */
export function replay(dir: string, options: ReplayOptions = {}): Observable<PolcaEvent> {
  const { pace = 'fast', speed = 1, strict = false, limit } = options;
  if (pace !== 'fast' && pace !== 'recorded') throw new TypeError(`replay: options.pace must be 'fast' or 'recorded', got ${JSON.stringify(pace)}`);
  if (!(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) throw new TypeError(`replay: options.speed must be a positive finite number, got ${speed}`);
  if (limit !== undefined) nonNegativeInt('replay', 'limit', limit);
  return new Observable<PolcaEvent>((subscriber) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let stream: EventStream | undefined;
    openEventStream(dir, { strict, limit })
      .then((opened) => {
        stream = opened;
        if (subscriber.closed) {
          opened.close();
          return;
        }
        const events = opened.events;
        if (pace === 'fast') {
          // Emit in slices of about 20 ms so a long replay does not starve the rest of the process.
          const pump = (): void => {
            immediate = undefined;
            try {
              const until = performance.now() + 20;
              while (!subscriber.closed) {
                const { value, done } = events.next();
                if (done) {
                  subscriber.complete();
                  return;
                }
                subscriber.next(value);
                if (performance.now() > until) {
                  immediate = setImmediate(pump);
                  return;
                }
              }
            } catch (e) {
              subscriber.error(e);
            }
          };
          pump();
          return;
        }
        // Deadlines count from the first emission, so timer lateness does not accumulate.
        let t0 = 0;
        let wall0 = 0;
        const scheduleNext = (): void => {
          try {
            const { value, done } = events.next();
            if (done) {
              subscriber.complete();
              return;
            }
            timer = setTimeout(() => {
              timer = undefined;
              if (subscriber.closed) return;
              subscriber.next(value);
              scheduleNext();
            }, Math.max(0, wall0 + (value.time - t0) / speed - performance.now()));
          } catch (e) {
            subscriber.error(e);
          }
        };
        const first = events.next();
        if (first.done) {
          subscriber.complete();
          return;
        }
        t0 = first.value.time;
        wall0 = performance.now();
        subscriber.next(first.value);
        scheduleNext();
      })
      .catch((e: unknown) => subscriber.error(e));
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      stream?.close();
    };
  });
}
