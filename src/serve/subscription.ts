/**
 * One `Subscribe` stream: a cursor into the shared {@link EventLog} that
 * writes events to its gRPC call at the pace the client reads them.
 *
 * @packageDocumentation
 */
import type { ServerWritableStream, StatusObject } from '@grpc/grpc-js';
import { isGap, type EventLog, type LogRecord } from './eventLog.js';
import type { Event } from './generated/polca/v1/Event.js';
import type { KindCount } from './generated/polca/v1/KindCount.js';
import { EVENT_KIND_COUNT, kindName } from './eventMessage.js';

/** What a subscription asked for, validated. */
export interface SubscriptionFilter {
  /** Proto kind numbers to deliver; null for all. */
  kinds: ReadonlySet<number> | null;
  /** Basis ids to deliver; null for all. */
  basisIds: ReadonlySet<number> | null;
  /** Include per-datapoint arrays. */
  datapoints: boolean;
  /** Skip events whose step lies below this until the first one at or above it. */
  fromStep: number | undefined;
}

/** Hooks a subscription needs from the server. */
export interface SubscriptionContext {
  log: EventLog;
  /** Most events a subscriber may lag behind the live head (history it asked to replay not counted). */
  maxLag: number;
  /** Encoded message of a record for this filter, or null when the filter rejects it. */
  encode(rec: LogRecord, filter: SubscriptionFilter): Buffer | null;
  /** Encodes a lost notice. */
  encodeMessage(message: Event): Buffer;
  /** Called with the number of events a subscriber lost. */
  onLost(events: number): void;
  /** Called when the client drained a write (it is making progress). */
  onProgress(): void;
  /** Called once when the subscription ends, whatever the reason. */
  onClosed(sub: Subscription): void;
}

interface PendingLoss {
  reason: 'slow-client' | 'history-evicted' | 'server-behind';
  firstSeq: number;
  lastSeq: number;
  byKind: Float64Array;
}

/**
 * Slow-client policy: a subscriber may fall at most `maxLag` events behind
 * the live head, not counting the history it asked to replay. When it falls
 * further (its client reads slower than events arrive and grpc-js reports
 * back-pressure through `write()` returning false), the oldest pending
 * events are skipped so that it resumes `maxLag` events behind the head;
 * events that leave the bounded history before they are sent are skipped
 * too, and so are the gaps of events the server never received (its
 * thread fell behind the training thread, see {@link EventLog.appendGap}).
 * Each way a `Lost` notice, with counts per kind, precedes the next event
 * delivered. A subscription holds no copies of events, only a
 * cursor, so slow clients cost no memory beyond the shared history, and a
 * slow client never delays the others: every subscription waits on its own
 * `drain`.
 *
 * @example
 * ```ts
 * const sub = new Subscription(call, context, filter, log.start);
 * sub.pump(); // writes what it can; call again when events arrive
 * ```
 */
export class Subscription {
  private cursor: number;
  private readonly joinSeq: number;
  private readonly cursorCounts: Float64Array;
  private stepFloor: number | undefined;
  private waiting = false;
  private closed = false;
  private sourceEnd: { error?: StatusObject } | undefined;
  private loss: PendingLoss | undefined;
  private readonly onDrain = (): void => {
    this.waiting = false;
    this.ctx.onProgress();
    this.pump();
  };
  private readonly onGone = (): void => this.close();

  constructor(
    private readonly call: ServerWritableStream<unknown, Buffer>,
    private readonly ctx: SubscriptionContext,
    readonly filter: SubscriptionFilter,
    startSeq: number,
  ) {
    const log = ctx.log;
    this.cursor = startSeq;
    this.joinSeq = log.end;
    const counts = log.countsBefore(startSeq);
    if (!counts) throw new RangeError(`Subscription: startSeq must be 0 or lie in [${log.start}, ${log.end}], got ${startSeq}`);
    this.cursorCounts = counts.slice();
    this.stepFloor = filter.fromStep;
    call.on('cancelled', this.onGone);
    call.on('error', this.onGone);
    call.on('close', this.onGone);
  }

