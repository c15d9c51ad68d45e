/**
 * Decoding the bytes of one table file of a run directory, recovering the
 * readable prefix of a truncated or damaged stream (files are read by
 * `readTableFile`).
 *
 * @packageDocumentation
 */
import { Message, RecordBatch, RecordBatchStreamReader, Schema, Table } from 'apache-arrow';
import { EVENT_SCHEMA_VERSION } from '../../stream/events.js';
import { RunFormatError } from './RunFormatError.js';
import { SCHEMA_VERSION_KEY } from './schemas.js';
import { scanStream, type StreamEnd } from './ipcFrames.js';
import { RUN_ID_KEY } from './TableFile.js';

/**
 * What reading a table file kept and dropped.
 *
 * @example
 * ```ts
 * const { recovery } = await readRun(dir);
 * recovery.polca.droppedBytes; // bytes of a half-written batch, 0 normally
 * ```
 */
export interface TableRecovery {
  /** Path of the file. */
  file: string;
  /** Size of the file in bytes. */
  bytes: number;
  /** Bytes of complete, decoded messages. */
  validBytes: number;
  /** `bytes − validBytes`: the incomplete or damaged tail that was ignored. */
  droppedBytes: number;
  /** Record batches kept. */
  batches: number;
  /** Rows kept. */
  rows: number;
  /** `eos`: closed normally; `eof`: stopped between flushes; `truncated`: stopped during a flush; `corrupt`: damaged. */
  end: StreamEnd;
  /** Why reading stopped before the end of the file. */
  reason?: string;
  /** Batches kept whose checksum was verified. */
  checksummed: number;
  /** Batches kept that carry no checksum (a file written before checksums). */
  unchecked: number;
  /** The run id in the file's schema metadata, when it has one (compare with run.json's `runId`). */
  runId?: string;
}

function sameFields(a: Schema, b: Schema): boolean {
  return a.fields.length === b.fields.length &&
    a.fields.every((f, i) => f.name === b.fields[i].name && String(f.type) === String(b.fields[i].type) && f.nullable === b.fields[i].nullable);
}

function describeFields(s: Schema): string {
  return s.fields.map((f) => `${f.name}: ${f.type}${f.nullable ? '?' : ''}`).join(', ');
}

/**
 * Decode an IPC stream held in memory, keeping every complete batch.
 *
 * @param expected - the schema the table must have; a file without a complete schema message is read as an empty table of it.
 * @param file - name used in errors and in the recovery report.
 * @param firstBatch - position in the file of the first batch in `bytes` (for checksums, when `bytes` is the schema plus one later message).
 * @param byteOffset - position in the file of `bytes[0]`, for the byte offsets in the recovery's `reason`.
 * @throws RunFormatError when the stream's schema differs from `expected` or comes from a newer schema version.
 * @example
 * ```ts
 * const { table, recovery } = readTableBytes(bytes, tableSchema('steps', stepsSchema), 'steps.arrows');
 * if (recovery.droppedBytes > 0) console.warn(recovery.reason);
 * ```
 */
export function readTableBytes(
  bytes: Uint8Array, expected: Schema, file: string, caller = 'readTable', firstBatch = 0, byteOffset = 0,
): { table: Table; recovery: TableRecovery } {
  const scan = scanStream(bytes, firstBatch, byteOffset);
  let end = scan.end;
  let reason = scan.reason;
  let validBytes = scan.validBytes;
  const batches: RecordBatch[] = [];
  let schema = expected;
  if (scan.hasSchema) {
    const reader = RecordBatchStreamReader.from(bytes.subarray(0, scan.validBytes));
    try {
      reader.open();
    } catch (e) {
      throw new RunFormatError(`${caller}: ${file}: unreadable schema message (${(e as Error).message})`);
    }
    schema = reader.schema;
    const version = Number(schema.metadata.get(SCHEMA_VERSION_KEY));
    if (version > EVENT_SCHEMA_VERSION) {
      throw new RunFormatError(`${caller}: ${file} was written with schema version ${version}, but this polca reads schema versions up to ${EVENT_SCHEMA_VERSION}; upgrade polca to read it`);
    }
    if (!sameFields(schema, expected)) {
      throw new RunFormatError(`${caller}: ${file} has columns (${describeFields(schema)}), expected (${describeFields(expected)})`);
    }
    try {
      // With no batch message, Arrow's reader yields one empty placeholder batch: skip it.
      if (scan.batches > 0) {
        for (const batch of reader) {
          const problem = batchProblem(batch, schema);
          if (problem) {
            end = 'corrupt';
            reason = `record batch ${firstBatch + batches.length}: ${problem}`;
            validBytes = -1;
            break;
          }
          batches.push(batch);
        }
      }
    } catch (e) {
      // A message that framed correctly but did not decode: keep the batches before it.
      end = 'corrupt';
      reason = `record batch ${firstBatch + batches.length} did not decode: ${(e as Error).message}`;
      validBytes = -1;
    }
    if (batches.length !== scan.batches && end !== 'corrupt') {
      end = 'corrupt';
      reason = `decoded ${batches.length} of ${scan.batches} record batches`;
      validBytes = -1;
    }
  }
  if (validBytes < 0) validBytes = prefixLength(bytes, batches.length);
  let table: Table;
  try {
    table = new Table(schema, batches);
  } catch (e) {
    throw new RunFormatError(`${caller}: ${file}: record batches do not form a table (${(e as Error).message}); the file is damaged`);
  }
  const checksummed = Math.min(scan.checksummed, batches.length);
  const runId = scan.hasSchema ? schema.metadata.get(RUN_ID_KEY) : undefined;
  return {
    table,
    recovery: {
      file, bytes: bytes.byteLength, validBytes, droppedBytes: bytes.byteLength - validBytes, batches: batches.length, rows: table.numRows, end, reason,
      checksummed, unchecked: batches.length - checksummed, ...(runId !== undefined ? { runId } : {}),
    },
  };
}

/** Damage that decoding let through: a batch whose columns are not the stream's, or not all of its length. */
function batchProblem(batch: RecordBatch, schema: Schema): string | undefined {
  if (!sameFields(batch.schema, schema)) return `columns (${describeFields(batch.schema)}) differ from the stream's`;
  for (let i = 0; i < schema.fields.length; i++) {
    const column = batch.getChildAt(i);
    if (column === null || column.length !== batch.numRows) return `column ${schema.fields[i].name} has ${column?.length ?? 0} rows, not ${batch.numRows}`;
  }
  return undefined;
}

/** Byte length of the schema plus the first `batches` messages (when decoding stopped before the scan did). */
function prefixLength(bytes: Uint8Array, batches: number): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  for (let m = 0; m <= batches; m++) {
    const meta = view.getInt32(at + 4, true);
    at += 8 + meta + Message.decode(bytes.subarray(at + 8, at + 8 + meta)).bodyLength;
  }
  return at;
}
