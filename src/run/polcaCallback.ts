import * as tf from '@tensorflow/tfjs-core';
import { Callback, type LayersModel } from '@tensorflow/tfjs-layers';
import { ReplaySubject, Subject, type Observable, type Subscription } from 'rxjs';
import { describe } from '../errors/describe.js';
import { fail, positiveInt } from '../errors/validate.js';
import type { PolcaEvent } from '../stream/events.js';
import { RunStream } from '../stream/runStream.js';
import { createPolca, type PolcaTracker } from '../tracker/createPolca.js';
import { resolveOptions, type PolcaOptions } from '../tracker/options.js';
import { perDatapointLoss, perDatapointLossInParts, type DatapointLoss, type DisposableProbe, type LabelledSet } from '../tracker/datapointLoss.js';
// Types only: the sinks (Arrow, gRPC, Prometheus, webhooks) load on demand, so that
// `polcaCallback` without `log`, `serve` or `alerts` runs anywhere, browsers included.
import type { RunSinks, RunSinksOptions, RunSinksReport, SinkFailure } from './attachSinks.js';
import type { PolcaServer } from '../serve/startServer.js';
import type { RunWriter } from '../sinks/arrow/RunWriter.js';

/** Options of {@link polcaCallback}. */
export interface PolcaCallbackOptions extends Omit<PolcaOptions, 'params' | 'probe' | 'hessianLoss'> {
  /** The probe set: every kept target of it is one datapoint. */
  probe: LabelledSet;
  /**
   * A fixed sample of training data for the Hessian (used by the `hessian`
   * and `shuffled` bases). Default: the probe set itself, so that the
   * Hessian is the one of the loss whose changes are decomposed.
   */
  hessianSample?: LabelledSet;
  /**
   * Per-datapoint loss from targets and model output, shaped like `y`.
   * Default: sparse categorical cross-entropy, from probabilities unless `fromLogits`.
   */
  loss?: DatapointLoss;
  /**
   * Examples of `probe` per part in the passes that differentiate through
   * it (`chunkedProbe`): the same numbers, with the memory of one part
   * at a time. Default: the whole set at once. The Hessian-vector products
   * differentiate twice through the whole `hessianSample` (by default the
   * probe) whatever this is, so a large probe wants a smaller sample.
   */
  probeBatchSize?: number;
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
  /** Log the run to an Arrow run directory: `{ dir, keepParams?, probeMeta? }`. Node.js only. */
  log?: RunSinksOptions['log'];
  /** Serve the run live: `{ grpc?: { port, host, token, tls }, metrics?: { port, host } }`. Node.js only. */
  serve?: RunSinksOptions['serve'];
  /** POST transitions and alerts to a webhook: `{ webhook: url }` or `{ webhook: { url, format: 'slack' } }`. Node.js only. */
  alerts?: RunSinksOptions['alerts'];
  /** The run's name: the `run` label of its metrics, the name in webhook messages. Default: the base name of `log.dir`, else `polca`. */
  runName?: string;
}

/** What {@link PolcaCallback.close} reports. */
export interface PolcaCallbackReport {
  /** The error that ended POLCA tracking early (training went on without it), or null. */
  trackerError: Error | null;
  /** Sinks that stopped on an error, and how the log ended (null without sinks). */
  sinks: RunSinksReport | null;
}

/**
 * The polca callback for `model.fit` / `model.fitDataset`: derives θ from
 * `model.trainableWeights`, per-datapoint probe losses from the probe set and
 * the Hessian loss from the sample, counts optimiser steps across epochs, and
 * runs a POLCA checkpoint every `every` steps.
 *
 * Observing never stops training: if a checkpoint fails, the run ends with a
 * `run-end` event whose reason is `error` and `fit` goes on; a sink that fails
 * stops itself and says so (see {@link PolcaCallback.failures$}).
 */
export class PolcaCallback extends Callback {
  private readonly relay = new Subject<PolcaEvent>();
  /** The run's events (with the live analysis when sinks are attached); subscribe before `fit`. Completes when the run ends. */
  readonly events$: Observable<PolcaEvent> = new RunStream(this.relay.asObservable());
  private readonly failures = new ReplaySubject<SinkFailure>();
  /** Sinks that stopped on an error while training went on (each also an `alert` event with rule `sink-failed`). */
  readonly failures$: Observable<SinkFailure> = this.failures.asObservable();
  private tracker: PolcaTracker | null = null;
  private sinks: RunSinks | null = null;
  private probes: DisposableProbe[] = [];
  private links: Subscription[] = [];
  private globalStep = 0;
  private closed = false;
  private closing: Promise<PolcaCallbackReport> | null = null;
  private failedWith: Error | null = null;

