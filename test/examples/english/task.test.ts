import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';
import { createEnglishTask, type EnglishTask } from '../../../examples/english/task.js';
import { normalizeWord } from '../../../examples/english/tokenizer.js';
import { mulberry32, normalArray } from '../../../examples/arithmetic/prng.js';
import { referenceTokenLoss } from './reference64.js';

describe('English task (tiny configuration)', () => {
  let task: EnglishTask;
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmKernels();
    task = createEnglishTask('tiny');
    // Far-from-trivial weights, so a misaligned target would show in the loss.
    const rng = mulberry32(9);
    task.params.forEach((p) => p.assign(tf.tensor(normalArray(rng, p.size, 0.3), p.shape)));
  });
  afterAll(() => task.dispose());

  it('scores each probe datapoint on its own target word, as a float64 reference does', () => {
    const t = task.probeLosses();
    const losses = t.dataSync();
    t.dispose();
    expect(losses).toHaveLength(task.config.probeSize);
    const weights: Record<string, Float32Array> = {};
    task.paramNames.forEach((n, i) => { weights[n] = task.params[i].dataSync() as Float32Array; });
    for (const x of [0, 1, 57, 150, 299]) {
      const tok = task.probe.tokens[x];
      const window = task.probe.windows[tok.window];
      // The id the model is scored on is the vocabulary id of the word in the metadata.
      expect(task.vocab.words[window[tok.position + 1]]).toBe(normalizeWord(task.probeMeta.token[x]));
      expect(losses[x]).toBeCloseTo(referenceTokenLoss(task.config, weights, window, tok.position), 3);
    }
  });

  it('trains: the Hessian-sample loss falls and no tensor leaks', () => {
    const l0 = task.hessianLoss();
    const first = l0.dataSync()[0];
    l0.dispose();
    task.trainStep(); // creates Adam's moment variables
    const after1 = tf.memory().numTensors;
    for (let i = 1; i < 30; i++) task.trainStep();
    expect(tf.memory().numTensors).toBe(after1);
    const l1 = task.hessianLoss();
    expect(l1.dataSync()[0]).toBeLessThan(first - 0.5);
    l1.dispose();
    expect(task.step).toBe(30);
  });

  it('rejects unknown configurations and bad sizes', () => {
    expect(() => createEnglishTask('huge' as 'tiny')).toThrow(/createEnglishTask: unknown config 'huge'/);
    expect(() => createEnglishTask('tiny', { probeSize: 0 })).toThrow(/createEnglishTask: option probeSize must be a positive integer, got 0/);
  });
});
