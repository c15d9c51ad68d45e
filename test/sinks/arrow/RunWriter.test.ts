import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Subject, from } from 'rxjs';
import { RunWriter, writeRun } from '../../../src/sinks/arrow/RunWriter.js';
import { readRun, readParams } from '../../../src/sinks/arrow/readRun.js';
import { decodeEvents } from '../../../src/sinks/arrow/decodeEvents.js';
import { RunFormatError } from '../../../src/sinks/arrow/RunFormatError.js';
import { EVENT_SCHEMA_VERSION, type PolcaEvent, type PolcaIncrementEvent, type CheckpointEvent, type StepEvent } from '../../../src/stream/events.js';
import { ODD_NAN_BITS, syntheticEvents } from '../../helpers/syntheticEvents.js';
import { bitDiff } from './bitEqual.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-runwriter-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(root, `run${counter++}`);

function writeAll(events: PolcaEvent[], dir = freshDir(), options = {}): RunWriter {
  const w = new RunWriter(dir, options);
  for (const e of events) w.write(e);
  return w;
}

async function decoded(dir: string): Promise<PolcaEvent[]> {
  return [...decodeEvents(await readRun(dir))];
}

describe('RunWriter round trip', () => {
  it('replays every event type bit-exactly, in order, with time kept', async () => {
    const events = syntheticEvents({ numProbe: 20, numParams: 12, checkpoints: 9 });
    const types = new Set(events.map((e) => e.type));
    // The fixture must exercise every event type and both presences of optional fields.
    expect([...types].sort()).toEqual(['alert', 'basis', 'checkpoint', 'clusters', 'polca', 'run-end', 'run-start', 'step', 'transition']);
    expect(events.some((e) => e.type === 'step' && e.loss === undefined) && events.some((e) => e.type === 'step' && e.loss !== undefined)).toBe(true);
    expect(events.some((e) => e.type === 'basis' && e.vector) && events.some((e) => e.type === 'basis' && !e.vector)).toBe(true);
    expect(events.some((e) => e.type === 'polca' && e.derivativeCheck) && events.some((e) => e.type === 'polca' && !e.derivativeCheck)).toBe(true);
    expect(events.some((e) => e.type === 'clusters' && e.clusters.length === 0)).toBe(true);

    const dir = freshDir();
    const w = writeAll(events, dir);
    await w.close();
    const run = await readRun(dir);
    expect(run.complete).toBe(true);
    expect(run.events).toBe(events.length);
    const back = [...decodeEvents(run)];
    expect(back.length).toBe(events.length);
    for (let i = 0; i < events.length; i++) expect(bitDiff(back[i], events[i], `event ${i}`)).toBeNull();
    // The odd NaN payload survived (bitDiff compares bytes, this makes it explicit).
    const firstOdd = events.findIndex((e) => e.type === 'polca');
    const vals = (back[firstOdd] as PolcaIncrementEvent).values[0];
    expect(new Uint32Array(vals.buffer, vals.byteOffset, vals.length)[4]).toBe(ODD_NAN_BITS);
  });

  it('writes the manifest with version, config and probe metadata', async () => {
    const events = syntheticEvents({ numProbe: 4, checkpoints: 2 });
    const dir = freshDir();
    const token = ['a', 'b', 'c', 'd'];
    const label = [0, 1, 1, 0];
    const w = writeAll(events, dir, { probeMeta: { token, label } });
    const live = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(live.status).toBe('running');
    await w.close();
    const m = (await readRun(dir)).manifest;
    const start = events[0] as Extract<PolcaEvent, { type: 'run-start' }>;
    expect(m).toMatchObject({
      format: 'polca-run', schemaVersion: EVENT_SCHEMA_VERSION, versions: start.versions, config: start.config,
      numProbe: 4, numParams: start.numParams, probeMeta: { token, label }, status: 'closed', events: events.length, params: null,
    });
  });

  it('stores rows in the documented long format', async () => {
    const events = syntheticEvents({ numProbe: 7, numParams: 5, checkpoints: 5 });
    const dir = freshDir();
    await writeAll(events, dir).close();
    const { tables } = await readRun(dir);
    const polcaEvents = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    // Independent index of the polca table: (toStep, basisId, datapoint) → row.
    const t = tables.polca;
    const cols = Object.fromEntries(['toStep', 'basisId', 'datapoint', 'value', 'firstOrder', 'derivative', 'fromStep'].map((c) => [c, t.getChild(c)!.toArray()]));
    expect(t.numRows).toBe(polcaEvents.reduce((s, e) => s + e.basisIds.length * 7, 0));
    const index = new Map<string, number>();
    for (let r = 0; r < t.numRows; r++) index.set(`${cols.toStep[r]}/${cols.basisId[r]}/${cols.datapoint[r]}`, r);
    for (const e of polcaEvents) {
      e.basisIds.forEach((b, k) => {
        for (let x = 0; x < 7; x++) {
          const r = index.get(`${e.toStep}/${b}/${x}`)!;
          expect(Object.is(cols.value[r], e.values[k][x])).toBe(true);
          expect(Object.is(cols.firstOrder[r], e.firstOrder[k][x])).toBe(true);
          expect(Object.is(cols.derivative[r], e.derivatives[k][x])).toBe(true);
          expect(cols.fromStep[r]).toBe(e.fromStep);
        }
      });
    }
    const checkpoints = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
    expect(tables.losses.numRows).toBe(checkpoints.length * 7);
    const lossCol = tables.losses.getChild('loss')!.toArray();
    checkpoints.forEach((e, c) => e.losses.forEach((l, x) => expect(Object.is(lossCol[c * 7 + x], l)).toBe(true)));
    const steps = events.filter((e): e is StepEvent => e.type === 'step');
    expect(tables.steps.getChild('loss')!.toArray().length).toBe(steps.length);
    steps.forEach((e, i) => {
      expect(tables.steps.getChild('loss')!.get(i)).toBe(e.loss ?? null);
      expect(tables.steps.getChild('lr')!.get(i)).toBe(e.lr ?? null);
    });
    expect(tables.projections.numRows).toBe(polcaEvents.reduce((s, e) => s + e.basisIds.length, 0));
    expect(tables.residuals.numRows).toBe(polcaEvents.length * 7);
    expect(tables.events.numRows).toBe(events.length);
    expect(tables.events.getChild('type')!.toArray()).toEqual(events.map((e) => e.type));
  });

  it('replays a polca event with an empty basis', async () => {
    const [start] = syntheticEvents({ numProbe: 3, checkpoints: 1 });
    const empty: PolcaIncrementEvent = {
      type: 'polca', time: 5, fromStep: 0, toStep: 1, basisIds: [], projections: [], values: [], firstOrder: [], derivatives: [],
      lossBefore: Float32Array.of(1, 2, 3), lossAfter: Float32Array.of(1, 1, 1), residual: Float32Array.of(0, -1, -2), secondOrder: 'none', nonFinite: 0,
    };
    const dir = freshDir();
    await writeAll([start, empty], dir).close();
    const back = await decoded(dir);
    expect(bitDiff(back, [start, empty])).toBeNull();
  });
});

