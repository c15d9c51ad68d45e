/**
 * The Arrow run-directory sink: writes polca's event stream to `run.json`
 * plus one Arrow IPC stream file per table (see `schemas.ts`).
 *
 * @packageDocumentation
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Data, Float32, Int32, List, Field, RecordBatch, Struct, makeData } from 'apache-arrow';
import type { Observable, Observer, Subscription } from 'rxjs';
import { EVENT_SCHEMA_VERSION, type PolcaEvent, type PolcaEventType, type RunStartEvent } from '../../stream/events.js';
import { fail } from '../../errors/validate.js';
import { EventEncoder } from './EventEncoder.js';
import { LABELS_TABLE, labelsBatch } from './labelsTable.js';
import { MANIFEST_FILE, manifestTables, writeManifest, type ProbeMetaColumn, type RunManifestFile } from './manifest.js';
import { RunFormatError } from './RunFormatError.js';
import { EVENT_TABLES, LEGACY_TABLE_EXTENSION, RUN_LAYOUT, TABLE_NAMES, paramsSchema, tableFileName, tableSchema, type TableName } from './schemas.js';
import { TableFile, writtenFiles } from './TableFile.js';
import { CHECKSUM_SCHEME } from './batchChecksum.js';

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
   * array of length N per column, of strings, numbers or booleans. Stored in
   * the labels table (`labels.arrows`: `datapoint` and one column each), which
   * `readManifest` and `readRun` give back as `manifest.probeMeta`.
   */
  probeMeta?: Record<string, ProbeMetaColumn>;
  /** Accept {@link RunWriter.writeParams} and store θ in the params table (`params.arrows`) (4·P bytes per checkpoint). Default false. */
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
  /**
   * Called once, synchronously, when the writer stops itself because the
   * disk refused a write (full disk, unwritable or vanished directory). The
   * writer never throws or rejects for such a failure: training goes on and
   * later events are counted as lost. An exception thrown by the callback is
   * reported as a process warning and otherwise ignored.
   */
  onFailure?: (failure: RunWriterFailure) => void;
}

/**
 * Why and when a {@link RunWriter} stopped itself on an I/O error.
 *
 * @example
 * ```ts
 * new RunWriter(dir, { onFailure: (f) => console.warn(f.reason, `${f.lostEvents} events lost`) });
 * ```
 */
export interface RunWriterFailure {
  /** The run directory. */
  dir: string;
  /** What the writer was doing: creating the run, flushing rows, storing θ, or closing. */
  operation: 'create' | 'flush' | 'params' | 'close';
  /** The error the file system raised. */
  error: Error;
  /** Its Node error code (`ENOSPC`, `ENOTDIR`, `EACCES`, …) when it has one. */
  code: string | undefined;
  /** One line for a log or an alert: directory, operation and error. */
  reason: string;
  /** Events on disk and readable (their `events` rows were written before the failure). */
  committedEvents: number;
  /** Events accepted but not on disk when the writer stopped (later ones are counted by {@link RunWriter.lostEvents}). */
  lostEvents: number;
  /** Whether `run.json` now says `status: 'failed'` with the reason (false when it could not be rewritten). */
  manifestUpdated: boolean;
}

/**
 * How a {@link RunWriter} ended: what `closed` resolves to and `close()` returns.
 *
 * @example
 * ```ts
 * const result = await writer.closed;
 * if (result.status === 'failed') console.warn(result.failure!.reason);
 * ```
 */
export interface RunWriterResult {
  /** `closed`: every event is on disk; `failed`: stopped on an I/O error; `aborted`: {@link RunWriter.abort} was called. */
  status: 'closed' | 'failed' | 'aborted';
  /** Events on disk and readable. */
  committedEvents: number;
  /** Events offered to the writer that are not on disk (0 when closed normally). */
  lostEvents: number;
  /** The I/O failure, when `status` is `failed`. */
  failure: RunWriterFailure | null;
}

const DEFAULT_FLUSH_ON: PolcaEventType[] = ['run-start', 'checkpoint', 'polca', 'clusters', 'transition', 'alert', 'run-end'];

const THETA_TYPE = new List(new Field('item', new Float32(), false));

/**
 * Writes polca events to a run directory. The first event must be
 * `run-start`; it creates `run.json` and every table file. Rows are
 * buffered and written one record batch per table at each flush (see
 * `flushOn`), the `events` table last, so that a killed process leaves every
 * flushed event readable. The writer is an RxJS `Observer`: subscribe it
 * to the tracker's events (or use {@link writeRun}).
 *
 * Observability must never stop training, so an I/O error (full disk,
 * unwritable directory) does not throw: the writer stops itself, cuts every
 * file back to its last complete batch, marks `run.json` `failed` with the
 * reason when it can, calls `onFailure`, resolves `closed` with status
 * `failed`, and counts every later event as lost. Events it cannot store
 * exactly (a programming error) still throw {@link RunFormatError}.
 *
 * Typed arrays of events are read at the next flush, not copied at
 * `write`: do not modify them in between.
 *
 * @example
 * ```ts
 * const writer = new RunWriter('runs/arith', { probeMeta: { token: tokens }, onFailure: (f) => console.warn(f.reason) });
 * tracker.events$.subscribe(writer);   // closes when the stream completes
 * const { status, lostEvents } = await writer.closed;
 * ```
 */
