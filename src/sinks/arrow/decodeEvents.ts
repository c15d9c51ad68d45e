/**
 * Rebuilding the exact event stream from the tables of a run directory.
 *
 * @packageDocumentation
 */
import type { RecordBatch, Table, Vector } from 'apache-arrow';
import type {
  AlertEvent, BasisEvent, BasisKind, CheckpointEvent, ClusterSummary, ClustersEvent, PolcaEvent, PolcaIncrementEvent,
  SecondOrder, StepEvent, TrajectoryKind, TransitionEvent, AlertRule,
} from '../../stream/events.js';
import type { RunData } from './readRun.js';
import { RunFormatError } from './RunFormatError.js';
import type { TableName } from './schemas.js';

type NumArray = Int32Array | Float32Array | Float64Array;

/** A run of rows of one batch. */
interface Segment {
  batch: RecordBatch;
  start: number;
  end: number;
}

/** Rows of one event, possibly spread over batches. */
class Rows {
  constructor(readonly table: TableName, readonly segments: Segment[]) {}
  get length(): number {
    return this.segments.reduce((n, s) => n + s.end - s.start, 0);
  }
  private locate(row: number): [Segment, number] {
    for (const s of this.segments) {
      if (row < s.end - s.start) return [s, s.start + row];
      row -= s.end - s.start;
    }
    throw new RangeError(`Rows: row ${row} out of range in ${this.table}`);
  }
  /** Scalar (or null) of column `name` at `row` of the event's rows. */
  get(name: string, row = 0): unknown {
    const [s, i] = this.locate(row);
    return s.batch.getChild(name)!.get(i);
  }
  /** Column `name` over rows [from, to) as a new typed array (bit copies). */
  array<T extends NumArray>(ctor: new (n: number) => T, name: string, from = 0, to = this.length): T {
    const parts: T[] = [];
    let skip = from;
    let want = to - from;
    for (const s of this.segments) {
      const n = s.end - s.start;
      if (skip >= n) {
        skip -= n;
        continue;
      }
      const take = Math.min(n - skip, want);
      parts.push((s.batch.getChild(name)!.slice(s.start + skip, s.start + skip + take).toArray() as T));
      skip = 0;
      want -= take;
      if (want === 0) break;
    }
    if (parts.length === 1 && parts[0] instanceof ctor) return parts[0].slice() as T;
    const out = new ctor(to - from);
    let at = 0;
    for (const p of parts) {
      (out as Float32Array).set(p as Float32Array, at);
      at += p.length;
    }
    return out;
  }
  /** List column `name` at `row` as a new typed array, or undefined when null. */
  list<T extends NumArray>(name: string, row = 0): T | undefined {
    const v = this.get(name, row) as Vector | null;
    return v === null ? undefined : ((v.toArray() as T).slice() as T);
  }
}

/** Walks one table in row order, handing out the rows of each seq; batches are pulled only when needed. */
class Cursor {
  private batch: RecordBatch | null = null;
  private r = 0;
  private seqs: Vector | null = null;
  /** @param file - the table's file, named in errors. */
  constructor(readonly name: TableName, private readonly pull: () => RecordBatch | null, readonly file: string = name) {
    this.load();
  }
  private load(): void {
    do {
      this.batch = this.pull();
    } while (this.batch !== null && this.batch.numRows === 0);
    this.r = 0;
    this.seqs = this.batch?.getChild('seq') ?? null;
  }
  /** All rows with this seq from the current position (none when the next row has another seq). */
  take(seq: number): Rows {
    const segments: Segment[] = [];
    while (this.batch !== null) {
      const batch = this.batch;
      const start = this.r;
      while (this.r < batch.numRows && this.seqs!.get(this.r) === seq) this.r += 1;
      if (this.r > start) segments.push({ batch, start, end: this.r });
      if (this.r < batch.numRows) break;
      this.load();
    }
    return new Rows(this.name, segments);
  }
  /** Rows with this seq; exactly `count` of them or a damaged-run error. */
  expect(seq: number, count: number, what: string): Rows {
    const rows = this.take(seq);
    if (count >= 0 && rows.length !== count) {
      throw new RunFormatError(`replay: event ${seq} (${what}) has ${rows.length} rows in ${this.name}, expected ${count}; the run directory is damaged (${this.file})`);
    }
    return rows;
  }
  /** seq of the next row not handed out, or null at the end of the table. */
  peek(): number | null {
    return this.batch === null ? null : (this.seqs!.get(this.r) as number);
  }
}

