/**
 * Deterministic synthetic polca event streams for sink and replay tests:
 * N probe datapoints, a basis that grows by `basisPerGrowth` vectors every
 * `basisEvery` checkpoints, every event type, optional fields both present
 * and absent, and awkward values (NaN, ±Infinity, −0, a non-canonical NaN
 * bit pattern) in the typed arrays.
 */
import { mulberry32 } from './prng.js';
import type {
  BasisEvent, ClustersEvent, PolcaEvent, PolcaIncrementEvent, RunStartEvent, StepEvent, TransitionEvent, AlertEvent,
} from '../../src/stream/events.js';

/** Options of {@link syntheticEvents}. */
export interface SyntheticOptions {
  /** Probe datapoints N. Default 50. */
  numProbe?: number;
  /** Parameters P. Default 32. */
  numParams?: number;
  /** POLCA checkpoints; Infinity for an endless stream. Default 6. */
  checkpoints?: number;
  /** Optimiser steps between checkpoints. Default 5. */
  every?: number;
  /** Checkpoints between basis growths. Default 2. */
  basisEvery?: number;
  /** Vectors added per growth. Default 2. */
  basisPerGrowth?: number;
  /** Stop growing at this many vectors. Default Infinity. */
  maxBasis?: number;
  /** Attach the vector to basis events. Default true. */
  vectors?: boolean;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** End with a run-end event (finite streams only). Default true. */
  runEnd?: boolean;
}

/** mulberry32: small, fast, deterministic. */
export const prng = mulberry32;

/** Float32 bit pattern of a NaN that is not the canonical 0x7fc00000. */
export const ODD_NAN_BITS = 0x7fc0beef;

function floats(rand: () => number, n: number, scale: number, special: boolean): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() - 0.5) * scale;
  if (special && n >= 5) {
    a[0] = NaN;
    a[1] = Infinity;
    a[2] = -Infinity;
    a[3] = -0;
    new Uint32Array(a.buffer)[4] = ODD_NAN_BITS;
  }
  return a;
}

/**
 * Endless (or finite) generator of a realistic event stream. Deterministic
 * for a given option set, `time` included.
 */
