/**
 * Export of run directories as one Hive-partitioned Parquet dataset:
 * `<out>/<table>/run=<name>/part-00000.parquet`, zstd-compressed, so that
 * DuckDB, polars or Spark scan many runs as one table with a `run` column.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  Data, Field, Int32, RecordBatch, Schema, Struct, Table, TimestampMicrosecond, Utf8, makeData, tableToIPC, vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { fail, positiveInt } from '../../errors/validate.js';
import { POLCA_VERSION } from '../../version.js';
import { nanosecondsOf } from '../arrow/columnBuffer.js';
import { labelsBatch, readLabelsTable, LABELS_TABLE } from '../arrow/labelsTable.js';
import type { RunManifest } from '../arrow/manifest.js';
import { readManifest } from '../arrow/manifest.js';
import { firstRowAtOrAfter } from '../arrow/readRun.js';
import { readTableFile } from '../arrow/readTableFile.js';
import { RunFormatError } from '../arrow/RunFormatError.js';
import { TABLE_NAMES, eventTableSchema, paramsSchema, tableSchema, type TableName } from '../arrow/schemas.js';
import { TableFileReader } from '../arrow/TableFileReader.js';

/**
 * File name of part `k` of a partition: zero-padded, so that the name order
 * every reader's glob uses is the row order.
 *
 * @example
 * ```ts
 * partFileName(2); // 'part-00002.parquet'
 * ```
 */
export function partFileName(k: number): string {
  return `part-${String(k).padStart(5, '0')}.parquet`;
}

/** Table holding one row per exported run: its run.json scalars. */
export const RUNS_TABLE = 'runs';

/**
 * Progress of {@link exportParquet}: one report per table file written.
 *
 * @example
 * ```ts
 * onProgress: (p) => console.error(`${p.run}/${p.table}: ${p.rows} rows, ${p.bytes} bytes`)
 * ```
 */
export interface ExportProgress {
  /** Partition value of the run (its directory's name). */
  run: string;
  /** Table name. */
  table: string;
  /** Path of the Parquet file written. */
  file: string;
  /** Rows in that file. */
  rows: number;
  /** Its size in bytes. */
  bytes: number;
}

/** Options of {@link exportParquet}. */
export interface ExportParquetOptions {
  /** Dataset directory; created when missing. A run exported again replaces its own partitions only. */
  out: string;
  /** Most rows in one Parquet file; a larger table is split into `part-00000`, `part-00001`, … (bounds memory). Default 4 000 000. */
  maxRowsPerFile?: number;
  /** Per run directory, the number of events to export (a damaged run's intact prefix); default every committed event. */
  limits?: ReadonlyMap<string, number>;
  /** Called after every file written. */
  onProgress?: (progress: ExportProgress) => void;
}

/**
 * What {@link exportParquet} wrote.
 *
 * @example
 * ```ts
 * const { files, rows } = await exportParquet(['runs/a'], { out: 'dataset' });
 * ```
 */
export interface ExportSummary {
  /** Partition value of each run, in the order given. */
  runs: string[];
  /** Parquet files written. */
  files: string[];
  /** Rows written per table, over all runs. */
  rows: Record<string, number>;
  /** Bytes written. */
  bytes: number;
}

type ParquetWasm = typeof import('parquet-wasm');
let parquetModule: Promise<ParquetWasm> | null = null;

/** parquet-wasm, loaded on first use: only an export pays for its WebAssembly module. */
function loadParquet(): Promise<ParquetWasm> {
  parquetModule ??= import('parquet-wasm');
  return parquetModule;
}

/** Partition values stay plain, so every reader's Hive parser takes them as they are. */
const RUN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * The partition value of a run directory: its name. Refused (by name) when
 * a Hive reader would need to escape it.
 */
function runName(dir: string): string {
  const name = path.basename(path.resolve(dir));
  if (!RUN_NAME.test(name)) {
    throw new RunFormatError(`exportParquet: run directory ${JSON.stringify(dir)} is named ${JSON.stringify(name)}; partition values must be letters, digits, '.', '_' or '-' (rename or link the directory)`);
  }
  return name;
}

const MICROSECONDS = new TimestampMicrosecond('UTC');

/**
 * A time column as microseconds since the epoch, UTC: the finest unit every
 * Parquet reader (Spark included) accepts. Takes the nanosecond timestamps
 * of layout-2 runs and the Float64 milliseconds of layout-1 runs.
 */
