/**
 * Conversion of {@link PolcaEvent}s into `polca.v1.Event` messages.
 *
 * @packageDocumentation
 */
import type { ClusterSummary, PolcaEvent, PolcaEventType } from '../stream/events.js';
import type { Event } from './generated/polca/v1/Event.js';
import type { EventKind } from './generated/polca/v1/EventKind.js';
import type { Cluster } from './generated/polca/v1/Cluster.js';
import type { Clusters } from './generated/polca/v1/Clusters.js';
import type { BasisIncrement } from './generated/polca/v1/BasisIncrement.js';

/** Event kinds in the order of their proto enum numbers (index 0 is UNSPECIFIED). */
export const EVENT_KINDS: readonly PolcaEventType[] = [
  'run-start',
  'step',
  'checkpoint',
  'basis',
  'polca',
  'run-end',
  'clusters',
  'transition',
  'alert',
];

/** Number of proto `EventKind` values, UNSPECIFIED included. */
export const EVENT_KIND_COUNT = EVENT_KINDS.length + 1;

const KIND_NAMES = [
  'EVENT_KIND_UNSPECIFIED',
  'EVENT_KIND_RUN_START',
  'EVENT_KIND_STEP',
  'EVENT_KIND_CHECKPOINT',
  'EVENT_KIND_BASIS',
  'EVENT_KIND_POLCA',
  'EVENT_KIND_RUN_END',
  'EVENT_KIND_CLUSTERS',
  'EVENT_KIND_TRANSITION',
  'EVENT_KIND_ALERT',
] as const;

/**
 * The proto enum number of an event type (1 … 9).
 *
 * @example
 * ```ts
 * kindNumber('polca'); // 5
 * ```
 */
export function kindNumber(type: PolcaEventType): number {
  return EVENT_KINDS.indexOf(type) + 1;
}

/**
 * The proto enum name of a kind number, as proto-loader reports it.
 *
 * @example
 * ```ts
 * kindName(5); // 'EVENT_KIND_POLCA'
 * ```
 */
export function kindName(kind: number): EventKind {
  const name = KIND_NAMES[kind];
  if (name === undefined) throw new RangeError(`kindName: kind must be an integer in [0, 9], got ${kind}`);
  return name;
}

/**
 * Parses an `EventKind` as proto-loader delivers it (its name, or the number
 * when the value is unknown to the schema); returns −1 for anything else.
 *
 * @example
 * ```ts
 * parseKind('EVENT_KIND_STEP'); // 2
 * parseKind(42); // -1
 * ```
 */
export function parseKind(value: unknown): number {
  if (typeof value === 'string') return KIND_NAMES.indexOf(value as (typeof KIND_NAMES)[number]);
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < KIND_NAMES.length) return value;
  return -1;
}

/** Mean of the finite entries (NaN when none is finite), summed in double precision. */
function finiteMean(a: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  }
  return n === 0 ? NaN : sum / n;
}

/** Sum of the finite entries. */
function finiteSum(a: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i])) sum += a[i];
  return sum;
}

/**
 * Median of the finite entries of `a` at `indices` (all entries when omitted);
 * NaN when none is finite. The median of an even count is the mean of the two
 * middle values.
 *
 * @example
 * ```ts
 * finiteMedian(new Float32Array([3, NaN, 1, 2])); // 2
 * ```
 */
export function finiteMedian(a: ArrayLike<number>, indices?: ArrayLike<number>): number {
  const n = indices ? indices.length : a.length;
  const v = new Float64Array(n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const x = a[indices ? indices[i] : i];
    if (Number.isFinite(x)) v[m++] = x;
  }
  if (m === 0) return NaN;
  const s = v.subarray(0, m).sort();
  return m % 2 === 1 ? s[(m - 1) / 2] : (s[m / 2 - 1] + s[m / 2]) / 2;
}

function finiteMinMax(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo > hi ? [NaN, NaN] : [lo, hi];
}

/** grpc-js serialises through protobufjs `fromObject`, which accepts arrays only (not typed arrays). */
function arr(a: ArrayLike<number>): number[] {
  return Array.from(a);
}

