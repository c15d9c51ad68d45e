/**
 * Bounds check of the flatbuffer metadata of an Arrow IPC message, run
 * before Arrow decodes it.
 *
 * Arrow JS trusts the lengths it reads from flatbuffers: one damaged vector
 * length in a file makes `Message.decode` loop for minutes and exhaust the
 * heap. This walks exactly the tables, vectors and strings Arrow reads
 * (Message, Schema, Field, KeyValue, RecordBatch; field indices from
 * Arrow's `Message.fbs` and `Schema.fbs`) and checks that every offset and
 * every vector lies inside the metadata.
 *
 * @packageDocumentation
 */

const MESSAGE = { header: 2, customMetadata: 4 };
const SCHEMA = { fields: 1, customMetadata: 2, features: 3 };
const FIELD = { name: 0, type: 3, dictionary: 4, children: 5, customMetadata: 6 };
const DICTIONARY = { indexType: 1 };
const KEY_VALUE = { key: 0, value: 1 };
const RECORD_BATCH = { nodes: 1, buffers: 2, compression: 3, variadicBufferCounts: 4 };
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;

class Damage extends Error {}

class Walker {
  private readonly view: DataView;
  private budget: number;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // Every table visited costs at least 4 bytes of metadata, so a cycle of offsets runs out of budget.
    this.budget = bytes.byteLength / 4 + 16;
  }
  private need(at: number, size: number, what: string): void {
    if (!(at >= 0 && size >= 0 && at + size <= this.bytes.byteLength)) throw new Damage(`${what} [${at}, ${at + size}) outside ${this.bytes.byteLength} bytes`);
  }
  u8(at: number): number {
    this.need(at, 1, 'byte');
    return this.view.getUint8(at);
  }
  u32(at: number): number {
    this.need(at, 4, 'offset');
    return this.view.getUint32(at, true);
  }
  /** Check a table at `at`; returns a reader of its field positions (0 when absent). */
  table(at: number, what: string): (field: number) => number {
    if ((this.budget -= 1) < 0) throw new Damage(`too many tables (offset cycle?) at ${what}`);
    this.need(at, 4, what);
    const vtable = at - this.view.getInt32(at, true);
    this.need(vtable, 4, `${what} vtable`);
    const vsize = this.view.getUint16(vtable, true);
    const tsize = this.view.getUint16(vtable + 2, true);
    if (vsize < 4 || vsize % 2 !== 0) throw new Damage(`${what} vtable size ${vsize}`);
    this.need(vtable, vsize, `${what} vtable`);
    this.need(at, tsize, `${what} table`);
    return (field) => {
      const slot = 4 + 2 * field;
      if (slot + 2 > vsize) return 0;
      const off = this.view.getUint16(vtable + slot, true);
      if (off === 0) return 0;
      if (off + 1 > tsize) throw new Damage(`${what} field ${field} outside its table`);
      return at + off;
    };
  }
  /** Target of the offset stored at `at`. */
  ref(at: number): number {
    return at + this.u32(at);
  }
  /** Check a vector whose offset is stored at `at`; returns [first element position, length]. */
  vector(at: number, elementSize: number, what: string): [number, number] {
    const start = this.ref(at);
    const length = this.u32(start);
    this.need(start + 4, length * elementSize, `${what} (${length} elements)`);
    return [start + 4, length];
  }
  string(at: number, what: string): void {
    this.vector(at, 1, what);
  }
  tables(at: number, what: string, each: (position: number) => void): void {
    const [first, length] = this.vector(at, 4, what);
    for (let i = 0; i < length; i++) each(this.ref(first + 4 * i));
  }
  keyValues(at: number, what: string): void {
    this.tables(at, what, (p) => {
      const kv = this.table(p, what);
      if (kv(KEY_VALUE.key)) this.string(kv(KEY_VALUE.key), `${what} key`);
      if (kv(KEY_VALUE.value)) this.string(kv(KEY_VALUE.value), `${what} value`);
    });
  }
  field(at: number, depth: number): void {
    if (depth > 64) throw new Damage('fields nested deeper than 64');
    const f = this.table(at, 'field');
    if (f(FIELD.name)) this.string(f(FIELD.name), 'field name');
    if (f(FIELD.type)) this.table(this.ref(f(FIELD.type)), 'field type');
    if (f(FIELD.dictionary)) {
      const d = this.table(this.ref(f(FIELD.dictionary)), 'dictionary encoding');
      if (d(DICTIONARY.indexType)) this.table(this.ref(d(DICTIONARY.indexType)), 'dictionary index type');
    }
    if (f(FIELD.children)) this.tables(f(FIELD.children), 'field children', (p) => this.field(p, depth + 1));
    if (f(FIELD.customMetadata)) this.keyValues(f(FIELD.customMetadata), 'field metadata');
  }
}

/**
 * Return why the metadata of one IPC message is unsafe to decode, or
 * undefined when every structure Arrow reads lies in bounds.
 *
 * @example
 * ```ts
 * const problem = checkMessageMetadata(bytes.subarray(at + 8, at + 8 + metaLength));
 * if (!problem) Message.decode(bytes.subarray(at + 8, at + 8 + metaLength));
 * ```
 */
export function checkMessageMetadata(meta: Uint8Array): string | undefined {
  const w = new Walker(meta);
  try {
    const m = w.table(w.u32(0), 'message');
    if (m(MESSAGE.customMetadata)) w.keyValues(m(MESSAGE.customMetadata), 'message metadata');
    const headerType = m(1) ? w.u8(m(1)) : 0;
    if (!m(MESSAGE.header)) return 'message without header';
    const header = w.ref(m(MESSAGE.header));
    if (headerType === HEADER_SCHEMA) {
      const s = w.table(header, 'schema');
      if (s(SCHEMA.fields)) w.tables(s(SCHEMA.fields), 'schema fields', (p) => w.field(p, 0));
      if (s(SCHEMA.customMetadata)) w.keyValues(s(SCHEMA.customMetadata), 'schema metadata');
      if (s(SCHEMA.features)) w.vector(s(SCHEMA.features), 8, 'schema features');
    } else if (headerType === HEADER_RECORD_BATCH) {
      const b = w.table(header, 'record batch');
      if (b(RECORD_BATCH.nodes)) w.vector(b(RECORD_BATCH.nodes), 16, 'field nodes');
      if (b(RECORD_BATCH.buffers)) w.vector(b(RECORD_BATCH.buffers), 16, 'buffers');
      if (b(RECORD_BATCH.compression)) w.table(w.ref(b(RECORD_BATCH.compression)), 'compression');
      if (b(RECORD_BATCH.variadicBufferCounts)) w.vector(b(RECORD_BATCH.variadicBufferCounts), 8, 'variadic buffer counts');
    } else {
      return `message header type ${headerType} is not a schema or record batch`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof Damage) return e.message;
    throw e;
  }
}
