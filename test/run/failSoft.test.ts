import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { tinyClassifier, tinyData } from '../helpers/tinyClassifier.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { polcaCallback, type PolcaCallbackOptions } from '../../src/run/polcaCallback.js';
import type { AlertEvent, PolcaEvent } from '../../src/stream/events.js';

const tmp = mkdtempSync(join(tmpdir(), 'polca-failsoft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model = (units = 6) => tinyClassifier({ units });
const data = tinyData;

/** θ after training, with the given callbacks; the training itself is the same every time. */
async function train(callbacks: tf.Callback[], units = 6, epochs = 3): Promise<Float32Array> {
  const { x, y } = data();
  const m = model(units);
  await m.fit(x, y, { epochs, batchSize: 6, shuffle: false, callbacks, verbose: 0 });
  const theta = Float32Array.from(m.trainableWeights.flatMap((w) => Array.from(w.read().dataSync())));
  tf.dispose([x, y]);
  m.dispose();
  return theta;
}

const common: Omit<PolcaCallbackOptions, 'probe'> = { every: 2, basis: { kind: 'random', every: 4, maxVectors: 2 } };

describe('a sink that fails never stops training', () => {
  it('an unwritable log directory: fit trains to the end with the same θ, and the failure is an alert, a failure and a report', async () => {
    const reference = await train([]);
    const { x, y } = data();
    const cb = polcaCallback({ ...common, probe: { x, y }, log: { dir: '/dev/null/run' } });
    const events: PolcaEvent[] = [];
    cb.events$.subscribe((e) => events.push(e));
    const failures: string[] = [];
    cb.failures$.subscribe((f) => failures.push(`${f.sink}: ${f.reason}`));
    const theta = await train([cb]);
    const report = await cb.close();
    expect(theta).toEqual(reference);
    const alerts = events.filter((e): e is AlertEvent => e.type === 'alert' && e.rule === 'sink-failed');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].message).toMatch(/log stopped: .*(ENOTDIR|\/dev\/null)/);
    expect(failures).toHaveLength(1);
    expect(report.sinks!.failures).toHaveLength(1);
    expect(report.sinks!.log!.status).toBe('failed');
    // The run itself went on to its end: every checkpoint of 3 epochs × 4 steps.
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([0, 2, 4, 6, 8, 10, 12]);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', reason: 'closed' });
    tf.dispose([x, y]);
  });

  it('a full disk (a 128 KB tmpfs): same θ, the alert, and run.json marked failed with the reason', async (ctx) => {
    const mnt = join(tmp, 'small');
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mnt], { stdio: 'ignore' });
    } catch {
      ctx.skip('mounting a tmpfs needs root (CAP_SYS_ADMIN); the unwritable-directory case above still runs');
    }
    try {
      // A wider model and kept parameters fill 128 KB within a few checkpoints.
      const reference = await train([], 400, 6);
      const { x, y } = data();
      const dir = join(mnt, 'run');
      const cb = polcaCallback({ ...common, probe: { x, y }, log: { dir, keepParams: true } });
      const events: PolcaEvent[] = [];
      cb.events$.subscribe((e) => events.push(e));
      const theta = await train([cb], 400, 6);
      const report = await cb.close();
      expect(theta).toEqual(reference);
      const alert = events.find((e): e is AlertEvent => e.type === 'alert' && e.rule === 'sink-failed');
      expect(alert?.message).toMatch(/ENOSPC/);
      expect(report.sinks!.failures[0]).toMatchObject({ sink: 'log' });
      expect(report.sinks!.failures[0].lostEvents).toBeGreaterThan(0);
      const manifest = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
      expect(manifest.status).toBe('failed');
      expect(manifest.failureReason).toMatch(/ENOSPC/);
      // The run went on after the log stopped.
      expect(events.filter((e) => e.type === 'checkpoint')).toHaveLength(13);
      tf.dispose([x, y]);
    } finally {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    }
  });

  it('a checkpoint that fails ends the tracking, not fit: θ is the same and the run ends with reason error', async () => {
    const reference = await train([]);
    const { x, y } = data();
    let armed = false;
    const ce = (yTrue: tf.Tensor, yPred: tf.Tensor) =>
      tf.tidy(() => {
        // The probe loss breaks from step 5 on (a bug in user code, say).
        if (armed) throw new Error('probe exploded');
        const p = tf.sum(tf.mul(tf.oneHot(tf.cast(yTrue, 'int32'), 3), yPred), -1);
        return tf.neg(tf.log(tf.clipByValue(p, 1e-7, 1)));
      });
    const cb = polcaCallback({ ...common, probe: { x, y }, loss: ce });
    const events: PolcaEvent[] = [];
    cb.events$.subscribe((e) => events.push(e));
    let batches = 0;
    class Arm extends tf.Callback {
      override async onBatchEnd(): Promise<void> {
        if (++batches === 5) armed = true;
      }
    }
    const theta = await train([cb, new Arm()]);
    const report = await cb.close();
    expect(theta).toEqual(reference);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([0, 2, 4]);
    expect(report.trackerError?.message).toMatch(/probe exploded/);
    expect(events.at(-1)).toMatchObject({ type: 'run-end', reason: 'error', error: expect.stringMatching(/probe exploded/) });
    tf.dispose([x, y]);
  });
});

describe('a server that fails never stops the run', () => {
  it('its worker running out of memory is a sink-failed alert in the stream and a failure, and the run goes on to its end', async () => {
    const { Subject } = await import('rxjs');
    const { attachSinks } = await import('../../src/run/attachSinks.js');
    const subject = new Subject<PolcaEvent>();
    const sinks = await attachSinks(subject, {
      analysis: { alerts: false, clusters: false, transitions: false },
      serve: { grpc: { port: 0 }, worker: { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } } },
    });
    const seen: PolcaEvent[] = [];
    sinks.events$.subscribe((e) => seen.push(e));
    const failures: string[] = [];
    sinks.failures$.subscribe((f) => failures.push(f.sink));
    subject.next({ type: 'run-start', time: 0, config: {}, numParams: 1, numProbe: 1, backend: 'cpu', hvpMode: 'exact', hvpReason: 'test', params: [], versions: { polca: '0', tfjs: '0' } });
    // Clusterings of 10^6 members: the worker keeps them as JS arrays on a 32 MB heap, and a few exceed it.
    const members = Int32Array.from({ length: 1_000_000 }, (_, i) => i);
    const one = Float64Array.of(0);
    for (let step = 1; step <= 40 && failures.length === 0; step++) {
      subject.next({ type: 'clusters', time: step, step, kind: 'polca', basisId: 0, steps: Int32Array.of(step), clusters: [{ id: 0, members, medoid: 0, median: one, q25: one, q75: one }], dropped: 0, outliers: 0 });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(failures).toEqual(['serve']);
    subject.next({ type: 'step', time: 41, step: 41 });
    subject.next({ type: 'run-end', time: 42, step: 41, reason: 'closed' });
    subject.complete();
    const report = await sinks.closed;
    expect(report.failures.map((f) => f.sink)).toEqual(['serve']);
    expect(report.failures[0].reason).toMatch(/memory/i);
    const alert = seen.find((e): e is AlertEvent => e.type === 'alert' && e.rule === 'sink-failed');
    expect(alert?.message).toMatch(/serve stopped/);
    expect(seen.at(-1)).toMatchObject({ type: 'run-end', reason: 'closed' });
  }, 60_000);
});