/**
 * The `polca.v1.Cluster` message of a cluster summary.
 *
 * @example
 * ```ts
 * clusterMessage({ id: 0, members: Int32Array.of(1, 2), medoid: 1, median: Float64Array.of(0), q25: Float64Array.of(0), q75: Float64Array.of(0) });
 * ```
 */
export function clusterMessage(c: ClusterSummary): Cluster {
  return { id: c.id, members: arr(c.members), medoid: c.medoid, median: arr(c.median), q25: arr(c.q25), q75: arr(c.q75) };
}

/**
 * The `polca.v1.Clusters` message of a clusters event.
 *
 * @example
 * ```ts
 * const m = clustersMessage(event); // event.type === 'clusters'
 * ```
 */
export function clustersMessage(e: Extract<PolcaEvent, { type: 'clusters' }>): Clusters {
  return {
    step: e.step,
    kind: e.kind,
    basisId: e.basisId,
    steps: arr(e.steps),
    clusters: e.clusters.map(clusterMessage),
    dropped: e.dropped,
    outliers: e.outliers,
  };
}

/** Clusters of the latest `polca` clustering along a basis vector, or undefined. */
export type ClustersLookup = (basisId: number) => readonly ClusterSummary[] | undefined;

/**
 * Builds the `polca.v1.Event` message of an event.
 *
 * The summary form (`datapoints` false) leaves out every per-datapoint
 * array; the full form adds them. Polca increments carry the mean increment
 * of each cluster of the latest `polca` clustering along each vector, looked
 * up with `clusters` at the time of the call.
 *
 * @example
 * ```ts
 * const msg = eventMessage({ type: 'step', time: Date.now(), step: 3, loss: 0.5 }, 7, { datapoints: false });
 * // { seq: 7, timeMs: …, payload: 'step', step: { step: 3, loss: 0.5, hasLoss: true, lr: 0, hasLr: false } }
 * ```
 */
