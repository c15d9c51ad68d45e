/**
 * Start-up work of a server thread: its event encoders run over a sample of
 * every event kind before the run's first events arrive.
 *
 * @packageDocumentation
 */
import type { ClusterSummary, PolcaEvent } from '../stream/events.js';
import type { Event } from './generated/polca/v1/Event.js';
import { eventMessage } from './eventMessage.js';
import { loadPolcaProto } from './polcaProto.js';

/** One small event of every kind, with `n` datapoints and two basis vectors. */
function sampleEvents(n: number): { events: PolcaEvent[]; clusters: ClusterSummary[] } {
  const f32 = (k: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + k));
  const steps = Int32Array.of(0, 10, 20);
  const clusters: ClusterSummary[] = [0, 1].map((id) => ({
    id,
    members: Int32Array.from({ length: n / 2 }, (_, i) => 2 * i + id),
    medoid: id,
    median: Float64Array.of(0, -0.1, -0.2),
    q25: Float64Array.of(-0.1, -0.2, -0.3),
    q75: Float64Array.of(0.1, 0, -0.1),
  }));
  const events: PolcaEvent[] = [
    {
      type: 'run-start', time: 0, config: { every: 10, secondOrder: 'paper' }, numParams: 100, numProbe: n, backend: 'cpu',
      hvpMode: 'exact', hvpReason: 'sample', params: [{ name: 'w', shape: [10, 10] }], model: 'sample', versions: { polca: '0', tfjs: '0' },
    },
    { type: 'step', time: 1, step: 1, loss: 1, lr: 0.1 },
    { type: 'checkpoint', time: 2, step: 10, losses: f32(0), meanLoss: 0.5, nonFinite: 0, seconds: 0.1 },
    { type: 'basis', time: 3, id: 0, step: 10, kind: 'hessian', eigenvalue: 2, residual: 1e-3, hvps: 20 },
    {
      type: 'polca', time: 4, fromStep: 10, toStep: 20, basisIds: [0, 1], projections: [0.1, -0.2],
      values: [f32(1), f32(2)], firstOrder: [f32(3), f32(4)], derivatives: [f32(5), f32(6)],
      lossBefore: f32(7), lossAfter: f32(8), residual: f32(9), secondOrder: 'paper', nonFinite: 0,
      derivativeCheck: { basisId: 0, relativeError: 1e-4, step: 20 },
    },
    { type: 'clusters', time: 5, step: 20, kind: 'polca', basisId: 0, steps, clusters, dropped: 0, outliers: 1 },
    { type: 'transition', time: 6, step: 20, detectedAt: 20, target: { kind: 'cluster', basisId: 0, clusterId: 1 }, magnitude: 1, confidence: 0.9 },
    { type: 'alert', time: 7, step: 20, rule: 'loss-spike', message: 'sample', value: 3 },
    { type: 'run-end', time: 8, step: 20, reason: 'closed' },
  ];
  return { events, clusters };
}

/**
 * Encodes a sample of every event kind `rounds` times, summary and full, as
 * subscriptions will. protobufjs generates each message type's code on its
 * first use and V8 compiles a path once it runs hot; done here, before the
 * server reports ready, neither delays the first events of a run (measured
 * in bench/serve.ts: with a training thread busy, the run's first second
 * held most of the tail). Returns the milliseconds it took.
 *
 * @example
 * ```ts
 * const ms = warmEncoders(); // in a server's own thread, at start-up
 * ```
 */
export function warmEncoders(rounds = 100): number {
  const t0 = performance.now();
  const serialize = loadPolcaProto().polca.v1.Polca.service.Subscribe.responseSerialize as (value: Event) => Buffer;
  const { events, clusters } = sampleEvents(64);
  const lookup = (id: number) => (id === 0 ? clusters : undefined);
  for (let r = 0; r < rounds; r++) {
    events.forEach((e, seq) => {
      serialize(eventMessage(e, seq, { datapoints: false, clusters: lookup }));
      serialize(eventMessage(e, seq, { datapoints: true, clusters: lookup }));
    });
  }
  return performance.now() - t0;
}
