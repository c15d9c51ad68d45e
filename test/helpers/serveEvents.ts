/**
 * Synthetic, deterministic polca runs for the serving tests and benchmark:
 * every event kind, demo-run sized by default, with an optional ending that
 * trips every alert rule (diverging loss, non-finite losses, stalled clock).
 */
import { mulberry32 } from './prng.js';
import type {
  ClusterSummary,
  PolcaEvent,
  PolcaIncrementEvent,
} from '../../src/stream/events.js';

/** Options of {@link syntheticServeRun}. */
export interface ServeRunOptions {
  /** Probe datapoints N. Default 500 (125 addition problems × 4 tokens). */
  numProbe?: number;
  /** Training steps. Default 2000. */
  steps?: number;
  /** POLCA checkpoint period. Default 20. */
  checkpointEvery?: number;
  /** A basis vector is found every `basisEvery` steps, from step 0. Default 200. */
  basisEvery?: number;
  /** Re-clustering period (one clusters event per basis vector). Default 200. */
  clusterEvery?: number;
  /** Seed of the pseudo-random numbers. Default 1. */
  seed?: number;
  /** Time of the first event (ms). Default 0. */
  startTime?: number;
  /** Milliseconds between steps (event times). Default 10. */
  stepMs?: number;
  /** Make the last 10% of steps diverge (loss × 5) and the last checkpoint hold non-finite losses. */
  troubledEnding?: boolean;
}

/** Clusters of the synthetic run: datapoint x belongs to cluster x mod 3 unless x mod 3 = 2 and x mod 6 = 5 (outliers). */
export function syntheticCluster(x: number): number {
  if (x % 6 === 5) return -1;
  return x % 3;
}


/**
 * A complete synthetic run as an array of events, in emission order:
 * run-start, steps, checkpoints, basis vectors, polca increments, clusters,
 * transitions, alerts, run-end.
 *
 * @example
 * ```ts
 * const events = syntheticServeRun({ numProbe: 50, steps: 200 });
 * events[0].type; // 'run-start'
 * ```
 */
