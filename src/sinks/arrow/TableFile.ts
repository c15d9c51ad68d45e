/**
 * One Arrow IPC stream file being appended to, batch by batch.
 *
 * Writes go straight to the file descriptor with `fs.writeSync`, so when
 * `append` returns the bytes are in the operating system's page cache: a
 * killed process loses nothing that was appended (a power cut can, unless
 * `fsync` is set).
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import { Message, RecordBatch, Schema } from 'apache-arrow';
import { batchChecksum, CHECKSUM_KEY } from './batchChecksum.js';
import { END_OF_STREAM, recordBatchMessage, schemaMessage } from './ipcFrames.js';
import { TABLE_NAME_KEY } from './schemas.js';

/**
 * What a closed table file holds, as recorded in run.json's `files`: readers
 * compare it with what they find.
 *
 * @example
 * ```ts
 * const { bytes, batches, rows } = manifest.files!.polca;
 * ```
 */
export interface WrittenFile {
  /** File size, end-of-stream marker included. */
  bytes: number;
  /** Record batches. */
  batches: number;
  /** Rows over all batches. */
  rows: number;
}

/**
 * Sizes of table files, by table name (the schema's `polca.table` metadata).
 *
 * @example
 * ```ts
 * writeManifest(dir, { ...manifest, files: writtenFiles(Object.values(files)) });
 * ```
 */
export function writtenFiles(files: Iterable<TableFile | null | undefined>): Record<string, WrittenFile> {
  const out: Record<string, WrittenFile> = {};
  for (const f of files) {
    if (!f) continue;
    out[f.schema.metadata.get(TABLE_NAME_KEY) ?? f.path] = { bytes: f.bytes, batches: f.batches, rows: f.rows };
  }
  return out;
}

/** Schema metadata key holding the run id (run.json's `runId`) in every table file written with one. */
export const RUN_ID_KEY = 'polca.runId';

/** `schema` with the run id added to its metadata. */
function withRunId(schema: Schema, runId: string | undefined): Schema {
  if (runId === undefined) return schema;
  return new Schema(schema.fields, new Map([...schema.metadata, [RUN_ID_KEY, runId]]), schema.dictionaries, schema.metadataVersion);
}

/** Stand-in checksum written first and overwritten in place: 8 characters, like every checksum. */
const PLACEHOLDER = 'ffffffff';
const PLACEHOLDER_STRING = new Uint8Array([8, 0, 0, 0, ...new TextEncoder().encode(PLACEHOLDER)]);

/** Start of the only occurrence of `needle` in `hay`, or -1 when it occurs never or more than once. */
function onlyIndex(hay: Uint8Array, needle: Uint8Array): number {
  let found = -1;
  for (let i = 0; i + needle.length <= hay.length; i++) {
    let j = 0;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) {
      if (found >= 0) return -1;
      found = i;
    }
  }
  return found;
}

/**
 * The message of `batch` with its checksum (as position `index` of its file) in the message metadata.
 * The batch is re-wrapped in the file's schema, whose message is `schemaBytes` long. The message is
 * encoded once with a stand-in value of the same length, which is then overwritten: custom metadata
 * lives in the flatbuffer only, so the body and header values the checksum covers do not change.
 */
function checksummedMessage(schema: Schema, batch: RecordBatch, schemaBytes: number, index: number): Uint8Array {
  const withMeta = (value: string) => new RecordBatch(schema, batch.data, new Map([...batch.metadata, [CHECKSUM_KEY, value]]));
  const bytes = recordBatchMessage(withMeta(PLACEHOLDER), schemaBytes);
  const metaLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(4, true);
  const meta = bytes.subarray(8, 8 + metaLength);
  const crc = batchChecksum(Message.decode(meta), bytes.subarray(8 + metaLength), index);
  const at = onlyIndex(meta, PLACEHOLDER_STRING);
  // Another metadata entry holding the same bytes would make the spot ambiguous: encode again instead.
  if (at < 0) return recordBatchMessage(withMeta(crc), schemaBytes);
  meta.set(new TextEncoder().encode(crc), at + 4);
  return bytes;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.byteLength) at += fs.writeSync(fd, bytes, at, bytes.byteLength - at);
}

/**
 * Append-only Arrow IPC stream file. Created with the schema message
 * already written, so even an empty table is a readable stream.
 *
 * @example
 * ```ts
 * const file = new TableFile('run/steps.arrows', tableSchema('steps', stepsSchema));
 * file.append(batch);
 * file.end(); // end-of-stream marker, close
 * ```
 */
export class TableFile {
  private fd: number | null;
  private readonly schemaBytes: number;
  /** Bytes written so far. */
  bytes = 0;
  /** Record batches written so far. */
  batches = 0;
  /** Rows written so far. */
  rows = 0;
  /** The schema as written (with the run id in its metadata when one was given). */
  readonly schema: Schema;

  /**
   * @param schema - the table's schema; batches appended must have its fields.
   * @param fsync - fsync at every {@link sync}.
   * @param runId - stored in the schema metadata under {@link RUN_ID_KEY}.
   */
  constructor(readonly path: string, schema: Schema, private readonly fsync = false, runId?: string) {
    this.schema = withRunId(schema, runId);
    this.fd = fs.openSync(path, 'wx');
    const head = schemaMessage(this.schema);
    this.schemaBytes = head.byteLength;
    this.write(head);
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`TableFile: ${this.path} is closed`);
    writeAll(this.fd, bytes);
    this.bytes += bytes.byteLength;
  }

  /** Append one record batch (must have this file's fields), with its checksum. */
  append(batch: RecordBatch): void {
    this.write(checksummedMessage(this.schema, batch, this.schemaBytes, this.batches));
    this.batches += 1;
    this.rows += batch.numRows;
  }

  /** fsync when asked for at construction. */
  sync(): void {
    if (this.fsync && this.fd !== null) fs.fsyncSync(this.fd);
  }

  /** Write the end-of-stream marker and close. Idempotent. */
  end(): void {
    if (this.fd === null) return;
    this.write(END_OF_STREAM);
    this.sync();
    this.release();
  }

  /** Close without the end-of-stream marker (abort). Idempotent. */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }
}