describe('RunWriter flushing', () => {
  it('commits at checkpoints: a concurrent reader sees exactly the committed prefix', async () => {
    const events = syntheticEvents({ numProbe: 6, checkpoints: 4 });
    const dir = freshDir();
    const w = new RunWriter(dir);
    for (const [i, e] of events.entries()) {
      w.write(e);
      if (i % 5 === 0 || e.type === 'checkpoint') {
        const run = await readRun(dir);
        expect(run.events).toBe(w.committedEvents);
        expect(bitDiff([...decodeEvents(run)], events.slice(0, w.committedEvents))).toBeNull();
      }
    }
    // step events ride with the next flush
    const firstStep = events.findIndex((e) => e.type === 'step');
    expect(firstStep).toBe(1);
    const w2 = new RunWriter(freshDir());
    w2.write(events[0]);
    w2.write(events[1]);
    expect(w2.acceptedEvents).toBe(2);
    expect(w2.committedEvents).toBe(1);
    w2.flush();
    expect(w2.committedEvents).toBe(2);
    await Promise.all([w.close(), w2.close()]);
  });

  it('flushes on maxBufferedRows', () => {
    const events = syntheticEvents({ numProbe: 6, checkpoints: 4 });
    const w = new RunWriter(freshDir(), { flushOn: [], maxBufferedRows: 4 });
    w.write(events[0]); // 1 events row
    w.write(events[1]); // + steps row + events row = 3 rows
    expect(w.committedEvents).toBe(0);
    w.write(events[2]); // 5 rows
    expect(w.committedEvents).toBe(3);
    void w.close();
  });
});

