import * as tf from '@tensorflow/tfjs-core';
import { fail } from '../../errors/validate.js';
import { batchMatMulGradConfig } from './batchMatMulGrad.js';
import { createFastGatherConfig, isFastGatherConfig } from './fastGather.js';
import { createSharedIdentityConfig, isSharedIdentityConfig } from './sharedIdentity.js';
import { createFastBatchMatMulConfig, isFastBatchMatMulConfig } from './fastMatMul.js';
import { unsortedSegmentSumWasmConfig } from './unsortedSegmentSum.js';

/** Which pieces {@link registerWasmKernels} installed (or found installed). */
export interface WasmKernelsStatus {
  /** Whether `@tensorflow/tfjs-backend-wasm` had registered its kernels in this tfjs instance. Without it nothing is installed. */
  readonly wasmBackend: boolean;
  /** polca's `UnsortedSegmentSum` kernel is registered for wasm (false also when the wasm package brings its own). */
  readonly unsortedSegmentSum: boolean;
  /** polca's `BatchMatMul` kernel (XNNPACK for transposed and batched products) is registered for wasm. */
  readonly fastBatchMatMul: boolean;
  /** polca's `BatchMatMul` gradient is the registered one. */
  readonly batchMatMulGradient: boolean;
  /** polca's `GatherV2` kernel (slice copies for embedding lookups) is registered for wasm. */
  readonly fastGather: boolean;
  /** polca's `Identity` kernel (shares the buffer instead of copying it) is registered for wasm. */
  readonly sharedIdentity: boolean;
}

/** Options of {@link registerWasmKernels}. */
export interface RegisterWasmKernelsOptions {
  /** Install the XNNPACK-backed `BatchMatMul` kernel for wasm. Default `true`. */
  readonly fastBatchMatMul?: boolean;
  /** Install the `BatchMatMul` gradient ({@link batchMatMulGradConfig}). Default `true`. */
  readonly batchMatMulGradient?: boolean;
  /** Install the slice-copying `GatherV2` kernel for wasm. Default `true`. */
  readonly fastGather?: boolean;
  /** Install the buffer-sharing `Identity` kernel for wasm, which halves what a backward pass keeps. Default `true`. */
  readonly sharedIdentity?: boolean;
}

function checkFlag(options: object, name: keyof RegisterWasmKernelsOptions): boolean {
  const value = (options as Record<string, unknown>)[name];
  if (value === undefined) return true;
  if (typeof value !== 'boolean') fail('registerWasmKernels', name, 'a boolean', value);
  return value;
}

/**
 * Makes the tfjs wasm backend complete and fast for training small
 * transformers, in the tfjs instance polca shares with the caller
 * (`@tensorflow/tfjs-core`, a peer dependency):
 * - `UnsortedSegmentSum` for wasm (the backend has none, so the gradient of
 *   `tf.gather` — every embedding — throws there);
 * - a wasm `BatchMatMul` kernel that runs transposed and batched products on
 *   XNNPACK instead of the stock scalar loop (see `createFastBatchMatMulConfig`);
 * - a wasm `GatherV2` kernel that copies whole slices (embedding rows)
 *   instead of computing each element's source (see `createFastGatherConfig`);
 * - a wasm `Identity` kernel that shares its input's buffer instead of
 *   copying it; tfjs clones every tensor a gradient saves, so this halves the
 *   memory a backward pass keeps (see `createSharedIdentityConfig`);
 * - a `BatchMatMul` gradient that materialises transposes on wasm and
 *   supports broadcast batch dimensions, and is otherwise tfjs-core's own
 *   (see {@link batchMatMulGradConfig}: on every other backend, products
 *   without broadcasting are computed exactly as before). Gradients are
 *   global in tfjs, so this one replaces tfjs-core's for all backends.
 *
 * Call it after importing `@tensorflow/tfjs` (which registers tfjs's own
 * gradients: a later registration wins) and `@tensorflow/tfjs-backend-wasm`
 * (importing that package later would put its own `BatchMatMul` back).
 * Without the wasm package loaded it installs nothing and says so; it never
 * imports that package. Idempotent: a second call changes nothing; a call
 * with an option newly `true` adds that piece; `false` never removes one.
 *
 * @returns what is installed after the call.
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { registerWasmKernels } from 'polca';
 *
 * const status = registerWasmKernels();
 * // { wasmBackend: true, unsortedSegmentSum: true, fastBatchMatMul: true, batchMatMulGradient: true, fastGather: true, sharedIdentity: true }
 * await tf.setBackend('wasm');
 * ```
 */
export function registerWasmKernels(options: RegisterWasmKernelsOptions = {}): WasmKernelsStatus {
  if (typeof options !== 'object' || options === null) fail('registerWasmKernels', 'options', 'an object', options);
  const wantFast = checkFlag(options, 'fastBatchMatMul');
  const wantGrad = checkFlag(options, 'batchMatMulGradient');
  const wantGather = checkFlag(options, 'fastGather');
  const wantIdentity = checkFlag(options, 'sharedIdentity');
  const currentMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (currentMatMul === undefined) {
    return { wasmBackend: false, unsortedSegmentSum: false, fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false };
  }

  const segmentSum = tf.getKernel(tf.UnsortedSegmentSum, 'wasm');
  if (segmentSum === undefined) tf.registerKernel(unsortedSegmentSumWasmConfig);

  if (wantFast && !isFastBatchMatMulConfig(currentMatMul)) {
    const fast = createFastBatchMatMulConfig(currentMatMul);
    // Unregister first: registerKernel would warn on the console when overwriting.
    tf.unregisterKernel(tf.BatchMatMul, 'wasm');
    tf.registerKernel(fast);
  }

  const currentGather = tf.getKernel(tf.GatherV2, 'wasm');
  if (wantGather && currentGather !== undefined && !isFastGatherConfig(currentGather)) {
    const fast = createFastGatherConfig(currentGather);
    tf.unregisterKernel(tf.GatherV2, 'wasm');
    tf.registerKernel(fast);
  }

  const currentIdentity = tf.getKernel(tf.Identity, 'wasm');
  if (wantIdentity && currentIdentity !== undefined && !isSharedIdentityConfig(currentIdentity)) {
    const shared = createSharedIdentityConfig(currentIdentity);
    tf.unregisterKernel(tf.Identity, 'wasm');
    tf.registerKernel(shared);
  }

  if (wantGrad && tf.getGradient(tf.BatchMatMul) !== batchMatMulGradConfig) {
    tf.registerGradient(batchMatMulGradConfig);
  }

  const matMulNow = tf.getKernel(tf.BatchMatMul, 'wasm');
  const gatherNow = tf.getKernel(tf.GatherV2, 'wasm');
  const identityNow = tf.getKernel(tf.Identity, 'wasm');
  return {
    wasmBackend: true,
    unsortedSegmentSum: tf.getKernel(tf.UnsortedSegmentSum, 'wasm') === unsortedSegmentSumWasmConfig,
    fastBatchMatMul: matMulNow !== undefined && isFastBatchMatMulConfig(matMulNow),
    batchMatMulGradient: tf.getGradient(tf.BatchMatMul) === batchMatMulGradConfig,
    fastGather: gatherNow !== undefined && isFastGatherConfig(gatherNow),
    sharedIdentity: identityNow !== undefined && isSharedIdentityConfig(identityNow),
  };
}
