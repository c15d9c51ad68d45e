import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import type { PolcaOptions } from '../../src/tracker/options.js';
import { recordRun } from '../../src/run/recordRun.js';
import { backfill } from '../../src/run/backfill.js';
import { replay } from '../../src/sinks/arrow/replay.js';
import { TrajectoryBuilder } from '../../src/analysis/trajectories.js';
import { mergeIntervals } from '../../src/analysis/mergeIntervals.js';
import { TrajectoryStore } from '../../src/serve/trajectoryStore.js';
import type { PolcaEvent, PolcaIncrementEvent, SecondOrder, TrajectoryKind } from '../../src/stream/events.js';
import { tinyMlp } from '../reference/tinyModels.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'polca-full-'));
const model = () => tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
const STEPS = 16;

/** Trains the tiny model with polca watching; the θ path does not depend on the tracker (tested below). */
async function run(dir: string | null, extra: Partial<PolcaOptions>) {
  const m = model();
  const opt = tf.train.sgd(0.2);
  opt.minimize(() => m.lossTf(), false, m.params); // the optimiser's own tensors exist before the tracker
  m.assignTheta(m.theta0);
  const tensorsBefore = tf.memory().numTensors;
  const tracker = createPolca({
    params: m.params,
    probe: () => m.perDatapointLossTf(),
    hessianLoss: () => m.lossTf(),
    every: 2,
    basis: { kind: 'hessian', every: 4, k: 1, maxVectors: 3 },
    derivatives: 'exact',
    ...extra,
  });
  const events: PolcaEvent[] = [];
  tracker.events$.subscribe((e) => events.push(e));
  const writer = dir ? recordRun(tracker, dir, { keepParams: true, probeMeta: { index: Array.from({ length: 10 }, (_, i) => i) } }) : null;
  const pendingAfterStep: number[] = [];
  await tracker.step(0);
  for (let s = 1; s <= STEPS; s++) {
    opt.minimize(() => m.lossTf(), false, m.params);
    await tracker.step(s);
    pendingAfterStep.push(events.filter((e) => e.type === 'polca' && e.filled).length);
  }
  const beforeClose = events.length;
  await tracker.close();
  await writer?.closed;
  const leaked = tf.memory().numTensors - tensorsBefore;
  const theta = m.readTheta();
  opt.dispose();
  m.dispose();
  return { events, theta, pendingAfterStep, beforeClose, leaked };
}

function trajectories(events: Iterable<PolcaEvent>) {
  const kinds: TrajectoryKind[] = ['polca', 'polca-first', 'fisher'];
  const b = new TrajectoryBuilder({ kinds });
  for (const e of events) b.push(e);
  return { b, kinds };
}

