import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';

/**
 * The parts of `@tensorflow/tfjs-backend-wasm`'s `BackendWasm` (4.x) that
 * polca's wasm kernels touch, typed structurally so that polca never imports
 * the wasm package, not even for its types: users without it lose nothing.
 *
 * `makeOutput`, `typedArrayFromHeap`, `disposeData` and `dataIdMap` are the
 * backend's own kernel-author API. `wasm.cwrap` and `wasm.tfjs` reach the
 * compiled module: `registerTensor`/`disposeData` there only map a tensor id
 * to a heap offset and never allocate or free, which is what lets
 * {@link releaseHeapView} drop a view without freeing its parent's memory.
 *
 * @example
 * ```ts
 * const internals = asWasmInternals(tf.backend());
 * if (internals !== null) {
 *   const view = internals.typedArrayFromHeap(someTensorInfo); // no copy
 * }
 * ```
 */
export interface WasmBackendInternals {
  /** The Emscripten module of the backend. */
  readonly wasm: {
    /** The whole wasm heap; its buffer changes when the heap grows. */
    readonly HEAPU8: Uint8Array;
    /** Emscripten's wrapper factory for exported C functions. */
    cwrap(name: string, returnType: null, argTypes: string[]): (...args: unknown[]) => void;
    /** The backend's C++ tensor table. */
    readonly tfjs: {
      registerTensor(id: number, size: number, memoryOffset: number): void;
      disposeData(id: number): void;
    };
  };
  /** JS-side table of tensor data: numeric id and heap offset per data id. */
  readonly dataIdMap: {
    get(dataId: object): { id: number; memoryOffset: number } | undefined;
    delete(dataId: object): boolean;
  };
  /** Allocates an output (or, with `memoryOffset`, registers existing heap memory). */
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  /** A typed array viewing (not copying) a tensor's heap memory. */
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
  /** Decrements the reference count and frees at zero. */
  disposeData(dataId: object, force?: boolean): boolean;
}

/**
 * Returns `backend` typed as {@link WasmBackendInternals} when it has every
 * member polca uses, else `null` (another backend, or a wasm package whose
 * internals moved).
 *
 * @example
 * ```ts
 * const internals = asWasmInternals(tf.backend());
 * if (internals === null) return fallback(args);
 * ```
 */
export function asWasmInternals(backend: unknown): WasmBackendInternals | null {
  if (typeof backend !== 'object' || backend === null) return null;
  const b = backend as Partial<Record<string, unknown>>;
  const wasm = b.wasm as Partial<Record<string, unknown>> | null | undefined;
  if (wasm == null || typeof wasm.cwrap !== 'function' || !(wasm.HEAPU8 instanceof Uint8Array)) return null;
  const tfjs = wasm.tfjs as Partial<Record<string, unknown>> | null | undefined;
  if (tfjs == null || typeof tfjs.registerTensor !== 'function' || typeof tfjs.disposeData !== 'function') return null;
  const map = b.dataIdMap as Partial<Record<string, unknown>> | null | undefined;
  if (map == null || typeof map.get !== 'function' || typeof map.delete !== 'function') return null;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function' || typeof b.disposeData !== 'function') {
    return null;
  }
  return backend as WasmBackendInternals;
}

/**
 * Registers `size` float32 elements of the heap starting at byte
 * `memoryOffset` as a tensor of `shape`, without allocating: a window into
 * another tensor's memory that C++ kernels can read or write by id.
 * Release it with {@link releaseHeapView}, never with `disposeData` (which
 * would free the parent's memory).
 *
 * @example
 * ```ts
 * const row = createHeapView(internals, [1, n], offsetOfRow);
 * try { useInKernel(row); } finally { releaseHeapView(internals, row); }
 * ```
 */
export function createHeapView(internals: WasmBackendInternals, shape: number[], memoryOffset: number): TensorInfo {
  return internals.makeOutput(shape, 'float32', memoryOffset);
}

/**
 * Forgets a view made by {@link createHeapView}: drops it from both tensor
 * tables (which also runs the C++ disposal callbacks, e.g. deletes XNNPACK
 * operators cached on its id) and leaves the memory to its owner.
 *
 * @example
 * ```ts
 * releaseHeapView(internals, view);
 * ```
 */
export function releaseHeapView(internals: WasmBackendInternals, view: TensorInfo): void {
  const data = internals.dataIdMap.get(view.dataId);
  if (data === undefined) return;
  internals.wasm.tfjs.disposeData(data.id);
  internals.dataIdMap.delete(view.dataId);
}

/**
 * Heap byte offset of a tensor's data.
 *
 * @example
 * ```ts
 * const bytes = internals.wasm.HEAPU8.subarray(heapOffset(internals, t), heapOffset(internals, t) + 4 * size);
 * ```
 */
export function heapOffset(internals: WasmBackendInternals, info: TensorInfo): number {
  const data = internals.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error(`heapOffset: tensor data of shape [${info.shape}] is not on the wasm backend`);
  return data.memoryOffset;
}

/**
 * Numeric id of a tensor in the backend's C++ table (what exported C
 * functions such as `BatchMatMul` take).
 *
 * @example
 * ```ts
 * gemm(heapId(internals, a), aShapeBytes, 3, heapId(internals, b), bShapeBytes, 3, false, false, heapId(internals, out));
 * ```
 */
export function heapId(internals: WasmBackendInternals, info: TensorInfo): number {
  const data = internals.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error(`heapId: tensor data of shape [${info.shape}] is not on the wasm backend`);
  return data.id;
}
