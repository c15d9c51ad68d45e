/**
 * Turns events into rows of the run tables, buffered until the next flush.
 *
 * @packageDocumentation
 */
import { Data, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import type {
  AlertEvent, BasisEvent, CheckpointEvent, ClustersEvent, PolcaEvent, PolcaIncrementEvent, RunEndEvent, RunStartEvent,
  StepEvent, TransitionEvent,
} from '../../stream/events.js';
import { ListColumn, NumericColumn, ScalarColumn, TimeColumn, columnFor, type ColumnBuffer } from './columnBuffer.js';
import { RunFormatError } from './RunFormatError.js';
import { EVENT_TABLES, TABLE_NAMES, tableSchema, type TableName } from './schemas.js';

type AnyColumn = NumericColumn | ScalarColumn | ListColumn | TimeColumn;

/** Buffered rows of one table. */
class TableRows {
  readonly schema: Schema;
  readonly columns: Record<string, AnyColumn>;
  constructor(readonly name: TableName) {
    this.schema = tableSchema(name, EVENT_TABLES[name]);
    this.columns = Object.fromEntries(this.schema.fields.map((f) => [f.name, columnFor(f)]));
  }
  get length(): number {
    return (Object.values(this.columns)[0] as ColumnBuffer).length;
  }
  num(name: string): NumericColumn {
    return this.columns[name] as NumericColumn;
  }
  scalar(name: string): ScalarColumn {
    return this.columns[name] as ScalarColumn;
  }
  list(name: string): ListColumn {
    return this.columns[name] as ListColumn;
  }
  /** Append one row of scalars / lists, by column name. */
  row(values: Record<string, unknown>): void {
    for (const [name, column] of Object.entries(this.columns)) {
      if (!(name in values)) throw new Error(`EventEncoder: table ${this.name} row lacks column ${name}`);
      (column as { push(v: unknown): void }).push(values[name]);
    }
  }
  take(): RecordBatch {
    const n = this.length;
    const children = this.schema.fields.map((f) => this.columns[f.name].take());
    for (const [i, c] of children.entries()) {
      if (c.length !== n) throw new Error(`EventEncoder: table ${this.name} column ${this.schema.fields[i].name} has ${c.length} rows, not ${n}`);
    }
    const struct = makeData({ type: new Struct(this.schema.fields), length: n, nullCount: 0, children: children as Data[] });
    return new RecordBatch(this.schema, struct);
  }
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function int32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw new RunFormatError(`RunWriter.write: ${what} must be an int32, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

function num(value: unknown, what: string): number {
  if (typeof value !== 'number') throw new RunFormatError(`RunWriter.write: ${what} must be a number, got ${typeof value}`);
  return value;
}

function str(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new RunFormatError(`RunWriter.write: ${what} must be a string, got ${typeof value}`);
  return value;
}

function optNum(value: unknown, what: string): number | null {
  return value === undefined ? null : num(value, what);
}

function f32(value: unknown, what: string, length: number): Float32Array {
  if (!(value instanceof Float32Array)) throw new RunFormatError(`RunWriter.write: ${what} must be a Float32Array, got ${describe(value)}`);
  if (value.length !== length) throw new RunFormatError(`RunWriter.write: ${what} must have length ${length}, got ${value.length}`);
  return value;
}

function typed<T extends Int32Array | Float64Array>(ctor: new (n: number) => T, value: unknown, what: string, length?: number): T {
  if (!(value instanceof ctor)) throw new RunFormatError(`RunWriter.write: ${what} must be a ${ctor.name}, got ${describe(value)}`);
  if (length !== undefined && value.length !== length) throw new RunFormatError(`RunWriter.write: ${what} must have length ${length}, got ${value.length}`);
  return value;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  return typeof value;
}

/**
 * Encodes events into table rows. `numProbe` (N) fixes the length of every
 * per-datapoint array; `numParams` (P) the length of basis vectors.
 *
 * @example
 * ```ts
 * const encoder = new EventEncoder(start.numProbe, start.numParams);
 * encoder.add(0, start);
 * for (const { name, batch } of encoder.take()) files[name].append(batch);
 * ```
 */
export class EventEncoder {
  private readonly tables: Record<TableName, TableRows>;
  constructor(private readonly numProbe: number, private readonly numParams: number) {
    this.tables = Object.fromEntries(TABLE_NAMES.map((t) => [t, new TableRows(t)])) as Record<TableName, TableRows>;
  }

  /** Rows waiting for the next flush, over all tables. */
  get pendingRows(): number {
    let n = 0;
    for (const t of TABLE_NAMES) n += this.tables[t].length;
    return n;
  }

  /** Record batches of every table with pending rows, `events` last; the buffers are emptied. */
  take(): { name: TableName; batch: RecordBatch }[] {
    return TABLE_NAMES.filter((t) => this.tables[t].length > 0).map((name) => ({ name, batch: this.tables[name].take() }));
  }

  /**
   * Validate and buffer one event. Throws {@link RunFormatError} before
   * buffering anything when the event cannot be stored exactly.
   */
  add(seq: number, event: PolcaEvent): void {
    const time = num(event.time, `${event.type}.time`);
    // Checked here, before any row is buffered: the time columns are int64 nanoseconds.
    if (!Number.isFinite(time) || Math.abs(time) > 9_223_372_036_854) {
      throw new RunFormatError(`RunWriter.write: ${event.type}.time must be finite milliseconds since the epoch, got ${time}`);
    }
    let step: number | null;
    let json: string | null = null;
    switch (event.type) {
      case 'run-start':
        step = null;
        json = JSON.stringify(event satisfies RunStartEvent);
        break;
      case 'run-end': {
        const e: RunEndEvent = event;
        step = int32(e.step, 'run-end.step');
        json = JSON.stringify(e);
        break;
      }
      case 'step':
        step = this.addStep(seq, event);
        break;
      case 'checkpoint':
        step = this.addCheckpoint(seq, event);
        break;
      case 'basis':
        step = this.addBasis(seq, event);
        break;
      case 'polca':
        step = this.addPolca(seq, event);
        break;
      case 'clusters': {
        step = this.addClusters(seq, event);
        const { kind, basisId, steps, dropped, outliers } = event;
        json = JSON.stringify({ kind, basisId, steps: Array.from(steps), dropped, outliers });
        break;
      }
      case 'transition':
        step = this.addTransition(seq, event);
        break;
      case 'alert':
        step = this.addAlert(seq, event);
        break;
      default:
        throw new RunFormatError(`RunWriter.write: unknown event type ${JSON.stringify((event as { type?: unknown }).type)}`);
    }
    this.tables.events.row({ seq, time, type: event.type, step, json });
  }

  private addStep(seq: number, e: StepEvent): number {
    const step = int32(e.step, 'step.step');
    this.tables.steps.row({ seq, time: e.time, step, loss: optNum(e.loss, 'step.loss'), lr: optNum(e.lr, 'step.lr') });
    return step;
  }

  private addCheckpoint(seq: number, e: CheckpointEvent): number {
    const n = this.numProbe;
    const step = int32(e.step, 'checkpoint.step');
    const losses = f32(e.losses, 'checkpoint.losses', n);
    const row = { seq, time: e.time, step, meanLoss: num(e.meanLoss, 'checkpoint.meanLoss'), nonFinite: int32(e.nonFinite, 'checkpoint.nonFinite'), seconds: num(e.seconds, 'checkpoint.seconds') };
    this.tables.checkpoints.row(row);
    const t = this.tables.losses;
    t.num('seq').fill(seq, n);
    t.num('step').fill(step, n);
    t.num('datapoint').range(n);
    t.num('loss').append(losses);
    return step;
  }

  private addBasis(seq: number, e: BasisEvent): number {
    const step = int32(e.step, 'basis.step');
    const vector = e.vector === undefined ? null : f32(e.vector, 'basis.vector', this.numParams);
    this.tables.basis.row({
      seq, time: e.time, id: int32(e.id, 'basis.id'), step, kind: str(e.kind, 'basis.kind'),
      eigenvalue: num(e.eigenvalue, 'basis.eigenvalue'), residual: num(e.residual, 'basis.residual'), hvps: int32(e.hvps, 'basis.hvps'), vector,
    });
    return step;
  }

  private addPolca(seq: number, e: PolcaIncrementEvent): number {
    const n = this.numProbe;
    const fromStep = int32(e.fromStep, 'polca.fromStep');
    const toStep = int32(e.toStep, 'polca.toStep');
    if (!Array.isArray(e.basisIds)) throw new RunFormatError(`RunWriter.write: polca.basisIds must be an array, got ${describe(e.basisIds)}`);
    const k = e.basisIds.length;
    const ids = e.basisIds.map((id, i) => int32(id, `polca.basisIds[${i}]`));
    for (const name of ['projections', 'values', 'firstOrder', 'derivatives'] as const) {
      const a = e[name] as unknown;
      if (!Array.isArray(a) || a.length !== k) throw new RunFormatError(`RunWriter.write: polca.${name} must be an array of length ${k} (one per basis id), got ${describe(a)}`);
    }
    const projections = e.projections.map((p, i) => num(p, `polca.projections[${i}]`));
    const values = e.values.map((a, i) => f32(a, `polca.values[${i}]`, n));
    const firstOrder = e.firstOrder.map((a, i) => f32(a, `polca.firstOrder[${i}]`, n));
    const derivatives = e.derivatives.map((a, i) => f32(a, `polca.derivatives[${i}]`, n));
    const lossBefore = f32(e.lossBefore, 'polca.lossBefore', n);
    const lossAfter = f32(e.lossAfter, 'polca.lossAfter', n);
    const residual = f32(e.residual, 'polca.residual', n);
    const secondOrder = str(e.secondOrder, 'polca.secondOrder');
    const nonFinite = int32(e.nonFinite, 'polca.nonFinite');
    const check = e.derivativeCheck;
    const checkRow = check === undefined
      ? { checkBasisId: null, checkRelativeError: null, checkStep: null }
      : { checkBasisId: int32(check.basisId, 'polca.derivativeCheck.basisId'), checkRelativeError: num(check.relativeError, 'polca.derivativeCheck.relativeError'), checkStep: int32(check.step, 'polca.derivativeCheck.step') };

    this.tables.intervals.row({ seq, time: e.time, fromStep, toStep, numBasis: k, secondOrder, nonFinite, ...checkRow, source: e.filled ? 'filled' : 'live' });
    const pr = this.tables.projections;
    for (let b = 0; b < k; b++) pr.row({ seq, fromStep, toStep, basisId: ids[b], projection: projections[b] });
    const pt = this.tables.polca;
    pt.num('seq').fill(seq, n * k);
    pt.num('fromStep').fill(fromStep, n * k);
    pt.num('toStep').fill(toStep, n * k);
    for (let b = 0; b < k; b++) {
      pt.num('basisId').fill(ids[b], n);
      pt.num('datapoint').range(n);
      pt.num('value').append(values[b]);
      pt.num('firstOrder').append(firstOrder[b]);
      pt.num('derivative').append(derivatives[b]);
    }
    const rt = this.tables.residuals;
    rt.num('seq').fill(seq, n);
    rt.num('fromStep').fill(fromStep, n);
    rt.num('toStep').fill(toStep, n);
    rt.num('datapoint').range(n);
    rt.num('lossBefore').append(lossBefore);
    rt.num('lossAfter').append(lossAfter);
    rt.num('residual').append(residual);
    return toStep;
  }

  private addClusters(seq: number, e: ClustersEvent): number {
    const step = int32(e.step, 'clusters.step');
    const basisId = int32(e.basisId, 'clusters.basisId');
    const kind = str(e.kind, 'clusters.kind');
    const steps = typed(Int32Array, e.steps, 'clusters.steps');
    int32(e.dropped, 'clusters.dropped');
    int32(e.outliers, 'clusters.outliers');
    if (!Array.isArray(e.clusters)) throw new RunFormatError(`RunWriter.write: clusters.clusters must be an array, got ${describe(e.clusters)}`);
    const rows = e.clusters.map((c, i) => ({
      seq, step, kind, basisId,
      clusterId: int32(c.id, `clusters.clusters[${i}].id`),
      medoid: int32(c.medoid, `clusters.clusters[${i}].medoid`),
      size: typed(Int32Array, c.members, `clusters.clusters[${i}].members`).length,
      members: c.members,
      median: typed(Float64Array, c.median, `clusters.clusters[${i}].median`, steps.length),
      q25: typed(Float64Array, c.q25, `clusters.clusters[${i}].q25`, steps.length),
      q75: typed(Float64Array, c.q75, `clusters.clusters[${i}].q75`, steps.length),
    }));
    for (const r of rows) this.tables.clusters.row(r);
    return step;
  }

  private addTransition(seq: number, e: TransitionEvent): number {
    const step = int32(e.step, 'transition.step');
    const t = e.target;
    let target: { targetKind: string; basisId: number | null; clusterId: number | null; name: string | null };
    if (t?.kind === 'cluster') {
      target = { targetKind: 'cluster', basisId: int32(t.basisId, 'transition.target.basisId'), clusterId: int32(t.clusterId, 'transition.target.clusterId'), name: null };
    } else if (t?.kind === 'datapoints') {
      target = { targetKind: 'datapoints', basisId: null, clusterId: null, name: str(t.name, 'transition.target.name') };
    } else {
      throw new RunFormatError(`RunWriter.write: transition.target.kind must be 'cluster' or 'datapoints', got ${JSON.stringify((t as { kind?: unknown })?.kind)}`);
    }
    this.tables.transitions.row({
      seq, time: e.time, step, detectedAt: int32(e.detectedAt, 'transition.detectedAt'), ...target,
      magnitude: num(e.magnitude, 'transition.magnitude'), confidence: num(e.confidence, 'transition.confidence'),
    });
    return step;
  }

  private addAlert(seq: number, e: AlertEvent): number {
    const step = int32(e.step, 'alert.step');
    this.tables.alerts.row({ seq, time: e.time, step, rule: str(e.rule, 'alert.rule'), message: str(e.message, 'alert.message'), value: num(e.value, 'alert.value') });
    return step;
  }
}
