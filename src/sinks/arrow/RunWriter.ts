/**
 * The Arrow run-directory sink: writes polca's event stream to `run.json`
 * plus one Arrow IPC stream file per table (see `schemas.ts`).
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import path from 'node:path';
import { Data, Float32, Int32, List, Field, RecordBatch, Struct, makeData } from 'apache-arrow';
import type { Observable, Observer, Subscription } from 'rxjs';
import { EVENT_SCHEMA_VERSION, type PolcaEvent, type PolcaEventType, type RunStartEvent } from '../../stream/events.js';
import { EventEncoder } from './EventEncoder.js';
import { MANIFEST_FILE, manifestTables, writeManifest, type ProbeMetaColumn, type RunManifest } from './manifest.js';
import { RunFormatError } from './RunFormatError.js';
import { EVENT_TABLES, TABLE_NAMES, paramsSchema, tableFileName, tableSchema, type TableName } from './schemas.js';
import { TableFile } from './TableFile.js';

/**
 * θ of one POLCA checkpoint, kept for post-hoc backfill (`keepParams`).
 *
 * @example
 * ```ts
 * writer.writeParams({ step: 200, theta: space.flatten() });
 * ```
 */
export interface ParamsRecord {
  /** Checkpoint step. */
  step: number;
  /** Flat parameter vector θ_step, length P, in the order of `run-start.params`. */
  theta: Float32Array;
}

/**
 * Options of {@link RunWriter}.
 *
 * @example
 * ```ts
 * const options: RunWriterOptions = { probeMeta: { token, label }, keepParams: true };
 * ```
 */
export interface RunWriterOptions {
  /**
   * Per-datapoint metadata of the probe set (token text, labels, …): one
   * array of length N per column, stored in `run.json`.
   */
  probeMeta?: Record<string, ProbeMetaColumn>;
  /** Accept {@link RunWriter.writeParams} and store θ in `params.ipc` (4·P bytes per checkpoint). Default false. */
  keepParams?: boolean;
  /**
   * Event types after which the buffered rows are written out. Default
   * `['run-start', 'checkpoint', 'polca', 'clusters', 'transition', 'alert', 'run-end']`:
   * every checkpoint, while `step` and `basis` events ride along with the next flush.
   */
  flushOn?: PolcaEventType[];
  /** Also write out when this many rows are buffered (guards runs with rare checkpoints). Default 1 000 000. */
  maxBufferedRows?: number;
  /** fsync every file at each flush, so flushed rows survive a power cut as well as a killed process. Default false. */
  fsync?: boolean;
  /** Replace an existing run in `dir`. Default false: an existing `run.json` is an error. */
  overwrite?: boolean;
}

const DEFAULT_FLUSH_ON: PolcaEventType[] = ['run-start', 'checkpoint', 'polca', 'clusters', 'transition', 'alert', 'run-end'];

const THETA_TYPE = new List(new Field('item', new Float32(), false));

/**
 * Writes polca events to a run directory. The first event must be
 * `run-start`; it creates `run.json` and every table file. Rows are
 * buffered and written one record batch per table at each flush (see
 * `flushOn`), `events.ipc` last, so that a killed process leaves every
 * flushed event readable. The writer is an RxJS `Observer`: subscribe it
 * to the tracker's events (or use {@link writeRun}).
 *
 * Typed arrays of events are read at the next flush, not copied at
 * `write`: do not modify them in between.
 *
 * @example
 * ```ts
 * const writer = new RunWriter('runs/arith', { probeMeta: { token: tokens } });
 * tracker.events$.subscribe(writer);   // closes when the stream completes
 * await writer.closed;
 * ```
 */
export class RunWriter implements Observer<PolcaEvent> {
  private encoder: EventEncoder | null = null;
  private files: Partial<Record<TableName, TableFile>> = {};
  private paramsFile: TableFile | null = null;
  private manifest: RunManifest | null = null;
  private seq = 0;
  private committed = 0;
  private state: 'open' | 'closed' | 'aborted' = 'open';
  private readonly flushOn: Set<PolcaEventType>;
  private readonly maxBufferedRows: number;
  private resolveClosed!: () => void;
  private rejectClosed!: (reason: unknown) => void;
  private subscription: Subscription | null = null;
  private sourceError: string | undefined;

  /** Settles once the files are closed: resolves after {@link close}, rejects with the reason after {@link abort}. */
  readonly closed: Promise<void>;

