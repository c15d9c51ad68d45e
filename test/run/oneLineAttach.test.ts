import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { tinyClassifier, tinyData } from '../helpers/tinyClassifier.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { polcaCallback } from '../../src/run/polcaCallback.js';
import type { BasisEvent, PolcaEvent } from '../../src/stream/events.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const model = () => tinyClassifier({ units: 4, lr: 0.1 });
const data = tinyData;

async function run(options: Parameters<typeof polcaCallback>[0], epochs: number): Promise<PolcaEvent[]> {
  const { x, y } = data();
  const cb = polcaCallback(options);
  const events: PolcaEvent[] = [];
  cb.events$.subscribe((e) => events.push(e));
  await model().fit(x, y, { epochs, batchSize: 2, shuffle: false, callbacks: [cb], verbose: 0 });
  return events;
}

describe('one-line attach', () => {
  it('polcaCallback({ probe }) grows a Hessian basis of the probe loss, the same as with the probe given as Hessian sample', async () => {
    const { x, y } = data();
    // 12 steps per epoch × 17 epochs = 204 steps: the default basis checkpoint (step 200) is reached.
    const implicit = await run({ probe: { x, y } }, 17);
    const explicit = await run({ probe: { x, y }, hessianSample: { x, y } }, 17);
    const basis = (events: PolcaEvent[]) => events.filter((e): e is BasisEvent => e.type === 'basis');
    expect(basis(implicit).map((b) => [b.kind, b.step])).toEqual([['hessian', 0], ['hessian', 200]]);
    expect(basis(implicit).map((b) => b.eigenvalue)).toEqual(basis(explicit).map((b) => b.eigenvalue));
    expect(basis(implicit).every((b) => b.eigenvalue > 0)).toBe(true);
    const start = implicit[0] as Extract<PolcaEvent, { type: 'run-start' }>;
    expect(start.config).toMatchObject({ every: 20, basis: { kind: 'hessian', every: 200 }, hessianLoss: true });
  });

  it('every alone sets the basis schedule to ten checkpoints', async () => {
    const { x, y } = data();
    const events = await run({ probe: { x, y }, every: 3 }, 6);
    expect(events.filter((e): e is BasisEvent => e.type === 'basis').map((b) => b.step)).toEqual([0, 30, 60]);
    expect((events[0] as Extract<PolcaEvent, { type: 'run-start' }>).config.basis).toMatchObject({ every: 30 });
  });

  it('every option error is thrown at construction and names the callback, the option and the value', () => {
    const { x, y } = data();
    const probe = { x, y };
    const cases: [object, RegExp][] = [
      [{ every: 0 }, /^polcaCallback: option 'every' must be a positive integer, got 0$/],
      [{ every: 3, basis: { kind: 'hessian', every: 10 } }, /^polcaCallback: option 'basis.every' must be a multiple of 'every' \(3\), got 10$/],
      [{ basis: { kind: 'eigen' } }, /^polcaCallback: option 'basis.kind' must be .*'gradient-covariance'.*, got "eigen"$/],
      [{ secondOrder: 'cubic' }, /^polcaCallback: option 'secondOrder' must be .*, got "cubic"$/],
      [{ seed: 1.5 }, /^polcaCallback: option 'seed' must be an integer, got 1.5$/],
      [{ fullLength: { intervalsPerStep: -1 } }, /^polcaCallback: option 'fullLength.intervalsPerStep' must be a positive integer, got -1$/],
      [{ runName: '' }, /^polcaCallback: option 'runName' must be a non-empty string, got ""$/],
      [{ loss: 'mse' }, /^polcaCallback: option 'loss' must be a function .*, got "mse"$/],
    ];
    for (const [bad, message] of cases) expect(() => polcaCallback({ probe, ...bad } as never)).toThrow(message);
    expect(() => polcaCallback({ probe: { x, y: 3 } } as never)).toThrow(/^polcaCallback: option 'probe.y' must be a tensor, got 3$/);
  });
});

describe('a subscriber without an error handler', () => {
  const script = fileURLToPath(new URL('./fixtures/plainSubscriber.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

  it('sees the run end with reason error and the process lives on', () => {
    const r = spawnSync(tsx, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).not.toMatch(/probe exploded/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^alive run-start,step,checkpoint,.*run-end:error$/m);
  });

  it('(control: the same plain subscriber on a bare rxjs Subject ends the process)', () => {
    const r = spawnSync(tsx, [script, 'control'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/probe exploded/);
  });
});
