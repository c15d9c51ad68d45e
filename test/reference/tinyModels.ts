/**
 * Tiny models written twice — with stock tfjs ops and with the float64
 * reference autodiff of `autodiff64.ts` — for testing gradients,
 * Hessian-vector products, Lanczos and per-datapoint directional derivatives
 * against exact float64 values.
 *
 * θ is flattened in the order of `params`, each variable row-major. Parameter
 * and data values come from a seeded generator and are rounded to float32, so
 * the tfjs variables and the float64 reference start from the *same* θ.
 * The aggregate loss is the mean of the per-datapoint losses (METHOD.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ad from './autodiff64.js';
import type { Var } from './autodiff64.js';
import { mulberry32 as rng } from '../helpers/prng.js';

/** A model in both worlds. All float64 functions take θ flattened. */
export interface TinyModel {
  readonly name: string;
  /** Trainable variables, seeded; θ is their row-major concatenation. */
  readonly params: tf.Variable[];
  /** P, the number of scalar parameters. */
  readonly numParams: number;
  /** N, the number of datapoints. */
  readonly numData: number;
  /** θ at construction (float32 values as doubles). */
  readonly theta0: Float64Array;
  /** Current values of `params`, flattened. */
  readTheta(): Float64Array;
  /** Writes θ into `params` (rounded to float32). */
  assignTheta(theta: ArrayLike<number>): void;
  /** Mean loss with the current `params`. */
  lossTf(): tf.Scalar;
  /** Per-datapoint losses [N] with the current `params`. */
  perDatapointLossTf(): tf.Tensor1D;
  /** Mean loss with explicit parameter tensors (same shapes as `params`). */
  lossTfOf(params: readonly tf.Tensor[]): tf.Scalar;
  /** Per-datapoint losses with explicit parameter tensors. */
  perDatapointLossTfOf(params: readonly tf.Tensor[]): tf.Tensor1D;
  /** Mean loss at θ in float64. */
  loss64(theta: ArrayLike<number>): number;
  /** ∇L(θ), exact in float64. */
  grad64(theta: ArrayLike<number>): Float64Array;
  /** H(θ)·v, exact in float64 (forward-over-reverse). */
  hvp64(theta: ArrayLike<number>, v: ArrayLike<number>): Float64Array;
  /** Dense Hessian of the mean loss, as P columns. */
  hessian64(theta: ArrayLike<number>): Float64Array[];
  /** Per-datapoint losses at θ in float64. */
  perDatapointLoss64(theta: ArrayLike<number>): Float64Array;
  /**
   * The per-datapoint losses as reference-autodiff expressions, for any other
   * derivative (e.g. `evaluate64((t) => m.perDatapointLossVars(t)[i], θ, b)`
   * gives ∇ℓᵢ and Hᵢ·b).
   */
  perDatapointLossVars(theta: Var[]): Var[];
  /**
   * The data tensors, for feeding the same datapoints to another
   * implementation (e.g. a tfjs-layers model). tinyMlp: `x` [N, 3], `y`
   * one-hot labels [N, 3], `targets` [N, 3] (mse); tinyAttention: `tokens`
   * one-hot [N·3, 4], `y` one-hot next tokens [N, 4].
   */
  readonly data: Readonly<Record<string, tf.Tensor>>;
  /** Frees the variables and data tensors. */
  dispose(): void;
}

