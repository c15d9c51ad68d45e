import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs-core';
import type { ProbeClosure } from '../engine/directional.js';
import { ParamSpace } from '../engine/paramSpace.js';
import { decodeEvents } from '../sinks/arrow/decodeEvents.js';
import { readParams, readRun } from '../sinks/arrow/readRun.js';
import type { BasisEvent, PolcaEvent } from '../stream/events.js';
import { nonNegativeInt } from '../errors/validate.js';
import { createPolca } from '../tracker/createPolca.js';
import type { PolcaOptions } from '../tracker/options.js';
import { recordRun, type RecordRunOptions } from './recordRun.js';

/** Options of {@link backfill}. */
export interface BackfillOptions {
  /** Variables of a model with the run's architecture; overwritten during the backfill and restored at the end. */
  params: tf.Variable[];
  /** The run's probe set, as per-datapoint losses at the current θ of `params`. */
  probe: ProbeClosure;
  /** Output run directory. Default `<dir>/backfill`. */
  out?: string;
  /** Replace an existing output run. Default false. */
  overwrite?: boolean;
  /** Called after every checkpoint. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The basis to compute POLCA along, instead of the run's own: orthonormal
   * vectors of length P (for controls such as a known direction of
   * movement). Default: the run's basis vectors, in id order.
   */
  vectors?: Float32Array[];
  /**
   * Use only the run's first `limit` events (the intact prefix of a damaged
   * run, as `polca backfill --allow-partial` finds it): its basis vectors and
   * the θ of its checkpoints. Default: every event.
   */
  limit?: number;
}

/** What {@link backfill} wrote. */
export interface BackfillResult {
  out: string;
  checkpoints: number;
  vectors: number;
}

/**
 * Completes every basis vector's POLCA trajectory from the first checkpoint.
 *
 * Online, a vector found at step s has POLCA only for intervals after s. A
 * run recorded with `keepParams` holds θ of every checkpoint and every basis
 * vector; backfill replays those θ through a tracker whose basis is the
 * run's final basis, fixed from the start — exactly the paper's offline
 * computation — and writes the result as a new run directory.
 *
 * @example
 * ```ts
 * const task = createArithmeticTask('quick');
 * await backfill('runs/addition', { params: task.params, probe: () => task.probeLosses() });
 * // runs/addition/backfill is a run whose every vector starts at step 0
 * ```
 */
export async function backfill(dir: string, options: BackfillOptions): Promise<BackfillResult> {
  const run = await readRun(dir);
  const { params: all } = await readParams(dir).catch((e: Error) => {
    throw new Error(`backfill: ${dir} has no parameter log (record the run with keepParams: true): ${e.message}`);
  });
  const limit = options.limit === undefined ? Infinity : nonNegativeInt('backfill', 'limit', options.limit);
  // Only the first `limit` events are decoded: what lies beyond an intact prefix is never read.
  const events: PolcaEvent[] = [];
  for (const e of decodeEvents(run)) {
    if (events.length >= limit) break;
    events.push(e);
  }
  const kept = new Set(events.filter((e) => e.type === 'checkpoint').map((e) => e.step));
  const records = options.limit === undefined ? all : all.filter((r) => kept.has(r.step));
  if (records.length === 0) throw new Error(`backfill: ${dir} has no parameter log${options.limit === undefined ? '' : ` within its first ${limit} events`} (record the run with keepParams: true)`);
  const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
  if (!options.vectors) {
    if (basis.length === 0) throw new Error(`backfill: ${dir} has no basis vectors`);
    const missing = basis.find((b) => !b.vector);
    if (missing) throw new Error(`backfill: basis vector ${missing.id} of ${dir} was recorded without its values (record the run with keepParams: true)`);
  } else if (!Array.isArray(options.vectors) || options.vectors.length === 0) {
    throw new Error(`backfill: option 'vectors' must be a non-empty array of Float32Array, got ${options.vectors}`);
  }
  const vectors = options.vectors ?? basis.sort((a, b) => a.id - b.id).map((b) => b.vector!);
  const space = new ParamSpace(options.params, 'backfill');
  if (space.size !== run.manifest.numParams) {
    throw new Error(`backfill: option 'params' has P = ${space.size} scalars but the run has ${run.manifest.numParams}`);
  }
  const config = run.manifest.config;
  const byStep = new Map(records.map((r) => [r.step, r.theta]));
  return replayCheckpoints({ steps: records.map((r) => r.step), theta: (step) => byStep.get(step)! }, {
    params: options.params,
    probe: options.probe,
    vectors,
    every: config.every,
    secondOrder: config.secondOrder,
    derivatives: config.derivatives,
    seed: config.seed,
    model: `backfill of ${path.resolve(dir)}`,
    out: options.out ?? path.join(dir, 'backfill'),
    overwrite: options.overwrite,
    probeMeta: run.manifest.probeMeta,
    onProgress: options.onProgress,
  });
}

