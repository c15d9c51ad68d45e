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
import { readLimits } from './readLimits.js';
import { readTableFile } from './readTableFile.js';
import { nonNegativeInt } from '../../errors/validate.js';
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
  /**
   * Yield at most this many events: the intact prefix of a damaged run, as
   * found by `verifyRun` (`intactEvents`). A table file that cannot be
   * opened then reads as empty, since the prefix needs none of its rows (a
   * row it would need shows up as a damaged-run error). Default: every
   * committed event.
   */
  limit?: number;
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
  const { limit = Infinity } = options;
  if (limit !== Infinity) nonNegativeInt('openEventStream', 'limit', limit);
  if (options.strict) {
    const run = await readRun(dir, { strict: true });
    const committed = Math.min(run.events, limit);
    const all = decodeEvents(run);
    const upTo = function* (): Generator<PolcaEvent> {
      for (let i = 0; i < committed; i++) {
        const next = all.next();
        if (next.done) return;
        yield next.value;
      }
    };
    return { committed, events: upTo(), close: () => undefined };
  }
  const manifest = await readManifest(dir, 'replay');
  if (limit === 0) return { committed: 0, events: (function* () {})(), close: () => undefined };
  const file = (name: TableName) => path.join(dir, manifest.tables?.[name] ?? tableFileName(name));
  // A closed run records the size of its commit log; a bigger file, or a message bigger than the counts allow, is not read.
  const logLimits = readLimits(manifest, 'events');
  const { table: log } = await readTableFile(file('events'), eventTableSchema('events', manifest.layout ?? 1), 'replay', logLimits.fileBytes, logLimits.messageBytes);
  const written = log.numRows;
  const committed = Math.min(written, limit);
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
        const limits = readLimits(manifest, name);
        let reader: TableFileReader;
        try {
          reader = new TableFileReader(file(name), eventTableSchema(name, manifest.layout ?? 1), 'replay', limits.fileBytes, limits.messageBytes);
        } catch (e) {
          if (!(e instanceof RunFormatError) || limit === Infinity) throw e;
          pulls[name] = () => null;
          continue;
        }
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
      yield* decodeFrom(committed, pulls, manifest.numProbe, Object.fromEntries(TABLE_NAMES.map((t) => [t, file(t)])));
      // A closed run says how many events it committed: a shorter log lost its tail.
      if (limit === Infinity && manifest.status === 'closed' && manifest.events !== undefined && written < manifest.events) {
        throw new RunFormatError(`replay: ${file('events')} holds ${written} events, but run.json records ${manifest.events}; the file was cut`);
      }
    } finally {
      close();
    }
  }
  return { committed, events: events(), close };
}
