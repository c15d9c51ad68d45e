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
      expect(events.filter((e) => e.type === 'polca')).toHaveLength(6);
      expect(events.filter((e) => e.type === 'basis')).toHaveLength(2);
    }
  });
});
