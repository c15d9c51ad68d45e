import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { chunkedProbe, type ProbeClosure } from '../engine/directional.js';

/** A set of examples: model inputs, sparse integer targets, and an optional 0/1 mask of the datapoints to keep. */
export interface LabelledSet {
  /** Model input(s), batch first. */
  x: tf.Tensor | tf.Tensor[];
  /** Integer class targets: the model output's shape without its last (class) axis. */
  y: tf.Tensor;
  /** 1 for datapoints that count, 0 for the rest (for example padding or prompt tokens), shaped like `y`. */
  mask?: tf.Tensor;
}

/** Per-datapoint loss from integer targets and the model's output; returns a tensor shaped like `yTrue`. */
export type DatapointLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * Sparse categorical cross-entropy per target, without reduction. From
 * logits it is logSumExp(z) − z_y; from probabilities −log(clip(p_y, 1e-7, 1))
 * (Keras's clipping). Written with plain ops so its second derivative is
 * right once polca's corrected gradients are in scope (`tf.logSoftmax` is a
 * custom-gradient op whose second derivative is not).
 */
export function sparseCrossEntropy(fromLogits: boolean): DatapointLoss {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const classes = yPred.shape[yPred.shape.length - 1];
      const onehot = tf.oneHot(tf.cast(yTrue, 'int32'), classes);
      const picked = tf.sum(tf.mul(yPred, onehot), -1);
      return fromLogits ? tf.sub(tf.logSumExp(yPred, -1), picked) : tf.neg(tf.log(tf.clipByValue(picked, 1e-7, 1)));
    });
}

/** A probe closure that holds a tensor of its own (the mask's indices); `dispose` frees it. */
export type DisposableProbe = ProbeClosure & { dispose(): void };

/**
 * A probe closure for a layers model: the per-datapoint losses of `set`,
 * flattened row-major and restricted to `mask`.
 */
export function perDatapointLoss(
  model: LayersModel,
  set: LabelledSet,
  o: { loss?: DatapointLoss; fromLogits: boolean; option: string },
): DisposableProbe {
  const loss = o.loss ?? sparseCrossEntropy(o.fromLogits);
  let keep: tf.Tensor1D | null = null;
  if (set.mask) {
    const m = set.mask.dataSync();
    const idx: number[] = [];
    m.forEach((v, i) => {
      if (v !== 0) idx.push(i);
    });
    if (idx.length === 0) throw new Error(`polcaCallback: option '${o.option}.mask' keeps no datapoint`);
    keep = tf.keep(tf.tensor1d(idx, 'int32'));
  }
  let checked = false;
  const probe = () =>
    tf.tidy(() => {
      const out = model.apply(set.x, { training: false }) as tf.Tensor | tf.Tensor[];
      const yPred = Array.isArray(out) ? out[0] : out;
      if (!checked) {
        const want = yPred.shape.slice(0, -1);
        if (!tf.util.arraysEqual(want, set.y.shape)) {
          throw new Error(
            `polcaCallback: option '${o.option}.y' has shape [${set.y.shape}] but the model output is [${yPred.shape}]; ` +
              `y must be the output shape without its class axis, [${want}]`,
          );
        }
        checked = true;
      }
      const l = tf.reshape(loss(set.y, yPred), [-1]) as tf.Tensor1D;
      if (l.size !== set.y.size) throw new Error(`polcaCallback: option 'loss' returned ${l.size} values for ${set.y.size} targets`);
      return keep ? tf.gather(l, keep) : l;
    });
  return Object.assign(probe, { dispose: () => keep?.dispose() });
}

/**
 * {@link perDatapointLoss} over consecutive slices of `batchSize` examples,
 * joined with {@link chunkedProbe}: the same losses in the same order, with
 * the passes that differentiate through the probe taking one slice at a
 * time. Slices whose mask keeps nothing are left out.
 */
export function perDatapointLossInParts(
  model: LayersModel,
  set: LabelledSet,
  o: { loss?: DatapointLoss; fromLogits: boolean; option: string; batchSize: number },
): DisposableProbe {
  const xs = Array.isArray(set.x) ? set.x : [set.x];
  const examples = set.y.shape[0] ?? 1;
  const keepMask = set.mask ? set.mask.dataSync() : null;
  const perExample = set.y.size / Math.max(1, examples);
  const owned: tf.Tensor[] = [];
  const parts: DisposableProbe[] = [];
  const cut = <T extends tf.Tensor>(t: T, at: number, n: number): T => {
    const r = tf.keep(tf.slice(t, [at], [n])) as T;
    owned.push(r);
    return r;
  };
  const free = () => {
    parts.forEach((p) => p.dispose());
    tf.dispose(owned);
  };
  try {
    for (let at = 0; at < examples; at += o.batchSize) {
      const n = Math.min(o.batchSize, examples - at);
      if (keepMask && !keepMask.subarray(at * perExample, (at + n) * perExample).some((v) => v !== 0)) continue;
      const part: LabelledSet = {
        x: Array.isArray(set.x) ? xs.map((t) => cut(t, at, n)) : cut(set.x, at, n),
        y: cut(set.y, at, n),
        mask: set.mask ? cut(set.mask, at, n) : undefined,
      };
      parts.push(perDatapointLoss(model, part, o));
    }
    if (parts.length === 0) throw new Error(`polcaCallback: option '${o.option}.mask' keeps no datapoint`);
  } catch (e) {
    free();
    throw e;
  }
  return Object.assign(chunkedProbe(parts), { dispose: free });
}