/** `n` float32-representable values uniform in [−scale, scale). */
function uniform(next: () => number, n: number, scale: number): number[] {
  return Array.from({ length: n }, () => Math.fround((2 * next() - 1) * scale));
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

interface ModelDefinition {
  name: string;
  shapes: number[][];
  init: number[][];
  numData: number;
  /** Per-datapoint losses [N] from parameter tensors. */
  tfLosses: (params: readonly tf.Tensor[]) => tf.Tensor1D;
  /** Per-datapoint losses from parameter Vars, split by `shapes`. */
  losses64: (params: Var[][]) => Var[];
  data: Record<string, tf.Tensor>;
}

function buildModel(def: ModelDefinition): TinyModel {
  const params = def.init.map((values, i) => tf.variable(tf.tensor(values, def.shapes[i], 'float32')));
  const numParams = def.shapes.reduce((s, shape) => s + size(shape), 0);
  const split = (theta: Var[]): Var[][] => {
    let offset = 0;
    return def.shapes.map((shape) => {
      const part = theta.slice(offset, offset + size(shape));
      offset += size(shape);
      return part;
    });
  };
  const perVars = (theta: Var[]) => def.losses64(split(theta));
  const meanVar = (theta: Var[]) => ad.mean(perVars(theta));
  const check = (theta: ArrayLike<number>, fn: string) => {
    if (theta.length !== numParams) {
      throw new Error(`${def.name}.${fn}: theta has length ${theta.length}, expected ${numParams}`);
    }
  };
  const readTheta = () => Float64Array.from(params.flatMap((p) => Array.from(p.dataSync())));
  const perDatapointLossTfOf = (ps: readonly tf.Tensor[]) => tf.tidy(() => def.tfLosses(ps));
  const lossTfOf = (ps: readonly tf.Tensor[]) => tf.tidy(() => tf.mean(def.tfLosses(ps)) as tf.Scalar);
  return {
    name: def.name,
    params,
    numParams,
    numData: def.numData,
    theta0: readTheta(),
    readTheta,
    assignTheta(theta) {
      check(theta, 'assignTheta');
      let offset = 0;
      params.forEach((p, i) => {
        const n = size(def.shapes[i]);
        const values = Float32Array.from(Array.prototype.slice.call(theta, offset, offset + n) as number[]);
        offset += n;
        tf.tidy(() => p.assign(tf.tensor(values, def.shapes[i], 'float32')));
      });
    },
    lossTf: () => lossTfOf(params),
    perDatapointLossTf: () => perDatapointLossTfOf(params),
    lossTfOf,
    perDatapointLossTfOf,
    loss64(theta) {
      check(theta, 'loss64');
      return ad.evaluate64(meanVar, theta).value;
    },
    grad64(theta) {
      check(theta, 'grad64');
      return ad.evaluate64(meanVar, theta).grad;
    },
    hvp64(theta, v) {
      check(theta, 'hvp64');
      return ad.evaluate64(meanVar, theta, v).hv;
    },
    hessian64(theta) {
      check(theta, 'hessian64');
      return ad.hessian64(meanVar, theta);
    },
    perDatapointLoss64(theta) {
      check(theta, 'perDatapointLoss64');
      let out = new Float64Array(0);
      ad.evaluate64((t) => {
        const losses = perVars(t);
        out = Float64Array.from(losses, (l) => l.v);
        return ad.sum(losses);
      }, theta);
      return out;
    },
    perDatapointLossVars: perVars,
    data: def.data,
    dispose() {
      params.forEach((p) => p.dispose());
      Object.values(def.data).forEach((t) => t.dispose());
    },
  };
}

/** Hidden-layer activations of {@link tinyMlp}. */
export type TinyActivation =
  | 'tanh'
  | 'sigmoid'
  | 'softplus'
  | 'elu'
  | 'selu'
  | 'gauss'
  | 'pow'
  | 'clip'
  | 'leakyRelu';
/** Per-datapoint loss heads of {@link tinyMlp}. */
export type TinyHead = 'mse' | 'softmaxLog' | 'logSoftmax' | 'logSumExp' | 'softmaxCrossEntropy';

/** Options of {@link tinyMlp}. */
export interface TinyMlpOptions {
  activation: TinyActivation;
  head: TinyHead;
  /** Hidden units (default 5). */
  hidden?: number;
  /** Datapoints (default 5). */
  numData?: number;
  /** Seed of parameters and data (default 1). */
  seed?: number;
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;
const CLIP = 0.5;
const LEAKY_ALPHA = 0.2;

/**
 * A one-hidden-layer MLP, x [3] → act(x·W1 + b1) [H] → ·W2 + b2 [3] → head.
 * params = [W1 (3×H), b1 (H), W2 (H×3), b2 (3)] plus, for `pow`, the
 * exponents e (H) of act(h) = (1 + h²)^e — so θ enters the exponent too.
 * `gauss` is exp(−h²); `clip` is clipByValue(h, −0.5, 0.5); heads: `mse`
 * (mean square error to seeded targets), `softmaxLog` (−log softmax[y]),
 * `logSoftmax` (−tf.logSoftmax[y]), `logSumExp` (logSumExp(z) − z[y]),
 * `softmaxCrossEntropy` (tf.losses.softmaxCrossEntropy, no reduction).
 * P = 6H + 3 (+H for pow): 33 for H = 5.
 *
 * @example
 * ```ts
 * const m = tinyMlp({ activation: 'tanh', head: 'logSoftmax' });
 * const H = m.hessian64(m.theta0); // 33 columns of length 33
 * m.dispose();
 * ```
 */
export function tinyMlp(options: TinyMlpOptions): TinyModel {
  const { activation, head, hidden: H = 5, numData: N = 5, seed = 1 } = options;
  const D = 3;
  const C = 3;
  const next = rng(seed);
  const shapes = [[D, H], [H], [H, C], [C]];
  const init = [uniform(next, D * H, 0.9), uniform(next, H, 0.3), uniform(next, H * C, 0.9), uniform(next, C, 0.3)];
  if (activation === 'pow') {
    shapes.push([H]);
    init.push(uniform(next, H, 0.5).map((e) => Math.fround(0.75 + e)));
  }
  const xs = uniform(next, N * D, 1.5);
  const labels = Array.from({ length: N }, (_, i) => Math.floor(next() * C) % C);
  const targets = uniform(next, N * C, 1);
  const X = tf.tensor2d(xs, [N, D]);
  const Y = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), C), 'float32');
  const T = tf.tensor2d(targets, [N, C]);

  const actTf = (h: tf.Tensor, ps: readonly tf.Tensor[]): tf.Tensor => {
    switch (activation) {
      case 'tanh': return tf.tanh(h);
      case 'sigmoid': return tf.sigmoid(h);
      case 'softplus': return tf.softplus(h);
      case 'elu': return tf.elu(h);
      case 'selu': return tf.selu(h);
      case 'gauss': return tf.exp(tf.neg(tf.square(h)));
      case 'pow': return tf.pow(tf.add(tf.square(h), 1), ps[4]);
      case 'clip': return tf.clipByValue(h, -CLIP, CLIP);
      case 'leakyRelu': return tf.leakyRelu(h, LEAKY_ALPHA);
    }
  };
  const act64 = (h: Var, j: number, ps: Var[][]): Var => {
    switch (activation) {
      case 'tanh': return ad.tanh(h);
      case 'sigmoid': return ad.sigmoid(h);
      case 'softplus': return ad.softplus(h);
      case 'elu': return ad.elu(h);
      case 'selu':
        return h.v > 0 ? ad.mul(SELU_SCALE, h) : ad.mul(SELU_SCALE * SELU_ALPHA, ad.sub(ad.exp(h), 1));
      case 'gauss': return ad.exp(ad.neg(ad.square(h)));
      case 'pow': return ad.pow(ad.add(ad.square(h), 1), ps[4][j]);
      case 'clip': return ad.clip(h, -CLIP, CLIP);
      case 'leakyRelu': return h.v > 0 ? h : ad.mul(LEAKY_ALPHA, h);
    }
  };
  const headTf = (z: tf.Tensor): tf.Tensor1D => {
    switch (head) {
      case 'mse': return tf.mean(tf.square(tf.sub(z, T)), 1) as tf.Tensor1D;
      case 'softmaxLog': return tf.neg(tf.sum(tf.mul(tf.log(tf.softmax(z)), Y), 1)) as tf.Tensor1D;
      case 'logSoftmax': return tf.neg(tf.sum(tf.mul(tf.logSoftmax(z), Y), 1)) as tf.Tensor1D;
      case 'logSumExp': return tf.sub(tf.logSumExp(z, 1), tf.sum(tf.mul(z, Y), 1)) as tf.Tensor1D;
      case 'softmaxCrossEntropy':
        return tf.losses.softmaxCrossEntropy(Y, z, undefined, 0, tf.Reduction.NONE) as tf.Tensor1D;
    }
  };
  const head64 = (z: Var[], i: number): Var => {
    const y = labels[i];
    switch (head) {
      case 'mse': return ad.mean(z.map((zc, c) => ad.square(ad.sub(zc, targets[i * C + c]))));
      case 'softmaxLog': return ad.neg(ad.log(ad.softmax(z)[y]));
      case 'logSoftmax':
      case 'softmaxCrossEntropy': return ad.neg(ad.logSoftmax(z)[y]);
      case 'logSumExp': return ad.sub(ad.logSumExp(z), z[y]);
    }
  };
  return buildModel({
    name: `tinyMlp(${activation}, ${head})`,
    shapes,
    init,
    numData: N,
    data: { x: X, y: Y, targets: T },
    tfLosses: (ps) => {
      const h = tf.add(tf.matMul(X, ps[0]), ps[1]);
      const z = tf.add(tf.matMul(actTf(h, ps), ps[2]), ps[3]);
      return headTf(z);
    },
    losses64: (ps) =>
      Array.from({ length: N }, (_, i) => {
        const x = xs.slice(i * D, (i + 1) * D);
        const h = ad.vecMat(x, ps[0], H).map((hj, j) => ad.add(hj, ps[1][j]));
        const a = h.map((hj, j) => act64(hj, j, ps));
        const z = ad.vecMat(a, ps[2], C).map((zc, c) => ad.add(zc, ps[3][c]));
        return head64(z, i);
      }),
  });
}

