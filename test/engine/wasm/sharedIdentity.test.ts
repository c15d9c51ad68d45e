import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createSharedIdentityConfig } from '../../../src/engine/wasm/sharedIdentity.js';
import { seededValues } from './matMulReference.js';

let stock: tf.KernelConfig;
let shared: tf.KernelConfig;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  stock = tf.getKernel(tf.Identity, 'wasm')!;
  shared = createSharedIdentityConfig(stock);
});

afterAll(() => use(stock));

function use(config: tf.KernelConfig): void {
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel(config);
}

/** A small attention-and-MLP step; returns its gradients and the data buffers alive at the end of the forward pass. */
function gradientOf(): { grads: Float32Array[]; buffersAtForwardEnd: number } {
  let buffers = 0;
  const grads = tf.tidy(() => {
    const x = tf.tensor3d(seededValues(2 * 6 * 8, 3), [2, 6, 8]);
    const wq = tf.tensor2d(seededValues(64, 5), [8, 8]);
    const w1 = tf.tensor2d(seededValues(8 * 32, 7), [8, 32]);
    const w2 = tf.tensor2d(seededValues(32 * 8, 11), [32, 8]);
    const g = tf.grads((q: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
      const h = tf.matMul(tf.reshape(x, [12, 8]), q);
      const att = tf.softmax(tf.matMul(tf.reshape(h, [2, 6, 8]), tf.reshape(h, [2, 6, 8]), false, true));
      const mixed = tf.reshape(tf.matMul(att, tf.reshape(h, [2, 6, 8])), [12, 8]);
      const out = tf.matMul(tf.relu(tf.matMul(mixed, a)), b);
      const loss = tf.mean(tf.square(out));
      buffers = tf.memory().numDataBuffers;
      return loss as tf.Scalar;
    });
    return g([wq, w1, w2]).map((t) => t.dataSync() as Float32Array);
  });
  return { grads, buffersAtForwardEnd: buffers };
}

describe('the buffer-sharing wasm Identity kernel', () => {
  it('clones without a new buffer, and a clone outlives its source and survives a variable reassignment', () => {
    use(shared);
    const before = tf.memory();
    const x = tf.tensor1d([1, 2, 3]);
    const c = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    x.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    c.dispose();
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    expect(tf.memory().numTensors).toBe(before.numTensors);

    const init = tf.tensor1d([4, 5]);
    const next = tf.tensor1d([6, 7]);
    const v = tf.variable(init);
    const snapshot = tf.clone(v);
    v.assign(next);
    expect(Array.from(snapshot.dataSync())).toEqual([4, 5]);
    expect(Array.from(v.dataSync())).toEqual([6, 7]);
    tf.dispose([v, snapshot, init, next]);
    // Strings go to the stock kernel.
    const s = tf.tensor(['a', 'b']);
    const sc = tf.clone(s);
    expect(sc.dataSync()).toEqual(['a', 'b']);
    tf.dispose([s, sc]);
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('gives the stock kernel\'s gradients bit for bit while a backward pass holds fewer buffers', () => {
    use(stock);
    const a = gradientOf();
    use(shared);
    const b = gradientOf();
    expect(b.grads.map((g) => Array.from(g))).toEqual(a.grads.map((g) => Array.from(g)));
    // The stock kernel copies every tensor saved for the backward pass.
    expect(b.buffersAtForwardEnd).toBeLessThan(a.buffersAtForwardEnd);
    // Stock: a clone is a new buffer.
    const before = tf.memory().numDataBuffers;
    use(stock);
    const x = tf.tensor1d([1]);
    const c = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before + 2);
    tf.dispose([x, c]);
  });

  it('refuses to wrap another kernel, naming it', () => {
    expect(() => createSharedIdentityConfig(tf.getKernel(tf.Reshape, 'wasm')!)).toThrow(/option 'original' must be the wasm Identity kernel, got Reshape\/wasm/);
  });
});