export function syntheticServeRun(options: ServeRunOptions = {}): PolcaEvent[] {
  const n = options.numProbe ?? 500;
  const steps = options.steps ?? 2000;
  const every = options.checkpointEvery ?? 20;
  const basisEvery = options.basisEvery ?? 200;
  const clusterEvery = options.clusterEvery ?? 200;
  const t0 = options.startTime ?? 0;
  const stepMs = options.stepMs ?? 10;
  const rand = mulberry32(options.seed ?? 1);
  const troubled = options.troubledEnding ?? false;
  const events: PolcaEvent[] = [];
  const time = (step: number) => t0 + step * stepMs;

  events.push({
    type: 'run-start',
    time: time(0),
    config: { every, basisEvery, k: 1, secondOrder: 'paper' },
    numParams: 4321,
    numProbe: n,
    backend: 'cpu',
    hvpMode: 'exact',
    hvpReason: 'synthetic',
    params: [
      { name: 'dense/kernel', shape: [64, 64] },
      { name: 'dense/bias', shape: [64] },
    ],
    model: 'synthetic',
    versions: { polca: '0.1.0', tfjs: '4.22.0' },
  });

  const basisIds: number[] = [];
  // Per-datapoint speed along each vector: clusters 0, 1, 2 learn at different rates.
  const rate = (b: number, x: number) => -0.002 * (1 + syntheticCluster(x < 0 ? 0 : x) + ((b + x) % 2) * 0.1);
  let losses = Float32Array.from({ length: n }, () => 2 + rand());
  const cumulative = new Map<number, Float64Array>();
  const stepsOfClusters = new Map<number, number[]>();
  const curves = new Map<number, Float64Array[]>();

  for (let s = 0; s < steps; s++) {
    const late = troubled && s >= steps * 0.9;
    const loss = (late ? 5 : 1) * (2.5 * Math.exp(-s / (steps / 3)) + 0.1 + 0.05 * rand());
    events.push({ type: 'step', time: time(s), step: s, loss, lr: 1e-3 * Math.min(1, (s + 1) / 100) });

    if (s % basisEvery === 0) {
      const id = basisIds.length;
      basisIds.push(id);
      cumulative.set(id, new Float64Array(n));
      stepsOfClusters.set(id, []);
      curves.set(id, []);
      events.push({
        type: 'basis',
        time: time(s),
        id,
        step: s,
        kind: 'hessian',
        eigenvalue: 50 / (id + 1) + rand(),
        residual: 1e-4 * rand(),
        hvps: 30,
        vector: Float32Array.from({ length: 64 }, () => rand() - 0.5),
      });
    }

    if (s % every === 0 && s > 0) {
      const active = basisIds.filter((id) => id * basisEvery <= s - every);
      const values: Float32Array[] = [];
      const firstOrder: Float32Array[] = [];
      const derivatives: Float32Array[] = [];
      const lossBefore = losses;
      const lossAfter = new Float32Array(n);
      const change = new Float64Array(n);
      for (const b of active) {
        const v = Float32Array.from({ length: n }, (_, x) => rate(b, x) * (1 + 0.2 * (rand() - 0.5)));
        values.push(v);
        firstOrder.push(Float32Array.from(v, (y) => y * 0.95));
        derivatives.push(Float32Array.from({ length: n }, () => rand() - 0.5));
        const cum = cumulative.get(b) as Float64Array;
        for (let x = 0; x < n; x++) {
          cum[x] += v[x];
          change[x] += v[x];
        }
      }
      const residual = new Float32Array(n);
      for (let x = 0; x < n; x++) {
        residual[x] = 0.001 * (rand() - 0.5);
        lossAfter[x] = lossBefore[x] + change[x] + residual[x];
      }
      const lastCheckpoint = s + every >= steps;
      let nonFinite = 0;
      if (troubled && lastCheckpoint) {
        for (let x = 0; x < 7; x++) lossAfter[x] = x % 2 ? NaN : Infinity;
        nonFinite = 7;
      }
      const polca: PolcaIncrementEvent = {
        type: 'polca',
        time: time(s),
        fromStep: s - every,
        toStep: s,
        basisIds: active,
        projections: active.map((b) => 0.01 * (b + 1)),
        values,
        firstOrder,
        derivatives,
        lossBefore,
        lossAfter,
        residual,
        secondOrder: 'paper',
        nonFinite,
        ...(s % (every * 5) === 0 ? { derivativeCheck: { basisId: 0, relativeError: 1e-3 * rand(), step: s } } : {}),
      };
      events.push(polca);
      losses = lossAfter;
      let sum = 0;
      let finite = 0;
      for (const l of losses) {
        if (Number.isFinite(l)) {
          sum += l;
          finite++;
        }
      }
      events.push({
        type: 'checkpoint',
        time: time(s),
        step: s,
        losses,
        meanLoss: sum / finite,
        nonFinite: n - finite,
        seconds: 0.05 + 0.1 * rand(),
      });
      for (const b of active) {
        stepsOfClusters.get(b)?.push(s);
        curves.get(b)?.push((cumulative.get(b) as Float64Array).slice());
      }
    }

    if (s % clusterEvery === clusterEvery - 1) {
      for (const b of basisIds) {
        const st = stepsOfClusters.get(b) as number[];
        if (st.length < 2) continue;
        const cs = curves.get(b) as Float64Array[];
        const clusters: ClusterSummary[] = [0, 1, 2].map((c) => {
          const members = Int32Array.from({ length: n }, (_, x) => x).filter((x) => syntheticCluster(x) === c);
          const q = (p: number) =>
            Float64Array.from(cs, (col) => {
              const v = Array.from(members, (x) => col[x]).sort((a, z) => a - z);
              return v[Math.floor(p * (v.length - 1))];
            });
          return { id: c, members, medoid: members[0], median: q(0.5), q25: q(0.25), q75: q(0.75) };
        });
        events.push({
          type: 'clusters',
          time: time(s),
          step: st[st.length - 1],
          kind: 'polca',
          basisId: b,
          steps: Int32Array.from(st),
          clusters,
          dropped: 0,
          outliers: Array.from({ length: n }, (_, x) => x).filter((x) => syntheticCluster(x) < 0).length,
        });
      }
    }

    if (s > 0 && s % 500 === 0) {
      events.push({
        type: 'transition',
        time: time(s),
        step: s - 100,
        detectedAt: s,
        target: s % 1000 === 0 ? { kind: 'datapoints', name: 'carry' } : { kind: 'cluster', basisId: 0, clusterId: 1 },
        magnitude: -0.01 * rand(),
        confidence: rand(),
      });
    }
    if (s > 0 && s % 700 === 0) {
      events.push({ type: 'alert', time: time(s), step: s, rule: 'loss-spike', message: `loss spiked at step ${s}`, value: loss });
    }
    if (late && s === Math.ceil(steps * 0.9)) {
      events.push({ type: 'alert', time: time(s), step: s, rule: 'non-finite', message: 'non-finite probe losses', value: 7 });
    }
  }
  events.push({ type: 'run-end', time: time(steps), step: steps - 1, reason: 'closed' });
  return events;
}
