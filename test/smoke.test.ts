import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

describe('smoke', () => {
  it('wasm backend', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const x = tf.matMul(tf.ones([2, 2]), tf.ones([2, 2]));
    expect(Array.from(await x.data())).toEqual([2, 2, 2, 2]);
  });
});
