/**
 * Reading a run directory: manifest, every table (crash-recovered), and θ.
 *
 * @packageDocumentation
 */
import path from 'node:path';
import fs from 'node:fs';
import { Table, type RecordBatch } from 'apache-arrow';
import { readManifest, type RunManifest } from './manifest.js';
import type { TableRecovery } from './readTable.js';
import { readLimits } from './readLimits.js';
import { readTableFile } from './readTableFile.js';
import { RunFormatError } from './RunFormatError.js';
import type { ParamsRecord } from './RunWriter.js';
import { TABLE_NAMES, eventTableSchema, paramsSchema, tableFileName, tableSchema, type TableName } from './schemas.js';

/**
 * Options of {@link readRun}.
 *
 * @example
 * ```ts
 * await readRun(dir, { strict: true }); // throws on any crash damage
 * ```
 */
export interface ReadRunOptions {
  /** Throw instead of recovering when a table is truncated or damaged, or holds rows of uncommitted events. Default false. */
  strict?: boolean;
}

/**
 * A run directory read into memory.
 *
 * @example
 * ```ts
 * const { manifest, tables, events } = await readRun(dir);
 * ```
 */
export interface RunData {
  dir: string;
  manifest: RunManifest;
  /** Every event table, holding only the rows of committed events. */
  tables: Record<TableName, Table>;
  /** Per table: bytes and batches kept and dropped. */
  recovery: Record<TableName, TableRecovery>;
  /** Number of committed events (rows of `events`); replay yields exactly these. */
  events: number;
  /**
   * Per table, rows dropped because their event's `events` row is missing:
   * the writer was stopped in the middle of a flush.
   */
  uncommittedRows: Record<TableName, number>;
  /** True when every table ended with its end-of-stream marker and nothing was dropped: the writer closed normally. */
  complete: boolean;
}

/**
 * First row index whose `seq` is ≥ `limit` (rows are sorted by seq): how many
 * rows belong to the first `limit` events. A table without `seq` (θ) keeps every row.
 */
export function firstRowAtOrAfter(table: Table | RecordBatch, limit: number): number {
  const seq = table.getChild('seq');
  if (!seq) return table.numRows;
  let lo = 0;
  let hi = table.numRows;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((seq.get(mid) as number) < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Read a run directory. Truncated tables (a killed writer) are read up to
 * their last complete batch, and rows of events whose flush did not finish
 * are dropped, so the result holds exactly the first `events` events.
 *
 * @throws RunFormatError for a missing directory, a missing or newer-version
 *   manifest, a missing table, a table with unexpected columns, or (with
 *   `strict`) any recovery.
 * @example
 * ```ts
 * const run = await readRun('runs/arith');
 * run.tables.polca.numRows;           // N·K per interval
 * run.recovery.polca.droppedBytes;    // > 0 after a crash mid-flush
 * ```
 */
export async function readRun(dir: string, options: ReadRunOptions = {}): Promise<RunData> {
  const manifest = await readManifest(dir, 'readRun');
  // A closed run records each file's size, and run.json's counts bound a message: larger ones are refused unread.
  const load = (name: TableName) => {
    const { fileBytes, messageBytes } = readLimits(manifest, name);
    return readTableFile(path.join(dir, manifest.tables?.[name] ?? tableFileName(name)), eventTableSchema(name, manifest.layout ?? 1), 'readRun', fileBytes, messageBytes);
  };
  // The commit log first: a writer still running can only add rows to the other tables
  // after this read, and rows beyond the log are trimmed below as uncommitted.
  const events = await load('events');
  const others = await Promise.all(TABLE_NAMES.filter((t) => t !== 'events').map(load));
  const read = TABLE_NAMES.map((t) => (t === 'events' ? events : others.shift()!));
  const tables = {} as Record<TableName, Table>;
  const recovery = {} as Record<TableName, TableRecovery>;
  TABLE_NAMES.forEach((name, i) => {
    tables[name] = read[i].table;
    recovery[name] = read[i].recovery;
  });
  const committed = tables.events.numRows;
  const seqs = tables.events.getChild('seq')!;
  for (let i = 0; i < committed; i++) {
    if (seqs.get(i) !== i) throw new RunFormatError(`readRun: ${recovery.events.file} row ${i} has seq ${seqs.get(i)}, expected ${i}; the file is damaged`);
  }
  const uncommittedRows = {} as Record<TableName, number>;
  for (const name of TABLE_NAMES) {
    const keep = firstRowAtOrAfter(tables[name], committed);
    uncommittedRows[name] = tables[name].numRows - keep;
    if (keep < tables[name].numRows) tables[name] = tables[name].slice(0, keep);
  }
  const damaged = TABLE_NAMES.filter((t) => recovery[t].end === 'truncated' || recovery[t].end === 'corrupt' || uncommittedRows[t] > 0);
  if (options.strict && damaged.length > 0) {
    const what = damaged.map((t) => `${t} (${recovery[t].end}${recovery[t].reason ? `: ${recovery[t].reason}` : ''}; ${recovery[t].droppedBytes} bytes dropped, ${uncommittedRows[t]} uncommitted rows)`);
    throw new RunFormatError(`readRun: strict read of ${JSON.stringify(dir)} failed: ${what.join('; ')}`);
  }
  const complete = damaged.length === 0 && TABLE_NAMES.every((t) => recovery[t].end === 'eos');
  return { dir, manifest, tables, recovery, events: committed, uncommittedRows, complete };
}

/**
 * Read θ of every checkpoint stored with `keepParams: true`, in the order written.
 *
 * @throws RunFormatError when the run kept no parameters.
 * @example
 * ```ts
 * for (const { step, theta } of await readParams('runs/arith')) backfill(step, theta);
 * ```
 */
export async function readParams(dir: string): Promise<{ params: ParamsRecord[]; recovery: TableRecovery }> {
  const manifest = await readManifest(dir, 'readParams');
  if (!manifest.params) throw new RunFormatError(`readParams: the run in ${JSON.stringify(dir)} did not keep parameters (keepParams was false)`);
  const file = path.join(dir, manifest.params);
  if (!fs.existsSync(file)) throw new RunFormatError(`readParams: ${JSON.stringify(file)} is missing`);
  const { fileBytes, messageBytes } = readLimits(manifest, 'params');
  const { table, recovery } = await readTableFile(file, tableSchema('params', paramsSchema), 'readParams', fileBytes, messageBytes);
  const params: ParamsRecord[] = [];
  for (const batch of table.batches) {
    const steps = batch.getChild('step')!;
    const thetas = batch.getChild('theta')!;
    for (let i = 0; i < batch.numRows; i++) {
      params.push({ step: steps.get(i) as number, theta: (thetas.get(i)!.toArray() as Float32Array).slice() });
    }
  }
  return { params, recovery };
}
