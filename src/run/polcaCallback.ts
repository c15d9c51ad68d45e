import * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { describe } from '../errors/describe.js';
import type { PolcaEvent } from '../stream/events.js';
import { createPolca, type PolcaTracker } from './createPolca.js';
import type { PolcaOptions } from './options.js';
import { perDatapointLoss, type DatapointLoss, type DisposableProbe } from './datapointLoss.js';
import { attachSinks, type RunSinks, type RunSinksOptions } from '../run/attachSinks.js';
import type { PolcaServer } from '../serve/startServer.js';
import type { RunWriter } from '../sinks/arrow/RunWriter.js';

/** A set of examples: model inputs, sparse integer targets, and an optional 0/1 mask of the datapoints to keep. */
export interface LabelledSet {
  /** Model input(s), batch first. */
  x: tf.Tensor | tf.Tensor[];
  /** Integer class targets: the model output's shape without its last (class) axis. */
  y: tf.Tensor;
  /** 1 for datapoints that count, 0 for the rest (for example padding or prompt tokens), shaped like `y`. */
  mask?: tf.Tensor;
}

/** Options of {@link polcaCallback}. */
export interface PolcaCallbackOptions extends Omit<PolcaOptions, 'params' | 'probe' | 'hessianLoss'> {
  /** The probe set: every kept target of it is one datapoint. */
  probe: LabelledSet;
  /** A fixed sample of training data for the Hessian (needed by the `hessian` and `shuffled` bases). */
  hessianSample?: LabelledSet;
  /**
   * Per-datapoint loss from targets and model output, shaped like `y`.
   * Default: sparse categorical cross-entropy, from probabilities unless `fromLogits`.
   */
  loss?: DatapointLoss;
  /** The model outputs logits rather than probabilities. Default false (the Keras convention). */
  fromLogits?: boolean;
  /** End the run (complete the stream) when `fit` ends. Default true; set false to call `fit` several times and `close()` yourself. */
  closeOnTrainEnd?: boolean;
  /**
   * Online analysis merged into `events$` (clusters, transitions, alerts).
   * With `log`, `serve` or `alerts` every part is on by default (live
   * clustering within 5% of the run's time, transition detection, alert
   * rules); parts given here are merged over those defaults, `false` turns
   * one off. Without sinks: alerts only.
   */
  analysis?: RunSinksOptions['analysis'];
  /** Log the run to an Arrow run directory: `{ dir, keepParams?, probeMeta? }`. */
  log?: RunSinksOptions['log'];
  /** Serve the run live: `{ grpc?: { port, host, token, tls }, metrics?: { port, host } }`. */
  serve?: RunSinksOptions['serve'];
  /** POST transitions and alerts to a webhook: `{ webhook: url }` or `{ webhook: { url, format: 'slack' } }`. */
  alerts?: RunSinksOptions['alerts'];
  /** The run's name: the `run` label of its metrics, the name in webhook messages. Default: the base name of `log.dir`, else `polca`. */
  runName?: string;
}

/**
 * The polca callback for `model.fit` / `model.fitDataset`: derives θ from
 * `model.trainableWeights`, per-datapoint probe losses from the probe set and
 * the Hessian loss from the sample, counts optimiser steps across epochs, and
 * runs a POLCA checkpoint every `every` steps.
 */
export class PolcaCallback extends Callback {
  private readonly subject = new Subject<PolcaEvent>();
  /** The run's events, the same as a tracker's; subscribe before `fit`. Completes when the run ends. */
  readonly events$: Observable<PolcaEvent> = this.subject.asObservable();
  private tracker: PolcaTracker | null = null;
  private sinks: RunSinks | null = null;
  private probes: DisposableProbe[] = [];
  private link: Subscription | null = null;
  private globalStep = 0;
  private closed = false;

  constructor(private readonly options: PolcaCallbackOptions) {
    super();
    if (!options || typeof options !== 'object') throw new Error(`polcaCallback: options must be an object, got ${describe(options)}`);
    checkSet(options.probe, 'probe');
    if (options.hessianSample !== undefined) checkSet(options.hessianSample, 'hessianSample');
    if (options.loss !== undefined && typeof options.loss !== 'function') {
      throw new Error(`polcaCallback: option 'loss' must be a function (yTrue, yPred) => per-datapoint losses, got ${describe(options.loss)}`);
    }
  }

