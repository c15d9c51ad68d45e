/**
 * An independent float64 re-implementation of the English language model's
 * forward pass with plain loops, written from the architecture description
 * (pre-LN causal transformer, ReLU MLP, final LN, untied unembedding), for
 * checking the per-token losses of the tfjs model.
 */
import type { LanguageModelShape } from '../../../examples/english/model.js';

const affine = (x: number[], w: Float32Array, rows: number, cols: number, bias: Float32Array): number[] => {
  const out = new Array<number>(cols);
  for (let c = 0; c < cols; c++) {
    let s = bias[c];
    for (let r = 0; r < rows; r++) s += x[r] * w[r * cols + c];
    out[c] = s;
  }
  return out;
};

const layerNorm64 = (x: number[], g: Float32Array, b: Float32Array): number[] => {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length;
  return x.map((v, i) => ((v - mean) / Math.sqrt(variance + 1e-5)) * g[i] + b[i]);
};

/**
 * Cross-entropy of the next word at position t of window `ids` (length T + 1):
 * −log softmax(logits_t)[ids[t + 1]], in float64.
 */
export function referenceTokenLoss(shape: LanguageModelShape, w: Record<string, Float32Array>, ids: ArrayLike<number>, t: number): number {
  const { layers, dModel: d, heads, dMlp, vocabSize: V } = shape;
  const dh = d / heads;
  // Only positions 0..t matter for the prediction at t (causality).
  let h: number[][] = [];
  for (let p = 0; p <= t; p++) h.push(Array.from({ length: d }, (_, k) => w.tok_emb[ids[p] * d + k] + w.pos_emb[p * d + k]));
  for (let l = 0; l < layers; l++) {
    const wqkv = w[`l${l}.attn.wqkv`];
    const bqkv = w[`l${l}.attn.bqkv`];
    const qkv = h.map((x) => affine(layerNorm64(x, w[`l${l}.ln1.g`], w[`l${l}.ln1.b`]), wqkv, d, 3 * d, bqkv));
    const merged: number[][] = h.map(() => new Array<number>(d).fill(0));
    for (let hd = 0; hd < heads; hd++) {
      for (let i = 0; i < h.length; i++) {
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let k = 0; k < dh; k++) s += qkv[i][hd * dh + k] * qkv[j][d + hd * dh + k];
          scores.push(s / Math.sqrt(dh));
        }
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) for (let k = 0; k < dh; k++) merged[i][hd * dh + k] += (e[j] / z) * qkv[j][2 * d + hd * dh + k];
      }
    }
    h = h.map((x, i) => {
      const a = affine(merged[i], w[`l${l}.attn.wo`], d, d, w[`l${l}.attn.bo`]);
      const y = x.map((v, k) => v + a[k]);
      const hidden = affine(layerNorm64(y, w[`l${l}.ln2.g`], w[`l${l}.ln2.b`]), w[`l${l}.mlp.w1`], d, dMlp, w[`l${l}.mlp.b1`]).map((v) => Math.max(0, v));
      const out = affine(hidden, w[`l${l}.mlp.w2`], dMlp, d, w[`l${l}.mlp.b2`]);
      return y.map((v, k) => v + out[k]);
    });
  }
  const logits = affine(layerNorm64(h[t], w['lnf.g'], w['lnf.b']), w.unembed, d, V, w['unembed.b']);
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - logits[ids[t + 1]];
}
