/**
 * The one bridge from a push-style analyser (a class fed one event at a time
 * that answers with the events it derives) to an RxJS operator.
 *
 * @packageDocumentation
 */
import { Observable, type OperatorFunction } from 'rxjs';

/** Anything fed events one at a time that answers with what it derived from each. */
export interface EventPusher<In, Out> {
  push(event: In): readonly Out[];
}

/**
 * RxJS operator from a push-style analyser: each subscription makes its own
 * analyser with `create`, feeds it every source event and emits what it
 * returns, in order. An exception thrown by `create` or `push` ends the
 * output with that error (instead of escaping into the source's `next`);
 * errors and completion of the source pass through, and unsubscribing
 * unsubscribes from the source.
 *
 * @example
 * ```ts
 * const clusterEvents = (o: ClusterTrackerOptions) => pushOperator(() => new ClusterTracker(o));
 * events$.pipe(clusterEvents({ every: 10 })).subscribe((c) => console.log(c.clusters.length));
 * ```
 */
export function pushOperator<In, Out>(create: () => EventPusher<In, Out>): OperatorFunction<In, Out> {
  return (source) =>
    new Observable<Out>((subscriber) => {
      const pusher = create();
      return source.subscribe({
        next(e) {
          let out: readonly Out[];
          try {
            out = pusher.push(e);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          for (const o of out) subscriber.next(o);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
