import { describe, expect, it } from 'vitest';
import { RecordBatchStreamReader, Table, tableFromArrays, tableToIPC } from 'apache-arrow';
import { END_OF_STREAM, recordBatchMessage, scanStream, schemaMessage } from '../../../src/sinks/arrow/ipcFrames.js';
import { checkMessageMetadata } from '../../../src/sinks/arrow/checkMessageMetadata.js';

const table = tableFromArrays({ a: Int32Array.from([1, 2, 3]), b: Float32Array.from([0.5, NaN, -0]) });
const [batch] = table.batches;
const head = schemaMessage(table.schema);
const body = recordBatchMessage(batch, head.byteLength);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};

describe('schemaMessage / recordBatchMessage', () => {
  it('concatenate to the bytes of Arrow\'s own stream writer, for any number of batches', () => {
    const stream = concat(head, body, body, END_OF_STREAM);
    const arrow = tableToIPC(new Table([batch, batch]), 'stream');
    expect(Buffer.from(stream).equals(Buffer.from(arrow))).toBe(true);
    const back = [...RecordBatchStreamReader.from(stream)];
    expect(back.map((b) => b.numRows)).toEqual([3, 3]);
  });
});

describe('scanStream', () => {
  it('tells a closed stream, a stream stopped between flushes, and one cut in a message', () => {
    expect(scanStream(concat(head, body, END_OF_STREAM))).toMatchObject({ end: 'eos', batches: 1, hasSchema: true, validBytes: head.length + body.length + 8 });
    expect(scanStream(concat(head, body))).toMatchObject({ end: 'eof', batches: 1, validBytes: head.length + body.length });
    expect(scanStream(new Uint8Array(0))).toMatchObject({ end: 'eof', hasSchema: false, validBytes: 0 });
    for (const cut of [1, 7, 8, 9, 100, body.length - 1]) {
      const s = scanStream(concat(head, body, body).subarray(0, head.length + body.length + cut));
      expect(s).toMatchObject({ end: 'truncated', batches: 1, validBytes: head.length + body.length });
    }
    expect(scanStream(head.subarray(0, 20))).toMatchObject({ end: 'truncated', hasSchema: false, validBytes: 0 });
  });

  it('reports damage instead of reading past it', () => {
    const junk = concat(head, body, END_OF_STREAM, Uint8Array.of(1, 2, 3));
    expect(scanStream(junk)).toMatchObject({ end: 'corrupt', batches: 1, reason: '3 bytes after the end-of-stream marker' });
    const noMarker = concat(head, body);
    noMarker[head.length] = 0;
    expect(scanStream(noMarker)).toMatchObject({ end: 'corrupt', batches: 0, validBytes: head.length, reason: `no continuation marker at byte ${head.length}` });
    const batchFirst = concat(body, head);
    expect(scanStream(batchFirst)).toMatchObject({ end: 'corrupt', hasSchema: false, reason: 'first message is not a schema at byte 0' });
  });

  it('survives any 32-bit word of the metadata set to a huge length or offset', () => {
    // Arrow trusts flatbuffer lengths; a huge one used to make Message.decode run out of memory.
    const stream = concat(head, body);
    const metaEnd = (start: number) => start + 8 + new DataView(stream.buffer).getInt32(start + 4, true);
    let flagged = 0;
    for (const [start, end] of [[0, metaEnd(0)], [head.length, metaEnd(head.length)]]) {
      for (let at = start + 8; at + 4 <= end; at += 4) {
        for (const value of [0x7fffffff, 0xfffffff0, 0x00010000]) {
          const damaged = Uint8Array.from(stream);
          new DataView(damaged.buffer).setUint32(at, value, true);
          const scan = scanStream(damaged);
          expect(scan.batches).toBeLessThanOrEqual(1);
          if (scan.end === 'corrupt') flagged += 1;
        }
      }
    }
    expect(flagged).toBeGreaterThan(20);
  });
});

describe('checkMessageMetadata', () => {
  it('accepts what Arrow writes and names what is out of bounds', () => {
    const meta = (m: Uint8Array) => m.subarray(8, 8 + new DataView(m.buffer, m.byteOffset).getInt32(4, true));
    expect(checkMessageMetadata(meta(head))).toBeUndefined();
    expect(checkMessageMetadata(meta(body))).toBeUndefined();
    const bad = Uint8Array.from(meta(body));
    new DataView(bad.buffer).setUint32(0, bad.length + 100, true);
    expect(checkMessageMetadata(bad)).toMatch(/outside/);
  });
});
