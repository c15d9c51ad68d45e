/**
 * A small causal decoder-only transformer for the addition task, written
 * with tfjs-core ops: token embedding (one-hot × matrix, so no gather),
 * learned positional embedding, pre-LN blocks of causal multi-head attention
 * and a ReLU MLP, a final layer norm and an untied unembedding. Only the four
 * positions that predict the sum digits are unembedded.
 *
 * The blocks are `decoderBlock.ts`'s, shared with the English LM.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkFormat, inputLength, outputPositions, outputsPerInput, VOCAB_SIZE, type ArithmeticBatch, type TaskFormat } from './data.js';
import { decoderBlock, LN_EPSILON } from './decoderBlock.js';
import { layerNorm, tokenCrossEntropy } from './nn.js';
import { initialParamValues, transformerParamSpecs, type ParamSpec } from './transformerParams.js';

/** Architecture of the transformer. */
export interface TransformerShape {
  /** Number of blocks. */
  layers: number;
  /** Width of the residual stream. */
  dModel: number;
  /** Attention heads per block; must divide `dModel`. */
  heads: number;
  /** Hidden width of the MLP. */
  dMlp: number;
  /**
   * The inputs it reads (default `sequence`): this fixes the length of the
   * positional embedding and which positions are unembedded.
   */
  format?: TaskFormat;
}

export type { ParamSpec } from './transformerParams.js';

/**
 * The parameters of a transformer of the given shape, in a fixed order.
 *
 * @example
 * ```ts
 * paramSpecs({ layers: 1, dModel: 8, heads: 2, dMlp: 16 })[0]; // { name: 'tok_emb', shape: [12, 8], init: 'normal' }
 * ```
 */
export function paramSpecs(shape: TransformerShape): ParamSpec[] {
  checkShape(shape);
  return transformerParamSpecs({ vocabSize: VOCAB_SIZE, seqLen: inputLength(shape.format ?? 'sequence'), ...shape });
}

/**
 * Initial values of every parameter (GPT-2 style: N(0, std²) matrices,
 * residual-output matrices scaled by 1/√(2·layers), zero biases, unit gains),
 * from a seeded generator so every backend starts from the same θ₀.
 *
 * @example
 * ```ts
 * const values = initialValues({ layers: 1, dModel: 8, heads: 2, dMlp: 16 }, 0, 0.02);
 * ```
 */
export function initialValues(shape: TransformerShape, seed: number, initStd: number): Float32Array[] {
  return initialParamValues(paramSpecs(shape), shape.layers, seed, initStd);
}

/** A transformer's parameters as trainable tfjs variables. */
export interface ArithmeticModel {
  shape: TransformerShape;
  /** Parameter names (without the instance prefix), aligned with `params`. */
  names: string[];
  /** Trainable variables in the order of {@link paramSpecs}. */
  params: tf.Variable[];
  /** Disposes the variables (idempotent). */
  dispose(): void;
}

let instanceCounter = 0;

/**
 * Creates the variables of a freshly initialised transformer. Variable names
 * get a unique prefix (`arith<k>/…`), since tfjs keeps one global registry of
 * variable names.
 *
 * @example
 * ```ts
 * const model = createModel({ layers: 2, dModel: 64, heads: 4, dMlp: 256 }, { seed: 0 });
 * model.params.length; // 2 + 12·2 + 4
 * model.dispose();
 * ```
 */
