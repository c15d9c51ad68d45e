/**
 * The English language-model task as one object for a custom training loop
 * and for polca's tracker, with the same shape as the arithmetic example's
 * task: parameters, a training step, the probe's per-token losses, the
 * Hessian-sample loss and the probe's metadata.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW } from '../arithmetic/adamw.js';
import { mulberry32 } from '../arithmetic/prng.js';
import { ENGLISH_CONFIGS, type EnglishConfig, type EnglishConfigName } from './configs.js';
import { loadBrown, type BrownDocument } from './corpus.js';
import { makeProbe, sampleWindows, splitDocuments, tokenStream, type EnglishProbe, type TokenStream } from './data.js';
import { createLanguageModel, lmBatchTensors, lmTokenLosses, type LanguageModel, type LmBatchTensors } from './model.js';
import { buildVocabulary, type WordVocabulary } from './tokenizer.js';

/** A ready-to-train English task. */
export interface EnglishTask {
  config: EnglishConfig;
  vocab: WordVocabulary;
  model: LanguageModel;
  params: tf.Variable[];
  paramNames: string[];
  optimizer: AdamW;
  /** Training text (all training documents end to end). */
  train: TokenStream;
  /** Held-out text the probe comes from. */
  heldOut: TokenStream;
  probe: EnglishProbe;
  /** Columns for the run manifest (see {@link EnglishProbe.meta}). */
  probeMeta: EnglishProbe['meta'];
  /** Fixed training windows whose mean token loss defines the Hessian. */
  hessianWindows: Int32Array[];
  readonly step: number;
  /** One AdamW step on fresh random training windows; returns their mean token loss. */
  trainStep(): number;
  /** Per-token losses of the probe (length `probeSize`); differentiable. The caller disposes it. */
  probeLosses(): tf.Tensor1D;
  /** Mean token loss of the Hessian sample; differentiable. The caller disposes it. */
  hessianLoss(): tf.Scalar;
  /** Frees variables, optimizer state and cached tensors (idempotent). */
  dispose(): void;
}

/**
 * Loads the corpus, builds the vocabulary from the training documents, the
 * probe from the held-out ones, the model and the optimiser. The tfjs
 * backend is whatever is active; set it first.
 *
 * @param documents - already loaded documents (all 500 by default, or the
 *   first `config.documents`).
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * const task = createEnglishTask('quick');
 * for (let i = 0; i < task.config.steps; i++) task.trainStep();
 * task.dispose();
 * ```
 */
export function createEnglishTask(
  config: EnglishConfig | EnglishConfigName,
  overrides: Partial<EnglishConfig> = {},
  documents?: readonly BrownDocument[],
): EnglishTask {
  const base: EnglishConfig | undefined = typeof config === 'string' ? ENGLISH_CONFIGS[config] : config;
  if (base === undefined) {
    throw new Error(`createEnglishTask: unknown config '${String(config)}', expected one of ${Object.keys(ENGLISH_CONFIGS).join(', ')}`);
  }
  const cfg: EnglishConfig = { ...base, ...overrides };
  for (const key of ['batchSize', 'steps', 'probeSize', 'hessianWindows'] as const) {
    if (!Number.isInteger(cfg[key]) || cfg[key] < 1) throw new Error(`createEnglishTask: option ${key} must be a positive integer, got ${cfg[key]}`);
  }
  let docs = documents ?? loadBrown();
  if (cfg.documents > 0) docs = docs.slice(0, cfg.documents);
  const split = splitDocuments(docs, cfg.heldOutEvery);
  const vocab = buildVocabulary(split.train.map((d) => d.words), cfg.vocabSize);
  if (vocab.size !== cfg.vocabSize) throw new Error(`createEnglishTask: the training documents have only ${vocab.size - 1} distinct words, fewer than option vocabSize − 1 = ${cfg.vocabSize - 1}`);
  const train = tokenStream(split.train, vocab);
  const heldOut = tokenStream(split.heldOut, vocab);
  const probe = makeProbe(heldOut, { seqLen: cfg.seqLen, size: cfg.probeSize, seed: cfg.seed + 2 });
  const rng = mulberry32(cfg.seed + 3);
  const hessianWindows = sampleWindows(train.ids, cfg.seqLen, cfg.hessianWindows, rng);
  const model = createLanguageModel(cfg, { seed: cfg.seed + 1, initStd: cfg.initStd });
  const optimizer = new AdamW({
    lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay,
    warmupSteps: cfg.warmupSteps, schedule: 'cosine', totalSteps: Math.max(cfg.steps, cfg.warmupSteps + 1), minLrFactor: cfg.minLrFactor,
  });
  const probeTensors: LmBatchTensors = lmBatchTensors(probe.windows, cfg.seqLen, cfg.vocabSize, probe.rows);
  const hessianTensors: LmBatchTensors = lmBatchTensors(hessianWindows, cfg.seqLen, cfg.vocabSize);
  let step = 0;
  let disposed = false;
  const alive = (fn: string): void => {
    if (disposed) throw new Error(`EnglishTask.${fn}: the task has been disposed`);
  };
  const free = (t: LmBatchTensors): void => tf.dispose([t.inputs, t.targets, ...(t.rows ? [t.rows] : [])]);

  return {
    config: cfg,
    vocab,
    model,
    params: model.params,
    paramNames: model.names,
    optimizer,
    train,
    heldOut,
    probe,
    probeMeta: probe.meta,
    hessianWindows,
    get step() { return step; },
    trainStep(): number {
      alive('trainStep');
      const t = lmBatchTensors(sampleWindows(train.ids, cfg.seqLen, cfg.batchSize, rng), cfg.seqLen, cfg.vocabSize);
      const loss = optimizer.minimize(() => tf.mean(lmTokenLosses(model, t)) as tf.Scalar, true, model.params);
      const value = loss!.dataSync()[0];
      loss!.dispose();
      free(t);
      step++;
      return value;
    },
    probeLosses(): tf.Tensor1D {
      alive('probeLosses');
      return lmTokenLosses(model, probeTensors);
    },
    hessianLoss(): tf.Scalar {
      alive('hessianLoss');
      return tf.tidy(() => tf.mean(lmTokenLosses(model, hessianTensors)) as tf.Scalar);
    },
    dispose(): void {
      if (disposed) return;
      disposed = true;
      model.dispose();
      optimizer.dispose();
      free(probeTensors);
      free(hessianTensors);
    },
  };
}
