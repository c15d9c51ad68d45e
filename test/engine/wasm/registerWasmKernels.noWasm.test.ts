// No '@tensorflow/tfjs-backend-wasm' import here: the registry has no wasm kernels,
// as for a user who does not have the package.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';

describe('registerWasmKernels without the wasm backend', () => {
  it('installs nothing, says so and does not throw', () => {
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBeUndefined();
    const gradBefore = tf.getGradient(tf.BatchMatMul);
    const status = registerWasmKernels();
    expect(status).toEqual({ wasmBackend: false, unsortedSegmentSum: false, fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false });
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBeUndefined();
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBeUndefined();
    expect(tf.getGradient(tf.BatchMatMul)).toBe(gradBefore);
    expect(tf.getKernelsForBackend('wasm')).toHaveLength(0);
  });
});
