import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachSinks } from '../../src/run/attachSinks.js';
import { replay } from '../../src/sinks/arrow/replay.js';
import { createPolca } from '../../src/tracker/createPolca.js';
import type { PolcaEvent } from '../../src/stream/events.js';

const tmp = mkdtempSync(join(tmpdir(), 'polca-onestream-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('one event stream per run', () => {
  it('with a tracker, the analysis joins tracker.events$ itself: subscribers, sinks and the log see the same events', async () => {
    const theta = tf.variable(tf.tensor1d([0.5, -0.25, 1, 2]));
    // Datapoint 3's loss is not finite from the start: the alert rules raise a non-finite alert.
    const probe = () => tf.tidy(() => tf.concat([tf.square(tf.sub(theta.slice(0, 3), tf.tensor1d([1, 2, 3]))), tf.tensor1d([NaN])]) as tf.Tensor1D);
    const tracker = createPolca({ params: [theta], probe, every: 1, basis: { kind: 'random', every: 2, maxVectors: 2 } });
    const fromTracker: PolcaEvent[] = [];
    tracker.events$.subscribe((e) => fromTracker.push(e));
    const dir = join(tmp, 'run');
    const sinks = await attachSinks(tracker, { log: { dir, keepParams: true } });
    expect(sinks.events$).toBe(tracker.events$);
    const fromSinks: PolcaEvent[] = [];
    sinks.events$.subscribe((e) => fromSinks.push(e));
    const thetas = [Array.from(theta.dataSync())];
    await tracker.step(0);
    for (let s = 1; s <= 4; s++) {
      theta.assign(tf.tidy(() => tf.mul(theta, 0.9)));
      thetas.push(Array.from(theta.dataSync()));
      await tracker.step(s);
    }
    await tracker.close();
    const report = await sinks.closed;
    expect(report.failures).toEqual([]);
    expect(report.log!.status).toBe('closed');
    expect(fromTracker.filter((e) => e.type === 'alert').map((e) => (e as { rule: string }).rule)).toContain('non-finite');
    expect(fromTracker.map((e) => e.type)).toEqual(fromSinks.map((e) => e.type));
    const logged = await lastValueFrom(replay(dir).pipe(toArray()));
    expect(logged.map((e) => e.type)).toEqual(fromTracker.map((e) => e.type));
    // keepParams asked the tracker for θ in its checkpoints: what was logged is θ at each step.
    const checkpoints = fromTracker.filter((e): e is Extract<PolcaEvent, { type: 'checkpoint' }> => e.type === 'checkpoint');
    expect(checkpoints.map((c) => Array.from(c.theta!))).toEqual(thetas);
    theta.dispose();
  });

  it('wiring a tracker that has started is refused', async () => {
    const theta = tf.variable(tf.tensor1d([1, 2]));
    const tracker = createPolca({ params: [theta], probe: () => tf.tidy(() => tf.square(theta) as tf.Tensor1D), every: 1, basis: { kind: 'random', every: 1, maxVectors: 1 } });
    await tracker.step(0);
    await expect(attachSinks(tracker, {})).rejects.toThrow(/pipeEvents: add stages before the first step/);
    await tracker.close();
    theta.dispose();
  });
});
