/**
 * The labels table of a run directory (`labels.arrows`): one row per probe
 * datapoint, its index and the user's label columns (token text, POS tags,
 * carry flags, …), so that any Arrow or Parquet reader can join labels to
 * the per-datapoint tables on `datapoint`.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import { Bool, Data, Field, Float64, Int32, RecordBatch, RecordBatchStreamReader, Schema, Struct, Table, Type, Utf8, makeData, vectorFromArray, type DataType } from 'apache-arrow';
import { readTableFile } from './readTableFile.js';
import { RunFormatError } from './RunFormatError.js';
import { tableSchema } from './schemas.js';

/**
 * Values of one probe-metadata (label) column, one per probe datapoint.
 *
 * @example
 * ```ts
 * const token: ProbeMetaColumn = ['1', '+', '2', '='];
 * ```
 */
export type ProbeMetaColumn = readonly string[] | readonly number[] | readonly boolean[];

/** Name of the labels table (its file is `labels.arrows`, named in run.json's `labels`). */
export const LABELS_TABLE = 'labels';

/** Column of the labels table holding the datapoint index 0 … N−1, as in every per-datapoint table. */
export const DATAPOINT_COLUMN = 'datapoint';

const INT32_MAX = 2 ** 31 - 1;

/** Arrow type of one label column: Utf8, Bool, Int32 when every number is an int32, else Float64. */
function columnType(name: string, column: ProbeMetaColumn): DataType {
  const kinds = new Set(column.map((v) => typeof v));
  if (kinds.size > 1 || ![...kinds].every((k) => k === 'string' || k === 'number' || k === 'boolean')) {
    const first = column.findIndex((v) => typeof v !== typeof column[0]);
    throw new RunFormatError(
      `RunWriter: options.probeMeta.${name} must hold only strings, only numbers or only booleans, got a ${typeof column[0]} at 0 and a ${typeof column[first]} at ${first}`,
    );
  }
  const kind = [...kinds][0];
  if (kind === 'string') return new Utf8();
  if (kind === 'boolean') return new Bool();
  const ints = (column as readonly number[]).every((v) => Number.isInteger(v) && Math.abs(v) <= INT32_MAX && !Object.is(v, -0));
  return ints ? new Int32() : new Float64();
}

/**
 * The labels table of a probe set as one record batch (N rows).
 *
 * @throws RunFormatError naming the column when it mixes value kinds or is called `datapoint`.
 * @example
 * ```ts
 * const batch = labelsBatch({ token: ['1', '+'], carry: [false, true] }, 2);
 * batch.schema.fields.map((f) => f.name); // ['datapoint', 'token', 'carry']
 * ```
 */
export function labelsBatch(probeMeta: Record<string, ProbeMetaColumn>, numProbe: number): RecordBatch {
  if (DATAPOINT_COLUMN in probeMeta) {
    throw new RunFormatError(`RunWriter: options.probeMeta has a column named '${DATAPOINT_COLUMN}', the labels table's index column; rename it`);
  }
  const names = Object.keys(probeMeta);
  const types = names.map((name) => columnType(name, probeMeta[name]));
  const fields = [new Field(DATAPOINT_COLUMN, new Int32(), false), ...names.map((name, i) => new Field(name, types[i], false))];
  const schema = tableSchema(LABELS_TABLE, fields);
  const index = makeData({ type: new Int32(), length: numProbe, nullCount: 0, data: Int32Array.from({ length: numProbe }, (_, i) => i) });
  const children = names.map((name, i) => {
    const data = vectorFromArray(probeMeta[name] as never[], types[i] as never).data;
    // An in-memory array builds one chunk; more would mean an Arrow change.
    if (data.length !== 1) throw new Error(`labelsBatch: expected one Arrow chunk for ${name}, got ${data.length}`);
    return data[0] as Data;
  });
  const struct = makeData({ type: new Struct(fields), length: numProbe, nullCount: 0, children: [index, ...children] as Data[] });
  return new RecordBatch(schema, struct);
}

const LABEL_TYPES = new Set([Type.Utf8, Type.Bool, Type.Int, Type.Float]);

/** The schema written in a labels file, checked to be one the writer makes. */
function labelsFileSchema(file: string, caller: string): Schema {
  let reader: RecordBatchStreamReader;
  try {
    reader = RecordBatchStreamReader.from(fs.readFileSync(file));
    reader.open();
  } catch (e) {
    throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} has no readable schema (${(e as Error).message})`);
  }
  const schema = reader.schema;
  const [first, ...rest] = schema.fields;
  if (first?.name !== DATAPOINT_COLUMN || first.type.typeId !== Type.Int) {
    throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} must start with an Int32 column '${DATAPOINT_COLUMN}', got ${first ? `${first.name}: ${first.type}` : 'no column'}`);
  }
  const odd = rest.find((f) => !LABEL_TYPES.has(f.type.typeId));
  if (odd) throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} column ${odd.name} has type ${odd.type}; expected Utf8, Bool, Int32 or Float64`);
  return schema;
}

/**
 * Read a labels table back as the `probeMeta` columns the writer was given.
 *
 * @throws RunFormatError naming the file when it is missing, damaged, not N rows, or its index is not 0 … N−1.
 * @example
 * ```ts
 * const probeMeta = await readLabels('runs/arith/labels.arrows', manifest.numProbe);
 * probeMeta.token[17];
 * ```
 */
export async function readLabels(file: string, numProbe: number, caller = 'readLabels'): Promise<Record<string, ProbeMetaColumn>> {
  const table = await readLabelsTable(file, numProbe, caller);
  const out: Record<string, ProbeMetaColumn> = {};
  for (const field of table.schema.fields.slice(1)) {
    const column = table.getChild(field.name)!;
    out[field.name] = Array.from({ length: numProbe }, (_, i) => column.get(i)) as ProbeMetaColumn;
  }
  return out;
}

/**
 * Read a labels table as an Arrow table (`datapoint` and the label columns), checked as {@link readLabels} does.
 *
 * @example
 * ```ts
 * const labels = await readLabelsTable('runs/arith/labels.arrows', manifest.numProbe);
 * labels.getChild('token')!.get(17);
 * ```
 */
export async function readLabelsTable(file: string, numProbe: number, caller = 'readLabels'): Promise<Table> {
  if (!fs.existsSync(file)) throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} is missing`);
  const schema = labelsFileSchema(file, caller);
  // The labels are written whole before run.json, so anything but a complete table is damage.
  const { table, recovery } = await readTableFile(file, schema, caller, 64 * 1024 * 1024 + 4096 * numProbe);
  if (recovery.end !== 'eos' || recovery.droppedBytes > 0) {
    throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} is damaged (${recovery.end}${recovery.reason ? `: ${recovery.reason}` : ''})`);
  }
  if (table.numRows !== numProbe) throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} has ${table.numRows} rows, expected numProbe = ${numProbe}`);
  const index = table.getChild(DATAPOINT_COLUMN)!;
  for (let i = 0; i < numProbe; i++) {
    if (index.get(i) !== i) throw new RunFormatError(`${caller}: labels table ${JSON.stringify(file)} row ${i} has datapoint ${index.get(i)}, expected ${i}`);
  }
  return table;
}
