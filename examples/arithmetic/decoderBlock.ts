/**
 * One pre-LN block of a causal decoder (multi-head attention with a fused QKV
 * projection, then a ReLU MLP), shared by the examples' transformers: the
 * addition model here and the English LM in `examples/english`. Weights are
 * looked up by the names of {@link transformerParamSpecs}.
 *
 * ReLU rather than GELU: tfjs's GELU-like activations go through Tanh/Erf/Exp
 * gradients that reuse outputs, which nested differentiation cannot see.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { layerNorm, softmaxLastAxis } from './nn.js';

/** Layer-norm epsilon of every norm in the examples' transformers. */
export const LN_EPSILON = 1e-5;

const maskCache = new Map<number, Float32Array>();

/** Additive causal mask `[T, T]`, row i open to columns ≤ i. */
export function causalMask(T: number): Float32Array {
  let m = maskCache.get(T);
  if (!m) {
    m = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
    maskCache.set(T, m);
  }
  return m;
}

/** A block's width and head count. */
export interface BlockDims {
  dModel: number;
  heads: number;
}

/** Positions `[start, start + length)` whose block output is wanted. */
export interface QueryRows {
  start: number;
  length: number;
}

/**
 * Block `l` applied to the residual stream `h` `[B, T, d]`. Keys and values
 * always come from all T positions; with `queries`, only those positions get
 * attention output and MLP and the result is `[B, length, d]` — the saving
 * when a last block feeds only a few unembedded positions.
 *
 * @param weight - looks a parameter up by name (`l0.attn.wqkv`, …).
 * @example
 * ```ts
 * h = decoderBlock(h, (n) => weights[n], 0, { dModel: 64, heads: 4 });
 * ```
 */
export function decoderBlock(
  h: tf.Tensor,
  weight: (name: string) => tf.Tensor,
  l: number,
  dims: BlockDims,
  queries?: QueryRows,
): tf.Tensor {
  const { dModel: d, heads } = dims;
  const dh = d / heads;
  const [B, T] = h.shape as [number, number, number];
  const Tq = queries ? queries.length : T;
  const heads4 = (x: tf.Tensor, rows: number): tf.Tensor => tf.transpose(tf.reshape(x, [B, rows, heads, dh]), [0, 2, 1, 3]);
  const a = layerNorm(h, weight(`l${l}.ln1.g`), weight(`l${l}.ln1.b`), LN_EPSILON);
  const a2 = tf.reshape(a, [B * T, d]);
  const aq = queries ? tf.reshape(tf.slice(a, [0, queries.start, 0], [B, Tq, d]), [B * Tq, d]) : a2;
  const wqkv = weight(`l${l}.attn.wqkv`);
  const bqkv = weight(`l${l}.attn.bqkv`);
  // Slicing the (small) weights instead of splitting the (large) activations.
  const proj = (x: tf.Tensor, part: number): tf.Tensor =>
    tf.add(tf.matMul(x, tf.slice(wqkv, [0, part * d], [d, d])), tf.slice(bqkv, [part * d], [d]));
  const q = heads4(proj(aq, 0), Tq);
  const k = heads4(proj(a2, 1), T);
  const v = heads4(proj(a2, 2), T);
  const start = queries ? queries.start : 0;
  const mask = tf.tensor2d(causalMask(T).subarray(start * T, (start + Tq) * T), [Tq, T]);
  const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), mask);
  const attended = tf.matMul(softmaxLastAxis(scores), v); // [B, H, Tq, dh]
  const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [B * Tq, d]);
  const attnOut = tf.add(tf.matMul(merged, weight(`l${l}.attn.wo`)), weight(`l${l}.attn.bo`));
  const hq = queries ? tf.slice(h, [0, queries.start, 0], [B, Tq, d]) : h;
  const h1 = tf.add(hq, tf.reshape(attnOut, [B, Tq, d]));
  const m = tf.reshape(layerNorm(h1, weight(`l${l}.ln2.g`), weight(`l${l}.ln2.b`), LN_EPSILON), [B * Tq, d]);
  const hidden = tf.relu(tf.add(tf.matMul(m, weight(`l${l}.mlp.w1`)), weight(`l${l}.mlp.b1`)));
  const mlpOut = tf.add(tf.matMul(hidden, weight(`l${l}.mlp.w2`)), weight(`l${l}.mlp.b2`));
  return tf.add(h1, tf.reshape(mlpOut, [B, Tq, d]));
}