function microseconds(column: Vector): Data {
  const values = column.toArray() as BigInt64Array | Float64Array;
  // Floored, so that both layouts give one value for one time.
  const floor = (ns: bigint) => (ns >= 0n ? ns / 1000n : (ns - 999n) / 1000n);
  const out = values instanceof BigInt64Array
    ? BigInt64Array.from(values, floor)
    : BigInt64Array.from(values, (ms) => floor(nanosecondsOf(ms)));
  return makeData({ type: MICROSECONDS, length: out.length, nullCount: 0, data: out });
}

/** `table` with its `time` column (if any) in microseconds and the polca-specific schema metadata dropped. */
function forParquet(table: Table): Table {
  const at = table.schema.fields.findIndex((f) => f.name === 'time');
  const fields = table.schema.fields.map((f, i) => (i === at ? new Field('time', MICROSECONDS, false) : f));
  const schema = new Schema(fields);
  const batches = table.batches.map((batch) => {
    const children = fields.map((_, i) => (i === at ? microseconds(batch.getChildAt(i)!) : batch.getChildAt(i)!.data[0]));
    return new RecordBatch(schema, makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children: children as Data[] }));
  });
  return new Table(schema, batches);
}

/** One row of run.json's scalars, so that the dataset says what each run was. */
function runsTable(manifest: RunManifest, events: number): Table {
  const start = BigInt(Math.round(manifest.startTime * 1000));
  const columns: [string, Data][] = [
    ['numProbe', vectorFromArray([manifest.numProbe], new Int32()).data[0]],
    ['numParams', vectorFromArray([manifest.numParams], new Int32()).data[0]],
    ['events', vectorFromArray([events], new Int32()).data[0]],
    ['status', vectorFromArray([manifest.status], new Utf8()).data[0]],
    ['backend', vectorFromArray([manifest.backend], new Utf8()).data[0]],
    ['hvpMode', vectorFromArray([manifest.hvpMode], new Utf8()).data[0]],
    ['polcaVersion', vectorFromArray([manifest.versions?.polca ?? ''], new Utf8()).data[0]],
    ['startTime', makeData({ type: MICROSECONDS, length: 1, nullCount: 0, data: BigInt64Array.of(start) })],
    ['config', vectorFromArray([JSON.stringify(manifest.config ?? {})], new Utf8()).data[0]],
  ];
  const fields = columns.map(([name, data]) => new Field(name, data.type, false));
  const schema = new Schema(fields);
  return new Table(schema, [new RecordBatch(schema, makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: columns.map(([, d]) => d) }))]);
}

/**
 * Write the tables of run directories as one Hive-partitioned Parquet
 * dataset: every event table, the labels table, θ (`params`, when the run
 * kept it) and a `runs` table (one row of run.json per run) go to `<out>/<table>/run=<name>/part-<k>.parquet` ({@link partFileName}),
 * zstd-compressed, with `time` columns as UTC timestamps in microseconds.
 * Each run keeps what `readRun` keeps (the committed events; a crashed
 * run's intact prefix), read one record batch at a time so that memory
 * holds one part (`maxRowsPerFile` rows), not the run. A run exported again
 * replaces its own partitions. parquet-wasm is loaded on the first call.
 *
 * @throws RunFormatError naming the directory when a run cannot be read, two runs share a name, or a name needs escaping.
 * @example
 * ```ts
 * await exportParquet(['runs/hessian', 'runs/random'], { out: 'dataset', onProgress: (p) => console.error(p.file) });
 * // duckdb: SELECT run, count(*) FROM read_parquet('dataset/polca/*\/*.parquet', hive_partitioning = true) GROUP BY run;
 * ```
 */