export class RunWriter implements Observer<PolcaEvent> {
  private encoder: EventEncoder | null = null;
  private files: Partial<Record<TableName, TableFile>> = {};
  private paramsFile: TableFile | null = null;
  private manifest: RunManifestFile | null = null;
  private seq = 0;
  private committed = 0;
  /** Events offered after an I/O failure stopped the writer. */
  private droppedAfterFailure = 0;
  private failed: RunWriterFailure | null = null;
  private state: 'open' | 'closed' | 'aborted' | 'failed' = 'open';
  private readonly flushOn: Set<PolcaEventType>;
  private readonly maxBufferedRows: number;
  private resolveClosed!: (result: RunWriterResult) => void;
  private rejectClosed!: (reason: unknown) => void;
  private subscription: Subscription | null = null;
  private sourceError: string | undefined;

  /**
   * Settles once the files are closed: resolves with the {@link RunWriterResult}
   * after {@link close} or an I/O failure, rejects with the reason after
   * {@link abort} (an explicit stop, or an event that could not be stored).
   */
  readonly closed: Promise<RunWriterResult>;

  constructor(readonly dir: string, private readonly options: RunWriterOptions = {}) {
    if (typeof dir !== 'string' || dir.length === 0) throw new RunFormatError(`RunWriter: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
    if (options === null || typeof options !== 'object') fail('RunWriter', 'options', 'an object', options);
    const { flushOn = DEFAULT_FLUSH_ON, maxBufferedRows = 1_000_000, probeMeta, onFailure } = options;
    if (!Number.isInteger(maxBufferedRows) || maxBufferedRows < 1) {
      throw new RunFormatError(`RunWriter: options.maxBufferedRows must be a positive integer, got ${maxBufferedRows}`);
    }
    if (probeMeta !== undefined) {
      if (probeMeta === null || typeof probeMeta !== 'object' || Array.isArray(probeMeta)) {
        fail('RunWriter', 'probeMeta', 'an object of per-datapoint columns ({ name: array of length numProbe })', probeMeta);
      }
      for (const [name, column] of Object.entries(probeMeta)) {
        if (!Array.isArray(column)) fail('RunWriter', `probeMeta.${name}`, 'an array with one value per probe datapoint', column);
      }
    }
    if (onFailure !== undefined && typeof onFailure !== 'function') fail('RunWriter', 'onFailure', 'a function', onFailure);
    this.flushOn = new Set(flushOn);
    this.maxBufferedRows = maxBufferedRows;
    this.closed = new Promise<RunWriterResult>((resolve, reject) => {
      this.resolveClosed = resolve;
      this.rejectClosed = reject;
    });
    // Callers that never await `closed` must not get an unhandled rejection from abort().
    this.closed.catch(() => undefined);
    if (!options.overwrite && fs.existsSync(path.join(dir, MANIFEST_FILE))) {
      throw new RunFormatError(`RunWriter: ${JSON.stringify(dir)} already holds a run (${MANIFEST_FILE}); choose another directory or pass overwrite: true`);
    }
  }

  /** Number of events written so far and readable after a crash (their `events` rows are on disk). */
  get committedEvents(): number {
    return this.committed;
  }

  /** Number of events accepted so far (committed or buffered). */
  get acceptedEvents(): number {
    return this.seq;
  }

  /**
   * Events that will never reach the disk because an I/O failure stopped the
   * writer: those buffered at the failure plus every event offered since. 0 while healthy.
   */
  get lostEvents(): number {
    return this.failed === null ? 0 : this.seq - this.committed + this.droppedAfterFailure;
  }

  /** The I/O failure that stopped the writer, or null. */
  get failure(): RunWriterFailure | null {
    return this.failed;
  }

  private result(status: RunWriterResult['status']): RunWriterResult {
    return { status, committedEvents: this.committed, lostEvents: this.lostEvents, failure: this.failed };
  }

  private assertOpen(method: string): void {
    if (this.state !== 'open') throw new Error(`RunWriter.${method}: the writer is ${this.state} (${this.dir})`);
  }

  /**
   * Store one event. Throws {@link RunFormatError} (and stores nothing) for
   * an event that cannot be stored exactly, and `Error` after close/abort.
   * After an I/O failure the event is counted in {@link lostEvents} and dropped.
   */
  write(event: PolcaEvent): void {
    if (this.state === 'failed') {
      this.droppedAfterFailure += 1;
      return;
    }
    this.assertOpen('write');
    if (event === null || typeof event !== 'object') throw new RunFormatError(`RunWriter.write: event must be an object, got ${String(event)}`);
    if (this.encoder === null) {
      if (event.type !== 'run-start') throw new RunFormatError(`RunWriter.write: the first event must be run-start, got ${JSON.stringify(event.type)}`);
      if (typeof event.time !== 'number') throw new RunFormatError(`RunWriter.write: run-start.time must be a number, got ${typeof event.time}`);
      if (!this.start(event)) {
        this.droppedAfterFailure += 1;
        return;
      }
    } else if (event.type === 'run-start') {
      throw new RunFormatError(`RunWriter.write: a second run-start event (seq ${this.seq}); one writer holds one run`);
    }
    this.encoder!.add(this.seq, event);
    this.seq += 1;
    if (this.flushOn.has(event.type) || this.encoder!.pendingRows >= this.maxBufferedRows) this.flushBuffered();
  }

  /**
   * Write θ of a checkpoint to the params table (requires `keepParams: true` and a prior `run-start`). Written at once.
   * Ignored after an I/O failure.
   */
  writeParams(record: ParamsRecord): void {
    if (this.state === 'failed') return;
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
    try {
      this.paramsFile.append(new RecordBatch(schema, struct));
      this.paramsFile.sync();
    } catch (e) {
      this.fail('params', e);
    }
  }

  /** Checks the run-start event and options, then creates the files; false when the disk refused. */
  private start(event: RunStartEvent): boolean {
    const { probeMeta = {}, keepParams = false, overwrite = false, fsync = false } = this.options;
    const n = event.numProbe;
    if (!Number.isInteger(n) || n < 0) throw new RunFormatError(`RunWriter.write: run-start.numProbe must be a non-negative integer, got ${n}`);
    if (!Number.isInteger(event.numParams) || event.numParams < 0) throw new RunFormatError(`RunWriter.write: run-start.numParams must be a non-negative integer, got ${event.numParams}`);
    for (const [name, column] of Object.entries(probeMeta)) {
      if (!Array.isArray(column) || column.length !== n) {
        throw new RunFormatError(`RunWriter: options.probeMeta.${name} must be an array of length numProbe = ${n}, got ${Array.isArray(column) ? `length ${column.length}` : typeof column}`);
      }
    }
    // Built before any file is touched, so that a label column the table cannot hold is an error with nothing written.
    const labels = labelsBatch(probeMeta, n);
    // A random id in run.json and in every table file's schema: a table copied in from another run is recognised.
    const runId = randomUUID();
    const manifest: RunManifestFile = {
      format: 'polca-run',
      schemaVersion: EVENT_SCHEMA_VERSION,
      layout: RUN_LAYOUT,
      runId,
      checksum: CHECKSUM_SCHEME,
      versions: event.versions,
      config: event.config,
      numParams: event.numParams,
      numProbe: n,
      backend: event.backend,
      hvpMode: event.hvpMode,
      startTime: event.time,
      labels: tableFileName(LABELS_TABLE),
      tables: manifestTables(),
      params: keepParams ? tableFileName('params') : null,
      status: 'running',
    };
    // Older runs named their tables `.ipc`: an overwrite removes those too, so no stale table is left beside the new ones.
    const tables = [...TABLE_NAMES, 'params', LABELS_TABLE];
    const stale = [...tables.map(tableFileName), ...tables.map((t) => `${t}${LEGACY_TABLE_EXTENSION}`), MANIFEST_FILE];
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      if (overwrite) for (const f of stale) fs.rmSync(path.join(this.dir, f), { force: true });
      else {
        const found = stale.find((f) => fs.existsSync(path.join(this.dir, f)));
        if (found) throw new RunFormatError(`RunWriter: ${JSON.stringify(this.dir)} already has ${found}; choose another directory or pass overwrite: true`);
      }
      for (const name of TABLE_NAMES) {
        this.files[name] = new TableFile(path.join(this.dir, tableFileName(name)), tableSchema(name, EVENT_TABLES[name]), fsync, runId);
      }
      if (keepParams) this.paramsFile = new TableFile(path.join(this.dir, tableFileName('params')), tableSchema('params', paramsSchema), fsync, runId);
      // The labels are complete from the start: one batch and the end-of-stream marker.
      const labelsFile = new TableFile(path.join(this.dir, tableFileName(LABELS_TABLE)), labels.schema, fsync, runId);
      labelsFile.append(labels);
      labelsFile.end();
      // The manifest goes last: a directory with run.json has all its table files.
      writeManifest(this.dir, manifest);
    } catch (e) {
      if (e instanceof RunFormatError) throw e;
      this.manifest = fs.existsSync(this.dir) ? manifest : null;
      this.fail('create', e);
      return false;
    }
    this.manifest = manifest;
    this.encoder = new EventEncoder(n, event.numParams);
    return true;
  }

  /** Write every buffered row now (one batch per table, `events` last). A no-op after an I/O failure. */
  flush(): void {
    if (this.state === 'failed') return;
    this.assertOpen('flush');
    this.flushBuffered();
  }

  /** false when the disk refused (the writer has then failed). */
  private flushBuffered(): boolean {
    if (this.encoder === null) return true;
    const batches = this.encoder.take();
    try {
      for (const { name, batch } of batches) this.files[name]!.append(batch);
      for (const { name } of batches) this.files[name]!.sync();
    } catch (e) {
      this.fail('flush', e);
      return false;
    }
    this.committed = this.seq;
    return true;
  }

  /**
   * Stop on an I/O error: cut every file back to its last complete message
   * (readers then see a clean prefix, and a full disk gets the space back
   * for run.json), release the files, record the failure, tell the owner.
   */
  private fail(operation: RunWriterFailure['operation'], e: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    const error = e instanceof Error ? e : new Error(String(e));
    const code = (error as NodeJS.ErrnoException).code;
    for (const f of [...Object.values(this.files), this.paramsFile]) {
      if (!f) continue;
      try {
        f.release();
        fs.truncateSync(f.path, f.bytes);
      } catch {
        // The file may be gone with its directory; what is on disk stays readable up to its last complete batch.
      }
    }
    const reason = `RunWriter: ${operation === 'create' ? 'could not create the run in' : `${operation} failed in`} ${JSON.stringify(this.dir)}: ${error.message}`;
    let manifestUpdated = false;
    if (this.manifest) {
      try {
        writeManifest(this.dir, { ...this.manifest, status: 'failed', failureReason: reason, events: this.committed, lostEvents: this.seq - this.committed });
        manifestUpdated = true;
      } catch {
        // The disk that refused the tables may refuse run.json too; the failure still reaches the owner below.
      }
    }
    this.failed = { dir: this.dir, operation, error, code, reason, committedEvents: this.committed, lostEvents: this.seq - this.committed, manifestUpdated };
    const onFailure = this.options.onFailure;
    if (onFailure) {
      try {
        onFailure(this.failed);
      } catch (thrown) {
        process.emitWarning(`RunWriter: options.onFailure threw ${String((thrown as Error)?.message ?? thrown)}`);
      }
    }
    this.resolveClosed(this.result('failed'));
  }

  /**
   * Flush, write the end-of-stream markers, mark `run.json` closed and
   * release the files. Idempotent; also ends a {@link writeRun} subscription.
   * Resolves with how the writer ended (after an I/O failure: status `failed`
   * and the events lost so far).
   */
  close(): Promise<RunWriterResult> {
    if (this.state === 'failed') {
      this.subscription?.unsubscribe();
      return Promise.resolve(this.result('failed'));
    }
    if (this.state !== 'open') return this.closed.catch(() => this.result('aborted'));
    if (!this.flushBuffered()) return this.close();
    try {
      for (const f of Object.values(this.files)) f!.end();
      this.paramsFile?.end();
      const files = writtenFiles([...Object.values(this.files), this.paramsFile]);
      if (this.manifest) writeManifest(this.dir, { ...this.manifest, status: 'closed', sourceError: this.sourceError, events: this.committed, files });
    } catch (e) {
      this.fail('close', e);
      return this.close();
    }
    this.state = 'closed';
    this.subscription?.unsubscribe();
    this.resolveClosed(this.result('closed'));
    return this.closed;
  }

  /**
   * Stop without flushing: buffered rows are dropped, the files keep every
   * batch already flushed, and `run.json` records the reason. `closed`
   * rejects with `reason`. No-op once closed, aborted or failed.
   */
  abort(reason?: unknown): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.subscription?.unsubscribe();
    for (const f of Object.values(this.files)) f!.release();
    this.paramsFile?.release();
    try {
      if (this.manifest) writeManifest(this.dir, { ...this.manifest, status: 'aborted', abortReason: String((reason as Error)?.message ?? reason), events: this.committed });
    } catch {
      // Recording the reason is best effort; `closed` carries it either way.
    } finally {
      this.rejectClosed(reason ?? new Error('RunWriter aborted'));
    }
  }

  /** Observer: store the event; an event that cannot be stored aborts the writer (see `closed`). */
  next(event: PolcaEvent): void {
    if (this.state === 'failed') {
      this.droppedAfterFailure += 1;
      return;
    }
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
    if (this.state === 'closed' || this.state === 'aborted') subscription.unsubscribe();
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