describe('RunWriter lifecycle', () => {
  it('close is idempotent and resolves closed; writing after close names the class', async () => {
    const events = syntheticEvents({ numProbe: 3, checkpoints: 2 });
    const w = writeAll(events);
    const a = w.close();
    const b = w.close();
    await Promise.all([a, b, w.closed]);
    expect(() => w.write(events[1])).toThrow(/RunWriter\.write: the writer is closed/);
    expect(() => w.flush()).toThrow(/RunWriter\.flush/);
  });

  it('abort drops buffered rows, keeps flushed ones, records the reason and rejects closed', async () => {
    const events = syntheticEvents({ numProbe: 3, checkpoints: 3 });
    const dir = freshDir();
    const w = new RunWriter(dir);
    const firstCheckpoint = events.findIndex((e) => e.type === 'checkpoint');
    for (const e of events.slice(0, firstCheckpoint + 2)) w.write(e); // one step after the checkpoint stays buffered
    expect(events[firstCheckpoint + 1].type).not.toBe('checkpoint');
    const committed = w.committedEvents;
    expect(committed).toBe(firstCheckpoint + 1);
    const reason = new Error('tracker died');
    w.abort(reason);
    await expect(w.closed).rejects.toBe(reason);
    w.abort(new Error('again')); // no-op
    await w.close(); // no-op, resolves
    expect(() => w.write(events[0])).toThrow(/RunWriter\.write: the writer is aborted/);
    const run = await readRun(dir);
    expect(run.manifest.status).toBe('aborted');
    expect(run.manifest.abortReason).toBe('tracker died');
    expect(run.events).toBe(committed);
    expect(bitDiff([...decodeEvents(run)], events.slice(0, committed))).toBeNull();
  });

  it('as an Observer it closes on complete, and aborts on an event it cannot store', async () => {
    const events = syntheticEvents({ numProbe: 3, checkpoints: 2 });
    const dir = freshDir();
    const w = writeRun(from(events), dir);
    await w.closed;
    expect(bitDiff(await decoded(dir), events)).toBeNull();

    const subject = new Subject<PolcaEvent>();
    const bad = new RunWriter(freshDir());
    const sub = subject.subscribe(bad);
    subject.next(events[0]);
    subject.next({ type: 'checkpoint', time: 1, step: 0, losses: new Float32Array(2), meanLoss: 0, nonFinite: 0, seconds: 0 });
    await expect(bad.closed).rejects.toThrow(/checkpoint\.losses must have length 3, got 2/);
    sub.unsubscribe();

    const s2 = new Subject<PolcaEvent>();
    const w2 = writeRun(s2, freshDir());
    s2.next(events[0]);
    await w2.close();
    expect(s2.observed).toBe(false); // close() unsubscribed
  });

  it('keeps the stream received so far when the source errors', async () => {
    const events = syntheticEvents({ numProbe: 3, checkpoints: 2 });
    const s = new Subject<PolcaEvent>();
    const dir = freshDir();
    const w = writeRun(s, dir);
    for (const e of events.slice(0, 5)) s.next(e);
    s.error(new Error('boom'));
    await w.closed;
    expect(bitDiff(await decoded(dir), events.slice(0, 5))).toBeNull();
    expect((await readRun(dir)).manifest).toMatchObject({ status: 'closed', sourceError: 'boom', events: 5 });
  });
});

