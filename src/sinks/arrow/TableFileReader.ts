/**
 * Reading a table file one record batch at a time, for runs too large to
 * hold in memory (the `polca` table grows by 32·N·K bytes per checkpoint:
 * 8 MB at N = 5000, K = 50).
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import { Message, RecordBatch, Schema } from 'apache-arrow';
import { checkMessageMetadata } from './checkMessageMetadata.js';
import type { StreamEnd } from './ipcFrames.js';
import { openRegularFile } from './openRegularFile.js';
import { readTableBytes } from './readTable.js';
import { RunFormatError } from './RunFormatError.js';
import { RUN_ID_KEY } from './TableFile.js';

/**
 * Sequential reader of one Arrow IPC stream file. Every message is framed
 * and checked exactly as {@link readTableBytes} does for a whole file
 * (checksums included); at the first incomplete or damaged message it stops
 * and records why in `end` and `reason`. Reads the file as it was when
 * opened. Only a regular file is opened, and one larger than `maxBytes` is
 * refused.
 *
 * @example
 * ```ts
 * const reader = new TableFileReader('runs/arith/polca.arrows', tableSchema('polca', polcaSchema));
 * try { for (let b = reader.next(); b; b = reader.next()) sum += b.numRows; }
 * finally { reader.close(); }
 * ```
 */
export class TableFileReader {
  private fd: number | null;
  private readonly size: number;
  private at = 0;
  private schemaBytes: Uint8Array | null = null;
  /** How the stream ended, once {@link next} has returned null. */
  end: StreamEnd | null = null;
  /** Why reading stopped early (`truncated` or `corrupt`). */
  reason: string | undefined;
  /** Batches returned so far. */
  batches = 0;
  /** Rows returned so far. */
  rows = 0;
  /** Batches returned whose checksum was verified. */
  checksummed = 0;
  /** Byte offset of the next message: after the end, the length of the readable prefix. */
  get position(): number {
    return this.at;
  }
  /** Size of the file in bytes when it was opened. */
  get bytes(): number {
    return this.size;
  }
  /** The run id in the file's schema metadata, if any. */
  runId: string | undefined;

  /**
   * @param maxBytes - largest file accepted (see `readLimits`); a larger one is refused unread.
   * @param maxMessageBytes - largest single message accepted; a larger one is damage, and is not read.
   */
  constructor(
    readonly file: string, private readonly expected: Schema, private readonly caller = 'readTable', maxBytes = Infinity, private readonly maxMessageBytes = Infinity,
  ) {
    this.fd = openRegularFile(file, caller);
    this.size = fs.fstatSync(this.fd).size;
    if (this.size > maxBytes) {
      this.close();
      throw new RunFormatError(`${caller}: table file ${JSON.stringify(file)} has ${this.size} bytes, more than the ${maxBytes} bytes run.json's counts allow; refused`);
    }
    const schema = this.message();
    if (schema === null) return;
    try {
      // Checks version and columns, throwing RunFormatError like the whole-file reader.
      readTableBytes(schema, expected, file, caller);
      this.runId = schemaRunId(schema);
    } catch (e) {
      this.close();
      throw e;
    }
    this.schemaBytes = schema;
  }

  private read(length: number): Uint8Array {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = fs.readSync(this.fd!, out, got, length - got, this.at + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  }

  private stop(end: StreamEnd, reason?: string): null {
    this.end = end;
    this.reason = reason;
    this.close();
    return null;
  }

  /** Bytes of the next whole message, or null (with `end` set). */
  private message(): Uint8Array | null {
    if (this.fd === null) return null;
    const left = this.size - this.at;
    if (left === 0) return this.stop('eof');
    if (left < 8) return this.stop('truncated', `${left} bytes of a message prefix at byte ${this.at}`);
    const prefix = new DataView(this.read(8).buffer);
    if (prefix.getUint32(0, true) !== 0xffffffff) return this.stop('corrupt', `no continuation marker at byte ${this.at}`);
    const metaLength = prefix.getInt32(4, true);
    if (metaLength === 0) {
      // The marker belongs to the readable prefix, as in scanStream.
      this.at += 8;
      return left === 8 ? this.stop('eos') : this.stop('corrupt', `${left - 8} bytes after the end-of-stream marker`);
    }
    if (metaLength < 0 || metaLength % 8 !== 0) return this.stop('corrupt', `bad metadata length ${metaLength} at byte ${this.at}`);
    if (8 + metaLength > left) return this.stop('truncated', `metadata of ${metaLength} bytes at byte ${this.at} runs past the end`);
    this.at += 8;
    const meta = this.read(metaLength);
    this.at -= 8;
    const unsafe = checkMessageMetadata(meta);
    if (unsafe) return this.stop('corrupt', `damaged message metadata at byte ${this.at}: ${unsafe}`);
    let bodyLength: number;
    try {
      bodyLength = Message.decode(meta).bodyLength;
    } catch (e) {
      return this.stop('corrupt', `undecodable message metadata at byte ${this.at}: ${(e as Error).message}`);
    }
    if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) return this.stop('corrupt', `bad body length ${bodyLength} at byte ${this.at}`);
    if (8 + metaLength + bodyLength > left) return this.stop('truncated', `message body of ${bodyLength} bytes at byte ${this.at} runs past the end`);
    if (8 + metaLength + bodyLength > this.maxMessageBytes) {
      return this.stop('corrupt', `message of ${8 + metaLength + bodyLength} bytes at byte ${this.at}, more than the ${this.maxMessageBytes} bytes run.json's counts allow`);
    }
    const whole = this.read(8 + metaLength + bodyLength);
    this.at += whole.byteLength;
    return whole;
  }

  /** The next record batch, or null at the end of the readable prefix. */
  next(): RecordBatch | null {
    if (this.schemaBytes === null) return null;
    const start = this.at;
    const message = this.message();
    if (message === null) return null;
    const bytes = new Uint8Array(this.schemaBytes.byteLength + message.byteLength);
    bytes.set(this.schemaBytes, 0);
    bytes.set(message, this.schemaBytes.byteLength);
    // The same framing, metadata and batch checks as a whole-file read, on schema + this one message.
    // Offsets in the reason are the file's: the message sits at `start`, after the schema in `bytes`.
    const { table, recovery } = readTableBytes(bytes, this.expected, this.file, this.caller, this.batches, start - this.schemaBytes.byteLength);
    if (recovery.batches !== 1) {
      this.at = start;
      return this.stop(recovery.end === 'eof' ? 'corrupt' : recovery.end, recovery.reason ?? `not a record batch at byte ${start}`);
    }
    this.batches += 1;
    this.rows += table.numRows;
    this.checksummed += recovery.checksummed;
    return table.batches[0];
  }

  /** Release the file. Idempotent; also done when the end is reached. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    fs.closeSync(fd);
  }
}

/** Run id in the metadata of a schema message (already checked by `readTableBytes`). */
function schemaRunId(schemaMessage: Uint8Array): string | undefined {
  const metaLength = new DataView(schemaMessage.buffer, schemaMessage.byteOffset, schemaMessage.byteLength).getInt32(4, true);
  const message = Message.decode(schemaMessage.subarray(8, 8 + metaLength));
  return (message.header() as Schema).metadata.get(RUN_ID_KEY);
}