/** Pull function over the batches of an in-memory table. */
function batchesOf(table: Table): () => RecordBatch | null {
  let i = 0;
  return () => (i < table.batches.length ? table.batches[i++] : null);
}

/**
 * Yield the committed events of a run, in order, rebuilt exactly: numbers
 * equal, typed arrays bit-equal, optional fields absent where they were.
 * Events are built one at a time from the tables, so memory holds the
 * tables once plus one event (see {@link openEventStream} to read batch by batch).
 *
 * @throws RunFormatError when the tables disagree with each other.
 * @example
 * ```ts
 * for (const event of decodeEvents(await readRun('runs/arith'))) console.log(event.type);
 * ```
 */
export function decodeEvents(run: RunData): Generator<PolcaEvent> {
  const pulls = Object.fromEntries(Object.entries(run.tables).map(([name, table]) => [name, batchesOf(table)])) as Record<TableName, () => RecordBatch | null>;
  const files = Object.fromEntries(Object.keys(run.tables).map((name) => [name, run.recovery[name as TableName]?.file ?? name])) as Record<TableName, string>;
  return decodeFrom(run.events, pulls, run.manifest.numProbe, files);
}

/**
 * Rebuild `committed` events from per-table batch sources (tables in
 * seq order). Rows with seq ≥ `committed` (an unfinished flush) are left
 * unread; rows with a smaller seq that no event claims mean damage. With
 * `numProbe`, every per-datapoint table must hold exactly N rows per event.
 * Errors name the table's file from `files`.
 */
export function* decodeFrom(
  committed: number, pulls: Record<TableName, () => RecordBatch | null>, numProbe?: number, files?: Partial<Record<TableName, string>>,
): Generator<PolcaEvent> {
  const cursors = Object.fromEntries(Object.entries(pulls).map(([name, pull]) => [name, new Cursor(name as TableName, pull, files?.[name as TableName])])) as Record<TableName, Cursor>;
  const ev = cursors.events;
  for (let seq = 0; seq < committed; seq++) {
    const row = ev.expect(seq, 1, 'events');
    const type = row.get('type') as PolcaEvent['type'];
    const time = row.get('time') as number;
    const json = row.get('json') as string | null;
    const step = row.get('step') as number | null;
    yield decodeOne(seq, type, time, step, json, cursors, numProbe ?? -1);
  }
  for (const [name, c] of Object.entries(cursors)) {
    const next = c.peek();
    if (next !== null && next < committed) throw new RunFormatError(`replay: ${name} has rows of event ${next} that its event did not claim; the run directory is damaged (${c.file})`);
  }
}

function parse(json: string | null, seq: number, type: string): Record<string, unknown> {
  if (json === null) throw new RunFormatError(`replay: event ${seq} (${type}) has no json payload; the run directory is damaged`);
  return JSON.parse(json) as Record<string, unknown>;
}

