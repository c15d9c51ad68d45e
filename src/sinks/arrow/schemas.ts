/**
 * Arrow schemas of the tables of a polca run directory.
 *
 * Every table is one Arrow IPC *stream* file `<table>.arrows` in the run
 * directory (the extension Arrow registers for the stream format; runs
 * written before it used `.ipc`, and readers follow the names in run.json),
 * in long format (one row per scalar observation), appended one record
 * batch per flush. Every row carries `seq`, the 0-based position in
 * the event stream of the event it came from, so that rows of different
 * tables can be put back in the order the events were emitted.
 *
 * Integer columns (`seq`, steps, ids, datapoint indices, counts) are Int32;
 * per-datapoint values are Float32 exactly as the tracker produced them;
 * other measurements are Float64. `time` (the events' wall-clock time) is
 * an Arrow timestamp, nanoseconds since the Unix epoch in UTC, so that
 * DuckDB, polars and Spark see a timestamp; nanoseconds because event times
 * are milliseconds with a fraction, and every such double from 1970-04 on
 * comes back bit for bit (`get` returns the milliseconds as a number).
 * Step columns stay Int32. Runs of layout 1 stored `time` as Float64
 * milliseconds; {@link eventTableSchema} gives the schema of either.
 *
 * Any Arrow reader opens the tables; in polars (Node or Python):
 * ```ts
 * import pl from 'nodejs-polars';
 * const polca = pl.readIPCStream(fs.readFileSync('runs/arith/polca.arrows')); // a string is a path only when it ends in .ipc
 * polca.filter(pl.col('basisId').eq(0)).groupBy('toStep').agg(pl.col('value').sum());
 * ```
 *
 * @packageDocumentation
 */
import { DataType, Field, Float32, Float64, Int32, List, Schema, TimestampNanosecond, Utf8 } from 'apache-arrow';
import { EVENT_SCHEMA_VERSION } from '../../stream/events.js';

/** Schema metadata key holding {@link EVENT_SCHEMA_VERSION} in every table file. */
export const SCHEMA_VERSION_KEY = 'polca.schemaVersion';
/** Schema metadata key holding the table name in every table file. */
export const TABLE_NAME_KEY = 'polca.table';

function field(name: string, type: DataType, nullable = false): Field {
  return new Field(name, type, nullable);
}
const i32 = (name: string, nullable = false) => field(name, new Int32(), nullable);
const f32 = (name: string) => field(name, new Float32());
const f64 = (name: string, nullable = false) => field(name, new Float64(), nullable);
const time = () => field('time', new TimestampNanosecond('UTC'));
const utf8 = (name: string, nullable = false) => field(name, new Utf8(), nullable);
const list = (name: string, item: DataType) => field(name, new List(new Field('item', item, false)), true);

/**
 * `events.arrows` — one row per event, in emission order; the commit log of the run.
 *
 * - `seq` (Int32): position of the event in the stream, 0, 1, 2, …
 * - `time` (Timestamp ns, UTC): the event's `time`.
 * - `type` (Utf8): the event's `type` (`run-start`, `step`, `checkpoint`, `basis`, `polca`, `clusters`, `transition`, `alert`, `run-end`).
 * - `step` (Int32, null for `run-start`): the event's step (`toStep` for `polca`).
 * - `json` (Utf8, nullable): the fields stored nowhere else, as JSON: the whole
 *   `run-start` and `run-end` events, and the header of `clusters` events
 *   (`kind`, `basisId`, `steps`, `dropped`, `outliers`).
 *
 * The writer appends this table last at every flush, so an event is complete
 * in every other table as soon as its row is here.
 */
export const eventsSchema = [i32('seq'), time(), utf8('type'), i32('step', true), utf8('json', true)];

/**
 * `steps.arrows` — one row per optimiser step (`step` events).
 *
 * - `seq` (Int32), `time` (Timestamp)
 * - `step` (Int32): optimiser step.
 * - `loss` (Float64, null when not reported): training loss of the step.
 * - `lr` (Float64, null when unknown): learning rate of the step.
 */
export const stepsSchema = [i32('seq'), time(), i32('step'), f64('loss', true), f64('lr', true)];

/**
 * `checkpoints.arrows` — one row per POLCA checkpoint (`checkpoint` events).
 *
 * - `seq` (Int32), `time` (Timestamp), `step` (Int32)
 * - `meanLoss` (Float64): mean of the finite probe losses.
 * - `nonFinite` (Int32): number of non-finite probe losses.
 * - `seconds` (Float64): seconds polca spent at this checkpoint.
 */
export const checkpointsSchema = [i32('seq'), time(), i32('step'), f64('meanLoss'), i32('nonFinite'), f64('seconds')];

/**
 * `losses.arrows` — one row per (checkpoint, probe datapoint).
 *
 * - `seq` (Int32): seq of the `checkpoint` event.
 * - `step` (Int32): checkpoint step.
 * - `datapoint` (Int32): probe datapoint index 0 … N−1.
 * - `loss` (Float32): ℓ_x(θ_step), non-finite values kept.
 */
export const lossesSchema = [i32('seq'), i32('step'), i32('datapoint'), f32('loss')];

