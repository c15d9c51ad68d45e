/**
 * An independent float64 re-implementation of the arithmetic transformer's
 * forward pass with plain loops, from the architecture description (not from
 * the tfjs code): used by the tests to check logits and losses.
 */
import { OUTPUT_POSITIONS, SEQ_LEN, VOCAB_SIZE } from '../../../examples/arithmetic/data.js';
import type { TransformerShape } from '../../../examples/arithmetic/model.js';

type Mat = number[][];

const matVec = (x: number[], w: Float32Array, rows: number, cols: number, bias?: Float32Array): number[] => {
  const out = new Array<number>(cols).fill(0);
  for (let c = 0; c < cols; c++) {
    let s = bias === undefined ? 0 : bias[c];
    for (let r = 0; r < rows; r++) s += x[r] * w[r * cols + c];
    out[c] = s;
  }
  return out;
};

const layerNorm64 = (x: number[], g: Float32Array, b: Float32Array): number[] => {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const inv = 1 / Math.sqrt(variance + 1e-5);
  return x.map((v, i) => (v - mean) * inv * g[i] + b[i]);
};

/** Where the inputs are read and the outputs unembedded; by default the `sequence` format's. */
export interface Layout {
  seqLen: number;
  outputPositions: readonly number[];
}

/** Logits [input row][output k][vocab] in float64 for token ids `tokens` (rows × layout.seqLen). */
export function referenceLogits(
  shape: TransformerShape,
  w: Record<string, Float32Array>,
  tokens: ArrayLike<number>,
  layout: Layout = { seqLen: SEQ_LEN, outputPositions: OUTPUT_POSITIONS },
): number[][][] {
  const { layers, dModel: d, heads, dMlp } = shape;
  const { seqLen } = layout;
  const dh = d / heads;
  const problems = tokens.length / seqLen;
  const result: number[][][] = [];
  for (let p = 0; p < problems; p++) {
    let h: Mat = [];
    for (let t = 0; t < seqLen; t++) {
      const tok = tokens[p * seqLen + t];
      h.push(Array.from({ length: d }, (_, c) => w.tok_emb[tok * d + c] + w.pos_emb[t * d + c]));
    }
    for (let l = 0; l < layers; l++) {
      const qkv = h.map((row) => matVec(layerNorm64(row, w[`l${l}.ln1.g`], w[`l${l}.ln1.b`]), w[`l${l}.attn.wqkv`], d, 3 * d, w[`l${l}.attn.bqkv`]));
      const merged: Mat = h.map(() => new Array<number>(d).fill(0));
      for (let hd = 0; hd < heads; hd++) {
        for (let i = 0; i < seqLen; i++) {
          const scores: number[] = [];
          for (let j = 0; j <= i; j++) {
            let s = 0;
            for (let e = 0; e < dh; e++) s += qkv[i][hd * dh + e] * qkv[j][d + hd * dh + e];
            scores.push(s / Math.sqrt(dh));
          }
          const m = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - m));
          const z = ex.reduce((a, b) => a + b, 0);
          for (let j = 0; j <= i; j++) {
            for (let e = 0; e < dh; e++) merged[i][hd * dh + e] += (ex[j] / z) * qkv[j][2 * d + hd * dh + e];
          }
        }
      }
      h = h.map((row, i) => {
        const attn = matVec(merged[i], w[`l${l}.attn.wo`], d, d, w[`l${l}.attn.bo`]);
        return row.map((v, c) => v + attn[c]);
      });
      h = h.map((row) => {
        const hidden = matVec(layerNorm64(row, w[`l${l}.ln2.g`], w[`l${l}.ln2.b`]), w[`l${l}.mlp.w1`], d, dMlp, w[`l${l}.mlp.b1`]).map((v) => Math.max(v, 0));
        const out = matVec(hidden, w[`l${l}.mlp.w2`], dMlp, d, w[`l${l}.mlp.b2`]);
        return row.map((v, c) => v + out[c]);
      });
    }
    result.push(layout.outputPositions.map((t) => matVec(layerNorm64(h[t], w['lnf.g'], w['lnf.b']), w.unembed, d, VOCAB_SIZE, w['unembed.b'])));
  }
  return result;
}

/** Cross-entropy in float64 of one logit row against a target class. */
export function crossEntropy64(logits: number[], target: number): number {
  const m = Math.max(...logits);
  const lse = m + Math.log(logits.reduce((s, v) => s + Math.exp(v - m), 0));
  return lse - logits[target];
}