function decodeOne(seq: number, type: PolcaEvent['type'], time: number, step: number | null, json: string | null, c: Record<TableName, Cursor>, n: number): PolcaEvent {
  switch (type) {
    case 'run-start':
    case 'run-end':
      return parse(json, seq, type) as unknown as PolcaEvent;
    case 'step': {
      const r = c.steps.expect(seq, 1, type);
      const e: StepEvent = { type, time, step: r.get('step') as number };
      const loss = r.get('loss') as number | null;
      const lr = r.get('lr') as number | null;
      if (loss !== null) e.loss = loss;
      if (lr !== null) e.lr = lr;
      return e;
    }
    case 'checkpoint': {
      const r = c.checkpoints.expect(seq, 1, type);
      const losses = c.losses.expect(seq, n, type);
      const e: CheckpointEvent = {
        type, time, step: r.get('step') as number, losses: losses.array(Float32Array, 'loss'),
        meanLoss: r.get('meanLoss') as number, nonFinite: r.get('nonFinite') as number, seconds: r.get('seconds') as number,
      };
      return e;
    }
    case 'basis': {
      const r = c.basis.expect(seq, 1, type);
      const e: BasisEvent = {
        type, time, id: r.get('id') as number, step: r.get('step') as number, kind: r.get('kind') as BasisKind,
        eigenvalue: r.get('eigenvalue') as number, residual: r.get('residual') as number, hvps: r.get('hvps') as number,
      };
      const vector = r.list<Float32Array>('vector');
      if (vector !== undefined) e.vector = vector;
      return e;
    }
    case 'polca':
      return decodePolca(seq, time, c, n);
    case 'clusters': {
      const head = parse(json, seq, type) as { kind: TrajectoryKind; basisId: number; steps: number[]; dropped: number; outliers: number };
      const rows = c.clusters.take(seq);
      const clusters: ClusterSummary[] = [];
      for (let i = 0; i < rows.length; i++) {
        clusters.push({
          id: rows.get('clusterId', i) as number, members: rows.list<Int32Array>('members', i) ?? new Int32Array(0), medoid: rows.get('medoid', i) as number,
          median: rows.list<Float64Array>('median', i) ?? new Float64Array(0), q25: rows.list<Float64Array>('q25', i) ?? new Float64Array(0),
          q75: rows.list<Float64Array>('q75', i) ?? new Float64Array(0),
        });
      }
      const e: ClustersEvent = {
        type, time, step: step as number, kind: head.kind, basisId: head.basisId, steps: Int32Array.from(head.steps), clusters, dropped: head.dropped, outliers: head.outliers,
      };
      return e;
    }
    case 'transition': {
      const r = c.transitions.expect(seq, 1, type);
      const target: TransitionEvent['target'] = r.get('targetKind') === 'cluster'
        ? { kind: 'cluster', basisId: r.get('basisId') as number, clusterId: r.get('clusterId') as number }
        : { kind: 'datapoints', name: r.get('name') as string };
      return {
        type, time, step: r.get('step') as number, detectedAt: r.get('detectedAt') as number, target,
        magnitude: r.get('magnitude') as number, confidence: r.get('confidence') as number,
      };
    }
    case 'alert': {
      const r = c.alerts.expect(seq, 1, type);
      const e: AlertEvent = { type, time, step: r.get('step') as number, rule: r.get('rule') as AlertRule, message: r.get('message') as string, value: r.get('value') as number };
      return e;
    }
    default:
      throw new RunFormatError(`replay: event ${seq} has unknown type ${JSON.stringify(type)}; the run was written by another polca version`);
  }
}

function decodePolca(seq: number, time: number, c: Record<TableName, Cursor>, numProbe: number): PolcaIncrementEvent {
  const iv = c.intervals.expect(seq, 1, 'polca');
  const k = iv.get('numBasis') as number;
  const pr = c.projections.expect(seq, k, 'polca');
  const res = c.residuals.expect(seq, numProbe, 'polca');
  const n = res.length;
  const po = c.polca.expect(seq, n * k, 'polca');
  const basisIds: number[] = [];
  const projections: number[] = [];
  const values: Float32Array[] = [];
  const firstOrder: Float32Array[] = [];
  const derivatives: Float32Array[] = [];
  for (let b = 0; b < k; b++) {
    basisIds.push(pr.get('basisId', b) as number);
    projections.push(pr.get('projection', b) as number);
    values.push(po.array(Float32Array, 'value', b * n, (b + 1) * n));
    firstOrder.push(po.array(Float32Array, 'firstOrder', b * n, (b + 1) * n));
    derivatives.push(po.array(Float32Array, 'derivative', b * n, (b + 1) * n));
  }
  const e: PolcaIncrementEvent = {
    type: 'polca', time, fromStep: iv.get('fromStep') as number, toStep: iv.get('toStep') as number, basisIds, projections, values, firstOrder, derivatives,
    lossBefore: res.array(Float32Array, 'lossBefore'), lossAfter: res.array(Float32Array, 'lossAfter'),
    residual: res.array(Float32Array, 'residual'), secondOrder: iv.get('secondOrder') as SecondOrder, nonFinite: iv.get('nonFinite') as number,
  };
  const checkBasisId = iv.get('checkBasisId') as number | null;
  if (checkBasisId !== null) {
    e.derivativeCheck = { basisId: checkBasisId, relativeError: iv.get('checkRelativeError') as number, step: iv.get('checkStep') as number };
  }
  if (iv.get('source') === 'filled') e.filled = true;
  return e;
}
