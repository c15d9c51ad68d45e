import { mergeIntervals } from '../../src/analysis/mergeIntervals.js';
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { customLoop, withFit } from '../../examples/custom-loop.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('examples/custom-loop', () => {
  it('both ways in produce a complete POLCA run on the tiny addition model', async () => {
    for (const run of [customLoop, withFit]) {
      const events = await run('tiny', 60);
      expect(events[0].type).toBe('run-start');
      expect(events.at(-1)!.type).toBe('run-end');
      expect(events.filter((e) => e.type === 'polca' && !e.filled)).toHaveLength(6);
      // Full-length: vector 1's earlier intervals are filled in, so every interval holds both vectors.
      expect(mergeIntervals(events).map((e) => e.basisIds)).toEqual(Array.from({ length: 6 }, () => [0, 1]));
      expect(events.filter((e) => e.type === 'basis')).toHaveLength(2);
    }
  });
});
