/**
 * The addition task as one object for a custom training loop and for
 * polca's tracker: parameters, a training step, the probe's per-token losses
 * and the Hessian-sample loss.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from './adamw.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfig, type ArithmeticConfigName } from './configs.js';
import { VOCAB_SIZE, datapointMeta, makeSplits, type ArithmeticBatch, type DatapointMeta, type TrainSampler } from './data.js';
import { summarizeProbe, type ProbeReport } from './metrics.js';
import { batchTensors, createModel, forwardLogits, perTokenLoss, weightMap, type ArithmeticModel, type BatchTensors } from './model.js';
import { tokenCrossEntropy } from './nn.js';

/** A ready-to-train addition task. */
export interface ArithmeticTask {
  config: ArithmeticConfig;
  model: ArithmeticModel;
  /** The trainable variables, in the order of `paramNames`. */
  params: tf.Variable[];
  /** Parameter names without the instance prefix (`tok_emb`, `l0.attn.wqkv`, …). */
  paramNames: string[];
  optimizer: AdamW;
  /** The probe set (1250 problems = 5000 datapoints by default). */
  probe: ArithmeticBatch;
  /** The Hessian sample, disjoint from probe and training data. */
  hessian: ArithmeticBatch;
  /** One entry per probe datapoint, for a run manifest. */
  probeMeta: DatapointMeta[];
  /** Training steps taken so far. */
  readonly step: number;
  /** Runs one AdamW step on a fresh training batch; returns its mean token loss. */
  trainStep(): number;
  /**
   * Moves a fresh task to step `steps` without training: draws and drops the
   * batches those steps used, so a run resumed from a snapshot sees the same
   * data as one that never stopped. Restore θ and the optimiser first.
   */
  fastForward(steps: number): void;
  /** Per-token losses of the probe set (length 4 × probe problems); differentiable. The caller disposes it. */
  probeLosses(): tf.Tensor1D;
  /** Mean token loss of the Hessian sample; differentiable. The caller disposes it. */
  hessianLoss(): tf.Scalar;
  /** Loss and accuracy of the probe set by place and carry. */
  evaluate(): ProbeReport;
  /** Frees variables, optimizer state and cached tensors (idempotent). */
  dispose(): void;
}

/**
 * Builds the data splits, the model and the optimiser of a configuration.
 * The tfjs backend is whatever is active; set it first.
 *
 * @param config - a configuration or the name of a built-in one.
 * @param overrides - fields replacing those of the configuration.
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * const task = createArithmeticTask('quick');
 * for (let i = 0; i < task.config.steps; i++) task.trainStep();
 * const losses = task.probeLosses(); // tf.Tensor1D of 5000
 * losses.dispose();
 * task.dispose();
 * ```
 */
export function createArithmeticTask(
  config: ArithmeticConfig | ArithmeticConfigName,
  overrides: Partial<ArithmeticConfig> = {},
): ArithmeticTask {
  const base: ArithmeticConfig | undefined = typeof config === 'string' ? ARITHMETIC_CONFIGS[config] : config;
  if (base === undefined) {
    throw new Error(`createArithmeticTask: unknown config '${String(config)}', expected one of ${Object.keys(ARITHMETIC_CONFIGS).join(', ')}`);
  }
  const cfg: ArithmeticConfig = { ...base, ...overrides };
  if (!Number.isInteger(cfg.batchSize) || cfg.batchSize < 1) {
    throw new Error(`createArithmeticTask: option batchSize must be a positive integer, got ${cfg.batchSize}`);
  }
  const splits = makeSplits({ seed: cfg.seed, probeSize: cfg.probeSize, hessianSize: cfg.hessianSize, format: cfg.format });
  const model = createModel(cfg, { seed: cfg.seed + 1, initStd: cfg.initStd });
  const optimizer = new AdamW({
    lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay,
    warmupSteps: cfg.warmupSteps, schedule: cfg.schedule, totalSteps: cfg.steps, minLrFactor: cfg.minLrFactor,
  });
  const probeTensors: BatchTensors = batchTensors(splits.probe);
  const hessianTensors: BatchTensors = batchTensors(splits.hessian);
  const train: TrainSampler = splits.train;
  let step = 0;
  let disposed = false;
  const alive = (fn: string): void => {
    if (disposed) throw new Error(`ArithmeticTask.${fn}: the task has been disposed`);
  };

  return {
    config: cfg,
    model,
    params: model.params,
    paramNames: model.names,
    optimizer,
    probe: splits.probe,
    hessian: splits.hessian,
    probeMeta: datapointMeta(splits.probe),
    get step() { return step; },
    trainStep(): number {
      alive('trainStep');
      const t = batchTensors(train.next(cfg.batchSize));
      const loss = optimizer.minimize(() => tf.mean(perTokenLoss(model, t)) as tf.Scalar, true, model.params);
      const value = loss!.dataSync()[0];
      loss!.dispose();
      t.inputs.dispose();
      t.targets.dispose();
      step++;
      return value;
    },
    fastForward(steps: number): void {
      alive('fastForward');
      if (step !== 0) throw new Error(`ArithmeticTask.fastForward: the task is at step ${step}; only a fresh task can be moved`);
      if (!Number.isInteger(steps) || steps < 0) throw new Error(`ArithmeticTask.fastForward: steps must be a non-negative integer, got ${steps}`);
      for (let i = 0; i < steps; i++) train.next(cfg.batchSize);
      step = steps;
    },
    probeLosses(): tf.Tensor1D {
      alive('probeLosses');
      return perTokenLoss(model, probeTensors);
    },
    hessianLoss(): tf.Scalar {
      alive('hessianLoss');
      return tf.tidy(() => tf.mean(perTokenLoss(model, hessianTensors)) as tf.Scalar);
    },
    evaluate(): ProbeReport {
      alive('evaluate');
      const [lossTensor, digitTensor] = tf.tidy(() => {
        const logits = tf.reshape(forwardLogits(cfg, weightMap(model), probeTensors.inputs), [-1, VOCAB_SIZE]);
        return [tokenCrossEntropy(logits, probeTensors.targets), tf.argMax(logits, -1)];
      });
      const losses = lossTensor.dataSync().slice();
      const digits = digitTensor.dataSync().slice();
      tf.dispose([lossTensor, digitTensor]);
      return summarizeProbe(splits.probe, losses, digits);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      model.dispose();
      optimizer.dispose();
      for (const t of [probeTensors, hessianTensors]) {
        t.inputs.dispose();
        t.targets.dispose();
      }
    },
  };
}
