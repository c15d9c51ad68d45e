import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulGradConfig } from '../../../src/engine/wasm/batchMatMulGrad.js';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';
import { unsortedSegmentSumWasmConfig } from '../../../src/engine/wasm/unsortedSegmentSum.js';

let stockMatMul: tf.KernelConfig;
let coreGrad: tf.GradConfig;

beforeAll(async () => {
  stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm')!;
  coreGrad = tf.getGradient(tf.BatchMatMul)!;
  await tf.setBackend('wasm');
  await tf.ready();
});

afterEach(() => vi.restoreAllMocks());

describe('registerWasmKernels', () => {
  it('starts from a registry without polca pieces', () => {
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBeUndefined();
    expect(tf.getGradient(tf.BatchMatMul)).not.toBe(batchMatMulGradConfig);
  });

  it('adds pieces as options allow, never removes one, and is idempotent, without console output', () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    const stockGather = tf.getKernel(tf.GatherV2, 'wasm');
    const stockIdentity = tf.getKernel(tf.Identity, 'wasm');
    const first = registerWasmKernels({ fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false });
    expect(first).toEqual({ wasmBackend: true, unsortedSegmentSum: true, fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false });
    expect(tf.getKernel(tf.Identity, 'wasm')).toBe(stockIdentity);
    expect(tf.getKernel(tf.GatherV2, 'wasm')).toBe(stockGather);
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBe(unsortedSegmentSumWasmConfig);
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(stockMatMul);
    expect(tf.getGradient(tf.BatchMatMul)).toBe(coreGrad);

    const all = registerWasmKernels();
    expect(all).toEqual({ wasmBackend: true, unsortedSegmentSum: true, fastBatchMatMul: true, batchMatMulGradient: true, fastGather: true, sharedIdentity: true });
    expect(tf.getKernel(tf.Identity, 'wasm')).not.toBe(stockIdentity);
    expect(tf.getKernel(tf.GatherV2, 'wasm')).not.toBe(stockGather);
    const fast = tf.getKernel(tf.BatchMatMul, 'wasm');
    expect(fast).not.toBe(stockMatMul);
    expect(fast?.setupFunc).toBe(stockMatMul.setupFunc);
    expect(tf.getGradient(tf.BatchMatMul)).toBe(batchMatMulGradConfig);

    expect(registerWasmKernels()).toEqual(all);
    expect(tf.getKernel(tf.BatchMatMul, 'wasm')).toBe(fast); // not wrapped twice
    expect(registerWasmKernels({ fastBatchMatMul: false, batchMatMulGradient: false, fastGather: false, sharedIdentity: false })).toEqual(all);
    expect(warn).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
  });

  it('makes an embedding + attention-style model trainable on wasm, matching cpu', async () => {
    registerWasmKernels();
    const step = () =>
      tf.tidy(() => {
        const emb = tf.tensor2d(Array.from({ length: 40 }, (_, i) => Math.sin(i)), [10, 4]);
        const w = tf.tensor3d(Array.from({ length: 2 * 4 * 4 }, (_, i) => Math.cos(i) / 2), [2, 4, 4]);
        const ids = tf.tensor1d([1, 3, 3, 7, 0, 9], 'int32');
        const [gEmb, gW] = tf.grads((e: tf.Tensor, ww: tf.Tensor) => {
          const x = tf.reshape(tf.gather(e, ids), [2, 3, 4]);
          const scores = tf.matMul(tf.matMul(x, ww), x, false, true);
          return tf.sum(tf.square(tf.matMul(tf.softmax(scores), x)));
        })([emb, w]);
        return [Array.from(gEmb.dataSync()), Array.from(gW.dataSync())];
      });
    const wasm = step();
    await tf.setBackend('cpu');
    const cpu = step();
    await tf.setBackend('wasm');
    for (let t = 0; t < 2; t++) {
      const err = Math.max(...wasm[t].map((v, i) => Math.abs(v - cpu[t][i])));
      const scale = Math.max(1, ...cpu[t].map(Math.abs));
      expect(err / scale).toBeLessThan(1e-5);
    }
  });

  it('rejects a non-boolean option, naming it', () => {
    expect(() => registerWasmKernels({ fastBatchMatMul: 'yes' as unknown as boolean })).toThrow(/registerWasmKernels.*fastBatchMatMul.*"yes"/);
  });
});
