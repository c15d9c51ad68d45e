/**
 * The events of a run directory, read table batch by table batch.
 *
 * @packageDocumentation
 */
import path from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import type { PolcaEvent } from '../../stream/events.js';
import { decodeEvents, decodeFrom } from './decodeEvents.js';
import { readManifest } from './manifest.js';
import { readRun } from './readRun.js';
import { readTableFile } from './readTable.js';
import { RunFormatError } from './RunFormatError.js';
import { TABLE_NAMES, eventTableSchema, tableFileName, type TableName } from './schemas.js';
import { TableFileReader } from './TableFileReader.js';

/** Options of {@link openEventStream}. */
export interface EventStreamOptions {
  /**
   * Fail on any crash damage or uncommitted rows, checked before the first
   * event (this reads the whole run into memory, like `readRun`). Default false.
   */
  strict?: boolean;
}

/** An open run: its events, generated on demand, and the files behind them. */
export interface EventStream {
  /** Number of committed events the generator will yield. */
  readonly committed: number;
  /** The events, in order, rebuilt exactly (see `decodeEvents`). */
  readonly events: Generator<PolcaEvent>;
  /** Release the table files. Idempotent; done automatically when `events` finishes. */
  close(): void;
}

/**
 * Open a run directory for sequential reading. Only the small `events`
 * table (the commit log) is read up front; the other tables are read one
 * record batch at a time as events are generated, so memory stays at about
 * one flush's worth however long the run. A truncated tail is ignored as in
 * `readRun`.
 *
 * @throws RunFormatError for a missing directory, a newer schema version, a missing table or unexpected columns.
 * @example
 * ```ts
 * const stream = await openEventStream('runs/arith');
 * try { for (const e of stream.events) if (e.type === 'polca') use(e); }
 * finally { stream.close(); }
 * ```
 */
export async function openEventStream(dir: string, options: EventStreamOptions = {}): Promise<EventStream> {
  if (options.strict) {
    const run = await readRun(dir, { strict: true });
    return { committed: run.events, events: decodeEvents(run), close: () => undefined };
  }
  const manifest = await readManifest(dir, 'replay');
  const file = (name: TableName) => path.join(dir, manifest.tables?.[name] ?? tableFileName(name));
  const { table: log } = await readTableFile(file('events'), eventTableSchema('events', manifest.layout ?? 1), 'replay');
  const committed = log.numRows;
  const seqs = log.getChild('seq')!;
  for (let i = 0; i < committed; i++) {
    if (seqs.get(i) !== i) throw new RunFormatError(`replay: ${file('events')} row ${i} has seq ${seqs.get(i)}, expected ${i}; the file is damaged`);
  }
  const readers: TableFileReader[] = [];
  const close = () => {
    for (const r of readers) r.close();
  };
  const pulls = {} as Record<TableName, () => RecordBatch | null>;
  try {
    for (const name of TABLE_NAMES) {
      if (name === 'events') {
        let i = 0;
        pulls.events = () => (i < log.batches.length ? log.batches[i++] : null);
      } else {
        const reader = new TableFileReader(file(name), eventTableSchema(name, manifest.layout ?? 1), 'replay');
        readers.push(reader);
        pulls[name] = () => reader.next();
      }
    }
  } catch (e) {
    close();
    throw e;
  }
  function* events(): Generator<PolcaEvent> {
    try {
      yield* decodeFrom(committed, pulls, manifest.numProbe);
    } finally {
      close();
    }
  }
  return { committed, events: events(), close };
}
