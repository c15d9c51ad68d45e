import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createFastGatherConfig } from '../../../src/engine/wasm/fastGather.js';
import { seededValues, size } from './matMulReference.js';

let stock: tf.KernelConfig;
let fast: tf.KernelConfig;
let fallbackCalls = 0;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  stock = tf.getKernel(tf.GatherV2, 'wasm')!;
  fast = createFastGatherConfig({
    ...stock,
    kernelFunc: (args) => {
      fallbackCalls++;
      return stock.kernelFunc(args);
    },
  });
});

afterAll(() => use(stock));

function use(config: tf.KernelConfig): void {
  tf.unregisterKernel(tf.GatherV2, 'wasm');
  tf.registerKernel(config);
}

interface Case { name: string; shape: number[]; dtype: tf.DataType; indices: number[]; indicesShape: number[]; axis: number; batchDims?: number }

function gather(c: Case, config: tf.KernelConfig): { values: number[]; shape: number[]; dtype: string; delegated: boolean } {
  use(config);
  const calls = fallbackCalls;
  const raw = seededValues(size(c.shape), size(c.shape));
  const data = c.dtype === 'float32' ? raw : Int32Array.from(raw, (v) => (c.dtype === 'bool' ? (v > 0 ? 1 : 0) : Math.round(v * 1000)));
  return tf.tidy(() => {
    const x = tf.tensor(data, c.shape, c.dtype);
    const out = tf.gather(x, tf.tensor(c.indices, c.indicesShape, 'int32'), c.axis, c.batchDims ?? 0);
    return { values: Array.from(out.dataSync()), shape: out.shape, dtype: out.dtype, delegated: fallbackCalls > calls };
  });
}

/** Brute force: out[o, i…, s] = x[o, idx[i…], s]. */
function bruteForce(c: Case, x: ArrayLike<number>): number[] {
  const outer = size(c.shape.slice(0, c.axis));
  const dim = c.shape[c.axis];
  const slice = size(c.shape.slice(c.axis + 1));
  const out: number[] = [];
  for (let o = 0; o < outer; o++) for (const i of c.indices) for (let s = 0; s < slice; s++) out.push(x[(o * dim + i) * slice + s]);
  return out;
}

const cases: Case[] = [
  { name: 'embedding rows (wide slices)', shape: [50, 32], dtype: 'float32', indices: [3, 49, 3, 0, 17, 17], indicesShape: [6], axis: 0 },
  { name: '2-D indices', shape: [20, 24], dtype: 'float32', indices: [1, 2, 3, 19, 0, 1], indicesShape: [2, 3], axis: 0 },
  { name: 'middle axis', shape: [3, 10, 20], dtype: 'float32', indices: [9, 0, 4], indicesShape: [3], axis: 1 },
  { name: 'last axis (one element per slice)', shape: [4, 6], dtype: 'float32', indices: [5, 5, 1], indicesShape: [3], axis: -1 },
  { name: 'narrow slices', shape: [30, 3], dtype: 'float32', indices: [29, 0, 7, 7], indicesShape: [4], axis: 0 },
  { name: 'int32', shape: [12, 5], dtype: 'int32', indices: [11, 2, 2], indicesShape: [3], axis: 0 },
  { name: 'bool', shape: [8, 40], dtype: 'bool', indices: [7, 1], indicesShape: [2], axis: 0 },
];

describe('createFastGatherConfig on wasm', () => {
  it.each(cases)('$name: bitwise equal to the stock kernel and to brute force', (c) => {
    const ours = gather(c, fast);
    const theirs = gather(c, stock);
    expect(ours.delegated).toBe(false);
    expect(ours.shape).toEqual(theirs.shape);
    expect(ours.dtype).toBe(theirs.dtype);
    expect(ours.values).toEqual(theirs.values);
    const raw = seededValues(size(c.shape), size(c.shape));
    const x = c.dtype === 'float32' ? Array.from(raw) : Array.from(raw, (v) => (c.dtype === 'bool' ? (v > 0 ? 1 : 0) : Math.round(v * 1000)));
    expect(ours.values).toEqual(bruteForce({ ...c, axis: c.axis < 0 ? c.shape.length + c.axis : c.axis }, x));
  });

  it('delegates batchDims ≠ 0 to the stock kernel', () => {
    const c: Case = { name: 'batchDims', shape: [2, 5, 3], dtype: 'float32', indices: [4, 0, 1, 1], indicesShape: [2, 2], axis: 1, batchDims: 1 };
    const ours = gather(c, fast);
    expect(ours.delegated).toBe(true);
    expect(ours.values).toEqual(gather(c, stock).values);
  });

  it('throws on an out-of-range index, as the stock kernel does', () => {
    use(fast);
    const x = tf.ones([4, 3]);
    const idx = tf.tensor1d([1, 4], 'int32');
    expect(() => tf.gather(x, idx)).toThrow(/GatherV2: the index value 4 is not in \[0, 3\]/);
    tf.dispose([x, idx]);
  });

  it('leaves the tensor count unchanged over repeated calls', () => {
    use(fast);
    const x = tf.tensor(seededValues(64 * 16, 2), [64, 16]);
    const idx = tf.tensor1d([5, 6, 7, 63], 'int32');
    tf.gather(x, idx).dispose();
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) tf.gather(x, idx).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([x, idx]);
  });
});
