// Registration before the wasm backend is initialised: the stock kernels'
// setup functions (kept by polca's wrappers) must still run at init.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';
import { referenceMatMul, relativeError, seededValues, size, type MatMulCase } from './matMulReference.js';

describe('registerWasmKernels before tf.setBackend("wasm")', () => {
  it('gives working kernels once the backend initialises', async () => {
    const status = registerWasmKernels();
    expect(status.fastBatchMatMul && status.fastGather && status.unsortedSegmentSum).toBe(true);
    await tf.setBackend('wasm');
    await tf.ready();
    // Tiny (stock fallback), untransposed 2-D (stock XNNPACK path) and transposed batched (polca path).
    const cases: MatMulCase[] = [
      { aShape: [3, 4], bShape: [5, 4], transposeA: false, transposeB: true },
      { aShape: [30, 40], bShape: [40, 20], transposeA: false, transposeB: false },
      { aShape: [2, 40, 30], bShape: [2, 20, 40], transposeA: true, transposeB: true },
    ];
    for (const c of cases) {
      const a = seededValues(size(c.aShape), 1);
      const b = seededValues(size(c.bShape), 2);
      const out = tf.tidy(() => tf.matMul(tf.tensor(a, c.aShape), tf.tensor(b, c.bShape), c.transposeA, c.transposeB).dataSync());
      expect(relativeError(out, referenceMatMul(c, a, b).out)).toBeLessThan(1e-5);
    }
    const g = tf.tidy(() => {
      const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
      return Array.from(tf.grad((p: tf.Tensor) => tf.sum(tf.gather(p, tf.tensor1d([2, 2, 0], 'int32'))))(x).dataSync());
    });
    expect(g).toEqual([1, 1, 0, 0, 2, 2]);
  });
});
