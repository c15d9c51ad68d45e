/**
 * The bounded history of a run's events that subscriptions read from.
 *
 * @packageDocumentation
 */
import type { PolcaEvent } from '../stream/events.js';
import { positiveInt, positiveNumber } from '../errors/validate.js';
import type { Event } from './generated/polca/v1/Event.js';
import { EVENT_KIND_COUNT, type ClustersLookup } from './eventMessage.js';

/** One stored event. */
export interface LogRecord {
  /** Position in the run's stream, from 0. */
  readonly seq: number;
  /** The event (basis vectors stripped). */
  readonly event: PolcaEvent;
  /** Proto enum number of the event kind (1 … 9). */
  readonly kind: number;
  /** Step used by `START_AT_STEP` (undefined: always included). */
  readonly step: number | undefined;
  /** Estimated retained bytes. */
  readonly bytes: number;
  /** Number of events of each kind (by enum number) before this one. */
  readonly prefix: Float64Array;
  /** Summary message, built when the event arrived. */
  readonly summary: Event;
  /** For polca increments: the clusters each vector had when the event arrived. */
  readonly clusters?: ClustersLookup;
  /** Encoded summary and full messages, built on first use. */
  encodedSummary?: Buffer;
  encodedFull?: Buffer;
}

/**
 * A gap in the stream: events the server never received (its thread fell
 * behind the training thread and they were dropped before it), held as one
 * record at one seq so that every subscription passing it is told.
 */
export interface GapRecord {
  readonly seq: number;
  /** 0: no kind of its own; its events are counted by kind in `dropped`. */
  readonly kind: 0;
  readonly step: undefined;
  readonly bytes: number;
  readonly prefix: Float64Array;
  /** Events of each kind (by enum number) dropped. */
  readonly dropped: Float64Array;
}

/** What the log holds at a seq: an event, or a gap of dropped events. */
export type LogEntry = LogRecord | GapRecord;

/** True for a {@link GapRecord}. */
export function isGap(entry: LogEntry): entry is GapRecord {
  return entry.kind === 0;
}

/** Limits of an {@link EventLog}. */
export interface EventLogLimits {
  /** Most events held (at least 1). */
  maxEvents: number;
  /** Most estimated bytes held; the newest event is always kept. */
  maxBytes: number;
}

/**
 * A ring of the most recent events of a run, bounded in count and in
 * estimated bytes; the oldest are evicted first. Keeps per-kind counts of
 * every event ever appended so that readers can tell what they missed.
 *
 * @example
 * ```ts
 * const log = new EventLog({ maxEvents: 1000, maxBytes: 64 << 20 });
 * log.append({ event, kind: 2, step: 0, bytes: 256, summary });
 * log.get(0)?.event; // event
 * ```
 */
export class EventLog {
  private readonly records: LogEntry[] = [];
  /** Index in `records` of the oldest held record (records before it are holes). */
  private head = 0;
  private heldBytes = 0;
  private nextSeq = 0;
  private readonly endCounts = new Float64Array(EVENT_KIND_COUNT);
  private readonly startCounts = new Float64Array(EVENT_KIND_COUNT);
  private maxEvictedStep = -Infinity;

  constructor(private readonly limits: EventLogLimits) {
    positiveInt('EventLog', 'maxEvents', limits.maxEvents);
    positiveNumber('EventLog', 'maxBytes', limits.maxBytes);
  }

  /** Seq of the oldest event held (equals {@link end} when empty). */
  get start(): number {
    return this.nextSeq - (this.records.length - this.head);
  }

  /** Seq the next appended event will get. */
  get end(): number {
    return this.nextSeq;
  }

  /** Largest step of an evicted event (−Infinity when none had a step). */
  get evictedMaxStep(): number {
    return this.maxEvictedStep;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }

  /** Number of events held. */
  get size(): number {
    return this.records.length - this.head;
  }

  /** Appends an event and evicts the oldest beyond the limits; returns its record. */
  append(entry: Omit<LogRecord, 'seq' | 'prefix'>): LogRecord {
    const rec: LogRecord = { ...entry, seq: this.nextSeq++, prefix: this.endCounts.slice() };
    this.endCounts[rec.kind]++;
    this.push(rec);
    return rec;
  }

  /**
   * Appends a gap: `dropped[k]` events of kind k that the server never
   * received (index 0 unused). Its events count in the per-kind counts, so
   * readers that skip over it count them as missed too.
   */
  appendGap(dropped: ArrayLike<number>): GapRecord {
    const counts = new Float64Array(EVENT_KIND_COUNT);
    for (let k = 1; k < EVENT_KIND_COUNT; k++) counts[k] = dropped[k] ?? 0;
    const gap: GapRecord = { seq: this.nextSeq++, kind: 0, step: undefined, bytes: 64 + 2 * counts.byteLength, prefix: this.endCounts.slice(), dropped: counts };
    for (let k = 1; k < EVENT_KIND_COUNT; k++) this.endCounts[k] += counts[k];
    this.push(gap);
    return gap;
  }

  private push(rec: LogEntry): void {
    this.records.push(rec);
    this.heldBytes += rec.bytes;
    while (this.size > 1 && (this.size > this.limits.maxEvents || this.heldBytes > this.limits.maxBytes)) {
      const old = this.records[this.head];
      this.records[this.head++] = undefined as unknown as LogEntry;
      this.heldBytes -= old.bytes;
      if (isGap(old)) for (let k = 1; k < EVENT_KIND_COUNT; k++) this.startCounts[k] += old.dropped[k];
      else this.startCounts[old.kind]++;
      if (old.step !== undefined && old.step > this.maxEvictedStep) this.maxEvictedStep = old.step;
    }
    // Compact the hole at the front now and then (amortised O(1)).
    if (this.head > 1024 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The record with this seq, or undefined when evicted or not yet appended. */
  get(seq: number): LogEntry | undefined {
    if (seq < this.start || seq >= this.nextSeq) return undefined;
    return this.records[this.head + (seq - this.start)];
  }

  /**
   * Per-kind counts of the events before `seq`, for `start <= seq <= end`
   * (undefined otherwise).
   */
  countsBefore(seq: number): Float64Array | undefined {
    if (seq === 0) return new Float64Array(EVENT_KIND_COUNT);
    if (seq === this.nextSeq) return this.endCounts;
    if (seq === this.start) return this.startCounts;
    return this.get(seq)?.prefix;
  }
}