  constructor(readonly dir: string, private readonly options: RunWriterOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new RunFormatError(`RunWriter: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
    const { flushOn = DEFAULT_FLUSH_ON, maxBufferedRows = 1_000_000 } = options;
    if (!Number.isInteger(maxBufferedRows) || maxBufferedRows < 1) {
      throw new RunFormatError(`RunWriter: options.maxBufferedRows must be a positive integer, got ${maxBufferedRows}`);
    }
    this.flushOn = new Set(flushOn);
    this.maxBufferedRows = maxBufferedRows;
    this.closed = new Promise<void>((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    // Callers that never await `closed` must not get an unhandled rejection from abort().
    this.closed.catch(() => undefined);
    if (!options.overwrite && fs.existsSync(path.join(dir, MANIFEST_FILE))) {
      throw new RunFormatError(`RunWriter: ${JSON.stringify(dir)} already holds a run (${MANIFEST_FILE}); choose another directory or pass overwrite: true`);
    }
  }

  /** Number of events written so far and readable after a crash (their `events.ipc` rows are on disk). */
  get committedEvents(): number {
    return this.committed;
  }

  /** Number of events accepted so far (committed or buffered). */
  get acceptedEvents(): number {
    return this.seq;
  }

  private assertOpen(method: string): void {
    if (this.state !== 'open') throw new Error(`RunWriter.${method}: the writer is ${this.state} (${this.dir})`);
  }

  /**
   * Store one event. Throws {@link RunFormatError} (and stores nothing) for
   * an event that cannot be stored exactly, and `Error` after close/abort.
   */
  write(event: PolcaEvent): void {
    this.assertOpen('write');
    if (event === null || typeof event !== 'object') throw new RunFormatError(`RunWriter.write: event must be an object, got ${String(event)}`);
    if (this.encoder === null) {
      if (event.type !== 'run-start') throw new RunFormatError(`RunWriter.write: the first event must be run-start, got ${JSON.stringify(event.type)}`);
      if (typeof event.time !== 'number') throw new RunFormatError(`RunWriter.write: run-start.time must be a number, got ${typeof event.time}`);
      this.start(event);
    } else if (event.type === 'run-start') {
      throw new RunFormatError(`RunWriter.write: a second run-start event (seq ${this.seq}); one writer holds one run`);
    }
    this.encoder!.add(this.seq, event);
    this.seq += 1;
    if (this.flushOn.has(event.type) || this.encoder!.pendingRows >= this.maxBufferedRows) this.flush();
  }

  /** Write θ of a checkpoint to `params.ipc` (requires `keepParams: true` and a prior `run-start`). Written at once. */
  writeParams(record: ParamsRecord): void {
    this.assertOpen('writeParams');
    if (!this.options.keepParams) throw new RunFormatError('RunWriter.writeParams: options.keepParams is false; pass keepParams: true to store θ');
    if (this.encoder === null || this.manifest === null || this.paramsFile === null) throw new RunFormatError('RunWriter.writeParams: called before the run-start event');
    const { step, theta } = record ?? ({} as ParamsRecord);
    if (!Number.isInteger(step) || Math.abs(step) > 2 ** 31 - 1) throw new RunFormatError(`RunWriter.writeParams: record.step must be an int32, got ${step}`);
    if (!(theta instanceof Float32Array) || theta.length !== this.manifest.numParams) {
      throw new RunFormatError(`RunWriter.writeParams: record.theta must be a Float32Array of length numParams = ${this.manifest.numParams}, got ${theta instanceof Float32Array ? `length ${theta.length}` : typeof theta}`);
    }
    const schema = this.paramsFile.schema;
    const stepData = makeData({ type: new Int32(), length: 1, nullCount: 0, data: Int32Array.of(step) });
    const values = makeData({ type: new Float32(), length: theta.length, nullCount: 0, data: theta });
    const thetaData = makeData({ type: THETA_TYPE, length: 1, nullCount: 0, valueOffsets: Int32Array.of(0, theta.length), child: values });
    const struct = makeData({ type: new Struct(schema.fields), length: 1, nullCount: 0, children: [stepData, thetaData] as Data[] });
    this.paramsFile.append(new RecordBatch(schema, struct));
    this.paramsFile.sync();
  }

  private start(event: RunStartEvent): void {
    const { probeMeta = {}, keepParams = false, overwrite = false, fsync = false } = this.options;
    const n = event.numProbe;
    if (!Number.isInteger(n) || n < 0) throw new RunFormatError(`RunWriter.write: run-start.numProbe must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(event.numParams) || event.numParams < 0) throw new RunFormatError(`RunWriter.write: run-start.numParams must be a non-negative integer, got ${event.numParams}`);
    for (const [name, column] of Object.entries(probeMeta)) {
      if (!Array.isArray(column) || column.length !== n) {
        throw new RunFormatError(`RunWriter: options.probeMeta.${name} must be an array of length numProbe = ${n}, got ${Array.isArray(column) ? `length ${column.length}` : typeof column}`);
      }
    }
    fs.mkdirSync(this.dir, { recursive: true });
    const stale = [...TABLE_NAMES.map(tableFileName), tableFileName('params'), MANIFEST_FILE];
    if (overwrite) for (const f of stale) fs.rmSync(path.join(this.dir, f), { force: true });
    else {
      const found = stale.find((f) => fs.existsSync(path.join(this.dir, f)));
      if (found) throw new RunFormatError(`RunWriter: ${JSON.stringify(this.dir)} already has ${found}; choose another directory or pass overwrite: true`);
    }
    for (const name of TABLE_NAMES) {
      this.files[name] = new TableFile(path.join(this.dir, tableFileName(name)), tableSchema(name, EVENT_TABLES[name]), fsync);
    }
    if (keepParams) this.paramsFile = new TableFile(path.join(this.dir, tableFileName('params')), tableSchema('params', paramsSchema), fsync);
    this.manifest = {
      format: 'polca-run',
      schemaVersion: EVENT_SCHEMA_VERSION,
      versions: event.versions,
      config: event.config,
      numParams: event.numParams,
      numProbe: n,
      backend: event.backend,
      hvpMode: event.hvpMode,
      startTime: event.time,
      probeMeta,
      tables: manifestTables(),
      params: keepParams ? tableFileName('params') : null,
      status: 'running',
    };
    // The manifest goes last: a directory with run.json has all its table files.
    writeManifest(this.dir, this.manifest);
    this.encoder = new EventEncoder(n, event.numParams);
  }

