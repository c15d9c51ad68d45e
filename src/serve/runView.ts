/**
 * What a server knows about one run: its events ingested into the bounded
 * history, the run summary, the basis vectors and the projected-loss
 * trajectories. No gRPC, no HTTP.
 *
 * @packageDocumentation
 */
import type { Observable, Subscription as RxSubscription } from 'rxjs';
import { positiveInt } from '../errors/validate.js';
import type { PolcaEvent } from '../stream/events.js';
import type { Basis } from './generated/polca/v1/Basis.js';
import type { Run } from './generated/polca/v1/Run.js';
import { EventLog } from './eventLog.js';
import { type ClustersLookup, EVENT_KIND_COUNT, eventBytes, eventMessage, eventStep, kindNumber } from './eventMessage.js';
import { RunState } from './runState.js';
import { TrajectoryStore } from './trajectoryStore.js';

/** Options of {@link RunView}. */
export interface RunViewOptions {
  /** The run's name (`name` in `GetRun`, the `run` label of metrics). Default `polca`. */
  run?: string;
  /**
   * Events kept for replaying subscriptions: the most recent `maxEvents`
   * (default 100 000) within `maxBytes` estimated bytes (default 256 MiB).
   */
  history?: { maxEvents?: number; maxBytes?: number };
  /** Bound of the projected-loss trajectories, in float32 values. Default 2^25 (128 MiB). */
  trajectoryMaxValues?: number;
}

/** How the run's event source ended. */
export type SourceEnd = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** Hooks called by a {@link RunView}. */
export interface RunViewListener {
  /** After an event was ingested (or failed to be: `ingested` false). */
  event?(event: PolcaEvent, ingested: boolean): void;
  /** Once, when the source completed or failed. */
  end?(end: SourceEnd): void;
  /** After a gap of events the view never received was recorded ({@link RunView.dropped}). */
  gap?(events: number): void;
}

/**
 * Ingests a run's events, in order, into the stores a server answers from:
 * the bounded {@link EventLog} (each event's summary message built once),
 * the {@link RunState}, the basis messages and the {@link TrajectoryStore}.
 * Listeners (the gRPC service, the metrics sink) are told after each event
 * and once at the end. Feed it with {@link RunView.ingest} / {@link RunView.end},
 * or from an Observable with {@link RunView.follow}.
 *
 * A malformed event never throws out of `ingest`: it is reported to the
 * listeners with `ingested: false` (and is served if it reached the history).
 *
 * @example
 * ```ts
 * const view = new RunView({ run: 'mnist' });
 * view.follow(tracker.events$);
 * view.state.lastStep; // the last training step seen
 * ```
 */
export class RunView {
  /** The run's name. */
  readonly name: string;
  readonly log: EventLog;
  readonly state = new RunState();
  readonly trajectories: TrajectoryStore;
  private readonly basisMessages = new Map<number, Basis>();
  private readonly listeners = new Set<RunViewListener>();
  private ended: SourceEnd | undefined;
  private source: RxSubscription | undefined;
  private feed: { sent(): number; ingested(): number } | undefined;

  constructor(options: RunViewOptions = {}) {
    const fn = 'RunView';
    this.name = options.run ?? 'polca';
    if (typeof this.name !== 'string' || this.name.length === 0) {
      throw new TypeError(`RunView: option 'run' must be a non-empty string, got ${JSON.stringify(this.name)}`);
    }
    this.log = new EventLog({
      maxEvents: positiveInt(fn, 'history.maxEvents', options.history?.maxEvents ?? 100_000),
      maxBytes: positiveInt(fn, 'history.maxBytes', options.history?.maxBytes ?? 256 * 2 ** 20),
    });
    this.trajectories = new TrajectoryStore({ maxValues: positiveInt(fn, 'trajectoryMaxValues', options.trajectoryMaxValues ?? 2 ** 25) });
  }

  /** How the source ended, or undefined while it runs. */
  get sourceEnd(): SourceEnd | undefined {
    return this.ended;
  }

