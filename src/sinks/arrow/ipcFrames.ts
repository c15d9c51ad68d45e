/**
 * Byte-level framing of Arrow IPC streams: encoding the schema and one
 * record batch as separate byte strings (so a file can be appended to batch
 * by batch through a plain file descriptor), and scanning a possibly
 * truncated or damaged stream for its complete messages.
 *
 * A stream message is `0xFFFFFFFF`, an int32 metadata length m, m bytes of
 * flatbuffer `Message` metadata (padded to 8), then the body, whose length
 * the metadata gives. The stream ends with `0xFFFFFFFF 0x00000000`.
 *
 * @packageDocumentation
 */
import { Message, MessageHeader, RecordBatch, RecordBatchStreamWriter, Schema } from 'apache-arrow';
import { batchChecksum, CHECKSUM_KEY } from './batchChecksum.js';
import { checkMessageMetadata } from './checkMessageMetadata.js';

/**
 * End-of-stream marker of the IPC stream format.
 *
 * @example
 * ```ts
 * fs.writeSync(fd, END_OF_STREAM);
 * ```
 */
export const END_OF_STREAM = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/**
 * Bytes of the schema message that starts an IPC stream.
 *
 * @example
 * ```ts
 * fs.writeSync(fd, schemaMessage(tableSchema('steps', stepsSchema)));
 * ```
 */
export function schemaMessage(schema: Schema): Uint8Array {
  const writer = new RecordBatchStreamWriter();
  writer.reset(undefined, schema);
  return writer.toUint8Array(true);
}

/**
 * Bytes of one record-batch message (without the schema and end-of-stream
 * marker that Arrow's stream writer puts around it).
 *
 * @param schemaBytes - length of {@link schemaMessage} for the batch's schema.
 * @example
 * ```ts
 * const head = schemaMessage(batch.schema);
 * fs.writeSync(fd, recordBatchMessage(batch, head.byteLength));
 * ```
 */
export function recordBatchMessage(batch: RecordBatch, schemaBytes: number): Uint8Array {
  const writer = new RecordBatchStreamWriter({ autoDestroy: false });
  writer.write(batch);
  writer.finish();
  const all = writer.toUint8Array(true);
  const tail = all.subarray(all.byteLength - END_OF_STREAM.byteLength);
  if (!tail.every((b, i) => b === END_OF_STREAM[i])) {
    throw new Error('recordBatchMessage: Arrow stream writer did not end with the end-of-stream marker');
  }
  return all.subarray(schemaBytes, all.byteLength - END_OF_STREAM.byteLength);
}

/**
 * How a scanned stream ended.
 *
 * @example
 * ```ts
 * const end: StreamEnd = scanStream(bytes).end;
 * ```
 */
export type StreamEnd =
  /** the end-of-stream marker: the writer closed the file */
  | 'eos'
  /** the file ends exactly after a complete message: the writer was stopped between flushes */
  | 'eof'
  /** the last message is incomplete: the writer was stopped during a flush */
  | 'truncated'
  /** a message is malformed: the file was damaged */
  | 'corrupt';

/**
 * Result of {@link scanStream}.
 *
 * @example
 * ```ts
 * const { validBytes, batches } = scanStream(bytes);
 * ```
 */
export interface StreamScan {
  /** Byte length of the complete messages (schema and batches), the readable prefix. */
  validBytes: number;
  /** Whether the schema message is complete. */
  hasSchema: boolean;
  /** Number of complete record-batch messages after the schema. */
  batches: number;
  end: StreamEnd;
  /** Why the scan stopped early (`truncated` or `corrupt`). */
  reason?: string;
  /** Complete record batches whose checksum (see `batchChecksum`) was verified. */
  checksummed: number;
  /** Complete record batches that carry no checksum (written by a polca without checksums). */
  unchecked: number;
}

/**
 * Find the complete messages of an IPC stream. Never throws: damage is
 * reported in `end` and `reason`, and everything before it is kept. A
 * record batch whose checksum does not match its bytes is damage.
 *
 * @param firstBatch - position in its file of the first batch in `bytes` (when scanning one message of a longer file).
 * @param byteOffset - position in its file of `bytes[0]`, added to the byte offsets in `reason`.
 *
 * @example
 * ```ts
 * const scan = scanStream(fs.readFileSync('run/polca.arrows'));
 * if (scan.end === 'truncated') console.log(`dropped ${bytes.length - scan.validBytes} bytes`);
 * ```
 */
