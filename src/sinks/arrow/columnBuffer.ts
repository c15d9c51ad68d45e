/**
 * Growable column buffers that turn appended values into one Arrow `Data`
 * per flush. Typed chunks are copied with `TypedArray.set`, which copies
 * bytes between arrays of the same type, so Float32 values (NaN payloads
 * included) reach the file bit for bit.
 *
 * @packageDocumentation
 */
import { Data, DataType, Field, Float32, Float64, Int32, List, Timestamp, Type, Utf8, makeData, vectorFromArray } from 'apache-arrow';

type NumArray = Int32Array | Float32Array | Float64Array;
type NumArrayCtor = Int32ArrayConstructor | Float32ArrayConstructor | Float64ArrayConstructor;

/**
 * One column being filled between two flushes.
 *
 * @example
 * ```ts
 * const c: ColumnBuffer = columnFor(new Field('loss', new Float32()));
 * ```
 */
export interface ColumnBuffer {
  readonly length: number;
  /** Arrow data of everything appended since the last call, and an empty buffer after it. */
  take(): Data;
}

function ctorOf(type: DataType): NumArrayCtor {
  switch (type.typeId) {
    case Type.Int: return Int32Array;
    case Type.Float: return (type as Float32 | Float64).precision === 1 ? Float32Array : Float64Array;
    default: throw new TypeError(`columnBuffer: no typed array for Arrow type ${type}`);
  }
}

function concat(ctor: NumArrayCtor, chunks: NumArray[], length: number): NumArray {
  // Always copy: a caller's array may appear in two columns of one batch (an event
  // reusing one Float32Array for values and firstOrder), and the IPC encoder
  // must not see one buffer twice.
  const out = new ctor(length);
  let at = 0;
  for (const c of chunks) {
    out.set(c as never, at);
    at += c.length;
  }
  return out;
}

/**
 * Non-nullable Int32/Float32/Float64 column filled by scalars, runs of one value, or whole typed arrays.
 *
 * @example
 * ```ts
 * const c = new NumericColumn(new Int32());
 * c.fill(7, 3); c.range(2); c.take(); // Int32 data [7, 7, 7, 0, 1]
 * ```
 */
export class NumericColumn implements ColumnBuffer {
  private chunks: NumArray[] = [];
  private scalars: number[] = [];
  private n = 0;
  private readonly ctor: NumArrayCtor;
  constructor(readonly type: DataType) {
    this.ctor = ctorOf(type);
  }
  get length(): number {
    return this.n;
  }
  private sealScalars(): void {
    if (this.scalars.length > 0) {
      this.chunks.push(this.ctor.from(this.scalars));
      this.scalars = [];
    }
  }
  push(value: number): void {
    this.scalars.push(value);
    this.n += 1;
  }
  /** Append `count` copies of `value`. */
  fill(value: number, count: number): void {
    this.sealScalars();
    this.chunks.push(new this.ctor(count).fill(value));
    this.n += count;
  }
  /** Append the values 0, 1, …, count−1 (datapoint indices). */
  range(count: number): void {
    this.sealScalars();
    const a = new this.ctor(count);
    for (let i = 0; i < count; i++) a[i] = i;
    this.chunks.push(a);
    this.n += count;
  }
  /** Append a typed array of the column's own type (copied at `take`, so the caller may not reuse it before then). */
  append(values: NumArray): void {
    this.sealScalars();
    this.chunks.push(values);
    this.n += values.length;
  }
  take(): Data {
    this.sealScalars();
    const data = makeData({ type: this.type as Int32, length: this.n, nullCount: 0, data: concat(this.ctor, this.chunks, this.n) as Int32Array });
    this.chunks = [];
    this.n = 0;
    return data;
  }
}

/**
 * Nullable scalar column (numbers or strings) of the small tables, built with Arrow's own builders.
 *
 * @example
 * ```ts
 * const c = new ScalarColumn(new Float64());
 * c.push(0.5); c.push(undefined); c.take(); // [0.5, null]
 * ```
 */
export class ScalarColumn implements ColumnBuffer {
  private values: (number | string | null)[] = [];
  constructor(readonly type: Int32 | Float64 | Utf8) {}
  get length(): number {
    return this.values.length;
  }
  push(value: number | string | null | undefined): void {
    this.values.push(value ?? null);
  }
  take(): Data {
    const vector = vectorFromArray(this.values as never[], this.type as never);
    this.values = [];
    // vectorFromArray builds one chunk for an in-memory array; more would mean an Arrow change.
    if (vector.data.length !== 1) throw new Error(`ScalarColumn.take: expected one Arrow chunk, got ${vector.data.length}`);
    return vector.data[0] as Data;
  }
}