  /** Write every buffered row now (one batch per table, `events` last). */
  flush(): void {
    this.assertOpen('flush');
    this.flushBuffered();
  }

  private flushBuffered(): void {
    if (this.encoder === null) return;
    const batches = this.encoder.take();
    for (const { name, batch } of batches) this.files[name]!.append(batch);
    for (const { name } of batches) this.files[name]!.sync();
    this.committed = this.seq;
  }

  /**
   * Flush, write the end-of-stream markers, mark `run.json` closed and
   * release the files. Idempotent; also ends a {@link writeRun} subscription.
   */
  close(): Promise<void> {
    if (this.state !== 'open') return this.closed.catch(() => undefined);
    try {
      this.flushBuffered();
      for (const f of Object.values(this.files)) f!.end();
      this.paramsFile?.end();
      if (this.manifest) writeManifest(this.dir, { ...this.manifest, status: 'closed', sourceError: this.sourceError, events: this.committed });
    } catch (e) {
      this.abort(e);
      return this.closed;
    }
    this.state = 'closed';
    this.subscription?.unsubscribe();
    this.resolveClosed();
    return this.closed;
  }

  /**
   * Stop without flushing: buffered rows are dropped, the files keep every
   * batch already flushed, and `run.json` records the reason. `closed`
   * rejects with `reason`. No-op once closed or aborted.
   */
  abort(reason?: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.subscription?.unsubscribe();
    for (const f of Object.values(this.files)) f!.release();
    this.paramsFile?.release();
    try {
      if (this.manifest) writeManifest(this.dir, { ...this.manifest, status: 'aborted', abortReason: String((reason as Error)?.message ?? reason), events: this.committed });
    } finally {
      this.rejectClosed(reason ?? new Error('RunWriter aborted'));
    }
  }

  /** Observer: store the event; an event that cannot be stored aborts the writer (see `closed`). */
  next(event: PolcaEvent): void {
    if (this.state !== 'open') return;
    try {
      this.write(event);
    } catch (e) {
      this.abort(e);
    }
  }

  /** Observer: the event stream failed — keep what was received, note the error in `run.json`, and close. */
  error(err: unknown): void {
    if (this.state !== 'open') return;
    this.sourceError = String((err as Error)?.message ?? err);
    void this.close();
  }

  /** Observer: the event stream ended — close. */
  complete(): void {
    void this.close();
  }

  /** @internal used by {@link writeRun} so that close() also unsubscribes. */
  attach(subscription: Subscription): void {
    this.subscription = subscription;
    if (this.state !== 'open') subscription.unsubscribe();
  }
}

/**
 * Subscribe a new {@link RunWriter} to an event stream. The writer closes
 * when the stream completes or errors; closing it unsubscribes.
 *
 * @example
 * ```ts
 * const writer = writeRun(tracker.events$, 'runs/arith', { keepParams: true });
 * tracker.onParams((step, theta) => writer.writeParams({ step, theta }));
 * await writer.closed;
 * ```
 */
export function writeRun(events: Observable<PolcaEvent>, dir: string, options?: RunWriterOptions): RunWriter {
  const writer = new RunWriter(dir, options);
  writer.attach(events.subscribe(writer));
  return writer;
}