describe('RunWriter validation', () => {
  const events = syntheticEvents({ numProbe: 4, numParams: 6, checkpoints: 3 });
  it('rejects events it cannot store exactly, storing nothing of them', async () => {
    const dir = freshDir();
    const w = new RunWriter(dir);
    expect(() => w.write(events[1])).toThrow(/RunWriter\.write: the first event must be run-start, got "step"/);
    w.write(events[0]);
    expect(() => w.write(events[0])).toThrow(/second run-start/);
    expect(() => w.write({ type: 'step', time: 1, step: 1.5 })).toThrow(/step\.step must be an int32, got 1\.5/);
    const polca = events.find((e): e is PolcaIncrementEvent => e.type === 'polca')!;
    expect(() => w.write({ ...polca, values: polca.values.slice(1) })).toThrow(/polca\.values must be an array of length 2/);
    expect(() => w.write({ ...polca, derivatives: [polca.derivatives[0], Array.from(polca.derivatives[1]) as unknown as Float32Array] }))
      .toThrow(/polca\.derivatives\[1\] must be a Float32Array, got an array/);
    expect(() => w.write({ ...polca, lossAfter: new Float32Array(5) })).toThrow(/polca\.lossAfter must have length 4, got 5/);
    expect(() => w.write({ type: 'basis', time: 0, id: 0, step: 0, kind: 'random', eigenvalue: 0, residual: 0, hvps: 0, vector: new Float32Array(2) }))
      .toThrow(/basis\.vector must have length 6/);
    for (const e of events.slice(1)) w.write(e);
    await w.close();
    expect(bitDiff(await decoded(dir), events)).toBeNull();
  });

  it('checks options and the directory', () => {
    expect(() => new RunWriter('')).toThrow(RunFormatError);
    expect(() => new RunWriter(freshDir(), { maxBufferedRows: 0 })).toThrow(/options\.maxBufferedRows must be a positive integer, got 0/);
    const w = new RunWriter(freshDir(), { probeMeta: { token: ['a'] } });
    expect(() => w.write(events[0])).toThrow(/options\.probeMeta\.token must be an array of length numProbe = 4, got length 1/);
  });

  it('refuses to overwrite an existing run unless asked', async () => {
    const dir = freshDir();
    await writeAll(events, dir).close();
    expect(() => new RunWriter(dir)).toThrow(/already holds a run/);
    const again = events.slice(0, 3);
    await writeAll(again, dir, { overwrite: true, fsync: true }).close();
    expect(bitDiff(await decoded(dir), again)).toBeNull();
    // Table files left by a writer killed before it wrote run.json are not silently replaced either.
    fs.rmSync(path.join(dir, 'run.json'));
    const w = new RunWriter(dir);
    expect(() => w.write(events[0])).toThrow(/already has steps\.arrows; choose another directory or pass overwrite: true/);
  });
});

describe('RunWriter keepParams', () => {
  it('stores θ per checkpoint bit-exactly at 4·P bytes plus fixed framing', async () => {
    const p = 1000;
    const events = syntheticEvents({ numProbe: 3, numParams: p, checkpoints: 2 });
    const thetas = [0, 1, 2].map((c) => Float32Array.from({ length: p }, (_, i) => Math.sin(i * (c + 1)) * 1e-3));
    new Uint32Array(thetas[1].buffer)[7] = ODD_NAN_BITS;
    const sizes: number[] = [];
    const dir = freshDir();
    const w = new RunWriter(dir, { keepParams: true });
    w.write(events[0]);
    const file = path.join(dir, 'params.arrows');
    sizes.push(fs.statSync(file).size);
    thetas.forEach((theta, c) => {
      w.writeParams({ step: c * 5, theta });
      sizes.push(fs.statSync(file).size);
    });
    await w.close();
    // Each checkpoint costs the same: 4·P bytes of θ plus a constant message overhead.
    const perCheckpoint = sizes.slice(1).map((s, i) => s - sizes[i]);
    expect(new Set(perCheckpoint).size).toBe(1);
    const overhead = perCheckpoint[0] - 4 * p;
    expect(overhead).toBeGreaterThan(0);
    expect(overhead).toBeLessThan(400);
    const { params, recovery } = await readParams(dir);
    expect(recovery.end).toBe('eos');
    expect(bitDiff(params, thetas.map((theta, c) => ({ step: c * 5, theta })))).toBeNull();
  });

  it('refuses θ without keepParams, before run-start, or of the wrong length', async () => {
    const events = syntheticEvents({ numProbe: 3, numParams: 8, checkpoints: 1 });
    const off = writeAll(events.slice(0, 1));
    expect(() => off.writeParams({ step: 0, theta: new Float32Array(8) })).toThrow(/keepParams is false/);
    await off.close();
    await expect(readParams(off.dir)).rejects.toThrow(/did not keep parameters/);
    const on = new RunWriter(freshDir(), { keepParams: true });
    expect(() => on.writeParams({ step: 0, theta: new Float32Array(8) })).toThrow(/before the run-start event/);
    on.write(events[0]);
    expect(() => on.writeParams({ step: 0, theta: new Float32Array(7) })).toThrow(/length numParams = 8, got length 7/);
    await on.close();
  });
});