/**
 * Nullable List<Int32 | Float32 | Float64> column, filled with typed arrays (or null).
 *
 * @example
 * ```ts
 * const c = new ListColumn(new List(new Field('item', new Float32(), false)));
 * c.push(Float32Array.of(1, 2)); c.push(null); c.take(); // [[1, 2], null]
 * ```
 */
export class ListColumn implements ColumnBuffer {
  private items: (NumArray | null)[] = [];
  private readonly ctor: NumArrayCtor;
  constructor(readonly type: List) {
    this.ctor = ctorOf(type.valueType);
  }
  get length(): number {
    return this.items.length;
  }
  push(value: NumArray | null | undefined): void {
    this.items.push(value ?? null);
  }
  take(): Data {
    const n = this.items.length;
    const offsets = new Int32Array(n + 1);
    const validity = new Uint8Array(Math.ceil(n / 8));
    const chunks: NumArray[] = [];
    let total = 0;
    let nullCount = 0;
    this.items.forEach((item, i) => {
      if (item === null) {
        nullCount += 1;
      } else {
        validity[i >> 3] |= 1 << (i & 7);
        chunks.push(item);
        total += item.length;
      }
      if (total > 0x7fffffff) throw new RangeError(`ListColumn.take: more than 2^31−1 list values in one batch (${total})`);
      offsets[i + 1] = total;
    });
    const valueType = this.type.valueType as Int32;
    const child = makeData({ type: valueType, length: total, nullCount: 0, data: concat(this.ctor, chunks, total) as Int32Array });
    this.items = [];
    return makeData({ type: this.type, length: n, nullCount, nullBitmap: nullCount > 0 ? validity : null, valueOffsets: offsets, child });
  }
}

/** Largest |milliseconds| an int64 count of nanoseconds holds (about 292 years either side of 1970). */
const MAX_TIME_MS = 9_223_372_036_854;

/**
 * Nanoseconds since the epoch of a time in milliseconds, exactly as far as
 * a double allows: the whole milliseconds and the fraction are converted
 * apart, so the fraction keeps its bits (a double of 1.7e12 ms has a step
 * of 0.24 µs, coarser than 1 ns, so the nearest nanosecond reads back as
 * the same double).
 *
 * @example
 * ```ts
 * nanosecondsOf(1_700_000_000_000.25); // 1700000000000250000n
 * ```
 */
export function nanosecondsOf(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e6));
}

/**
 * Non-nullable timestamp column (nanoseconds, see {@link nanosecondsOf}) filled with event times in milliseconds.
 *
 * @example
 * ```ts
 * const c = new TimeColumn(new TimestampNanosecond('UTC'));
 * c.push(Date.now()); c.take();
 * ```
 */
export class TimeColumn implements ColumnBuffer {
  private values: number[] = [];
  constructor(readonly type: Timestamp) {}
  get length(): number {
    return this.values.length;
  }
  push(ms: number): void {
    if (!Number.isFinite(ms) || Math.abs(ms) > MAX_TIME_MS) throw new RangeError(`TimeColumn.push: time must be finite milliseconds within ±${MAX_TIME_MS}, got ${ms}`);
    this.values.push(ms);
  }
  take(): Data {
    const data = BigInt64Array.from(this.values, nanosecondsOf);
    this.values = [];
    return makeData({ type: this.type, length: data.length, nullCount: 0, data });
  }
}

/**
 * Make the buffer matching an Arrow field of one of the run schemas.
 *
 * @example
 * ```ts
 * const columns = polcaSchema.map(columnFor);
 * ```
 */
export function columnFor(field: Field): NumericColumn | ScalarColumn | ListColumn | TimeColumn {
  const type = field.type as DataType;
  if (type.typeId === Type.List) return new ListColumn(type as List);
  if (type.typeId === Type.Timestamp) return new TimeColumn(type as Timestamp);
  if (type.typeId === Type.Utf8 || field.nullable) return new ScalarColumn(type as Int32 | Float64 | Utf8);
  return new NumericColumn(type);
}