  /** Adds a listener; returns its removal. */
  listen(listener: RunViewListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ingests one event and tells the listeners. Ignored after the end. */
  ingest(raw: PolcaEvent): void {
    if (this.ended) return;
    let ingested = true;
    try {
      this.store(raw);
    } catch {
      // A malformed event must not take the server down; listeners count it.
      ingested = false;
    }
    for (const l of this.listeners) l.event?.(raw, ingested);
  }

  /**
   * Records that `byKind[k]` events of proto kind k (index 0 unused) were
   * emitted but never reached this view (dropped by a bounded channel in
   * front of it), so that subscribers passing that point are told. Ignored
   * after the end.
   */
  dropped(byKind: ArrayLike<number>): void {
    if (this.ended) return;
    if (byKind.length > EVENT_KIND_COUNT) throw new RangeError(`RunView.dropped: byKind must have at most ${EVENT_KIND_COUNT} entries, got ${byKind.length}`);
    let events = 0;
    for (let k = 1; k < byKind.length; k++) {
      const n = byKind[k];
      if (!(Number.isInteger(n) && n >= 0)) throw new RangeError(`RunView.dropped: byKind[${k}] must be an integer >= 0, got ${n}`);
      events += n;
    }
    if (events === 0) return;
    this.log.appendGap(byKind);
    for (const l of this.listeners) l.gap?.(events);
  }

  /** Marks the end of the run's events (`error` when the source failed); idempotent. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = error === undefined ? { ok: true } : { ok: false, message: error instanceof Error ? error.message : String(error) };
    for (const l of this.listeners) l.end?.(this.ended);
  }

  /**
   * Subscribes to `events$` now (a hot stream loses nothing), ingesting each
   * event and ending with it. Returns the unsubscription.
   */
  follow(events$: Observable<PolcaEvent>): () => void {
    this.source = events$.subscribe({
      next: (e) => this.ingest(e),
      error: (err: unknown) => this.end(err ?? new Error('events$ failed')),
      complete: () => this.end(),
    });
    return () => this.source?.unsubscribe();
  }

  /**
   * For a view fed from another thread: how many events were sent to it and
   * how many it ingested, so that {@link RunView.caughtUp} can wait for the
   * ones in flight.
   */
  feedFrom(counts: { sent(): number; ingested(): number }): void {
    this.feed = counts;
  }

  /**
   * Undefined when every event sent so far is ingested (always, for a view
   * fed in its own thread); otherwise a promise that resolves once the
   * events sent before this call are (or after `maxWaitMs`). Queries wait
   * on it, so that a client sees every event emitted before its request.
   */
  caughtUp(maxWaitMs = 1000): Promise<void> | undefined {
    const feed = this.feed;
    if (!feed) return undefined;
    const target = feed.sent();
    if (feed.ingested() >= target) return undefined;
    const deadline = Date.now() + maxWaitMs;
    return new Promise((resolve) => {
      // setImmediate, not a microtask: the events arrive as messages on this thread's event loop.
      const check = () => (feed.ingested() >= target || Date.now() > deadline ? resolve() : setImmediate(check));
      setImmediate(check);
    });
  }

  /** The `GetRun` answer. */
  runMessage(): Run {
    const state = this.state;
    const start = state.start ? eventMessage(state.start, 0, { datapoints: false }).runStart : null;
    const end = state.end ? eventMessage(state.end, 0, { datapoints: false }).runEnd : null;
    return {
      name: this.name,
      start,
      started: state.start !== undefined,
      ended: state.end !== undefined,
      end,
      lastStep: state.lastStep,
      lastLoss: state.lastLoss,
      checkpoints: state.checkpoints,
      basis: [...this.basisMessages.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]),
      events: state.events,
      historyFirstSeq: this.log.start,
      historyEndSeq: this.log.end,
      transitions: state.transitions,
      alerts: state.alerts,
    };
  }

  private store(raw: PolcaEvent): void {
    // The basis vector (length P) is never served; do not retain it.
    const event = raw.type === 'basis' && raw.vector ? { ...raw, vector: undefined } : raw;
    const seq = this.log.end;
    const lookup = event.type === 'polca' ? snapshotClusters(event.basisIds, (id) => this.state.latestClusters('polca', id)?.clusters) : undefined;
    const summary = eventMessage(raw, seq, { datapoints: false, clusters: lookup });
    this.log.append({ event, kind: kindNumber(event.type), step: eventStep(event), bytes: eventBytes(event), summary, clusters: lookup });
    this.state.observe(event);
    if (summary.basis) this.basisMessages.set(event.type === 'basis' ? event.id : -1, summary.basis);
    if (event.type === 'polca') this.trajectories.add(event);
  }
}

/** Freezes the clusters each vector had when a polca event arrived, so a later full encoding sees the same. */
function snapshotClusters(basisIds: number[], lookup: ClustersLookup): ClustersLookup {
  const snapshot = new Map(basisIds.map((id) => [id, lookup(id)]));
  return (id: number) => snapshot.get(id);
}