/** Options of {@link tinyAttention}. */
export interface TinyAttentionOptions {
  /** Datapoints (sequences), default 6. */
  numData?: number;
  /** Seed of parameters and data (default 1). */
  seed?: number;
}

/**
 * A one-head, one-layer attention model predicting the token after a
 * sequence of T = 3 tokens from a vocabulary of V = 4, model width d = 4:
 * e_t = onehot(token_t)·E; q = e_T·Wq; k_t = e_t·Wk; v_t = e_t·Wv;
 * a = softmax(q·k_t / 2); h = tanh(Σ a_t v_t + e_T); loss = −logSoftmax(h·Wo)[y].
 * params = [E (V×d), Wq, Wk, Wv (d×d), Wo (d×V)], P = 80. Embeddings are a
 * matMul with one-hot rows rather than `tf.gather`, whose gradient kernel
 * (UnsortedSegmentSum) the wasm backend lacks.
 *
 * @example
 * ```ts
 * const m = tinyAttention();
 * const hv = m.hvp64(m.theta0, new Float64Array(m.numParams).fill(1));
 * m.dispose();
 * ```
 */
export function tinyAttention(options: TinyAttentionOptions = {}): TinyModel {
  const { numData: N = 6, seed = 1 } = options;
  const T = 3;
  const V = 4;
  const d = 4;
  const next = rng(seed);
  const shapes = [[V, d], [d, d], [d, d], [d, d], [d, V]];
  const init = shapes.map((s) => uniform(next, size(s), 0.8));
  const tokens = Array.from({ length: N * T }, () => Math.floor(next() * V) % V);
  const labels = Array.from({ length: N }, () => Math.floor(next() * V) % V);
  const X = tf.cast(tf.oneHot(tf.tensor1d(tokens, 'int32'), V), 'float32'); // [N·T, V]
  const Y = tf.cast(tf.oneHot(tf.tensor1d(labels, 'int32'), V), 'float32');
  const scale = 1 / Math.sqrt(d);
  return buildModel({
    name: 'tinyAttention',
    shapes,
    init,
    numData: N,
    data: { tokens: X, y: Y },
    tfLosses: ([E, Wq, Wk, Wv, Wo]) => {
      const emb = tf.matMul(X, E); // [N·T, d]
      const keys = tf.reshape(tf.matMul(emb, Wk), [N, T, d]);
      const values = tf.reshape(tf.matMul(emb, Wv), [N, T, d]);
      const last = tf.reshape(tf.slice(tf.reshape(emb, [N, T, d]), [0, T - 1, 0], [N, 1, d]), [N, d]);
      const q = tf.matMul(last, Wq); // [N, d]
      const scores = tf.mul(tf.sum(tf.mul(tf.expandDims(q, 1), keys), 2), scale); // [N, T]
      const attn = tf.softmax(scores);
      const ctx = tf.sum(tf.mul(tf.expandDims(attn, 2), values), 1); // [N, d]
      const h = tf.tanh(tf.add(ctx, last));
      return tf.neg(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(h, Wo)), Y), 1)) as tf.Tensor1D;
    },
    losses64: ([E, Wq, Wk, Wv, Wo]) =>
      Array.from({ length: N }, (_, i) => {
        const emb = Array.from({ length: T }, (_, t) => E.slice(tokens[i * T + t] * d, (tokens[i * T + t] + 1) * d));
        const last = emb[T - 1];
        const q = ad.vecMat(last, Wq, d);
        const scores = emb.map((e) => ad.mul(ad.dot(q, ad.vecMat(e, Wk, d)), scale));
        const attn = ad.softmax(scores);
        const vals = emb.map((e) => ad.vecMat(e, Wv, d));
        const ctx = Array.from({ length: d }, (_, c) => ad.sum(vals.map((v, t) => ad.mul(attn[t], v[c]))));
        const h = ctx.map((c, j) => ad.tanh(ad.add(c, last[j])));
        return ad.neg(ad.logSoftmax(ad.vecMat(h, Wo, V))[labels[i]]);
      }),
  });
}
