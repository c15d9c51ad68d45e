/**
 * A small causal decoder-only transformer language model over a word
 * vocabulary, written with tfjs-core ops: token embedding by `tf.gather`,
 * learned positional embedding, pre-LN blocks of causal multi-head attention
 * and a ReLU MLP, a final layer norm and an untied unembedding. The
 * numerically delicate pieces (layer norm, softmax, cross-entropy) are the
 * arithmetic example's, whose gradients nested differentiation can see.
 *
 * Every position of a window predicts the next word; the loss of any subset
 * of positions can be asked for, and only those positions are unembedded.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { decoderBlock, LN_EPSILON } from '../arithmetic/decoderBlock.js';
import { layerNorm, tokenCrossEntropy } from '../arithmetic/nn.js';
import { initialParamValues, transformerParamSpecs, type ParamSpec } from '../arithmetic/transformerParams.js';

/** Architecture of the language model. */
export interface LanguageModelShape {
  /** Vocabulary size V. */
  vocabSize: number;
  /** Context length T (positions per window). */
  seqLen: number;
  /** Number of blocks. */
  layers: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads; must divide `dModel`. */
  heads: number;
  /** Hidden width of the MLP. */
  dMlp: number;
}

/** One named parameter, in the order of the flattened θ (the layout of {@link transformerParamSpecs}). */
export type LmParamSpec = ParamSpec;

/**
 * The parameters of a model of the given shape, in a fixed order.
 *
 * @example
 * ```ts
 * lmParamSpecs({ vocabSize: 100, seqLen: 16, layers: 1, dModel: 8, heads: 2, dMlp: 16 })[0];
 * // { name: 'tok_emb', shape: [100, 8], init: 'normal' }
 * ```
 */
export function lmParamSpecs(shape: LanguageModelShape): LmParamSpec[] {
  checkShape(shape);
  return transformerParamSpecs(shape);
}

/**
 * Number of scalar parameters of a shape.
 *
 * @example
 * ```ts
 * countLmParams({ vocabSize: 2048, seqLen: 32, layers: 2, dModel: 64, heads: 4, dMlp: 256 }); // 366,336
 * ```
 */
export function countLmParams(shape: LanguageModelShape): number {
  return lmParamSpecs(shape).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

/** A language model's parameters as trainable tfjs variables. */
export interface LanguageModel {
  shape: LanguageModelShape;
  /** Parameter names (without the instance prefix), aligned with `params`. */
  names: string[];
  params: tf.Variable[];
  /** Disposes the variables (idempotent). */
  dispose(): void;
}

let instanceCounter = 0;

/**
 * A freshly initialised model (GPT-2 style: N(0, initStd²) matrices, residual
 * outputs scaled by 1/√(2·layers), zero biases, unit gains) from a seeded
 * generator, so every backend starts from the same θ₀. Variable names get a
 * unique prefix `english<k>/` (tfjs keeps one global registry of names).
 *
 * @example
 * ```ts
 * const model = createLanguageModel({ vocabSize: 2048, seqLen: 32, layers: 2, dModel: 64, heads: 4, dMlp: 256 }, { seed: 1 });
 * model.dispose();
 * ```
 */
export function createLanguageModel(shape: LanguageModelShape, options: { seed: number; initStd?: number }): LanguageModel {
  const initStd = options.initStd ?? 0.02;
  if (!(initStd > 0)) throw new Error(`createLanguageModel: option initStd must be positive, got ${initStd}`);
  const specs = lmParamSpecs(shape);
  const values = initialParamValues(specs, shape.layers, options.seed, initStd);
  const prefix = `english${instanceCounter++}`;
  const params = specs.map((spec, i) => tf.variable(tf.tensor(values[i], spec.shape), true, `${prefix}/${spec.name}`));
  let disposed = false;
  return {
    shape,
    names: specs.map((s) => s.name),
    params,
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const p of params) p.dispose();
    },
  };
}

/**
 * The model's weights keyed by parameter name.
 *
 * @example
 * ```ts
 * lmWeightMap(model).tok_emb; // the embedding variable
 * ```
 */
export function lmWeightMap(model: LanguageModel): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  model.names.forEach((name, i) => { out[name] = model.params[i]; });
  return out;
}

/**
 * Next-word logits `[R, V]` at selected positions of a batch of windows.
 *
 * @param inputs - token ids, int32 `[B, T]` with T = `shape.seqLen`.
 * @param rows - optional int32 indices into the flattened `B·T` positions
 *   (row `b·T + t` is window b, position t); default every position in order.
 * @example
 * ```ts
 * const logits = lmLogits(model.shape, lmWeightMap(model), tf.tensor2d([[1, 2, 3, 4]], [1, 4], 'int32'));
 * ```
 */
