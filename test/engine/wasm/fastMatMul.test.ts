import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { FAST_MATMUL_MIN_WORK, createFastBatchMatMulConfig, isFastBatchMatMulConfig, isFastBatchMatMulRegistered } from '../../../src/engine/wasm/fastMatMul.js';
import { caseName, matMulCases, referenceMatMul, relativeError, seededValues, size } from './matMulReference.js';

let stock: tf.KernelConfig;
let fallbackCalls = 0;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  stock = tf.getKernel(tf.BatchMatMul, 'wasm')!;
  // Count delegations to the stock kernel, to know which path each case took.
  const counted: tf.KernelConfig = {
    ...stock,
    kernelFunc: (args) => {
      fallbackCalls++;
      return stock.kernelFunc(args);
    },
  };
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(createFastBatchMatMulConfig(counted));
});

afterAll(() => {
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(stock);
});

function run(c: ReturnType<typeof matMulCases>[number], seed: number) {
  const av = seededValues(size(c.aShape), seed);
  const bv = seededValues(size(c.bShape), seed + 1);
  const ref = referenceMatMul(c, av, bv);
  const calls = fallbackCalls;
  const out = tf.tidy(() => tf.matMul(tf.tensor(av, c.aShape), tf.tensor(bv, c.bShape), c.transposeA, c.transposeB));
  const delegated = fallbackCalls > calls;
  const values = out.dataSync();
  const shape = out.shape;
  out.dispose();
  return { ref, values, shape, delegated };
}

describe('createFastBatchMatMulConfig on wasm', () => {
  // m·k·n = 24·20·28 = 13440 ≥ FAST_MATMUL_MIN_WORK: the XNNPACK path.
  const big = matMulCases({ m: 24, k: 20, n: 28 });
  it.each(big.map((c) => [caseName(c), c] as const))('%s equals the float64 product', (_name, c) => {
    expect(24 * 20 * 28).toBeGreaterThanOrEqual(FAST_MATMUL_MIN_WORK);
    const { ref, values, shape, delegated } = run(c, 11);
    expect(shape).toEqual(ref.outShape);
    expect(relativeError(values, ref.out)).toBeLessThan(1e-5);
    const untransposedSingle = !c.transposeA && !c.transposeB && size(c.aShape.slice(0, -2)) === 1 && size(c.bShape.slice(0, -2)) === 1;
    // Only the untransposed un-batched product (already XNNPACK in tfjs) is left to the stock kernel.
    expect(delegated).toBe(untransposedSingle);
  });

  it('computes tiny batches that broadcast against each other itself (tfjs returns 3 of 6 batches)', () => {
    const c = { aShape: [2, 1, 3, 2], bShape: [1, 3, 2, 4], transposeA: false, transposeB: false };
    const { ref, values, shape, delegated } = run(c, 9);
    expect(delegated).toBe(false);
    expect(shape).toEqual([2, 3, 3, 4]);
    expect(values.length).toBe(72);
    expect(relativeError(values, ref.out)).toBeLessThan(1e-6);
  });

  it('multiplies many small batches against one b in a single XNNPACK call', () => {
    const c = { aShape: [64, 4, 8], bShape: [8, 6], transposeA: false, transposeB: false };
    expect(4 * 8 * 6).toBeLessThan(FAST_MATMUL_MIN_WORK);
    expect(64 * 4 * 8 * 6).toBeGreaterThanOrEqual(FAST_MATMUL_MIN_WORK);
    const { ref, values, delegated } = run(c, 13);
    expect(delegated).toBe(false);
    expect(relativeError(values, ref.out)).toBeLessThan(1e-6);
  });

  it('leaves tiny products to the stock kernel, with the same result', () => {
    const c = { aShape: [5, 4, 3], bShape: [5, 6, 3], transposeA: false, transposeB: true };
    const { ref, values, delegated } = run(c, 3);
    expect(delegated).toBe(true);
    expect(relativeError(values, ref.out)).toBeLessThan(1e-6);
  });

  it('releases every temporary and heap view (tensors and backend data ids)', () => {
    const a = tf.tensor(seededValues(3 * 32 * 24, 5), [3, 32, 24]);
    const b = tf.tensor(seededValues(3 * 40 * 24, 6), [3, 40, 24]);
    const b2 = tf.tensor(seededValues(40 * 24, 7), [24, 40]);
    const once = () => {
      tf.matMul(a, b, false, true).dispose();
      tf.matMul(a, b2).dispose();
      tf.matMul(a, a, true, false).dispose();
    };
    once();
    const tensors = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) once();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(dataIds);
    tf.dispose([a, b, b2]);
  });

  it('gives the same values on repeated calls with new operands (no stale XNNPACK weights)', () => {
    const c = { aShape: [2, 24, 20], bShape: [2, 20, 28], transposeA: false, transposeB: false };
    const first = run(c, 21);
    const second = run(c, 31);
    expect(relativeError(second.values, second.ref.out)).toBeLessThan(1e-5);
    expect(relativeError(first.values, first.ref.out)).toBeLessThan(1e-5);
  });

  it('recognises its own configs', () => {
    expect(isFastBatchMatMulConfig(createFastBatchMatMulConfig(stock))).toBe(true);
    expect(isFastBatchMatMulConfig(stock)).toBe(false);
    expect(isFastBatchMatMulRegistered()).toBe(true);
  });

  it('rejects a config that is not the wasm BatchMatMul', () => {
    expect(() => createFastBatchMatMulConfig({ ...stock, backendName: 'cpu' })).toThrow(/createFastBatchMatMulConfig.*original.*BatchMatMul\/cpu/);
  });
});