/** θ of a run's checkpoints, read one at a time (a run's θ need not fit in memory at once). */
export interface CheckpointSource {
  /** Steps of the checkpoints, ascending. */
  steps: readonly number[];
  /** θ at one of `steps`, flat in the parameters' order. */
  theta(step: number): Float32Array;
}

/** Options of {@link replayCheckpoints}. */
export interface ReplayOptions extends Pick<BackfillOptions, 'params' | 'probe' | 'overwrite' | 'onProgress'> {
  /** Orthonormal basis vectors of length P, fixed from the first checkpoint. */
  vectors: Float32Array[];
  /** Steps between checkpoints. Default: the greatest common divisor of the steps. */
  every?: number;
  secondOrder?: PolcaOptions['secondOrder'];
  derivatives?: PolcaOptions['derivatives'];
  /** How often the fast derivatives are checked against the exact JVP (see {@link PolcaOptions.derivativeCheckEvery}). Default 1. */
  derivativeCheckEvery?: number;
  seed?: number;
  /** The model's description in the output run. */
  model: string;
  /** Output run directory. */
  out: string;
  /** Columns per probe datapoint for the output run's labels. */
  probeMeta?: RecordRunOptions['probeMeta'];
}

/**
 * Replays θ of saved checkpoints through a tracker whose basis is fixed from
 * the start, the paper's offline computation, and records the result as a
 * run directory. {@link backfill} replays a run's own kept θ; a training
 * script that saved θ on its own replays those.
 *
 * @returns the output directory and the counts of checkpoints and vectors.
 * @example
 * ```ts
 * // θ saved by your own loop, one Float32Array per 100 steps
 * const source = { steps: [0, 100, 200], theta: (step: number) => loadTheta(step) };
 * await replayCheckpoints(source, { params: model.params, probe, vectors: [b0, b1], model: 'mine', out: 'runs/offline' });
 * ```
 */
export async function replayCheckpoints(source: CheckpointSource, options: ReplayOptions): Promise<BackfillResult> {
  const space = new ParamSpace(options.params, 'replayCheckpoints');
  if (source.steps.length === 0) throw new Error("replayCheckpoints: option 'steps' of the source is empty");
  const tracker = createPolca({
    params: options.params,
    probe: options.probe,
    every: options.every ?? gcd([...source.steps]),
    basis: { kind: 'fixed', vectors: options.vectors },
    secondOrder: options.secondOrder,
    derivatives: options.derivatives,
    derivativeCheckEvery: options.derivativeCheckEvery,
    seed: options.seed,
    model: options.model,
  });
  const writer = recordRun(tracker, options.out, { probeMeta: options.probeMeta, overwrite: options.overwrite });
  const snap = space.snapshot();
  try {
    for (let i = 0; i < source.steps.length; i++) {
      space.assignHost(source.theta(source.steps[i]));
      await tracker.step(source.steps[i]);
      options.onProgress?.(i + 1, source.steps.length);
    }
    await tracker.close();
    await writer.closed;
  } finally {
    space.restore(snap);
    snap.dispose();
  }
  return { out: options.out, checkpoints: source.steps.length, vectors: options.vectors.length };
}

function gcd(xs: number[]): number {
  const g = (a: number, b: number): number => (b === 0 ? a : g(b, a % b));
  return xs.reduce((a, b) => g(a, b), 0) || 1;
}