/**
 * `basis.arrows` — one row per basis vector added (`basis` events).
 *
 * - `seq` (Int32), `time` (Timestamp)
 * - `id` (Int32): index of the vector in the basis.
 * - `step` (Int32): step at which it was found.
 * - `kind` (Utf8): `hessian`, `random`, `shuffled`, `axis`, `movement`, `step-covariance`, `gradient-covariance` or `fixed`.
 * - `eigenvalue` (Float64): Ritz value (of Π⊥GᵀGΠ⊥ for `gradient-covariance`, of Π⊥(Σ d_t d_tᵀ)Π⊥ for `step-covariance`; NaN for the other non-Hessian bases).
 * - `residual` (Float64): ‖Π⊥HΠ⊥b − λb‖ (Π⊥GᵀGΠ⊥ for `gradient-covariance`, Π⊥(Σ d_t d_tᵀ)Π⊥ for `step-covariance`; NaN for the other non-Hessian bases).
 * - `hvps` (Int32): Hessian-vector products (GᵀG products for `gradient-covariance`) spent to find it.
 * - `vector` (List<Float32>, null unless the tracker emitted vectors): the vector b (length P).
 */
export const basisSchema = [
  i32('seq'), time(), i32('id'), i32('step'), utf8('kind'), f64('eigenvalue'), f64('residual'), i32('hvps'),
  list('vector', new Float32()),
];

/**
 * `intervals.arrows` — one row per POLCA interval (`polca` events).
 *
 * - `seq` (Int32), `time` (Timestamp)
 * - `fromStep`, `toStep` (Int32): the checkpoint interval.
 * - `numBasis` (Int32): number of basis vectors K in the interval.
 * - `secondOrder` (Utf8): curvature estimator of `polca.value` (`none`, `paper`, `secant`, `directional`).
 * - `nonFinite` (Int32): datapoints excluded because a loss or derivative was not finite.
 * - `checkBasisId`, `checkStep` (Int32, nullable), `checkRelativeError` (Float64, nullable):
 *   the directional-derivative accuracy check, null in exact mode.
 * - `source` (Utf8): `live` for an interval computed as training passed it;
 *   `filled` for the terms of vectors found later, filled in from the θ
 *   history (full-length trajectories; such an interval has a row of each).
 */
export const intervalsSchema = [
  i32('seq'), time(), i32('fromStep'), i32('toStep'), i32('numBasis'), utf8('secondOrder'), i32('nonFinite'),
  i32('checkBasisId', true), f64('checkRelativeError', true), i32('checkStep', true), utf8('source'),
];

/**
 * `projections.arrows` — one row per (interval, basis vector).
 *
 * - `seq` (Int32): seq of the `polca` event; rows keep the event's basis order.
 * - `fromStep`, `toStep`, `basisId` (Int32)
 * - `projection` (Float64): ⟨b, Δθ⟩.
 */
export const projectionsSchema = [i32('seq'), i32('fromStep'), i32('toStep'), i32('basisId'), f64('projection')];

/**
 * `polca.arrows` — one row per (interval, basis vector, probe datapoint); the big table
 * (N·K rows per checkpoint, 32 bytes a row).
 *
 * - `seq` (Int32): seq of the `polca` event; rows are basis-major, datapoint-minor.
 * - `fromStep`, `toStep`, `basisId`, `datapoint` (Int32)
 * - `value` (Float32): POLCA(x, b, t), second order (eq. 3), equal to `firstOrder` when `secondOrder` is `none`.
 * - `firstOrder` (Float32): POLCA¹(x, b, t) (eq. 2).
 * - `derivative` (Float32): ⟨b, ∇ℓ_x(θ_fromStep)⟩.
 */
export const polcaSchema = [
  i32('seq'), i32('fromStep'), i32('toStep'), i32('basisId'), i32('datapoint'), f32('value'), f32('firstOrder'), f32('derivative'),
];

/**
 * `residuals.arrows` — one row per (interval, probe datapoint).
 *
 * - `seq` (Int32), `fromStep`, `toStep`, `datapoint` (Int32)
 * - `lossBefore` (Float32): ℓ_x(θ_fromStep).
 * - `lossAfter` (Float32): ℓ_x(θ_toStep).
 * - `residual` (Float32): ℓ_x(after) − ℓ_x(before) − Σ_b POLCA(x, b).
 */
export const residualsSchema = [
  i32('seq'), i32('fromStep'), i32('toStep'), i32('datapoint'), f32('lossBefore'), f32('lossAfter'), f32('residual'),
];

/**
 * `clusters.arrows` — one row per cluster of a `clusters` event (the event's
 * header — kind, basisId, steps, dropped, outliers — is in `events.json`).
 *
 * - `seq` (Int32), `step` (Int32): last checkpoint included.
 * - `kind` (Utf8): trajectory kind; `basisId` (Int32): basis vector, −1 when not basis-dependent.
 * - `clusterId` (Int32), `medoid` (Int32): datapoint index of the medoid, `size` (Int32): number of members.
 * - `members` (List<Int32>): datapoint indices of the members.
 * - `median`, `q25`, `q75` (List<Float64>): member trajectory quantiles at each checkpoint step.
 */
