/**
 * The addition transformer as a tfjs-layers `LayersModel`, for training with
 * `model.fit` (and polca's `polcaCallback`). One custom layer holds all the
 * weights and runs the same {@link forwardLogits} as the custom-loop model,
 * so both variants compute identical functions of identical parameters.
 *
 * Input: one-hot tokens `[batch, 11, 12]`; output: logits `[batch, 4, 12]`
 * of the four sum digits (in the `query` format `[batch, 9, 12]` and
 * `[batch, 1, 12]`, one row per place asked for). Loss: {@link arithmeticLoss}.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { inputLength, outputsPerInput, VOCAB_SIZE, type ArithmeticBatch } from './data.js';
import { batchTensors, forwardLogits, initialValues, paramSpecs, type TransformerShape } from './model.js';
import { tokenCrossEntropy } from './nn.js';

/** Constructor arguments of {@link ArithmeticTransformerLayer}. */
export interface ArithmeticTransformerLayerArgs extends TransformerShape {
  /** Seed of the initial weights (same values as `createModel` with this seed). */
  seed: number;
  initStd?: number;
  name?: string;
}

/**
 * A layer computing the whole transformer (embeddings to logits).
 *
 * @example
 * ```ts
 * const layer = new ArithmeticTransformerLayer({ layers: 1, dModel: 32, heads: 2, dMlp: 128, seed: 1 });
 * ```
 */
export class ArithmeticTransformerLayer extends tfl.layers.Layer {
  static readonly className = 'ArithmeticTransformer';
  readonly shapeConfig: TransformerShape;
  readonly seed: number;
  readonly initStd: number;
  private readonly weightNames: string[];
  private variables: tfl.LayerVariable[] = [];

  constructor(args: ArithmeticTransformerLayerArgs) {
    super({ name: args.name });
    this.shapeConfig = { layers: args.layers, dModel: args.dModel, heads: args.heads, dMlp: args.dMlp, format: args.format ?? 'sequence' };
    this.seed = args.seed;
    this.initStd = args.initStd ?? 0.02;
    this.weightNames = paramSpecs(this.shapeConfig).map((s) => s.name);
  }

  override build(_inputShape: tfl.Shape | tfl.Shape[]): void {
    const values = initialValues(this.shapeConfig, this.seed, this.initStd);
    this.variables = paramSpecs(this.shapeConfig).map((spec, i) => {
      const v = this.addWeight(spec.name, spec.shape, 'float32', tfl.initializers.zeros());
      // Seeded values, so the layers variant starts from the same θ₀ as createModel.
      tf.tidy(() => { v.write(tf.tensor(values[i], spec.shape)); });
      return v;
    });
    this.built = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    return [s[0], outputsPerInput(this.shapeConfig.format ?? 'sequence'), VOCAB_SIZE];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const weights: Record<string, tf.Tensor> = {};
    this.weightNames.forEach((name, i) => { weights[name] = this.variables[i].read(); });
    return forwardLogits(this.shapeConfig, weights, x);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), ...this.shapeConfig, seed: this.seed, initStd: this.initStd };
  }
}
tf.serialization.registerClass(ArithmeticTransformerLayer);

/**
 * A `LayersModel` wrapping {@link ArithmeticTransformerLayer}; compile it
 * with {@link arithmeticLoss} and an optimizer (e.g. `createOptimizer`).
 *
 * @example
 * ```ts
 * const model = createArithmeticLayersModel({ layers: 1, dModel: 32, heads: 2, dMlp: 128, seed: 1 });
 * model.compile({ optimizer: createOptimizer(ARITHMETIC_CONFIGS.quick), loss: arithmeticLoss });
 * const { xs, ys } = layersData(splits.train.next(64 * 100));
 * await model.fit(xs, ys, { batchSize: 64, epochs: 1 });
 * ```
 */
export function createArithmeticLayersModel(args: ArithmeticTransformerLayerArgs): tfl.Sequential {
  const model = tfl.sequential();
  model.add(tfl.layers.inputLayer({ inputShape: [inputLength(args.format ?? 'sequence'), VOCAB_SIZE] }));
  model.add(new ArithmeticTransformerLayer(args));
  return model;
}

/**
 * Loss for `model.compile`: per input row, the mean cross-entropy of its
 * outputs (`yTrue`, `yPred`: `[batch, 4, 12]` or, in the `query` format,
 * `[batch, 1, 12]`; one-hot targets and logits).
 *
 * @example
 * ```ts
 * model.compile({ optimizer, loss: arithmeticLoss });
 * ```
 */
export function arithmeticLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mean(tokenCrossEntropy(yPred, yTrue), -1));
}

/**
 * `model.fit` inputs for a batch: one-hot `xs` `[size, 11, 12]` and `ys`
 * `[size, 4, 12]`, or in the `query` format `[4·size, 9, 12]` and `[4·size, 1, 12]`.
 *
 * @example
 * ```ts
 * const { xs, ys } = layersData(makeBatch([123], [456]));
 * ```
 */
export function layersData(batch: ArithmeticBatch): { xs: tf.Tensor3D; ys: tf.Tensor3D } {
  const { inputs, targets } = batchTensors(batch);
  const ys = tf.reshape(targets, [inputs.shape[0], outputsPerInput(batch.format), VOCAB_SIZE]) as tf.Tensor3D;
  targets.dispose();
  return { xs: inputs, ys };
}

/**
 * Per-token losses of a layers model on prepared data, aligned like
 * `perTokenLoss` (datapoint 4i + k); differentiable with respect to the
 * model's trainable weights.
 *
 * @example
 * ```ts
 * const losses = layersPerTokenLoss(model, layersData(probe)); // Tensor1D of 4·probe.size
 * ```
 */
export function layersPerTokenLoss(model: tfl.LayersModel, data: { xs: tf.Tensor; ys: tf.Tensor }): tf.Tensor1D {
  return tf.tidy(() => {
    const logits = model.apply(data.xs) as tf.Tensor;
    return tokenCrossEntropy(tf.reshape(logits, [-1, VOCAB_SIZE]), tf.reshape(data.ys, [-1, VOCAB_SIZE])) as tf.Tensor1D;
  });
}