export async function exportParquet(runDirs: readonly string[], options: ExportParquetOptions): Promise<ExportSummary> {
  if (!Array.isArray(runDirs) || runDirs.length === 0) fail('exportParquet', 'runDirs', 'a non-empty array of run directories', runDirs);
  if (options === null || typeof options !== 'object') fail('exportParquet', 'options', 'an object', options);
  if (typeof options.out !== 'string' || options.out === '') fail('exportParquet', 'out', 'a directory path', options.out);
  const maxRows = positiveInt('exportParquet', 'maxRowsPerFile', options.maxRowsPerFile ?? 4_000_000);
  const names = new Map<string, string>();
  for (const dir of runDirs) {
    const name = runName(dir);
    const other = names.get(name);
    if (other !== undefined) throw new RunFormatError(`exportParquet: run directories ${JSON.stringify(other)} and ${JSON.stringify(dir)} are both named ${JSON.stringify(name)}; each run's name is its partition value`);
    names.set(name, dir);
  }
  const pq = await loadParquet();
  const summary: ExportSummary = { runs: [...names.keys()], files: [], rows: {}, bytes: 0 };
  /** Writes the parts of one table of one run from its batches, `maxRows` rows a file, holding one part in memory. */
  const writeTable = (name: string, table: string, schema: Schema, batches: Iterable<RecordBatch>): void => {
    const partition = path.join(options.out, table, `run=${name}`);
    fs.rmSync(partition, { recursive: true, force: true });
    fs.mkdirSync(partition, { recursive: true });
    let part = 0;
    const write = (data: Table): void => {
      const parquet = forParquet(data);
      const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setCreatedBy(`polca ${POLCA_VERSION}`).build();
      const bytes = pq.writeParquet(pq.Table.fromIPCStream(tableToIPC(parquet, 'stream')), props);
      const file = path.join(partition, partFileName(part++));
      fs.writeFileSync(file, bytes);
      summary.files.push(file);
      summary.rows[table] = (summary.rows[table] ?? 0) + data.numRows;
      summary.bytes += bytes.byteLength;
      options.onProgress?.({ run: name, table, file, rows: data.numRows, bytes: bytes.byteLength });
    };
    let pending: RecordBatch[] = [];
    let rows = 0;
    for (const batch of batches) {
      if (batch.numRows === 0) continue;
      pending.push(batch);
      rows += batch.numRows;
      while (rows >= maxRows) {
        const all = new Table(pending);
        write(all.slice(0, maxRows));
        pending = rows > maxRows ? all.slice(maxRows).batches : [];
        rows -= maxRows;
      }
    }
    // An empty table still gets a file: it carries the schema, so every run has every table.
    // The batches carry the file's schema (with its metadata); only an empty table takes the expected one.
    if (rows > 0 || part === 0) write(pending.length > 0 ? new Table(pending) : new Table(schema));
  };
  for (const [name, dir] of names) {
    const manifest = await readManifest(dir, 'exportParquet');
    const layout = manifest.layout ?? 1;
    const file = (t: TableName) => path.join(dir, manifest.tables[t]);
    // The commit log decides which rows count, as in readRun: rows of events whose flush did not finish are left out.
    const { table: log } = await readTableFile(file('events'), eventTableSchema('events', layout), 'exportParquet');
    const seqs = log.getChild('seq')!;
    for (let i = 0; i < log.numRows; i++) {
      if (seqs.get(i) !== i) throw new RunFormatError(`exportParquet: ${file('events')} row ${i} has seq ${seqs.get(i)}, expected ${i}; the file is damaged`);
    }
    const limit = Math.min(log.numRows, options.limits?.get(dir) ?? Infinity);
    // θ per checkpoint when the run kept it; its rows have no seq, so all of them go.
    const tables: [string, string, Schema][] = TABLE_NAMES.map((t) => [t, file(t), eventTableSchema(t, layout)]);
    if (manifest.params) tables.push(['params', path.join(dir, manifest.params), tableSchema('params', paramsSchema)]);
    for (const [t, tableFile, schema] of tables) {
      // Read a batch at a time: a run's big tables never sit in memory whole.
      const reader = new TableFileReader(tableFile, schema, 'exportParquet');
      try {
        writeTable(name, t, schema, (function* () {
          for (let batch = reader.next(); batch !== null; batch = reader.next()) {
            const keep = firstRowAtOrAfter(batch, limit);
            if (keep > 0) yield keep < batch.numRows ? batch.slice(0, keep) : batch;
            if (keep < batch.numRows) return;
          }
        })());
      } finally {
        reader.close();
      }
    }
    const labels = manifest.labels
      ? await readLabelsTable(path.join(dir, manifest.labels), manifest.numProbe, 'exportParquet')
      : new Table([labelsBatch(manifest.probeMeta ?? {}, manifest.numProbe)]);
    writeTable(name, LABELS_TABLE, labels.schema, labels.batches);
    const runs = runsTable(manifest, limit);
    writeTable(name, RUNS_TABLE, runs.schema, runs.batches);
  }
  return summary;
}
