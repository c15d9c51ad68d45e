import { Observable, type Observer, type Subscription } from 'rxjs';

/**
 * A run's event stream as users subscribe to it. Like any Observable, except
 * that a subscriber that gave no error handler does not receive the error:
 * a failed run already announces itself with a `run-end` event whose reason
 * is `error`, and rxjs would otherwise rethrow the error on a later tick and
 * end the process — the observer would have killed the training it watched.
 * Subscribers that pass `error` receive it as usual.
 */
export class RunStream<T> extends Observable<T> {
  constructor(inner: Observable<T>) {
    super((subscriber) => inner.subscribe(subscriber));
  }

  override subscribe(
    observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null,
    error?: ((e: unknown) => void) | null,
    complete?: (() => void) | null,
  ): Subscription {
    if (typeof observerOrNext === 'function' || observerOrNext == null) {
      return super.subscribe({ next: observerOrNext ?? undefined, error: error ?? ignore, complete: complete ?? undefined });
    }
    if (observerOrNext && typeof observerOrNext.error !== 'function') {
      const o = observerOrNext;
      return super.subscribe({
        next: o.next ? (v) => o.next!.call(o, v) : undefined,
        error: ignore,
        complete: o.complete ? () => o.complete!.call(o) : undefined,
      });
    }
    return super.subscribe(observerOrNext);
  }
}

function ignore(): void {
  // The run-end event carried the failure; see RunStream.
}
