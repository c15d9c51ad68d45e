import {
  BatchMatMul,
  Transpose,
  broadcast_util,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import {
  asWasmInternals,
  createHeapView,
  heapId,
  heapOffset,
  releaseHeapView,
  type WasmBackendInternals,
} from './wasmInternals.js';

/**
 * Smallest m·k·n of one XNNPACK call for which {@link createFastBatchMatMulConfig}
 * routes a product through XNNPACK (one call per batch, or one call for all
 * batches when `b` has a single batch); below it the stock kernel's plain
 * loop wins over the per-call set-up (XNNPACK packs `b` on every call).
 * Measured on Node 20, SIMD, one thread: at 16³ the loop is still faster, at
 * 32³ XNNPACK is 2–4× faster; they break even near 20³.
 */
export const FAST_MATMUL_MIN_WORK = 8192;

type WasmBatchMatMul = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;

const fastConfigs = new WeakSet<KernelConfig>();

/**
 * Whether the `BatchMatMul` kernel registered for wasm now is one made by
 * {@link createFastBatchMatMulConfig} (which runs transposed products fast
 * itself, so callers need not materialise transposes).
 *
 * @example
 * ```ts
 * const flagsAreFast = tf.getBackend() === 'wasm' && isFastBatchMatMulRegistered();
 * ```
 */
export function isFastBatchMatMulRegistered(): boolean {
  const config = getKernel(BatchMatMul, 'wasm');
  return config !== undefined && isFastBatchMatMulConfig(config);
}

/**
 * Whether `config` was made by {@link createFastBatchMatMulConfig} (so
 * wrapping it again would only add a layer).
 *
 * @example
 * ```ts
 * if (!isFastBatchMatMulConfig(current)) tf.registerKernel(createFastBatchMatMulConfig(current));
 * ```
 */
export function isFastBatchMatMulConfig(config: KernelConfig): boolean {
  return fastConfigs.has(config);
}

// One wrapper per backend instance: a re-created backend has a new module.
const wrappers = new WeakMap<object, WasmBatchMatMul>();

function wasmBatchMatMul(internals: WasmBackendInternals): WasmBatchMatMul {
  let fn = wrappers.get(internals);
  if (fn === undefined) {
    fn = internals.wasm.cwrap(BatchMatMul, null, [
      'number', 'array', 'number', 'number', 'array', 'number', 'number', 'number', 'number',
    ]) as unknown as WasmBatchMatMul;
    wrappers.set(internals, fn);
  }
  return fn;
}

function shapeBytes(m: number, n: number): Uint8Array {
  return new Uint8Array(new Int32Array([1, m, n]).buffer);
}

/** Offsets (in batches) of `a` and `b` for each output batch, under broadcasting of the outer dims. */
function batchOffsets(outerA: number[], outerB: number[], outer: number[]): [Int32Array, Int32Array] {
  const rank = outer.length;
  const total = outer.reduce((p, d) => p * d, 1);
  const offA = new Int32Array(total);
  const offB = new Int32Array(total);
  const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
  const sa = pad(outerA);
  const sb = pad(outerB);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < total; i++) {
    let oa = 0;
    let ob = 0;
    for (let d = 0; d < rank; d++) {
      oa = oa * sa[d] + (sa[d] === 1 ? 0 : idx[d]);
      ob = ob * sb[d] + (sb[d] === 1 ? 0 : idx[d]);
    }
    offA[i] = oa;
    offB[i] = ob;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return [offA, offB];
}

function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

/**
 * Wraps the wasm backend's own `BatchMatMul` kernel (`original`) so that
 * transposed and batched products also run on XNNPACK's SIMD GEMM.
 *
 * The stock wasm kernel (tfjs 4.x) uses XNNPACK only for an untransposed
 * product of two un-batched matrices and otherwise falls back to a scalar
 * triple loop, 5–10× slower at transformer sizes — and that fallback is what
 * every matMul gradient (`matMul(dy, b, false, true)`, …) and every attention
 * product hits. This kernel:
 * - materialises a transposed operand with the backend's `Transpose` kernel;
 * - when `b` has one batch, multiplies all of `a`'s batches at once as one
 *   `[batches·m, k] × [k, n]` product;
 * - otherwise multiplies batch by batch, each through XNNPACK, reading the
 *   operands and writing the output in place through heap views (no copies),
 *   with broadcasting of the batch dimensions as `tf.matMul` defines it.
 * It delegates to `original` for non-float32 inputs, empty or tiny products
 * (see {@link FAST_MATMUL_MIN_WORK}), the already-fast case, shape errors, and
 * any backend whose internals do not look like tfjs-backend-wasm 4.x.
 *
 * It also fixes a tfjs 4.x bug: when both operands have several batches that
 * broadcast against each other (`[2, 1, m, k] × [1, 3, k, n]`), the stock
 * kernels (wasm and cpu) compute only max(2, 3) of the 6 output batches.
 * Such products always take this kernel's path, whatever their size.
 *
 * Results equal the stock kernel's within float32 rounding (XNNPACK sums in
 * another order), not bitwise.
 *
 * @param original - the config registered by `@tensorflow/tfjs-backend-wasm`
 *   for `BatchMatMul`; its `setupFunc`/`disposeFunc` are kept.
 * @example
 * ```ts
 * const original = tf.getKernel('BatchMatMul', 'wasm')!;
 * tf.unregisterKernel('BatchMatMul', 'wasm');
 * tf.registerKernel(createFastBatchMatMulConfig(original));
 * ```
 */
export function createFastBatchMatMulConfig(original: KernelConfig): KernelConfig {
  if (original.kernelName !== BatchMatMul || original.backendName !== 'wasm') {
    throw new Error(
      `createFastBatchMatMulConfig: option 'original' must be the wasm BatchMatMul kernel, got ${original.kernelName}/${original.backendName}`,
    );
  }
  const fallback = original.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const internals = asWasmInternals(args.backend);
    const a = args.inputs.a as TensorInfo;
    const b = args.inputs.b as TensorInfo;
    const attrs = args.attrs as NamedAttrMap;
    const transposeA = attrs.transposeA === true;
    const transposeB = attrs.transposeB === true;
    if (internals === null || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const ar = a.shape.length;
    const br = b.shape.length;
    if (ar < 2 || br < 2) return fallback(args);
    const m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2];
    const k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1];
    const kB = transposeB ? b.shape[br - 1] : b.shape[br - 2];
    const n = transposeB ? b.shape[br - 2] : b.shape[br - 1];
    const outerA = a.shape.slice(0, -2);
    const outerB = b.shape.slice(0, -2);
    const batchesA = outerA.reduce((p, d) => p * d, 1);
    const batchesB = outerB.reduce((p, d) => p * d, 1);
    // tfjs's kernels index batches modulo each operand's batch count, which is
    // right only when one operand has one batch or both have the same count.
    const stockBroadcasts = batchesA === batchesB || batchesA === 1 || batchesB === 1;
    // Work of one XNNPACK call: all of a's batches go in one call when b has a single batch.
    const work = (batchesB === 1 ? batchesA * m : m) * k * n;
    if (k !== kB || (work < FAST_MATMUL_MIN_WORK && stockBroadcasts) || m * k * n === 0) return fallback(args);
    if (!transposeA && !transposeB && batchesA === 1 && batchesB === 1) return fallback(args);
    let outer: number[];
    try {
      outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
    } catch {
      return fallback(args); // its error message is tfjs's own
    }
    if (outer.includes(0)) return fallback(args);
    const transpose = getKernel(Transpose, 'wasm');
    if (transpose === undefined) return fallback(args);

    const temps: TensorInfo[] = [];
    const views: TensorInfo[] = [];
    try {
      const aa = transposeA
        ? (transpose.kernelFunc({ inputs: { x: a }, backend: args.backend, attrs: { perm: swapLastTwo(ar) } }) as TensorInfo)
        : a;
      if (transposeA) temps.push(aa);
      const bb = transposeB
        ? (transpose.kernelFunc({ inputs: { x: b }, backend: args.backend, attrs: { perm: swapLastTwo(br) } }) as TensorInfo)
        : b;
      if (transposeB) temps.push(bb);
      const out = internals.makeOutput([...outer, m, n], 'float32');
      temps.push(out); // until it is returned
      const gemm = wasmBatchMatMul(internals);
      const batches = outer.reduce((p, d) => p * d, 1);
      if (batchesB === 1 && batchesA === batches) {
        // Every batch of a meets the same b: one tall product.
        gemm(heapId(internals, aa), shapeBytes(batches * m, k), 3, heapId(internals, bb), shapeBytes(k, n), 3, false, false, heapId(internals, out));
        temps.pop();
        return out;
      }
      const [offA, offB] = batchOffsets(outerA, outerB, outer);
      const baseA = heapOffset(internals, aa);
      const baseB = heapOffset(internals, bb);
      const baseOut = heapOffset(internals, out);
      const aShape = shapeBytes(m, k);
      const bShape = shapeBytes(k, n);
      for (let i = 0; i < batches; i++) {
        const av = createHeapView(internals, [m, k], baseA + offA[i] * m * k * 4);
        views.push(av);
        // A fresh id per b slice: XNNPACK caches its packed weights by b's id,
        // and releasing the view deletes that cache entry.
        const bv = createHeapView(internals, [k, n], baseB + offB[i] * k * n * 4);
        views.push(bv);
        const ov = createHeapView(internals, [m, n], baseOut + i * m * n * 4);
        views.push(ov);
        gemm(heapId(internals, av), aShape, 3, heapId(internals, bv), bShape, 3, false, false, heapId(internals, ov));
        while (views.length > 0) releaseHeapView(internals, views.pop()!);
      }
      temps.pop();
      return out;
    } finally {
      while (views.length > 0) releaseHeapView(internals, views.pop()!);
      for (const t of temps) internals.disposeData(t.dataId);
    }
  };
  const config: KernelConfig = { ...original, kernelFunc };
  fastConfigs.add(config);
  return config;
}