export function createModel(shape: TransformerShape, options: { seed: number; initStd?: number }): ArithmeticModel {
  const initStd = options.initStd ?? 0.02;
  if (!(initStd > 0)) throw new Error(`createModel: option initStd must be positive, got ${initStd}`);
  const specs = paramSpecs(shape);
  const values = initialValues(shape, options.seed, initStd);
  const prefix = `arith${instanceCounter++}`;
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
 * One-hot float tensors for a batch: inputs `[rows, length, VOCAB_SIZE]`
 * (`[size, 11, 12]` in the `sequence` format, `[size·4, 9, 12]` in `query`)
 * and targets `[size·4, VOCAB_SIZE]`. Built in JS, so no gather or oneHot
 * kernel is needed.
 *
 * @example
 * ```ts
 * const { inputs, targets } = batchTensors(makeBatch([123], [456]));
 * ```
 */
export function batchTensors(batch: ArithmeticBatch): { inputs: tf.Tensor3D; targets: tf.Tensor2D } {
  const length = inputLength(batch.format);
  const x = new Float32Array(batch.inputs.length * VOCAB_SIZE);
  for (let i = 0; i < batch.inputs.length; i++) x[i * VOCAB_SIZE + batch.inputs[i]] = 1;
  const y = new Float32Array(batch.targets.length * VOCAB_SIZE);
  for (let i = 0; i < batch.targets.length; i++) y[i * VOCAB_SIZE + batch.targets[i]] = 1;
  return {
    inputs: tf.tensor3d(x, [batch.inputs.length / length, length, VOCAB_SIZE]),
    targets: tf.tensor2d(y, [batch.targets.length, VOCAB_SIZE]),
  };
}

/**
 * Logits of the next-token predictions at the output positions,
 * `[rows, 4, VOCAB_SIZE]` from one-hot inputs `[rows, 11, VOCAB_SIZE]` in
 * the `sequence` format, `[rows, 1, VOCAB_SIZE]` from `[rows, 9, VOCAB_SIZE]`
 * in `query`. Flattened, the rows are the datapoints in order either way.
 * `weights` maps the names of {@link paramSpecs} to tensors (variables, or the
 * weights of the layers-model variant).
 *
 * @example
 * ```ts
 * const logits = forwardLogits(model.shape, weightMap(model), batchTensors(batch).inputs);
 * ```
 */
export function forwardLogits(
  shape: TransformerShape,
  weights: Record<string, tf.Tensor>,
  inputs: tf.Tensor,
): tf.Tensor3D {
  const { layers, dModel: d } = shape;
  const w = (name: string): tf.Tensor => {
    const t = weights[name];
    if (t === undefined) throw new Error(`forwardLogits: weights has no entry '${name}'`);
    return t;
  };
  const format = shape.format ?? 'sequence';
  const T = inputLength(format);
  if (inputs.rank !== 3 || inputs.shape[1] !== T || inputs.shape[2] !== VOCAB_SIZE) {
    throw new Error(`forwardLogits: inputs of the '${format}' format must have shape [rows, ${T}, ${VOCAB_SIZE}], got [${inputs.shape}]`);
  }
  const B = inputs.shape[0];
  const nOut = outputsPerInput(format);
  return tf.tidy(() => {
    const tok = tf.matMul(tf.reshape(inputs, [B * T, VOCAB_SIZE]), w('tok_emb'));
    let h: tf.Tensor = tf.add(tf.reshape(tok, [B, T, d]), w('pos_emb'));
    for (let l = 0; l < layers; l++) {
      // Only the output positions are unembedded, so the last block needs queries, attention
      // output and MLP there alone (keys and values still come from every position).
      const queries = l === layers - 1 ? { start: outputPositions(format)[0], length: nOut } : undefined;
      h = decoderBlock(h, w, l, shape, queries);
    }
    const normed = tf.reshape(layerNorm(h, w('lnf.g'), w('lnf.b'), LN_EPSILON), [B * nOut, d]);
    const logits = tf.add(tf.matMul(normed, w('unembed')), w('unembed.b'));
    return tf.reshape(logits, [B, nOut, VOCAB_SIZE]) as tf.Tensor3D;
  });
}

/**
 * The model's weights keyed by parameter name, for {@link forwardLogits}.
 *
 * @example
 * ```ts
 * const w = weightMap(model); // { tok_emb: Variable, … }
 * ```
 */
export function weightMap(model: ArithmeticModel): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  model.names.forEach((name, i) => { out[name] = model.params[i]; });
  return out;
}

/** A batch as prepared one-hot tensors (see {@link batchTensors}). */
export interface BatchTensors {
  inputs: tf.Tensor;
  targets: tf.Tensor;
}

/**
 * Cross-entropy of every output token: a `tf.Tensor1D` of length
 * `problems × 4`, datapoint `4i + k` being sum digit k (1000s first) of
 * problem i. Differentiable with respect to `model.params`.
 *
 * @param batch - a batch, or its tensors from {@link batchTensors} (reuse
 *   them when the same set is evaluated often, as the probe set is).
 * @example
 * ```ts
 * const losses = perTokenLoss(model, makeBatch([123], [456])); // 4 losses
 * ```
 */
export function perTokenLoss(model: ArithmeticModel, batch: ArithmeticBatch | BatchTensors): tf.Tensor1D {
  return tf.tidy(() => {
    const t = 'inputs' in batch && batch.inputs instanceof tf.Tensor ? (batch as BatchTensors) : batchTensors(batch as ArithmeticBatch);
    const logits = forwardLogits(model.shape, weightMap(model), t.inputs);
    return tokenCrossEntropy(tf.reshape(logits, [-1, VOCAB_SIZE]), t.targets) as tf.Tensor1D;
  });
}

/**
 * Predicted digit of every output token (argmax of the logits), aligned with
 * {@link perTokenLoss}.
 *
 * @example
 * ```ts
 * const digits = predictDigits(model, makeBatch([123], [456])); // Int32Array(4)
 * ```
 */
export function predictDigits(model: ArithmeticModel, batch: ArithmeticBatch | BatchTensors): Int32Array {
  const t = 'inputs' in batch && batch.inputs instanceof tf.Tensor ? (batch as BatchTensors) : undefined;
  const out = tf.tidy(() => {
    const tensors = t ?? batchTensors(batch as ArithmeticBatch);
    return tf.argMax(tf.reshape(forwardLogits(model.shape, weightMap(model), tensors.inputs), [-1, VOCAB_SIZE]), -1);
  });
  const digits = Int32Array.from(out.dataSync());
  out.dispose();
  return digits;
}

/**
 * Number of scalar parameters of a shape.
 *
 * @example
 * ```ts
 * countParams({ layers: 3, dModel: 512, heads: 4, dMlp: 2048 }); // 9,476,108
 * ```
 */
export function countParams(shape: TransformerShape): number {
  return paramSpecs(shape).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
}

function checkShape(shape: TransformerShape): void {
  for (const key of ['layers', 'dModel', 'heads', 'dMlp'] as const) {
    const v = shape[key];
    if (!Number.isInteger(v) || v < 1) throw new Error(`paramSpecs: option ${key} must be a positive integer, got ${v}`);
  }
  if (shape.format !== undefined) checkFormat('paramSpecs', shape.format);
  if (shape.dModel % shape.heads !== 0) {
    throw new Error(`paramSpecs: option heads (${shape.heads}) must divide dModel (${shape.dModel})`);
  }
}