export const clustersSchema = [
  i32('seq'), i32('step'), utf8('kind'), i32('basisId'), i32('clusterId'), i32('medoid'), i32('size'),
  list('members', new Int32()), list('median', new Float64()), list('q25', new Float64()), list('q75', new Float64()),
];

/**
 * `transitions.arrows` — one row per detected breakthrough (`transition` events).
 *
 * - `seq` (Int32), `time` (Timestamp)
 * - `step` (Int32): step of the breakthrough; `detectedAt` (Int32): step of detection.
 * - `targetKind` (Utf8): `cluster` or `datapoints`.
 * - `basisId`, `clusterId` (Int32, null unless `targetKind` is `cluster`).
 * - `name` (Utf8, null unless `targetKind` is `datapoints`): the datapoint set.
 * - `magnitude` (Float64): second difference at the breakthrough; `confidence` (Float64) in [0, 1].
 */
export const transitionsSchema = [
  i32('seq'), time(), i32('step'), i32('detectedAt'), utf8('targetKind'), i32('basisId', true), i32('clusterId', true),
  utf8('name', true), f64('magnitude'), f64('confidence'),
];

/**
 * `alerts.arrows` — one row per alert (`alert` events).
 *
 * - `seq` (Int32), `time` (Timestamp), `step` (Int32)
 * - `rule` (Utf8): `loss-spike`, `loss-stalled` or `non-finite`.
 * - `message` (Utf8), `value` (Float64, may be non-finite).
 */
export const alertsSchema = [i32('seq'), time(), i32('step'), utf8('rule'), utf8('message'), f64('value')];

/**
 * `params.arrows` — written only with `keepParams: true`: the flat parameter
 * vector θ at every POLCA checkpoint, for post-hoc backfill. Disk cost is
 * 4·P bytes per checkpoint plus about 200 bytes of framing.
 *
 * - `step` (Int32): checkpoint step.
 * - `theta` (List<Float32>): θ_step, length P, in the order of `run-start.params`.
 */
export const paramsSchema = [i32('step'), list('theta', new Float32())];

/**
 * Fields of every event table, by table name, in the order the writer appends them at a flush (`events` last).
 *
 * @example
 * ```ts
 * EVENT_TABLES.steps.map((f) => f.name); // ['seq', 'time', 'step', 'loss', 'lr']
 * ```
 */
export const EVENT_TABLES = {
  steps: stepsSchema,
  checkpoints: checkpointsSchema,
  losses: lossesSchema,
  basis: basisSchema,
  intervals: intervalsSchema,
  projections: projectionsSchema,
  polca: polcaSchema,
  residuals: residualsSchema,
  clusters: clustersSchema,
  transitions: transitionsSchema,
  alerts: alertsSchema,
  events: eventsSchema,
} as const;

/** Name of an event table of a run directory. */
export type TableName = keyof typeof EVENT_TABLES;

/** Names of the event tables, `events` last. */
export const TABLE_NAMES = Object.keys(EVENT_TABLES) as TableName[];

/**
 * Arrow schema of a table, with the schema version and table name in its metadata.
 *
 * @example
 * ```ts
 * const schema = tableSchema('polca', polcaSchema);
 * schema.fields.map((f) => f.name); // ['seq', 'fromStep', …]
 * ```
 */
export function tableSchema(name: string, fields: readonly Field[]): Schema {
  return new Schema([...fields], new Map([[SCHEMA_VERSION_KEY, String(EVENT_SCHEMA_VERSION)], [TABLE_NAME_KEY, name]]));
}

/**
 * Layout of the run directories this version writes, in run.json's `layout`:
 * 2 = `.arrows` tables, timestamp `time` columns, a labels table; runs
 * without the field are layout 1 (`.ipc` tables, Float64 `time`, labels as
 * JSON in run.json).
 */
export const RUN_LAYOUT = 2;

/**
 * Arrow schema a table of a run of the given layout has, for readers: layout 1 stored `time` as Float64 milliseconds.
 *
 * @example
 * ```ts
 * const schema = eventTableSchema('steps', manifest.layout ?? 1);
 * ```
 */
export function eventTableSchema(name: TableName, layout: number = RUN_LAYOUT): Schema {
  const fields = EVENT_TABLES[name];
  return tableSchema(name, layout >= 2 ? fields : fields.map((f) => (f.name === 'time' ? field('time', new Float64()) : f)));
}

/** Extension of the table files: Arrow's registered extension for its IPC stream format. */
export const TABLE_EXTENSION = '.arrows';

/** Extension of the table files of runs written before {@link TABLE_EXTENSION}; readers take names from run.json, so both read. */
export const LEGACY_TABLE_EXTENSION = '.ipc';

/**
 * File name of a table inside a run directory written by this version.
 * Readers must take the names from run.json's `tables` instead, so that
 * older runs (`.ipc`) read too.
 *
 * @example
 * ```ts
 * path.join(dir, tableFileName('polca')); // …/polca.arrows
 * ```
 */
export function tableFileName(name: string): string {
  return `${name}${TABLE_EXTENSION}`;
}