  /** True once the stream ended or was cancelled. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes pending events until caught up or until the call pushes back. */
  pump(): void {
    if (this.closed || this.waiting) return;
    const log = this.ctx.log;
    for (;;) {
      if (log.end - Math.max(this.cursor, this.joinSeq) > this.ctx.maxLag) this.skipTo(log.end - this.ctx.maxLag, 'slow-client');
      if (this.cursor < log.start) this.skipTo(log.start, 'history-evicted');
      if (this.cursor >= log.end) break;
      const entry = log.get(this.cursor)!;
      this.cursorCounts.set(entry.prefix);
      this.cursor++;
      if (isGap(entry)) {
        for (let k = 1; k < EVENT_KIND_COUNT; k++) this.cursorCounts[k] += entry.dropped[k];
        this.noteLoss('server-behind', entry.seq, entry.seq, entry.dropped);
        continue;
      }
      const rec: LogRecord = entry;
      this.cursorCounts[rec.kind]++;
      if (!this.passesStepFloor(rec)) continue;
      const bytes = this.ctx.encode(rec, this.filter);
      if (!bytes) continue;
      this.flushLoss();
      if (!this.call.write(bytes)) {
        this.waiting = true;
        this.call.once('drain', this.onDrain);
        return;
      }
    }
    if (this.sourceEnd) {
      this.flushLoss();
      const error = this.sourceEnd.error;
      this.detach();
      if (error) this.call.emit('error', error);
      else this.call.end();
    }
  }

  /**
   * The run's events are over: end the stream once everything pending is
   * written (with `error` as the status when given).
   */
  finish(error?: StatusObject): void {
    this.sourceEnd = { error };
    this.pump();
  }

  /** Ends the stream now with `status` (server shutdown). */
  abort(status: StatusObject): void {
    if (this.closed) return;
    this.detach();
    this.call.emit('error', status);
  }

  /** Forgets the call (client gone); idempotent. */
  close(): void {
    this.detach();
  }

  private detach(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.off('drain', this.onDrain);
    this.call.off('cancelled', this.onGone);
    this.call.off('error', this.onGone);
    this.call.off('close', this.onGone);
    this.ctx.onClosed(this);
  }

  private passesStepFloor(rec: LogRecord): boolean {
    if (this.stepFloor === undefined || rec.step === undefined) return true;
    if (rec.step < this.stepFloor) return false;
    this.stepFloor = undefined;
    return true;
  }

  /** Moves the cursor forward to `seq`, recording what the filter would have delivered in between. */
  private skipTo(seq: number, reason: PendingLoss['reason']): void {
    const after = this.ctx.log.countsBefore(seq) as Float64Array;
    const lost = new Float64Array(EVENT_KIND_COUNT);
    for (let k = 1; k < EVENT_KIND_COUNT; k++) lost[k] = after[k] - this.cursorCounts[k];
    const first = this.cursor;
    this.cursor = seq;
    this.cursorCounts.set(after);
    this.noteLoss(reason, first, seq - 1, lost);
  }

  /** Adds the events of each kind in `lost` that the filter would have delivered to the pending notice. */
  private noteLoss(reason: PendingLoss['reason'], firstSeq: number, lastSeq: number, lost: Float64Array): void {
    const mine = new Float64Array(EVENT_KIND_COUNT);
    let total = 0;
    for (let k = 1; k < EVENT_KIND_COUNT; k++) {
      if (this.filter.kinds && !this.filter.kinds.has(k)) continue;
      mine[k] = lost[k];
      total += lost[k];
    }
    if (total === 0) return;
    this.ctx.onLost(total);
    if (this.loss && this.loss.reason === reason) {
      this.loss.lastSeq = lastSeq;
      for (let k = 0; k < EVENT_KIND_COUNT; k++) this.loss.byKind[k] += mine[k];
      return;
    }
    this.flushLoss();
    this.loss = { reason, firstSeq, lastSeq, byKind: mine };
  }

  private flushLoss(): void {
    const loss = this.loss;
    if (!loss) return;
    this.loss = undefined;
    const byKind: KindCount[] = [];
    let events = 0;
    for (let k = 1; k < EVENT_KIND_COUNT; k++) {
      if (loss.byKind[k] > 0) {
        byKind.push({ kind: kindName(k), count: loss.byKind[k] });
        events += loss.byKind[k];
      }
    }
    // A notice never waits: it is small, and the event after it is what the call pushes back on.
    this.call.write(
      this.ctx.encodeMessage({
        seq: loss.lastSeq + 1,
        timeMs: Date.now(),
        payload: 'lost',
        lost: { reason: loss.reason, events, firstSeq: loss.firstSeq, lastSeq: loss.lastSeq, byKind },
      }),
    );
  }
}