export function lmLogits(shape: LanguageModelShape, weights: Record<string, tf.Tensor>, inputs: tf.Tensor, rows?: tf.Tensor1D): tf.Tensor2D {
  const { layers, dModel: d, seqLen: T, vocabSize: V } = shape;
  const w = (name: string): tf.Tensor => {
    const t = weights[name];
    if (t === undefined) throw new Error(`lmLogits: weights has no entry '${name}'`);
    return t;
  };
  if (inputs.rank !== 2 || inputs.shape[1] !== T || inputs.dtype !== 'int32') {
    throw new Error(`lmLogits: inputs must be int32 [batch, ${T}], got ${inputs.dtype} [${inputs.shape}]`);
  }
  const B = inputs.shape[0];
  return tf.tidy(() => {
    const tok = tf.gather(w('tok_emb'), tf.reshape(inputs, [B * T]));
    let h: tf.Tensor = tf.add(tf.reshape(tok, [B, T, d]), w('pos_emb'));
    for (let l = 0; l < layers; l++) h = decoderBlock(h, w, l, shape);
    let flat = tf.reshape(h, [B * T, d]);
    // Unembedding is the largest cost (d·V per position): do it only where asked.
    if (rows) flat = tf.gather(flat, rows);
    const normed = layerNorm(flat, w('lnf.g'), w('lnf.b'), LN_EPSILON);
    const logits = tf.add(tf.matMul(normed, w('unembed')), w('unembed.b'));
    return tf.reshape(logits, [-1, V]) as tf.Tensor2D;
  });
}

/** Windows prepared as tensors, for sets evaluated often (probe, Hessian sample). */
export interface LmBatchTensors {
  /** int32 `[B, T]` input ids. */
  inputs: tf.Tensor2D;
  /** int32 `[R]` rows (flattened positions) whose next word is scored, or null for all. */
  rows: tf.Tensor1D | null;
  /** float32 one-hot `[R, V]` next words at those rows. */
  targets: tf.Tensor2D;
}

/**
 * Tensors of windows of `T + 1` ids each (inputs are the first T, targets
 * the last T), scoring the positions in `rows` (flattened `b·T + t`) or all.
 *
 * @example
 * ```ts
 * const t = lmBatchTensors([Int32Array.from([5, 6, 7])], 2, 10); // 1 window, T = 2
 * ```
 */
export function lmBatchTensors(windows: readonly Int32Array[], seqLen: number, vocabSize: number, rows?: Int32Array): LmBatchTensors {
  const B = windows.length;
  const x = new Int32Array(B * seqLen);
  const y = new Int32Array(B * seqLen);
  windows.forEach((w, b) => {
    if (w.length !== seqLen + 1) throw new Error(`lmBatchTensors: window ${b} has ${w.length} ids, expected seqLen + 1 = ${seqLen + 1}`);
    x.set(w.subarray(0, seqLen), b * seqLen);
    y.set(w.subarray(1), b * seqLen);
  });
  const picked = rows ? Int32Array.from(rows, (r) => {
    if (!(r >= 0 && r < B * seqLen)) throw new Error(`lmBatchTensors: row ${r} is outside [0, ${B * seqLen})`);
    return y[r];
  }) : y;
  const targets = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor1d(picked, 'int32'), vocabSize), 'float32') as tf.Tensor2D);
  return { inputs: tf.tensor2d(x, [B, seqLen], 'int32'), rows: rows ? tf.tensor1d(rows, 'int32') : null, targets };
}

/**
 * Cross-entropy of every scored position (a `Tensor1D` aligned with the
 * rows of `batch`), differentiable with respect to `model.params`.
 *
 * @example
 * ```ts
 * const losses = lmTokenLosses(model, lmBatchTensors(windows, 32, 2048));
 * ```
 */
export function lmTokenLosses(model: LanguageModel, batch: LmBatchTensors): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = lmLogits(model.shape, lmWeightMap(model), batch.inputs, batch.rows ?? undefined);
    return tokenCrossEntropy(logits, batch.targets) as tf.Tensor1D;
  });
}

function checkShape(shape: LanguageModelShape): void {
  for (const key of ['vocabSize', 'seqLen', 'layers', 'dModel', 'heads', 'dMlp'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`lmParamSpecs: option ${key} must be a positive integer, got ${v}`);
  }
  if (shape.dModel % shape.heads !== 0) throw new Error(`lmParamSpecs: option heads (${shape.heads}) must divide dModel (${shape.dModel})`);
}