  constructor(private readonly options: PolcaCallbackOptions) {
    super();
    if (!options || typeof options !== 'object') fail('polcaCallback', 'options', 'an object', options);
    checkSet(options.probe, 'probe');
    if (options.hessianSample !== undefined) checkSet(options.hessianSample, 'hessianSample');
    if (options.probeBatchSize !== undefined) positiveInt('polcaCallback', 'probeBatchSize', options.probeBatchSize);
    if (options.loss !== undefined && typeof options.loss !== 'function') fail('polcaCallback', 'loss', 'a function (yTrue, yPred) => per-datapoint losses', options.loss);
    // Every tracker option is checked now, with the callback's name, rather than inside fit.
    const placeholder = () => tf.scalar(0);
    resolveOptions({ ...trackerOptions(options), params: [], probe: placeholder as never, hessianLoss: placeholder as never }, 'polcaCallback');
    if (options.runName !== undefined && (typeof options.runName !== 'string' || options.runName.length === 0)) fail('polcaCallback', 'runName', 'a non-empty string', options.runName);
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

  /** The error that ended tracking early, if one did (training went on). */
  get trackerError(): Error | null {
    return this.failedWith;
  }

  override async onTrainBegin(): Promise<void> {
    if (this.tracker || this.closed) return;
    const model = this.model as LayersModel;
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const o = this.options;
    const lossOf = (set: LabelledSet, name: string) => {
      const how = { loss: o.loss, fromLogits: o.fromLogits ?? false, option: name };
      return o.probeBatchSize === undefined ? perDatapointLoss(model, set, how) : perDatapointLossInParts(model, set, { ...how, batchSize: o.probeBatchSize });
    };
    const probe = lossOf(o.probe, 'probe');
    const sample = o.hessianSample ? lossOf(o.hessianSample, 'hessianSample') : probe;
    this.probes = sample === probe ? [probe] : [probe, sample];
    const { analysis, log, serve, alerts, runName } = o;
    const rest = trackerOptions(o);
    const tracker = createPolca({
      ...rest,
      params,
      probe,
      hessianLoss: () => tf.tidy(() => tf.mean(sample())) as tf.Scalar,
      model: rest.model ?? summary(model),
    });
    this.tracker = tracker;
    if (log !== undefined || serve !== undefined || alerts !== undefined || analysis !== undefined) {
      const { attachSinks } = await import('./attachSinks.js');
      this.sinks = await attachSinks(tracker, { analysis, log, serve, alerts, name: runName });
      this.links.push(this.sinks.failures$.subscribe((f) => this.failures.next(f)));
    }
    this.links.push(tracker.events$.subscribe(this.relay));
    // The first checkpoint evaluates the probe and the Hessian loss against the model: an
    // error there is a setup error (a probe that does not fit the model), and fit reports it.
    await tracker.step(0);
  }

  override async onBatchEnd(_batch: number, logs?: Record<string, number | tf.Scalar>): Promise<void> {
    if (!this.tracker || this.closed || this.failedWith) return;
    this.globalStep++;
    const raw = logs?.loss;
    const loss = raw === undefined ? undefined : typeof raw === 'number' ? raw : (await raw.data())[0];
    await this.track(this.globalStep, { loss });
  }

  override async onTrainEnd(): Promise<void> {
    if (this.options.closeOnTrainEnd ?? true) await this.close();
  }

  /**
   * Ends the run: the tracker closes, the stream completes, the sinks end,
   * tensors are freed. Resolves with what was lost, if anything. Idempotent.
   */
  close(): Promise<PolcaCallbackReport> {
    this.closing ??= (async () => {
      this.closed = true;
      try {
        if (this.tracker && !this.failedWith) await this.tracker.close();
      } catch (e) {
        this.failedWith = e instanceof Error ? e : new Error(String(e));
      }
      if (!this.tracker) this.relay.complete();
      const sinks = this.sinks ? await this.sinks.closed : null;
      this.failures.complete();
      this.links.forEach((l) => l.unsubscribe());
      this.probes.forEach((p) => p.dispose());
      return { trackerError: this.failedWith, sinks };
    })();
    return this.closing;
  }

  /** One tracker step during training; a failure ends tracking (the stream already carries its run-end), never training. */
  private async track(step: number, info?: { loss?: number }): Promise<void> {
    try {
      await this.tracker!.step(step, info);
    } catch (e) {
      this.failedWith = e instanceof Error ? e : new Error(String(e));
    }
  }
}

/**
 * Creates the polca callback for `model.fit`. Only the probe set is required.
 *
 * @example
 * ```ts
 * const polca = polcaCallback({ probe: { x: probeX, y: probeY } });
 * polca.events$.subscribe((e) => { if (e.type === 'basis') console.log('new direction', e.eigenvalue); });
 * await model.fit(x, y, { epochs: 5, batchSize: 64, callbacks: [polca] });
 * ```
 */
export function polcaCallback(options: PolcaCallbackOptions): PolcaCallback {
  return new PolcaCallback(options);
}

/** The options the callback passes on to its tracker: all but its own. */
function trackerOptions(o: PolcaCallbackOptions): Omit<PolcaOptions, 'params' | 'probe' | 'hessianLoss'> {
  const { probe: _p, hessianSample: _h, probeBatchSize: _b, loss: _l, fromLogits: _f, closeOnTrainEnd: _c, analysis: _a, log: _g, serve: _s, alerts: _al, runName: _r, ...rest } = o;
  return rest;
}

function checkSet(set: LabelledSet, name: string): void {
  if (!set || typeof set !== 'object') fail('polcaCallback', name, '{ x, y, mask? }', set);
  const xs = Array.isArray(set.x) ? set.x : [set.x];
  if (xs.length === 0 || !xs.every((t) => t instanceof tf.Tensor)) fail('polcaCallback', `${name}.x`, 'a tensor or tensors', set.x);
  if (!(set.y instanceof tf.Tensor)) fail('polcaCallback', `${name}.y`, 'a tensor', set.y);
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
