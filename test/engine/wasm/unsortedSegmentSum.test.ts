import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { unsortedSegmentSumWasmConfig } from '../../../src/engine/wasm/unsortedSegmentSum.js';
import { seededValues, size } from './matMulReference.js';

beforeAll(async () => {
  if (tf.getKernel(tf.UnsortedSegmentSum, 'wasm') === undefined) tf.registerKernel(unsortedSegmentSumWasmConfig);
  await tf.setBackend('wasm');
  await tf.ready();
});

async function onBackend<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  try {
    return f();
  } finally {
    await tf.setBackend('wasm');
  }
}

function segmentSum(x: Float32Array, shape: number[], ids: number[], numSegments: number): { values: Float32Array; shape: number[]; dtype: string } {
  return tf.tidy(() => {
    const out = tf.unsortedSegmentSum(tf.tensor(x, shape), tf.tensor1d(ids, 'int32'), numSegments);
    return { values: out.dataSync() as Float32Array, shape: out.shape, dtype: out.dtype };
  });
}

/** TensorFlow semantics, float64: ids outside [0, numSegments) dropped. */
function bruteForce(x: Float32Array, shape: number[], ids: number[], numSegments: number): Float64Array {
  const inner = size(shape.slice(1));
  const out = new Float64Array(numSegments * inner);
  ids.forEach((s, j) => {
    if (s < 0 || s >= numSegments) return;
    for (let c = 0; c < inner; c++) out[s * inner + c] += x[j * inner + c];
  });
  return out;
}

const cases: { name: string; shape: number[]; ids: number[]; numSegments: number }[] = [
  { name: '1-D', shape: [6], ids: [2, 0, 2, 1, 0, 2], numSegments: 3 },
  { name: '2-D with an empty segment', shape: [5, 3], ids: [0, 3, 3, 0, 1], numSegments: 5 },
  { name: '3-D', shape: [7, 2, 3], ids: [1, 1, 1, 0, 2, 0, 1], numSegments: 3 },
  { name: 'negative ids dropped', shape: [6, 4], ids: [-1, 0, 1, -5, 1, 0], numSegments: 2 },
  { name: 'ids ≥ numSegments dropped', shape: [5, 2], ids: [0, 4, 1, 9, 1], numSegments: 3 },
  { name: 'many rows into few segments', shape: [300, 8], ids: Array.from({ length: 300 }, (_, i) => (i * 7) % 5), numSegments: 5 },
];

describe('unsortedSegmentSumWasm', () => {
  it.each(cases)('$name: equals the cpu backend exactly and the brute-force sum', async ({ shape, ids, numSegments }) => {
    const x = seededValues(size(shape), shape.length * 100 + ids.length);
    const wasm = segmentSum(x, shape, ids, numSegments);
    const cpu = await onBackend('cpu', () => segmentSum(x, shape, ids, numSegments));
    expect(wasm.shape).toEqual([numSegments, ...shape.slice(1)]);
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.dtype).toBe('float32');
    expect(Array.from(wasm.values)).toEqual(Array.from(cpu.values));
    const ref = bruteForce(x, shape, ids, numSegments);
    // One float32 rounding of a float64 sum taken in row order.
    expect(Array.from(wasm.values)).toEqual(Array.from(Float32Array.from(ref)));
  });

  it('keeps int32 values exact (dtype int32, where the cpu backend returns float32)', async () => {
    const x = new Int32Array([5, -3, 7, 100000, 2, 9]);
    const ids = [1, 1, 0, 2, -1, 0];
    const run = () =>
      tf.tidy(() => {
        const out = tf.unsortedSegmentSum(tf.tensor1d(x, 'int32'), tf.tensor1d(ids, 'int32'), 3);
        return { values: Array.from(out.dataSync()), dtype: out.dtype };
      });
    const wasm = run();
    const cpu = await onBackend('cpu', run);
    expect(wasm.values).toEqual([16, 2, 100000]);
    expect(wasm.values).toEqual(cpu.values);
    expect(wasm.dtype).toBe('int32');
  });

  it('rejects segment ids that are not 1-D of length x.shape[0]', () => {
    const x = tf.ones([4, 2]);
    const bad = tf.tensor2d([[0, 1], [1, 0]], [2, 2], 'int32');
    expect(() => tf.unsortedSegmentSum(x, bad as unknown as tf.Tensor1D, 2)).toThrow(/unsortedSegmentSumWasm.*segmentIds.*\[2,2\]/);
    tf.dispose([x, bad]);
  });

  it('leaves the tensor count unchanged over repeated calls', () => {
    const x = tf.tensor(seededValues(40, 1), [10, 4]);
    const ids = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, -1], 'int32');
    tf.unsortedSegmentSum(x, ids, 3).dispose();
    const before = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) tf.unsortedSegmentSum(x, ids, 3).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(dataIds);
    tf.dispose([x, ids]);
  });
});

describe('gradient of tf.gather on wasm', () => {
  const gatherCases: { name: string; shape: number[]; indices: number[]; axis: number }[] = [
    { name: 'embedding rows, repeated ids', shape: [10, 6], indices: [3, 1, 3, 3, 9, 0, 1], axis: 0 },
    { name: 'axis 1 of a 3-D tensor', shape: [2, 5, 3], indices: [4, 4, 0, 2], axis: 1 },
    { name: 'last axis', shape: [3, 4], indices: [1, 1, 3], axis: 1 },
  ];
  const grad = ({ shape, indices, axis }: (typeof gatherCases)[number]) =>
    tf.tidy(() => {
      const x = tf.tensor(seededValues(size(shape), 3), shape);
      const idx = tf.tensor1d(indices, 'int32');
      const outShape = [...shape.slice(0, axis), indices.length, ...shape.slice(axis + 1)];
      const w = tf.tensor(seededValues(size(outShape), 4), outShape);
      const g = tf.grad((p: tf.Tensor) => tf.sum(tf.mul(tf.gather(p, idx, axis), w)))(x);
      return { values: Array.from(g.dataSync()), shape: g.shape };
    });

  it.each(gatherCases)('$name: equals the cpu backend exactly', async (c) => {
    const wasm = grad(c);
    const cpu = await onBackend('cpu', () => grad(c));
    expect(wasm.shape).toEqual(c.shape);
    expect(wasm.values).toEqual(cpu.values);
    // Rows never gathered get exactly zero gradient.
    if (c.axis === 0) {
      const inner = size(c.shape.slice(1));
      for (let r = 0; r < c.shape[0]; r++) {
        if (!c.indices.includes(r)) expect(wasm.values.slice(r * inner, (r + 1) * inner).every((v) => v === 0)).toBe(true);
      }
    }
  });
});
