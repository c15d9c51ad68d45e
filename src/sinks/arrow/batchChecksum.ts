/**
 * Per-batch checksums of the table files of a run directory.
 *
 * Every record-batch message the writer appends carries, in the message's
 * custom metadata, the key {@link CHECKSUM_KEY} with a CRC-32 (8 lowercase
 * hex digits) of:
 *
 * 1. the batch's position in its file (0 for the first batch after the
 *    schema), so a batch moved, repeated or dropped is noticed;
 * 2. the decoded record-batch header: metadata version, row count, every
 *    field node (length, null count) and every buffer region (offset,
 *    length), so damage to the flatbuffer that would make Arrow read other
 *    rows or other bytes is noticed;
 * 3. the whole message body (every buffer and its padding).
 *
 * The flatbuffer bytes themselves are not covered (they hold the checksum);
 * a flipped byte there either changes a decoded value listed above, fails
 * the bounds check of `checkMessageMetadata`, or changes nothing Arrow reads.
 * Any Arrow reader ignores the key; polca's readers verify it and stop at
 * the first batch that fails, keeping the batches before it.
 *
 * @packageDocumentation
 */
import { crc32 } from 'node:zlib';
import type { Message } from 'apache-arrow';

/** Message custom-metadata key holding a batch's checksum. */
export const CHECKSUM_KEY = 'polca.crc32';

/** Name of the checksum scheme, recorded as `checksum` in run.json by writers that write {@link CHECKSUM_KEY}. */
export const CHECKSUM_SCHEME = 'crc32';

interface BatchHeader {
  length: number;
  nodes: { length: number; nullCount: number }[];
  buffers: { offset: number; length: number }[];
}

/**
 * Checksum of one record-batch message.
 *
 * @param message - the decoded message metadata (a record batch).
 * @param body - the message body, `message.bodyLength` bytes.
 * @param index - the batch's position in its file, 0-based.
 * @example
 * ```ts
 * const crc = batchChecksum(Message.decode(meta), body, 3); // e.g. '9a1f03c2'
 * ```
 */
export function batchChecksum(message: Message, body: Uint8Array, index: number): string {
  const header = message.header() as unknown as BatchHeader;
  const described = JSON.stringify([
    index,
    message.version,
    Number(header.length),
    header.nodes.map((n) => [Number(n.length), Number(n.nullCount)]),
    header.buffers.map((b) => [Number(b.offset), Number(b.length)]),
  ]);
  const crc = crc32(body, crc32(described));
  return crc.toString(16).padStart(8, '0');
}
