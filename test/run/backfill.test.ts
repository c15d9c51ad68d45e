import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { createPolca, type PolcaTracker } from '../../src/tracker/createPolca.js';
import type { PolcaOptions } from '../../src/tracker/options.js';
import { recordRun } from '../../src/run/recordRun.js';
import { backfill } from '../../src/run/backfill.js';
import { backfillCommand } from '../../src/cli/backfillCommand.js';
import { replay } from '../../src/sinks/arrow/replay.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';
import { tinyMlp } from '../reference/tinyModels.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'polca-backfill-'));

async function trainAndRecord(dir: string, basis: PolcaOptions['basis'], keepParams: boolean) {
  const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
  const opt = tf.train.sgd(0.2);
  const tracker: PolcaTracker = createPolca({
    params: m.params,
    probe: () => m.perDatapointLossTf(),
    hessianLoss: () => m.lossTf(),
    every: 2,
    basis,
    secondOrder: 'secant',
  });
  const live: PolcaEvent[] = [];
  tracker.events$.subscribe((e) => live.push(e));
  const writer = recordRun(tracker, dir, { keepParams, probeMeta: { index: Array.from({ length: 10 }, (_, i) => i) } });
  await tracker.step(0);
  for (let s = 1; s <= 12; s++) {
    opt.minimize(() => m.lossTf(), false, m.params);
    await tracker.step(s);
  }
  const vectors = tracker.basisVectors.map((v) => v.slice());
  await tracker.close();
  await writer.closed;
  opt.dispose();
  m.dispose();
  return { live, vectors };
}