export function* syntheticEventStream(options: SyntheticOptions = {}): Generator<PolcaEvent> {
  const {
    numProbe: n = 50, numParams: p = 32, checkpoints = 6, every = 5, basisEvery = 2, basisPerGrowth = 2,
    maxBasis = Infinity, vectors = true, seed = 1, runEnd = true,
  } = options;
  const rand = prng(seed);
  let clock = 1_700_000_000_000.25;
  const tick = () => (clock += 1 + Math.round(rand() * 400) / 16);
  const start: RunStartEvent = {
    type: 'run-start', time: tick(),
    config: { every, basisEvery, lr: 0.01, seed, nested: { list: [1, 2.5, 'x'], flag: true } },
    numParams: p, numProbe: n, backend: 'cpu', hvpMode: 'exact', hvpReason: 'nested gradients agree to 1e-7',
    params: [{ name: 'dense/kernel', shape: [p - 2, 1] }, { name: 'dense/bias', shape: [2] }],
    model: 'Dense(1)', versions: { polca: '0.1.0', tfjs: '4.22.0' },
  };
  yield start;
  let basis = 0;
  let lastStep = -1;
  let previousCheckpoint = -1;
  for (let c = 0; c < checkpoints; c++) {
    const step = c * every;
    for (let s = lastStep + 1; s <= step; s++) {
      const e: StepEvent = { type: 'step', time: tick(), step: s };
      if (s % 3 !== 2) e.loss = 2 * Math.exp(-s / 50) + rand() * 0.01;
      if (s % 4 !== 3) e.lr = 0.01 / (1 + s * 1e-3);
      yield e;
    }
    lastStep = step;
    const losses = floats(rand, n, 4, c % 2 === 1);
    yield { type: 'checkpoint', time: tick(), step, losses, meanLoss: 1.5 - c * 0.01, nonFinite: c % 2, seconds: 0.5 + rand() };
    const k = basis;
    if (previousCheckpoint >= 0) {
      const mk = (scale: number, special: boolean) => Array.from({ length: k }, () => floats(rand, n, scale, special));
      const e: PolcaIncrementEvent = {
        type: 'polca', time: tick(), fromStep: previousCheckpoint, toStep: step,
        basisIds: Array.from({ length: k }, (_, i) => k - 1 - i), projections: Array.from({ length: k }, () => rand() - 0.5),
        values: mk(0.1, true), firstOrder: mk(0.1, false), derivatives: mk(2, c % 3 === 0),
        lossBefore: floats(rand, n, 4, false), lossAfter: floats(rand, n, 4, false), residual: floats(rand, n, 0.01, true),
        secondOrder: c % 2 ? 'secant' : 'none', nonFinite: c % 3,
      };
      if (c % 2 === 0 && k > 0) e.derivativeCheck = { basisId: 0, relativeError: rand() * 1e-3, step };
      yield e;
    }
    if (c % basisEvery === 0 && basis < maxBasis) {
      const add = Math.min(basisPerGrowth, maxBasis - basis);
      for (let j = 0; j < add; j++) {
        const e: BasisEvent = {
          type: 'basis', time: tick(), id: basis, step, kind: c % 4 === 0 ? 'hessian' : 'random',
          eigenvalue: c % 4 === 0 ? 10 / (basis + 1) : NaN, residual: c % 4 === 0 ? rand() * 1e-4 : NaN, hvps: 40 + c,
        };
        if (vectors && j % 2 === 0) e.vector = floats(rand, p, 1, false);
        yield e;
        basis += 1;
      }
    }
    if (c % 3 === 2) {
      const steps = Int32Array.from({ length: c + 1 }, (_, i) => i * every);
      const clusterCount = Math.floor(c / 3) % 3 === 0 ? 0 : 2;
      const e: ClustersEvent = {
        type: 'clusters', time: tick(), step, kind: c % 2 ? 'polca' : 'loss', basisId: c % 2 ? Math.max(0, basis - 1) : -1, steps,
        clusters: Array.from({ length: clusterCount }, (_, id) => {
          const members = Int32Array.from({ length: 3 + id }, (_, i) => (i * 7 + id) % n);
          const q = () => Float64Array.from(steps, () => rand() - 0.5);
          return { id, members, medoid: members[0], median: q(), q25: q(), q75: q() };
        }),
        dropped: c % 5, outliers: 1,
      };
      yield e;
      const t: TransitionEvent = {
        type: 'transition', time: tick(), step: step - every, detectedAt: step,
        target: c % 2 ? { kind: 'cluster', basisId: 0, clusterId: 1 } : { kind: 'datapoints', name: 'carry tokens' },
        magnitude: -rand(), confidence: rand(),
      };
      yield t;
      const a: AlertEvent = { type: 'alert', time: tick(), step, rule: c % 2 ? 'non-finite' : 'loss-spike', message: `alert at ${step}`, value: c % 2 ? NaN : -Infinity };
      yield a;
    }
    previousCheckpoint = step;
  }
  if (runEnd) yield { type: 'run-end', time: tick(), step: lastStep, reason: 'closed' };
}

/** The whole finite stream as an array. */
export function syntheticEvents(options: SyntheticOptions = {}): PolcaEvent[] {
  if (!Number.isFinite(options.checkpoints ?? 6)) throw new Error('syntheticEvents: checkpoints must be finite; use syntheticEventStream');
  return [...syntheticEventStream(options)];
}

/** The first `count` events of a stream. */
export function takeEvents(options: SyntheticOptions, count: number): PolcaEvent[] {
  const out: PolcaEvent[] = [];
  for (const e of syntheticEventStream(options)) {
    if (out.length >= count) break;
    out.push(e);
  }
  return out;
}
