import * as tf from '@tensorflow/tfjs-core';
import { Subject, type Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { axisBasis } from '../engine/basis/axisBasis.js';
import type { BasisBuilder, FoundVector } from '../engine/basis/basisBuilder.js';
import { fixedBasis } from '../engine/basis/fixedBasis.js';
import { hessianBasis } from '../engine/basis/hessianBasis.js';
import { randomBasis } from '../engine/basis/randomBasis.js';
import { shuffledBasis } from '../engine/basis/shuffledBasis.js';
import { movementBasis } from '../engine/basis/movementBasis.js';
import { stepCovarianceBasis } from '../engine/basis/stepCovarianceBasis.js';
import { gradientCovarianceBasis } from '../engine/basis/gradientCovarianceBasis.js';
import {
  centralDifference,
  evaluateProbe,
  exactDirectionalAtOffsets,
  exactDirectionalDerivatives,
  probeTensor,
  probeAtOffsets,
} from '../engine/directional.js';
import { HessianOperator, type HvpCheck } from '../engine/hessianOperator.js';
import { curvatureAlong } from '../engine/hvp.js';
import { ParamSpace, type ParamSnapshot } from '../engine/paramSpace.js';
import { completenessResidual, polcaIncrements } from '../engine/polcaIncrements.js';
import { Random } from '../engine/random.js';
import { EVENT_SCHEMA_VERSION, type PolcaEvent, type PolcaIncrementEvent, type RunConfig } from '../stream/events.js';
import { RunStream } from '../stream/runStream.js';
import { POLCA_VERSION } from '../version.js';
import { registerWasmKernels } from '../engine/wasm/registerWasmKernels.js';
import { describe } from '../errors/describe.js';
import { calibrateStep, relativeRmsError } from '../engine/stepCalibration.js';
import { resolveOptions, type PolcaOptions, type ResolvedOptions } from './options.js';
import { yieldToEventLoop } from './yieldToEventLoop.js';

/** The tracker for custom training loops. */
export interface PolcaTracker {
  /**
   * Every event of the run: hot and multicast (subscribe before the first
   * `step`), delivered synchronously, completed by {@link PolcaTracker.close}
   * and errored with the cause if a checkpoint fails.
   */
  readonly events$: Observable<PolcaEvent>;
  /**
   * Tell the tracker an optimiser step finished. Call `step(0)` before
   * training for the initial checkpoint. At multiples of `every` it computes
   * a POLCA checkpoint (and at multiples of `basis.every` grows the basis);
   * θ is left bit for bit as it was.
   */
  step(step: number, info?: { loss?: number; lr?: number }): Promise<void>;
  /** Ends the run: emits `run-end`, completes the stream, frees every tensor. Idempotent. */
  close(): Promise<void>;
  /** Current basis size. */
  readonly basisSize: number;
  /** The basis vectors so far (host copies, unit, orthogonal). */
  readonly basisVectors: readonly Float32Array[];
  /** The latest Hessian-vector product check (mode and reason), once one ran. */
  readonly hvpCheck: HvpCheck | null;
  /** Current θ as a host vector. */
  readTheta(): Float32Array;
  /**
   * Insert a stage (an rxjs operator, for example the live analysis) between
   * what the tracker produces and `events$`, so that a run has one stream:
   * every subscriber of `events$`, and every sink, sees the stage's output.
   * Only before the first `step`.
   */
  pipeEvents(stage: OperatorFunction<PolcaEvent, PolcaEvent>): void;
  /**
   * Ask for more in the events, as the options `emitParams` (`theta`) and
   * `emitVectors` (`vectors`) do: for sinks attached after the tracker was
   * made, such as a log that keeps parameters. Only before the first `step`.
   */
  addEventFields(fields: { theta?: boolean; vectors?: boolean }): void;
}

interface TrackedVector {
  id: number;
  host: Float32Array;
  parts: tf.Tensor[];
  epsilon: number;
  calibrationError: number;
  derivative: Float32Array;
  curvature?: Float32Array;
  aggregateCurvature?: number;
}

/** θ and probe losses of one checkpoint, kept on the host for filling in later vectors' earlier intervals. */
interface HistoryEntry {
  step: number;
  theta: Float32Array;
  losses: Float32Array;
}

/**
 * Vectors found together whose earlier intervals are still to be filled in:
 * the next interval is (history[toIndex − 1], history[toIndex]], and
 * `derivativeTo` holds each vector's ⟨b, ∇ℓ_x⟩ at history[toIndex].
 */
interface FillJob {
  vectors: TrackedVector[];
  toIndex: number;
  derivativeTo: Float32Array[];
}

/**
 * Creates a POLCA tracker for a custom training loop.
 *
 * @example
 * ```ts
 * const tracker = createPolca({
 *   params,                    // tf.Variable[] — θ
 *   probe: () => losses(),     // tf.Tensor1D: per-datapoint losses at current θ
 *   hessianLoss: () => loss(), // tf.Scalar: mean loss of the Hessian sample
 *   every: 20,
 *   basis: { kind: 'hessian', every: 200, k: 1, maxVectors: 50 },
 *   secondOrder: 'paper',
 * });
 * tracker.events$.subscribe((e) => console.log(e.type));
 * await tracker.step(0);
 * for (let s = 1; s <= 1000; s++) { trainStep(); await tracker.step(s); }
 * await tracker.close();
 * ```
 */
export function createPolca(options: PolcaOptions): PolcaTracker {
  const opts = resolveOptions(options);
  const space = new ParamSpace(options.params, 'createPolca');
  const P = space.size;
  if (opts.basis.kind !== 'fixed') {
    // The default ceiling adapts to tiny models; an explicit one is checked.
    if ((options.basis as { maxVectors?: number } | undefined)?.maxVectors === undefined) opts.basis.maxVectors = Math.min(opts.basis.maxVectors, P);
    if (opts.basis.k > P) throw new Error(`createPolca: option 'basis.k' (${opts.basis.k}) must not exceed the number of parameters P = ${P}`);
    if (opts.basis.maxVectors > P) {
      throw new Error(`createPolca: option 'basis.maxVectors' (${opts.basis.maxVectors}) must not exceed the number of parameters P = ${P}`);
    }
  }
  // Complete the wasm backend (gather's gradient needs UnsortedSegmentSum, which it lacks)
  // without touching kernels that already work; the speed-ups stay opt-in (registerWasmKernels()).
  if (tf.getBackend() === 'wasm') registerWasmKernels({ fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false });
  const builder = makeBuilder(opts, P);
  const hessian = options.hessianLoss ? new HessianOperator(space, options.hessianLoss, { mode: opts.hvp, tolerance: opts.hvpTolerance }) : null;
  return new Tracker(options, opts, space, builder, hessian);
}

function makeBuilder(opts: ResolvedOptions, P: number): BasisBuilder {
  switch (opts.basis.kind) {
    case 'hessian':
      return hessianBasis();
    case 'shuffled':
      return shuffledBasis();
    case 'random':
      return randomBasis();
    case 'axis':
      return axisBasis();
    case 'movement':
      return movementBasis();
    case 'step-covariance':
      return stepCovarianceBasis();
    case 'gradient-covariance':
      return gradientCovarianceBasis();
    case 'fixed':
      return fixedBasis(opts.basis.vectors, P);
  }
}

class Tracker implements PolcaTracker {
  /** What the tracker produces; `out` is what subscribers see, after any stages added by {@link pipeEvents}. */
  private readonly subject = new Subject<PolcaEvent>();
  private readonly out = new Subject<PolcaEvent>();
  private piped: Observable<PolcaEvent> = this.subject;
  private link: Subscription = this.subject.subscribe(this.out);
  readonly events$: Observable<PolcaEvent> = new RunStream(this.out.asObservable());
  private readonly rng: Random;
  private readonly vectors: TrackedVector[] = [];
  private n: number | undefined;
  private started = false;
  private closed = false;
  private lastStep = -1;
  private prev: { step: number; losses: Float32Array; theta: ParamSnapshot } | null = null;
  private queue: Promise<void> = Promise.resolve();
  private checkCursor = 0;
  private intervalsDone = 0;
  private readonly history: HistoryEntry[] = [];
  private readonly fills: FillJob[] = [];

  constructor(
    private readonly options: PolcaOptions,
    private readonly opts: ResolvedOptions,
    private readonly space: ParamSpace,
    private readonly builder: BasisBuilder,
    private readonly hessian: HessianOperator | null,
  ) {
    this.rng = new Random(opts.seed);
  }

  get basisSize(): number {
    return this.vectors.length;
  }

  get basisVectors(): readonly Float32Array[] {
    return this.vectors.map((v) => v.host);
  }

  get hvpCheck(): HvpCheck | null {
    return this.hessian?.checked ?? null;
  }

  readTheta(): Float32Array {
    return this.space.read();
  }

  addEventFields(fields: { theta?: boolean; vectors?: boolean }): void {
    if (this.started || this.closed) throw new Error('PolcaTracker.addEventFields: ask for fields before the first step');
    if (fields.theta) this.opts.emitParams = true;
    if (fields.vectors) this.opts.emitVectors = true;
  }

  pipeEvents(stage: OperatorFunction<PolcaEvent, PolcaEvent>): void {
    if (this.started || this.closed) throw new Error('PolcaTracker.pipeEvents: add stages before the first step');
    this.piped = this.piped.pipe(stage);
    // Nothing has been produced yet, so relinking loses no event.
    this.link.unsubscribe();
    this.link = this.piped.subscribe(this.out);
  }

  step(step: number, info: { loss?: number; lr?: number } = {}): Promise<void> {
    // Serialise: a caller that does not await still gets checkpoints in order.
    const run = this.queue.then(() => this.runStep(step, info));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runStep(step: number, info: { loss?: number; lr?: number }): Promise<void> {
    if (this.closed) throw new Error('PolcaTracker.step: the tracker is closed');
    if (!Number.isInteger(step) || step < 0) throw new Error(`PolcaTracker.step: argument 'step' must be a non-negative integer, got ${describe(step)}`);
    if (step <= this.lastStep) throw new Error(`PolcaTracker.step: steps must increase, got ${step} after ${this.lastStep}`);
    try {
      if (!this.started) this.start();
      this.lastStep = step;
      this.subject.next({ type: 'step', time: Date.now(), step, loss: info.loss, lr: info.lr });
      if (step % this.opts.every === 0) await this.checkpoint(step);
      this.fillSome(this.opts.fullLength.intervalsPerStep);
    } catch (e) {
      this.fail(e);
      throw e;
    }
    // Once per step, let the event loop serve I/O (live endpoints, sinks' writes).
    await yieldToEventLoop();
  }

  private start(): void {
    this.started = true;
    const n = evaluateProbe(this.options.probe).length;
    if (n === 0) throw new Error("createPolca: option 'probe' returned an empty Tensor1D");
    this.n = n;
    const check = this.hessian && this.builder.needsHessian ? this.hessian.check(this.opts.seed) : null;
    this.subject.next({
      type: 'run-start',
      time: Date.now(),
      config: jsonConfig(this.options, this.opts),
      numParams: this.space.size,
      numProbe: n,
      backend: tf.getBackend(),
      hvpMode: check?.mode ?? this.hessian?.mode ?? 'exact',
      hvpReason: check?.reason ?? 'no Hessian-vector products needed by this basis',
      params: this.space.params.map((p) => ({ name: p.name, shape: p.shape.slice() })),
      model: this.options.model,
      versions: { polca: POLCA_VERSION, tfjs: tf.version_core },
    });
  }

  private async checkpoint(step: number): Promise<void> {
    const t0 = performance.now();
    const n = this.n as number;
    const losses = evaluateProbe(this.options.probe, n);
    const snap = this.space.snapshot();
    const basis = this.opts.basis;
    const growing = basis.kind !== 'fixed' && this.vectors.length < basis.maxVectors;
    const observing = growing && this.builder.observe !== undefined;
    // One host copy of θ_t serves the filling-in history, the builder and the event.
    const theta = this.opts.fullLength.enabled || this.opts.emitParams || observing ? this.space.read() : undefined;
    if (this.opts.fullLength.enabled) this.history.push({ step, theta: theta!, losses });
    if (observing) this.builder.observe!(theta!, step);
    let keepSnap = false;
    try {
      let polca: PolcaIncrementEvent | null = null;
      if (this.prev && this.vectors.length > 0) polca = this.intervalEvent(step, losses, snap);
      else this.vectors.forEach((v) => this.measure(v, snap));

      let found: { vector: TrackedVector; info: FoundVector }[] = [];
      const isBasisCheckpoint = basis.kind === 'fixed' ? this.vectors.length === 0 : growing && step % basis.every === 0;
      if (isBasisCheckpoint) {
        // Re-check the HVP at every basis checkpoint (start() checked the first one).
        if (this.hessian && this.builder.needsHessian && this.prev) this.hessian.check(this.opts.seed + step);
        found = await this.grow(step, snap);
        if (found.length > 0 && this.history.length > 1) {
          const vectors = found.map((f) => f.vector);
          this.fills.push({ vectors, toIndex: this.history.length - 1, derivativeTo: vectors.map((v) => v.derivative) });
        }
      }

      this.subject.next({
        type: 'checkpoint', time: Date.now(), step, losses, ...finiteMean(losses), seconds: (performance.now() - t0) / 1000,
        theta: this.opts.emitParams ? theta : undefined,
      });
      if (polca) this.subject.next(polca);
      for (const { vector, info } of found) {
        this.subject.next({
          type: 'basis',
          time: Date.now(),
          id: vector.id,
          step,
          kind: this.builder.kind,
          eigenvalue: info.eigenvalue,
          residual: info.residual,
          hvps: info.hvps,
          vector: this.opts.emitVectors ? vector.host.slice() : undefined,
        });
      }
      this.prev?.theta.dispose();
      this.prev = { step, losses, theta: snap };
      keepSnap = true;
    } finally {
      this.space.restore(snap);
      if (!keepSnap) snap.dispose();
    }
  }

  /** POLCA of the interval (prev, step] for every vector that existed at prev; updates each vector's derivatives to `step`. */
  private intervalEvent(step: number, lossesNow: Float32Array, snap: ParamSnapshot): PolcaIncrementEvent {
    const prev = this.prev!;
    const tracked = this.vectors.slice();
    const projections = this.projections(tracked, prev.theta);
    const before = tracked.map((v) => ({ derivative: v.derivative, curvature: v.curvature, aggregate: v.aggregateCurvature }));

    // Fast mode: one direction checked against the exact JVP every derivativeCheckEvery-th interval.
    let check: PolcaIncrementEvent['derivativeCheck'];
    const due = this.opts.derivatives === 'fast' && this.intervalsDone++ % this.opts.derivativeCheckEvery === 0;
    const checkIndex = due ? this.checkCursor++ % tracked.length : -1;
    tracked.forEach((v, i) => {
      const err = this.measure(v, snap, { check: i === checkIndex });
      if (err !== undefined) check = { basisId: v.id, relativeError: err, step };
    });

    const values: Float32Array[] = [];
    const firstOrder: Float32Array[] = [];
    tracked.forEach((v, i) => {
      const r = polcaIncrements(
        {
          projection: projections[i],
          derivativeFrom: before[i].derivative,
          derivativeTo: v.derivative,
          curvatureFrom: before[i].curvature,
          aggregateCurvature: before[i].aggregate,
        },
        this.opts.secondOrder,
      );
      values.push(r.values);
      firstOrder.push(r.firstOrder);
    });
    const lossBefore = prev.losses;
    const derivatives = before.map((b) => b.derivative);
    const nonFinite = maskNonFinite(lossBefore, lossesNow, values, firstOrder, derivatives);
    return {
      type: 'polca',
      time: Date.now(),
      fromStep: prev.step,
      toStep: step,
      basisIds: tracked.map((v) => v.id),
      projections,
      values,
      firstOrder,
      derivatives,
      lossBefore,
      lossAfter: lossesNow,
      residual: completenessResidual(lossBefore, lossesNow, values),
      secondOrder: this.opts.secondOrder,
      nonFinite,
      derivativeCheck: check,
    };
  }

  /** ⟨b, θ_now − θ_prev⟩ for every vector, one device round trip. */
  private projections(tracked: TrackedVector[], prevTheta: ParamSnapshot): number[] {
    const t = tf.tidy(() => {
      const delta = this.space.params.map((p, i) => tf.sub(p, prevTheta.values[i]));
      return tf.stack(tracked.map((v) => tf.addN(v.parts.map((b, i) => tf.sum(tf.mul(b, delta[i]))))));
    });
    try {
      return Array.from(t.dataSync());
    } finally {
      t.dispose();
    }
  }

  /**
   * Directional derivative of one vector at the current θ (= snap), and the
   * curvature the estimator needs. `exact` is an exact JVP already computed
   * at this θ. With `check` (fast mode), the exact JVP is also computed, its
   * value used, the FD error returned, and a large error recalibrates the step.
   */
  private measure(
    v: TrackedVector,
    snap: ParamSnapshot,
    opt: { check?: boolean; exact?: Float32Array; offsets?: { plus: Float32Array; minus: Float32Array } } = {},
  ): number | undefined {
    const probe = this.options.probe;
    const n = this.n as number;
    const fast = this.opts.derivatives === 'fast';
    const needOffsets = fast && !opt.exact;
    const offsets = needOffsets ? opt.offsets ?? probeAtOffsets(this.space, probe, snap, v.parts, v.epsilon, n) : null;
    let err: number | undefined;
    if (opt.exact) {
      v.derivative = opt.exact;
    } else if (!fast) {
      v.derivative = exactDirectionalDerivatives(this.space, probe, v.parts, n);
    } else {
      v.derivative = centralDifference(offsets!.plus, offsets!.minus, v.epsilon);
      if (opt.check) {
        const exact = exactDirectionalDerivatives(this.space, probe, v.parts, n);
        err = relativeRmsError(v.derivative, exact);
        if (err > Math.max(10 * v.calibrationError, 1e-3)) {
          const c = calibrateStep(this.space, probe, snap, v.parts, exact, n);
          v.epsilon = c.epsilon;
          v.calibrationError = c.error;
        }
        v.derivative = exact;
      }
    }
    if (this.opts.secondOrder === 'paper') v.aggregateCurvature = this.probeCurvature(v);
    if (this.opts.secondOrder === 'directional') {
      const { plus, minus } = exactDirectionalAtOffsets(this.space, probe, snap, v.parts, v.epsilon, n);
      v.curvature = centralDifference(plus, minus, v.epsilon);
    }
    return err;
  }

  /** λ(X, b) = bᵀH(X)b of the probe's mean loss at the current θ, from one Hessian-vector product (METHOD.md eq. 4). */
  private probeCurvature(v: TrackedVector): number {
    const n = this.n as number;
    const meanLoss = () => tf.mean(probeTensor(this.options.probe, n)) as tf.Scalar;
    return curvatureAlong(this.space, meanLoss, v.host, this.hessian?.mode ?? (this.opts.hvp === 'finite-difference' ? 'finite-difference' : 'exact'));
  }

  /**
   * Fills in up to `limit` earlier intervals of each group of late vectors
   * (newest first), emitting one `polca` event with `filled: true` per
   * interval. Derivatives at the kept θ are computed as live ones are: exact
   * JVPs, or in fast mode central differences with the vector's calibrated
   * step. θ is restored bit for bit afterwards.
   */
  private fillSome(limit: number): void {
    if (this.fills.length === 0) return;
    const n = this.n as number;
    const probe = this.options.probe;
    const snap = this.space.snapshot();
    try {
      for (const job of this.fills) {
        for (let done = 0; done < limit && job.toIndex > 0; done++) {
          const from = this.history[job.toIndex - 1];
          const to = this.history[job.toIndex];
          this.space.assignHost(from.theta);
          const fast = this.opts.derivatives === 'fast';
          const fromSnap = this.opts.secondOrder === 'directional' || fast ? this.space.snapshot() : null;
          const derivatives: Float32Array[] = [];
          const values: Float32Array[] = [];
          const firstOrder: Float32Array[] = [];
          const projections: number[] = [];
          try {
            job.vectors.forEach((v, k) => {
              // Fast mode: the central difference with the vector's calibrated step, two forward passes.
              const d = fast
                ? (({ plus, minus }) => centralDifference(plus, minus, v.epsilon))(probeAtOffsets(this.space, probe, fromSnap!, v.parts, v.epsilon, n))
                : exactDirectionalDerivatives(this.space, probe, v.parts, n);
              let curvatureFrom: Float32Array | undefined;
              if (fromSnap && this.opts.secondOrder === 'directional') {
                const { plus, minus } = exactDirectionalAtOffsets(this.space, probe, fromSnap, v.parts, v.epsilon, n);
                curvatureFrom = centralDifference(plus, minus, v.epsilon);
              }
              const aggregateCurvature = this.opts.secondOrder === 'paper' ? this.probeCurvature(v) : undefined;
              const projection = hostProjection(v.host, from.theta, to.theta);
              const r = polcaIncrements(
                { projection, derivativeFrom: d, derivativeTo: job.derivativeTo[k], curvatureFrom, aggregateCurvature },
                this.opts.secondOrder,
              );
              derivatives.push(d);
              values.push(r.values);
              firstOrder.push(r.firstOrder);
              projections.push(projection);
            });
          } finally {
            fromSnap?.dispose();
          }
          const nonFinite = maskNonFinite(from.losses, to.losses, values, firstOrder, derivatives);
          this.subject.next({
            type: 'polca',
            time: Date.now(),
            fromStep: from.step,
            toStep: to.step,
            basisIds: job.vectors.map((v) => v.id),
            projections,
            values,
            firstOrder,
            derivatives,
            lossBefore: from.losses,
            lossAfter: to.losses,
            residual: completenessResidual(from.losses, to.losses, values),
            secondOrder: this.opts.secondOrder,
            nonFinite,
            filled: true,
          });
          job.derivativeTo = derivatives;
          job.toIndex--;
        }
      }
    } finally {
      this.space.restore(snap);
      snap.dispose();
    }
    while (this.fills.length > 0 && this.fills[0].toIndex === 0) this.fills.shift();
  }

  private async grow(step: number, snap: ParamSnapshot): Promise<{ vector: TrackedVector; info: FoundVector }[]> {
    const basis = this.opts.basis;
    const k = basis.kind === 'fixed' ? 0 : Math.min(basis.k, basis.maxVectors - this.vectors.length);
    const found = await this.builder.grow({
      step,
      space: this.space,
      hessian: this.hessian,
      probe: this.options.probe,
      existing: this.vectors.map((v) => v.host),
      k,
      rng: this.rng,
      lanczos: this.opts.lanczos,
      onProgress: this.options.onProgress ? (i) => this.options.onProgress!({ step, phase: 'lanczos', ...i }) : undefined,
    });
    this.space.restore(snap);
    const n = this.n as number;
    return found.map((info) => {
      const flat = this.space.toDevice(info.vector);
      const parts = this.space.split(flat).map((t) => tf.keep(t));
      flat.dispose();
      const exact = exactDirectionalDerivatives(this.space, this.options.probe, parts, n);
      const c = calibrateStep(this.space, this.options.probe, snap, parts, exact, n);
      const vector: TrackedVector = { id: this.vectors.length, host: info.vector, parts, epsilon: c.epsilon, calibrationError: c.error, derivative: exact };
      this.measure(vector, snap, { exact, offsets: c.offsets });
      this.vectors.push(vector);
      return { vector, info };
    });
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const message = e instanceof Error ? e.message : String(e);
    this.subject.next({ type: 'run-end', time: Date.now(), step: this.lastStep, reason: 'error', error: message });
    this.subject.error(e);
    this.release();
  }

  async close(): Promise<void> {
    await this.queue;
    if (this.closed) return;
    try {
      // A closed run's trajectories are full-length: finish the filling-in, yielding between slices.
      while (this.fills.length > 0) {
        this.fillSome(1);
        await yieldToEventLoop();
      }
    } catch (e) {
      this.fail(e);
      throw e;
    }
    this.closed = true;
    this.subject.next({ type: 'run-end', time: Date.now(), step: this.lastStep, reason: 'closed' });
    this.subject.complete();
    this.release();
  }

  private release(): void {
    this.prev?.theta.dispose();
    this.prev = null;
    this.history.length = 0;
    this.fills.length = 0;
    for (const v of this.vectors) v.parts.forEach((t) => t.dispose());
  }
}

/**
 * Sets the POLCA values of datapoints with a non-finite loss or derivative to
 * NaN in every array; returns how many there were.
 */
function maskNonFinite(before: Float32Array, after: Float32Array, values: Float32Array[], firstOrder: Float32Array[], derivatives: Float32Array[]): number {
  let nonFinite = 0;
  for (let x = 0; x < after.length; x++) {
    let ok = Number.isFinite(before[x]) && Number.isFinite(after[x]);
    for (let k = 0; ok && k < values.length; k++) ok = Number.isFinite(values[k][x]) && Number.isFinite(derivatives[k][x]);
    if (!ok) {
      nonFinite++;
      for (const arr of [...values, ...firstOrder]) arr[x] = NaN;
    }
  }
  return nonFinite;
}

/** ⟨b, θ_to − θ_from⟩ from host copies, in double precision. */
function hostProjection(b: Float32Array, from: Float32Array, to: Float32Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s += b[i] * (to[i] - from[i]);
  return s;
}

function finiteMean(losses: Float32Array): { meanLoss: number; nonFinite: number } {
  let s = 0;
  let count = 0;
  for (const l of losses) {
    if (Number.isFinite(l)) {
      s += l;
      count++;
    }
  }
  return { meanLoss: count > 0 ? s / count : NaN, nonFinite: losses.length - count };
}

function jsonConfig(o: PolcaOptions, r: ResolvedOptions): RunConfig {
  const basis = r.basis.kind === 'fixed' ? { kind: 'fixed' as const, vectors: r.basis.vectors.length } : { ...r.basis };
  return {
    schemaVersion: EVENT_SCHEMA_VERSION,
    every: r.every,
    basis,
    secondOrder: r.secondOrder,
    derivatives: r.derivatives,
    derivativeCheckEvery: r.derivativeCheckEvery,
    hvp: r.hvp,
    hvpTolerance: r.hvpTolerance,
    lanczos: r.lanczos,
    seed: r.seed,
    emitVectors: r.emitVectors,
    emitParams: r.emitParams,
    hessianLoss: o.hessianLoss !== undefined,
  };
}