describe('recordRun and backfill', () => {
  it('backfilled trajectories equal a run whose basis was fixed from the start', async () => {
    const dirA = tmp();
    const a = await trainAndRecord(dirA, { kind: 'hessian', every: 4, k: 1, maxVectors: 3 }, true);
    expect(a.vectors).toHaveLength(3);
    // Online, vector 2 (found at step 8) has no POLCA for intervals before step 8.
    const onlineFirst = a.live.find((e): e is PolcaIncrementEvent => e.type === 'polca')!;
    expect(onlineFirst.basisIds).toEqual([0]);

    const dirB = tmp();
    const b = await trainAndRecord(dirB, { kind: 'fixed', vectors: a.vectors }, false);

    const fresh = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    const result = await backfill(dirA, { params: fresh.params, probe: () => fresh.perDatapointLossTf() });
    expect(result).toMatchObject({ checkpoints: 7, vectors: 3 });
    const filled = (await lastValueFrom(replay(result.out).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const fixed = b.live.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    expect(filled.map((e) => [e.fromStep, e.toStep, e.basisIds])).toEqual(fixed.map((e) => [e.fromStep, e.toStep, e.basisIds]));
    expect(filled[0].basisIds).toEqual([0, 1, 2]);
    filled.forEach((e, i) =>
      e.values.forEach((v, k) => {
        const scale = Math.max(...Array.from(fixed[i].values[k], Math.abs), 1e-12);
        v.forEach((x, j) => expect(Math.abs(x - fixed[i].values[k][j])).toBeLessThanOrEqual(1e-5 * scale));
      }),
    );
    // The user's parameters are restored after the backfill.
    expect(Array.from(fresh.readTheta())).toEqual(Array.from(fresh.theta0));
    fresh.dispose();
  });

  it('with limit, uses only the first events: the checkpoints and vectors among them, the same values as the full backfill', async () => {
    const dir = tmp();
    await trainAndRecord(dir, { kind: 'hessian', every: 4, k: 1, maxVectors: 3 }, true);
    const recorded = await lastValueFrom(replay(dir).pipe(toArray()));
    // The prefix ends just after the checkpoint of step 8, where the last vector was found: 5 checkpoints, 3 vectors.
    const limit = recorded.map((e) => e.type).lastIndexOf('basis') + 1;
    expect(recorded.slice(0, limit).filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([0, 2, 4, 6, 8]);
    const m1 = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    const full = await backfill(dir, { params: m1.params, probe: () => m1.perDatapointLossTf(), out: path.join(tmp(), 'full') });
    const m2 = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    const part = await backfill(dir, { params: m2.params, probe: () => m2.perDatapointLossTf(), out: path.join(tmp(), 'part'), limit });
    expect(full).toMatchObject({ checkpoints: 7, vectors: 3 });
    expect(part).toMatchObject({ checkpoints: 5, vectors: 3 });
    const polca = async (out: string) => (await lastValueFrom(replay(out).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const [a, b] = [await polca(full.out), await polca(part.out)];
    expect(b.map((e) => e.toStep)).toEqual([2, 4, 6, 8]);
    b.forEach((e, i) => e.values.forEach((v, k) => expect(Array.from(v)).toEqual(Array.from(a[i].values[k]))));
    await expect(backfill(dir, { params: m2.params, probe: () => m2.perDatapointLossTf(), out: path.join(tmp(), 'none'), limit: 1 })).rejects.toThrow(/no parameter log within its first 1 events/);
    await expect(backfill(dir, { params: m2.params, probe: () => m2.perDatapointLossTf(), limit: -1 })).rejects.toThrow(/backfill: option 'limit' must be a non-negative integer, got -1/);
    m1.dispose();
    m2.dispose();
  });

  it('the recorded run replays the live events', async () => {
    const dir = tmp();
    const { live } = await trainAndRecord(dir, { kind: 'random', every: 4, maxVectors: 2 }, false);
    const replayed = await lastValueFrom(replay(dir).pipe(toArray()));
    expect(replayed.length).toBe(live.length);
    expect(replayed.map((e) => e.type)).toEqual(live.map((e) => e.type));
    const lp = live.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const rp = replayed.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    rp.forEach((e, i) => e.values.forEach((v, k) => expect(Array.from(v)).toEqual(Array.from(lp[i].values[k]))));
  });

  it('polca backfill --model hands the module the manifest and the run directory, and backfills what the API does', async () => {
    const dir = tmp();
    await trainAndRecord(dir, { kind: 'hessian', every: 4, k: 1, maxVectors: 2 }, true);
    // The training script's own record of the model, which only the run directory can give the module.
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ hidden: 6, seed: 5 }));
    const module = path.join(tmp(), 'model.ts');
    const tiny = path.resolve('test/reference/tinyModels.ts');
    fs.writeFileSync(module, [
      "import * as fs from 'node:fs';",
      "import * as path from 'node:path';",
      `import { tinyMlp } from ${JSON.stringify(tiny)};`,
      'export default (manifest: { numProbe: number }, dir: string) => {',
      "  const { hidden, seed } = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));",
      "  const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden, numData: manifest.numProbe, seed });",
      '  return { params: m.params, probe: () => m.perDatapointLossTf() };',
      '};',
    ].join('\n'));
    const viaCli = await backfillCommand(dir, { model: module, out: path.join(tmp(), 'cli') });
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    const viaApi = await backfill(dir, { params: m.params, probe: () => m.perDatapointLossTf(), out: path.join(tmp(), 'api') });
    expect(viaCli).toMatchObject({ checkpoints: 7, vectors: 2 });
    const polca = async (out: string) => (await lastValueFrom(replay(out).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const [a, b] = [await polca(viaCli.out), await polca(viaApi.out)];
    expect(a.length).toBe(b.length);
    a.forEach((e, i) => e.values.forEach((v, k) => expect(Array.from(v)).toEqual(Array.from(b[i].values[k]))));
    m.dispose();
  });

  it('says what is missing when a run kept no parameters', async () => {
    const dir = tmp();
    await trainAndRecord(dir, { kind: 'random', every: 4, maxVectors: 2 }, false);
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    await expect(backfill(dir, { params: m.params, probe: () => m.perDatapointLossTf() })).rejects.toThrow(/keepParams/);
    m.dispose();
  });
});