  /** The tracker, once training has begun. */
  get polca(): PolcaTracker | null {
    return this.tracker;
  }

  /** The gRPC / metrics server, once training has begun (with the `serve` option). */
  get server(): PolcaServer | null {
    return this.sinks?.server ?? null;
  }

  /** The Arrow log writer, once training has begun (with the `log` option). */
  get writer(): RunWriter | null {
    return this.sinks?.writer ?? null;
  }

  override async onTrainBegin(): Promise<void> {
    if (this.tracker) return;
    const model = this.model as LayersModel;
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const o = this.options;
    const lossOf = (set: LabelledSet, name: string) => perDatapointLoss(model, set, { loss: o.loss, fromLogits: o.fromLogits ?? false, option: name });
    const probe = lossOf(o.probe, 'probe');
    const sample = o.hessianSample ? lossOf(o.hessianSample, 'hessianSample') : undefined;
    this.probes = [probe, ...(sample ? [sample] : [])];
    const { probe: _p, hessianSample: _h, loss: _l, fromLogits: _f, closeOnTrainEnd: _c, analysis, log, serve, alerts, runName, ...rest } = o;
    this.tracker = createPolca({
      ...rest,
      params,
      probe,
      hessianLoss: sample ? () => tf.tidy(() => tf.mean(sample())) as tf.Scalar : undefined,
      model: rest.model ?? summary(model),
    });
    this.sinks = await attachSinks(this.tracker, { analysis, log, serve, alerts, name: runName });
    this.link = this.sinks.events$.subscribe(this.subject);
    await this.tracker.step(0);
  }

  override async onBatchEnd(_batch: number, logs?: Record<string, number | tf.Scalar>): Promise<void> {
    if (!this.tracker || this.closed) return;
    this.globalStep++;
    const raw = logs?.loss;
    const loss = raw === undefined ? undefined : typeof raw === 'number' ? raw : (await raw.data())[0];
    await this.tracker.step(this.globalStep, { loss });
  }

  override async onTrainEnd(): Promise<void> {
    if (this.options.closeOnTrainEnd ?? true) await this.close();
  }

  /** Ends the run: the tracker closes, the stream completes, tensors are freed. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.tracker) await this.tracker.close();
    else this.subject.complete();
    await this.sinks?.closed;
    this.link?.unsubscribe();
    this.probes.forEach((p) => p.dispose());
  }
}

/**
 * Creates the polca callback for `model.fit`.
 *
 * @example
 * ```ts
 * const polca = polcaCallback({ probe: { x: probeX, y: probeY }, hessianSample: { x: sx, y: sy }, every: 20 });
 * polca.events$.subscribe((e) => { if (e.type === 'basis') console.log('new direction', e.eigenvalue); });
 * await model.fit(x, y, { epochs: 5, batchSize: 64, callbacks: [polca] });
 * ```
 */
export function polcaCallback(options: PolcaCallbackOptions): PolcaCallback {
  return new PolcaCallback(options);
}

function checkSet(set: LabelledSet, name: string): void {
  if (!set || typeof set !== 'object') throw new Error(`polcaCallback: option '${name}' must be { x, y, mask? }, got ${describe(set)}`);
  const xs = Array.isArray(set.x) ? set.x : [set.x];
  if (xs.length === 0 || !xs.every((t) => t instanceof tf.Tensor)) throw new Error(`polcaCallback: option '${name}.x' must be a tensor or tensors, got ${describe(set.x)}`);
  if (!(set.y instanceof tf.Tensor)) throw new Error(`polcaCallback: option '${name}.y' must be a tensor, got ${describe(set.y)}`);
  if (set.y.shape[0] !== xs[0].shape[0]) {
    throw new Error(`polcaCallback: option '${name}.y' has ${set.y.shape[0]} examples but '${name}.x' has ${xs[0].shape[0]}`);
  }
  if (set.mask !== undefined) {
    if (!(set.mask instanceof tf.Tensor) || !tf.util.arraysEqual(set.mask.shape, set.y.shape)) {
      throw new Error(`polcaCallback: option '${name}.mask' must be a tensor shaped like '${name}.y' [${set.y.shape}], got ${describe(set.mask)}`);
    }
  }
}

function summary(model: LayersModel): string {
  const lines: string[] = [];
  model.summary(undefined, undefined, (line: string) => lines.push(line));
  return lines.join('\n');
}