export function scanStream(bytes: Uint8Array, firstBatch = 0, byteOffset = 0): StreamScan {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let hasSchema = false;
  let batches = 0;
  let checksummed = 0;
  const stop = (end: StreamEnd, reason?: string): StreamScan => ({ validBytes: at, hasSchema, batches, end, reason, checksummed, unchecked: batches - checksummed });
  for (;;) {
    const left = bytes.byteLength - at;
    if (left === 0) return stop('eof');
    if (left < 8) return stop('truncated', `${left} bytes of a message prefix at byte ${at + byteOffset}`);
    if (view.getUint32(at, true) !== 0xffffffff) return stop('corrupt', `no continuation marker at byte ${at + byteOffset}`);
    const metaLength = view.getInt32(at + 4, true);
    if (metaLength === 0) {
      const after = left - 8;
      at += 8;
      return after === 0 ? stop('eos') : stop('corrupt', `${after} bytes after the end-of-stream marker`);
    }
    if (metaLength < 0 || metaLength % 8 !== 0) return stop('corrupt', `bad metadata length ${metaLength} at byte ${at + byteOffset}`);
    if (8 + metaLength > left) return stop('truncated', `metadata of ${metaLength} bytes at byte ${at + byteOffset} runs past the end`);
    const unsafe = checkMessageMetadata(bytes.subarray(at + 8, at + 8 + metaLength));
    if (unsafe) return stop('corrupt', `damaged message metadata at byte ${at + byteOffset}: ${unsafe}`);
    let message: Message;
    try {
      message = Message.decode(bytes.subarray(at + 8, at + 8 + metaLength));
    } catch (e) {
      return stop('corrupt', `undecodable message metadata at byte ${at + byteOffset}: ${(e as Error).message}`);
    }
    const bodyLength = message.bodyLength;
    if (!Number.isSafeInteger(bodyLength) || bodyLength < 0) return stop('corrupt', `bad body length ${bodyLength} at byte ${at + byteOffset}`);
    const problem = hasSchema ? checkBatch(message, bodyLength) : message.isSchema() ? undefined : 'first message is not a schema';
    if (problem) return stop('corrupt', `${problem} at byte ${at + byteOffset}`);
    if (8 + metaLength + bodyLength > left) return stop('truncated', `message body of ${bodyLength} bytes at byte ${at + byteOffset} runs past the end`);
    const expected = hasSchema ? message.metadata.get(CHECKSUM_KEY) : undefined;
    if (expected !== undefined) {
      const body = bytes.subarray(at + 8 + metaLength, at + 8 + metaLength + bodyLength);
      const actual = batchChecksum(message, body, firstBatch + batches);
      if (actual !== expected) return stop('corrupt', `record batch ${firstBatch + batches} at byte ${at + byteOffset} fails its checksum (stored ${JSON.stringify(expected)}, computed ${actual})`);
      checksummed += 1;
    }
    at += 8 + metaLength + bodyLength;
    if (hasSchema) batches += 1;
    else hasSchema = true;
  }
}

/** Structural check of a record-batch message before Arrow decodes it, so damaged metadata cannot make it allocate or read out of bounds. */
function checkBatch(message: Message, bodyLength: number): string | undefined {
  if (message.headerType !== MessageHeader.RecordBatch) return `unexpected message type ${MessageHeader[message.headerType] ?? message.headerType}`;
  let header: { length: number; nodes: { length: number; nullCount: number }[]; buffers: { offset: number; length: number }[]; compression?: unknown };
  try {
    header = message.header() as never;
  } catch (e) {
    return `undecodable record-batch header: ${(e as Error).message}`;
  }
  if (header.compression != null) return 'compressed batches are not written by polca';
  const rowLimit = bodyLength * 8 + 1;
  if (!(Number(header.length) >= 0 && Number(header.length) <= rowLimit)) return `bad row count ${header.length}`;
  for (const node of header.nodes) {
    if (!(Number(node.length) >= 0 && Number(node.length) <= rowLimit && Number(node.nullCount) <= Number(node.length))) {
      return `bad field node (length ${node.length}, nulls ${node.nullCount})`;
    }
  }
  for (const region of header.buffers) {
    const start = Number(region.offset);
    const end = start + Number(region.length);
    if (!(start >= 0 && Number(region.length) >= 0 && end <= bodyLength)) return `buffer [${start}, ${end}) outside a body of ${bodyLength} bytes`;
  }
  return undefined;
}
