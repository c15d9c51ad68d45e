import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createArithmeticTask, type ArithmeticTask } from '../../../examples/arithmetic/task.js';
import { readSnapshotManifest, readTheta, restoreSnapshot, saveSnapshot } from '../../../examples/arithmetic/snapshots.js';

const flat = (task: ArithmeticTask): Float32Array => {
  const parts = task.params.map((p) => p.dataSync() as Float32Array);
  const out = new Float32Array(parts.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of parts) { out.set(a, at); at += a.length; }
  return out;
};

describe('training snapshots', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'polca-snap-'));
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a run stopped and resumed from its snapshot ends on the same θ, bit for bit, as one that never stopped', async () => {
    // Warm-up and a cosine schedule, so the restored iteration count matters too.
    const overrides = { steps: 12, warmupSteps: 4, schedule: 'cosine' as const };
    const straight = createArithmeticTask('tiny', overrides);
    const thetaAt5: Float32Array[] = [];
    for (let i = 0; i < 12; i++) {
      straight.trainStep();
      if (straight.step === 5) thetaAt5.push(flat(straight));
    }
    const expected = flat(straight);
    straight.dispose();

    const first = createArithmeticTask('tiny', overrides);
    await saveSnapshot(dir, first);
    for (let i = 0; i < 5; i++) first.trainStep();
    await saveSnapshot(dir, first);
    first.dispose();
    expect(readSnapshotManifest(dir)).toMatchObject({ steps: [0, 5], resumeStep: 5 });
    expect(readTheta(dir, 5)).toEqual(thetaAt5[0]);

    const second = createArithmeticTask('tiny', overrides);
    const before = tf.memory().numTensors;
    expect(await restoreSnapshot(dir, second)).toBe(5);
    expect(second.optimizer.iterations).toBe(5);
    // The restored moments are the optimiser's own variables: 2 per parameter, and nothing else is left behind.
    expect(tf.memory().numTensors - before).toBe(2 * second.params.length);
    for (let i = 5; i < 12; i++) second.trainStep();
    const resumed = flat(second);
    second.dispose();
    expect(resumed.length).toBe(expected.length);
    let differ = 0;
    for (let i = 0; i < expected.length; i++) if (resumed[i] !== expected[i]) differ++;
    expect(differ).toBe(0);
    // No temporary file is left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a snapshot of another configuration, naming both, and a task that has already trained', async () => {
    const other = createArithmeticTask('tiny', { steps: 12, warmupSteps: 4, schedule: 'cosine', lr: 5e-3 });
    await expect(restoreSnapshot(dir, other)).rejects.toThrow(/taken with config .*"lr":.* the task has .*"lr":0\.005/);
    other.dispose();
    const trained = createArithmeticTask('tiny', { steps: 12, warmupSteps: 4, schedule: 'cosine' });
    trained.trainStep();
    await expect(restoreSnapshot(dir, trained)).rejects.toThrow(/fastForward: the task is at step 1/);
    trained.dispose();
    // The planned length is part of a cosine schedule, not of a constant one: only the latter may be extended.
    const longer = createArithmeticTask('tiny', { steps: 20, warmupSteps: 4, schedule: 'cosine' });
    await expect(restoreSnapshot(dir, longer)).rejects.toThrow(/"steps":12.*"steps":20/);
    longer.dispose();
    const constDir = mkdtempSync(path.join(tmpdir(), 'polca-snap-const-'));
    const short = createArithmeticTask('tiny', { steps: 3 });
    for (let i = 0; i < 3; i++) short.trainStep();
    await saveSnapshot(constDir, short);
    short.dispose();
    const extended = createArithmeticTask('tiny', { steps: 9 });
    expect(await restoreSnapshot(constDir, extended)).toBe(3);
    extended.dispose();
    rmSync(constDir, { recursive: true });
    const empty = mkdtempSync(path.join(tmpdir(), 'polca-snap-empty-'));
    writeFileSync(path.join(empty, 'unrelated'), '');
    const fresh = createArithmeticTask('tiny');
    await expect(restoreSnapshot(empty, fresh)).rejects.toThrow(/no snapshots.json/);
    fresh.dispose();
    rmSync(empty, { recursive: true });
  });
});