describe('full-length trajectories, live', () => {
  for (const secondOrder of ['secant', 'paper'] as SecondOrder[]) {
    it(`equal polca backfill's to float32 rounding (${secondOrder})`, async () => {
      const dir = tmp();
      const live = await run(dir, { secondOrder });
      const fresh = model();
      const result = await backfill(dir, { params: fresh.params, probe: () => fresh.perDatapointLossTf() });
      fresh.dispose();
      const offline = await lastValueFrom(replay(result.out).pipe(toArray()));

      const L = trajectories(live.events);
      const O = trajectories(offline);
      for (const kind of L.kinds) {
        expect(L.b.basisIds(kind)).toEqual([0, 1, 2]);
        for (const id of [0, 1, 2]) {
          const a = L.b.matrix(kind, id)!;
          const o = O.b.matrix(kind, id)!;
          // Every vector's trajectory covers the whole run, from the first checkpoint.
          expect(a.steps).toEqual(o.steps);
          expect(a.steps[0]).toBe(0);
          let scale = 1e-12;
          for (let x = 0; x < a.n; x++) for (let t = 0; t < a.length; t++) scale = Math.max(scale, Math.abs(o.get(x, t)));
          for (let x = 0; x < a.n; x++) {
            for (let t = 0; t < a.length; t++) expect(Math.abs(a.get(x, t) - o.get(x, t))).toBeLessThanOrEqual(2e-5 * scale);
          }
        }
      }
    });
  }

  it('fills in between steps, newest interval first, and replays from Arrow unchanged', async () => {
    const dir = tmp();
    const live = await run(dir, { secondOrder: 'secant' });
    const filled = live.events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.filled === true);
    // Vector 1 (found at step 4) fills 2 intervals, vector 2 (step 8) fills 4.
    const byVector = (id: number) => filled.filter((e) => e.basisIds.includes(id)).map((e) => [e.fromStep, e.toStep]);
    expect(byVector(0)).toEqual([]);
    expect(byVector(1)).toEqual([[2, 4], [0, 2]]);
    expect(byVector(2)).toEqual([[6, 8], [4, 6], [2, 4], [0, 2]]);
    // One interval per step call: the filling-in is spread over training, not done at the end.
    expect(live.pendingAfterStep[2]).toBe(0); // step 3
    expect(live.pendingAfterStep[3]).toBe(1); // step 4: vector 1 found, its newest interval filled at once
    expect(live.pendingAfterStep[4]).toBe(2); // step 5: its second and last
    expect(live.pendingAfterStep[STEPS - 1]).toBe(6);
    // The residual of a filled event is the loss change minus its own vectors' terms.
    for (const e of filled) {
      for (let x = 0; x < e.residual.length; x++) {
        const own = e.values.reduce((s, v) => s + v[x], 0);
        expect(e.residual[x]).toBeCloseTo(e.lossAfter[x] - e.lossBefore[x] - own, 5);
      }
    }
    // The gRPC trajectory store grows the same full-length curves as the analysis.
    const store = new TrajectoryStore({ maxValues: 1 << 20 });
    for (const e of live.events) if (e.type === 'polca') store.add(e);
    const { b } = trajectories(live.events);
    for (const id of [0, 1, 2]) {
      const sel = store.select(id, [0, 3, 9])!;
      const m = b.matrix('polca', id)!;
      expect(sel.steps).toEqual(m.steps);
      [0, 3, 9].forEach((x, j) => Array.from(m.row(x)).forEach((v, t) => expect(sel.values[j][t]).toBeCloseTo(v, 6)));
    }
    // Joined per interval, every interval holds all three vectors and a residual over all of them.
    const merged = mergeIntervals(live.events);
    expect(merged.map((e) => [e.fromStep, e.basisIds])).toEqual(Array.from({ length: STEPS / 2 }, (_, i) => [2 * i, [0, 1, 2]]));
    for (const e of merged) {
      for (let x = 0; x < e.residual.length; x++) {
        expect(e.residual[x]).toBeCloseTo(e.lossAfter[x] - e.lossBefore[x] - e.values.reduce((s, v) => s + v[x], 0), 5);
      }
    }
    const replayed = (await lastValueFrom(replay(dir).pipe(toArray()))).filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    const livePolca = live.events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    expect(replayed.map((e) => [e.fromStep, e.toStep, e.basisIds, e.filled ?? false])).toEqual(livePolca.map((e) => [e.fromStep, e.toStep, e.basisIds, e.filled ?? false]));
    replayed.forEach((e, i) => e.values.forEach((v, k) => expect(Array.from(v)).toEqual(Array.from(livePolca[i].values[k]))));
  });

  it('close() finishes what is left; training follows the same θ path with or without it; no tensor leaks', async () => {
    const withFill = await run(null, { secondOrder: 'paper', basis: { kind: 'hessian', every: 16, k: 1, maxVectors: 2 } });
    expect(withFill.leaked).toBe(0);
    const without = await run(null, { secondOrder: 'paper', basis: { kind: 'hessian', every: 16, k: 1, maxVectors: 2 }, fullLength: false });
    expect(Array.from(withFill.theta)).toEqual(Array.from(without.theta));
    // Vector 1 was found at the last step: one of its 8 intervals is filled in then, the other 7 by close(), before run-end.
    const filled = withFill.events.filter((e) => e.type === 'polca' && e.filled);
    expect(filled).toHaveLength(8);
    expect(withFill.events.slice(withFill.beforeClose).filter((e) => e.type === 'polca' && e.filled)).toHaveLength(7);
    expect(withFill.events.at(-1)!.type).toBe('run-end');
    expect(without.events.some((e) => e.type === 'polca' && e.filled)).toBe(false);
  });

  it('in fast mode fills in with central differences close to the exact JVPs', async () => {
    const exact = await run(null, { secondOrder: 'secant' });
    const fast = await run(null, { secondOrder: 'secant', derivatives: 'fast' });
    const filled = (r: typeof exact) => r.events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.filled === true);
    const a = filled(exact);
    const b = filled(fast);
    expect(b.map((e) => [e.fromStep, e.toStep, e.basisIds])).toEqual(a.map((e) => [e.fromStep, e.toStep, e.basisIds]));
    let num = 0;
    let den = 0;
    a.forEach((e, i) =>
      e.derivatives.forEach((d, k) =>
        d.forEach((x, j) => {
          num += (x - b[i].derivatives[k][j]) ** 2;
          den += x * x;
        }),
      ),
    );
    const rel = Math.sqrt(num / den);
    expect(rel).toBeGreaterThan(0); // not the exact path
    expect(rel).toBeLessThan(1e-2);
  });

  it('rejects a bad option by name', () => {
    const m = model();
    expect(() => createPolca({ params: m.params, probe: () => m.perDatapointLossTf(), basis: { kind: 'random' }, fullLength: { intervalsPerStep: 0 } })).toThrow(
      /option 'fullLength.intervalsPerStep' must be a positive integer, got 0/,
    );
    expect(() => createPolca({ params: m.params, probe: () => m.perDatapointLossTf(), basis: { kind: 'random' }, fullLength: 'yes' as never })).toThrow(/option 'fullLength'/);
    m.dispose();
  });
});
