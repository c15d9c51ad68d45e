import * as tf from '@tensorflow/tfjs-core';
import { isFastBatchMatMulRegistered } from './fastMatMul.js';

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function transposeLast(x: tf.Tensor): tf.Tensor {
  return tf.transpose(x, swapLastTwo(x.rank));
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/** Sums `g` over the batch dimensions that `shape` broadcast, then gives it `shape`. */
function reduceToShape(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (sameShape(g.shape, shape)) return g;
  const axes = tf.backend_util.getReductionAxes(shape, g.shape);
  const summed = axes.length > 0 ? tf.sum(g, axes, true) : g;
  return tf.reshape(summed, shape);
}

/**
 * The products of the gradient, as `x·y` with optional transposes. With
 * `materialize`, transposes are done by `tf.transpose` and the product is
 * untransposed; otherwise they go to the kernel as flags, exactly as
 * tfjs-core's own gradient does.
 */
function product(x: tf.Tensor, y: tf.Tensor, tx: boolean, ty: boolean, materialize: boolean): tf.Tensor {
  if (!materialize) return tf.matMul(x, y, tx, ty);
  return tf.matMul(tx ? transposeLast(x) : x, ty ? transposeLast(y) : y);
}

/** Stacks the batches of `x` (last two dims `[r, c]`) as rows: `[batches·r, c]`. */
function stackRows(x: tf.Tensor): tf.Tensor {
  return x.rank === 2 ? x : tf.reshape(x, [-1, x.shape[x.rank - 1]]);
}

/** Places the batches of `x` (last two dims `[r, c]`) side by side: `[r, batches·c]`. */
function stackColumns(x: tf.Tensor): tf.Tensor {
  if (x.rank === 2) return x;
  const r = x.rank;
  const perm = [r - 2, ...Array.from({ length: r - 2 }, (_, i) => i), r - 1];
  return tf.reshape(tf.transpose(x, perm), [x.shape[r - 2], -1]);
}

/**
 * Gradient of `BatchMatMul` (`tf.matMul`), a replacement for tfjs-core's that
 * (1) on the wasm backend materialises every transpose (`tf.transpose`, then
 * an untransposed `tf.matMul`), because the stock wasm kernel runs transposed
 * products in a scalar loop 5–10× slower than its XNNPACK path — unless
 * polca's own wasm kernel (`createFastBatchMatMulConfig`) is registered,
 * which takes the transpose flags at full speed itself; and
 * (2) supports broadcast batch dimensions (e.g. `[B, T, k] × [k, n]`, or
 * `[2, 1, m, k] × [1, 3, k, n]`), summing the gradient over the broadcast
 * dimensions — tfjs-core's gradient throws a shape error there. When `b`
 * (or `a`) is broadcast over every batch, its gradient is one flattened
 * `[batches·m, k]ᵀ × [batches·m, n]` product instead of batched products and
 * a sum.
 *
 * Decision on other backends: for inputs without broadcasting, the gradient
 * is *exactly* tfjs-core's — the same `tf.matMul` calls with the same
 * transpose flags — so cpu/webgl/node results and summation order are
 * unchanged. Only the wasm backend with the stock kernel (checked at
 * gradient time with `tf.getBackend()`) gets explicit transposes; its values
 * then differ from tfjs-core's by float32 rounding only.
 *
 * The gradient is built from differentiable tf ops on the saved inputs `a`,
 * `b` and on `dy`, so nested differentiation (Hessian-vector products via
 * `tf.grad` of a `tf.grad`) works through it.
 *
 * Registered globally (gradients are not per backend in tfjs) by
 * `registerWasmKernels()`, or by hand after tfjs's own gradients are loaded
 * (importing `@tensorflow/tfjs` registers them, and a later registration
 * wins):
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * tf.registerGradient(batchMatMulGradConfig);
 * const g = tf.grad((w: tf.Tensor) => tf.sum(tf.matMul(x3d, w)))(w2d); // broadcast batch: works
 * ```
 */
export const batchMatMulGradConfig: tf.GradConfig = {
  kernelName: tf.BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const g = dy as tf.Tensor;
    const transposeA = (attrs as tf.NamedAttrMap).transposeA === true;
    const transposeB = (attrs as tf.NamedAttrMap).transposeB === true;
    const materialize = tf.getBackend() === 'wasm' && !isFastBatchMatMulRegistered();
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const outer = g.shape.slice(0, -2);
    const batches = outer.reduce((p, d) => p * d, 1);
    const batchesA = outerA.reduce((p, d) => p * d, 1);
    const batchesB = outerB.reduce((p, d) => p * d, 1);

    // The four cases of tfjs-core's gradient, d(a) and d(b) as products.
    const gradA = (): tf.Tensor => {
      if (batches > 1 && batchesA === 1 && batchesB === batches) {
        // a meets every batch: with ā = (transposeA ? aᵀ : a) and b̄ likewise,
        // d(ā) = Σ_i dy_i·b̄_iᵀ = [dy_1 … dy_B]·[b̄_1ᵀ; …; b̄_Bᵀ].
        const bRows = stackRows(transposeB ? b : transposeLast(b));
        const da = tf.matMul(stackColumns(g), bRows);
        return tf.reshape(transposeA ? transposeLast(da) : da, a.shape);
      }
      let da: tf.Tensor;
      if (!transposeA && !transposeB) da = product(g, b, false, true, materialize);
      else if (!transposeA && transposeB) da = product(g, b, false, false, materialize);
      else if (transposeA && !transposeB) da = product(b, g, false, true, materialize);
      else da = product(b, g, true, true, materialize);
      return reduceToShape(da, a.shape);
    };
    const gradB = (): tf.Tensor => {
      if (batches > 1 && batchesB === 1 && batchesA === batches) {
        // b meets every batch: d(b̄) = Σ_i ā_iᵀ·dy_i = [ā_1; …; ā_B]ᵀ·[dy_1; …; dy_B].
        const aRows = stackRows(transposeA ? transposeLast(a) : a);
        const db = product(aRows, stackRows(g), true, false, materialize);
        return tf.reshape(transposeB ? transposeLast(db) : db, b.shape);
      }
      let db: tf.Tensor;
      if (!transposeA && !transposeB) db = product(a, g, true, false, materialize);
      else if (!transposeA && transposeB) db = product(g, a, true, false, materialize);
      else if (transposeA && !transposeB) db = product(a, g, false, false, materialize);
      else db = product(g, a, true, true, materialize);
      return reduceToShape(db, b.shape);
    };
    return { a: gradA, b: gradB };
  },
};
