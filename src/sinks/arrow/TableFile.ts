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
import { RecordBatch, Schema } from 'apache-arrow';
import { END_OF_STREAM, recordBatchMessage, schemaMessage } from './ipcFrames.js';

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
 * const file = new TableFile('run/steps.ipc', tableSchema('steps', stepsSchema));
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

  constructor(readonly path: string, readonly schema: Schema, private readonly fsync = false) {
    this.fd = fs.openSync(path, 'wx');
    const head = schemaMessage(schema);
    this.schemaBytes = head.byteLength;
    this.write(head);
  }

  private write(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`TableFile: ${this.path} is closed`);
    writeAll(this.fd, bytes);
    this.bytes += bytes.byteLength;
  }

  /** Append one record batch (must have this file's schema). */
  append(batch: RecordBatch): void {
    this.write(recordBatchMessage(batch, this.schemaBytes));
    this.batches += 1;
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