export function eventMessage(
  event: PolcaEvent,
  seq: number,
  options: { datapoints: boolean; clusters?: ClustersLookup },
): Event {
  const base = { seq, timeMs: event.time };
  const full = options.datapoints;
  switch (event.type) {
    case 'run-start':
      return {
        ...base,
        payload: 'runStart',
        runStart: {
          configJson: JSON.stringify(event.config),
          numParams: event.numParams,
          numProbe: event.numProbe,
          backend: event.backend,
          hvpMode: event.hvpMode,
          hvpReason: event.hvpReason,
          params: event.params.map((p) => ({ name: p.name, shape: p.shape.slice() })),
          model: event.model ?? '',
          polcaVersion: event.versions.polca,
          tfjsVersion: event.versions.tfjs,
        },
      };
    case 'step':
      return {
        ...base,
        payload: 'step',
        step: {
          step: event.step,
          loss: event.loss ?? 0,
          hasLoss: event.loss !== undefined,
          lr: event.lr ?? 0,
          hasLr: event.lr !== undefined,
        },
      };
    case 'checkpoint': {
      const [lo, hi] = finiteMinMax(event.losses);
      return {
        ...base,
        payload: 'checkpoint',
        checkpoint: {
          step: event.step,
          numDatapoints: event.losses.length,
          meanLoss: event.meanLoss,
          nonFinite: event.nonFinite,
          seconds: event.seconds,
          minLoss: lo,
          medianLoss: finiteMedian(event.losses),
          maxLoss: hi,
          losses: full ? arr(event.losses) : [],
        },
      };
    }
    case 'basis':
      return {
        ...base,
        payload: 'basis',
        basis: {
          id: event.id,
          step: event.step,
          kind: event.kind,
          eigenvalue: event.eigenvalue,
          residual: event.residual,
          hvps: event.hvps,
          vectorLength: event.vector?.length ?? 0,
        },
      };
    case 'polca': {
      const bases: BasisIncrement[] = event.basisIds.map((id, k) => {
        const values = event.values[k];
        const clusters = options.clusters?.(id) ?? [];
        return {
          basisId: id,
          projection: event.projections[k],
          sum: finiteSum(values),
          mean: finiteMean(values),
          firstOrderMean: finiteMean(event.firstOrder[k]),
          clusterIds: clusters.map((c) => c.id),
          clusterMeans: clusters.map((c) => finiteMean(Array.from(c.members, (i) => values[i]))),
          values: full ? arr(values) : [],
          firstOrder: full ? arr(event.firstOrder[k]) : [],
          derivatives: full ? arr(event.derivatives[k]) : [],
        };
      });
      const change = new Float64Array(event.lossAfter.length);
      for (let i = 0; i < change.length; i++) change[i] = event.lossAfter[i] - event.lossBefore[i];
      const check = event.derivativeCheck;
      return {
        ...base,
        payload: 'polca',
        polca: {
          fromStep: event.fromStep,
          toStep: event.toStep,
          secondOrder: event.secondOrder,
          filled: event.filled === true,
          nonFinite: event.nonFinite,
          meanLossChange: finiteMean(change),
          meanResidual: finiteMean(event.residual),
          bases,
          derivativeCheck: check ? { basisId: check.basisId, relativeError: check.relativeError, step: check.step } : null,
          hasDerivativeCheck: check !== undefined,
          lossBefore: full ? arr(event.lossBefore) : [],
          lossAfter: full ? arr(event.lossAfter) : [],
          residual: full ? arr(event.residual) : [],
        },
      };
    }
    case 'run-end':
      return { ...base, payload: 'runEnd', runEnd: { step: event.step, reason: event.reason, error: event.error ?? '' } };
    case 'clusters':
      return { ...base, payload: 'clusters', clusters: clustersMessage(event) };
    case 'transition': {
      const t = event.target;
      return {
        ...base,
        payload: 'transition',
        transition: {
          step: event.step,
          detectedAt: event.detectedAt,
          ...(t.kind === 'cluster'
            ? { target: 'cluster' as const, cluster: { basisId: t.basisId, clusterId: t.clusterId } }
            : { target: 'datapoints' as const, datapoints: t.name }),
          magnitude: event.magnitude,
          confidence: event.confidence,
        },
      };
    }
    case 'alert':
      return {
        ...base,
        payload: 'alert',
        alert: { step: event.step, rule: event.rule, message: event.message, value: event.value },
      };
  }
}

/**
 * The training step an event belongs to, used by `START_AT_STEP`
 * subscriptions; undefined for events outside the step axis (run start and
 * end). Polca increments count at the start of their interval, transitions
 * at the step where they were detected.
 *
 * @example
 * ```ts
 * eventStep({ type: 'polca', fromStep: 20, toStep: 40, … }); // 20
 * ```
 */
export function eventStep(event: PolcaEvent): number | undefined {
  switch (event.type) {
    case 'step':
    case 'checkpoint':
    case 'basis':
    case 'clusters':
    case 'alert':
      return event.step;
    case 'polca':
      return event.fromStep;
    case 'transition':
      return event.detectedAt;
    default:
      return undefined;
  }
}

/**
 * Rough retained size of a stored event in bytes (typed arrays dominate; the
 * encoded form cached beside it is counted as one more copy).
 *
 * @example
 * ```ts
 * eventBytes({ type: 'step', time: 0, step: 1 }); // 256
 * ```
 */
export function eventBytes(event: PolcaEvent): number {
  let bytes = 0;
  switch (event.type) {
    case 'checkpoint':
      bytes = event.losses.byteLength;
      break;
    case 'polca':
      for (const a of [...event.values, ...event.firstOrder, ...event.derivatives]) bytes += a.byteLength;
      bytes += event.lossBefore.byteLength + event.lossAfter.byteLength + event.residual.byteLength;
      break;
    case 'clusters':
      for (const c of event.clusters) bytes += c.members.byteLength + c.median.byteLength * 3;
      break;
    default:
      break;
  }
  // The encoded full form may be cached beside the event: one more copy. (Basis
  // vectors are not retained: the server strips them before storing.)
  return 256 + 2 * bytes;
}
