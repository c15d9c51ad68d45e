import { UnsortedSegmentSum, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmInternals } from './wasmInternals.js';

/**
 * `UnsortedSegmentSum` for the wasm backend, which ships none (so the
 * gradient of `tf.gather`, i.e. of every embedding lookup, throws there).
 *
 * Semantics, for `x` of shape `[n, ...inner]`, 1-D int32 `segmentIds` of
 * length `n` and integer `numSegments`: output `[numSegments, ...inner]`,
 * row `s` = Σ of the rows `j` with `segmentIds[j] === s`, rows summed in
 * increasing `j`; ids `< 0` are dropped (as in TensorFlow) and so are ids
 * `≥ numSegments` (as the tfjs cpu backend does; TensorFlow raises there).
 *
 * Bitwise equal to the cpu backend for finite float32 input: both add the
 * rows in the same order into a float64 accumulator and round once. (For a
 * non-finite value in a dropped row the cpu backend yields NaN, because it
 * multiplies by a 0/1 mask; this kernel ignores the row.) The output dtype is
 * `x`'s (`float32` or `int32`); the cpu backend returns float32 for int32 `x`.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * tf.registerKernel(unsortedSegmentSumWasmConfig); // or registerWasmKernels()
 * await tf.setBackend('wasm');
 * tf.unsortedSegmentSum(tf.tensor1d([1, 2, 3]), tf.tensor1d([1, 1, 0], 'int32'), 2).print(); // [3, 3]
 * ```
 */
export const unsortedSegmentSumWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo | undefined;
  const segmentIds = inputs.segmentIds as TensorInfo | undefined;
  const numSegments = (attrs as NamedAttrMap | undefined)?.numSegments as number;
  const internals = asWasmInternals(backend);
  if (internals === null) throw new Error('unsortedSegmentSumWasm: backend is not a tfjs wasm backend');
  if (x === undefined || segmentIds === undefined) {
    throw new Error('unsortedSegmentSumWasm: inputs x and segmentIds are required');
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`unsortedSegmentSumWasm: input 'x' must be float32 or int32, got dtype '${x.dtype}'`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`unsortedSegmentSumWasm: input 'segmentIds' must be int32, got dtype '${segmentIds.dtype}'`);
  }
  if (x.shape.length < 1) throw new Error(`unsortedSegmentSumWasm: input 'x' must have rank ≥ 1, got shape [${x.shape}]`);
  if (segmentIds.shape.length !== 1 || segmentIds.shape[0] !== x.shape[0]) {
    throw new Error(
      `unsortedSegmentSumWasm: input 'segmentIds' must be 1-D of length x.shape[0] = ${x.shape[0]}, got shape [${segmentIds.shape}]`,
    );
  }
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`unsortedSegmentSumWasm: attribute 'numSegments' must be a non-negative integer, got ${String(numSegments)}`);
  }

  const n = x.shape[0];
  const inner = x.shape.slice(1).reduce((p, d) => p * d, 1);
  // Float64 accumulation, one rounding at the end: the cpu backend's Sum does the same.
  const acc = new Float64Array(numSegments * inner);
  // Views into the heap; read before makeOutput, which may grow (and detach) it.
  const xs = internals.typedArrayFromHeap(x);
  const ids = internals.typedArrayFromHeap(segmentIds);
  for (let j = 0; j < n; j++) {
    const s = ids[j];
    if (s < 0 || s >= numSegments) continue;
    const src = j * inner;
    const dst = s * inner;
    for (let c = 0; c < inner; c++) acc[dst + c] += xs[src + c];
  }
  const out = internals.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype);
  if (acc.length > 0) internals.typedArrayFromHeap(out).set(acc);
  return out;
};

/**
 * Kernel registration for {@link unsortedSegmentSumWasm}
 * (`tf.registerKernel(unsortedSegmentSumWasmConfig)`).
 *
 * @example
 * ```ts
 * if (tf.getKernel('UnsortedSegmentSum', 'wasm') === undefined) tf.registerKernel(unsortedSegmentSumWasmConfig);
 * ```
 */
export const unsortedSegmentSumWasmConfig: KernelConfig = {
  kernelName: UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSumWasm,
};
