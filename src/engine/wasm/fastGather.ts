import { GatherV2, util, type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { asWasmInternals, heapOffset } from './wasmInternals.js';

const fastConfigs = new WeakSet<KernelConfig>();

/**
 * Whether `config` was made by {@link createFastGatherConfig}.
 *
 * @example
 * ```ts
 * if (!isFastGatherConfig(current)) tf.registerKernel(createFastGatherConfig(current));
 * ```
 */
export function isFastGatherConfig(config: KernelConfig): boolean {
  return fastConfigs.has(config);
}

// Below this many bytes per slice, an element loop beats one copyWithin call per slice.
const MIN_SLICE_BYTES = 64;

/**
 * Wraps the wasm backend's own `GatherV2` kernel (`original`) with a copy by
 * slices for the common case `batchDims = 0` — embedding lookups above all.
 *
 * The stock kernel computes every output element's source through strided
 * index arithmetic in C++, about 100 ns per element: 6 ms to look up 512
 * tokens of width 128, more than a d = 128 layer's matMuls. Here each
 * gathered slice (`x[o, idx, …]`, contiguous) is one `copyWithin` on the wasm
 * heap (or a short element loop for narrow slices), bit-exact.
 *
 * Indices are checked as the stock kernel checks them (out of `[0, dim)`
 * throws, with its message). Delegates to `original` for `batchDims ≠ 0`,
 * string tensors, empty tensors, and any backend whose internals do not look
 * like tfjs-backend-wasm 4.x.
 *
 * @param original - the config registered by `@tensorflow/tfjs-backend-wasm`
 *   for `GatherV2`; its `setupFunc`/`disposeFunc` are kept.
 * @example
 * ```ts
 * const original = tf.getKernel('GatherV2', 'wasm')!;
 * tf.unregisterKernel('GatherV2', 'wasm');
 * tf.registerKernel(createFastGatherConfig(original));
 * ```
 */
export function createFastGatherConfig(original: KernelConfig): KernelConfig {
  if (original.kernelName !== GatherV2 || original.backendName !== 'wasm') {
    throw new Error(
      `createFastGatherConfig: option 'original' must be the wasm GatherV2 kernel, got ${original.kernelName}/${original.backendName}`,
    );
  }
  const fallback = original.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const internals = asWasmInternals(args.backend);
    const x = args.inputs.x as TensorInfo;
    const indices = args.inputs.indices as TensorInfo;
    const attrs = args.attrs as NamedAttrMap;
    const batchDims = (attrs.batchDims as number | undefined) ?? 0;
    if (internals === null || batchDims !== 0 || x.dtype === 'string' || x.dtype === 'complex64' || indices.dtype !== 'int32') {
      return fallback(args);
    }
    const axis = util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const dim = x.shape[axis];
    const outer = util.sizeFromShape(x.shape.slice(0, axis));
    const slice = util.sizeFromShape(x.shape.slice(axis + 1));
    const count = util.sizeFromShape(indices.shape);
    if (outer * dim * slice === 0 || count === 0) return fallback(args);

    const idx = internals.typedArrayFromHeap(indices);
    for (let i = 0; i < count; i++) {
      const v = idx[i];
      util.assert(v >= 0 && v <= dim - 1, () => `GatherV2: the index value ${v} is not in [0, ${dim - 1}]`);
    }
    const out = internals.makeOutput([...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)], x.dtype);
    // Offsets after makeOutput: allocation may have grown (moved) the heap buffer.
    const bytes = util.bytesPerElement(x.dtype);
    const src = heapOffset(internals, x);
    const dst = heapOffset(internals, out);
    const ids = internals.typedArrayFromHeap(indices);
    const sliceBytes = slice * bytes;
    if (sliceBytes >= MIN_SLICE_BYTES || bytes !== 4) {
      const heap = internals.wasm.HEAPU8;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < count; i++) {
          const from = src + (o * dim + ids[i]) * sliceBytes;
          heap.copyWithin(dst + (o * count + i) * sliceBytes, from, from + sliceBytes);
        }
      }
    } else {
      // 4-byte elements moved as int32: bit-exact for float32 too.
      const heap = new Int32Array(internals.wasm.HEAPU8.buffer);
      const s0 = src >> 2;
      const d0 = dst >> 2;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < count; i++) {
          const from = s0 + (o * dim + ids[i]) * slice;
          const to = d0 + (o * count + i) * slice;
          for (let c = 0; c < slice; c++) heap[to + c] = heap[from + c];
        }
      }
    }
    return out;
  };
  const config: KernelConfig = { ...original, kernelFunc };
  fastConfigs.add(config);
  return config;
}
