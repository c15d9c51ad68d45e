import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { replay } from '../../../src/sinks/arrow/replay.js';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { RunFormatError } from '../../../src/sinks/arrow/RunFormatError.js';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';
import { bitDiff } from './bitEqual.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-replay-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const events = syntheticEvents({ numProbe: 8, numParams: 5, checkpoints: 7 });
const dir = path.join(root, 'run');

beforeAll(async () => {
  const w = new RunWriter(dir);
  for (const e of events) w.write(e);
  await w.close();
});

describe('replay fast', () => {
  it('emits the recorded events bit-exactly and in order, then completes', async () => {
    const back = await lastValueFrom(replay(dir).pipe(toArray()));
    expect(back.length).toBe(events.length);
    expect(bitDiff(back, events)).toBeNull();
  });

  it('is cold: each subscription reads the run afresh and gets all events', async () => {
    const obs = replay(dir, { pace: 'fast' });
    const [a, b] = await Promise.all([lastValueFrom(obs.pipe(toArray())), lastValueFrom(obs.pipe(toArray()))]);
    expect(a).not.toBe(b);
    expect(a[5]).not.toBe(b[5]);
    expect(bitDiff(a, b)).toBeNull();
    expect(a.length).toBe(events.length);
  });

  it('stops emitting when the subscriber unsubscribes, and releases the files', async () => {
    // Files of the run this process holds open (Linux).
    const openFds = () => fs.readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
      } catch {
        return false;
      }
    }).length;
    const fdsBefore = openFds();
    expect(fdsBefore).toBe(0);
    const seen: PolcaEvent[] = [];
    const sub = replay(dir).subscribe((e) => {
      seen.push(e);
      if (seen.length === 3) sub.unsubscribe();
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(3);
    expect(await firstValueFrom(replay(dir).pipe(take(1)))).toMatchObject({ type: 'run-start' });
    const paced = replay(dir, { pace: 'recorded' }).subscribe();
    await new Promise((r) => setTimeout(r, 100));
    expect(openFds()).toBeGreaterThan(0); // mid-replay: the tables are open
    paced.unsubscribe();
    expect(openFds()).toBe(fdsBefore);
  });

  it('yields to the event loop during a long fast replay', async () => {
    const big = syntheticEvents({ numProbe: 2000, numParams: 8, checkpoints: 20, maxBasis: 10 });
    const bigDir = path.join(root, 'big');
    const w = new RunWriter(bigDir);
    for (const e of big) w.write(e);
    await w.close();
    let completed = false;
    let ranDuring: boolean | undefined;
    const got: PolcaEvent[] = [];
    await new Promise<void>((resolve, reject) => {
      replay(bigDir).subscribe({
        next: (e) => {
          if (got.length === 0) setImmediate(() => (ranDuring = !completed));
          got.push(e);
        },
        error: reject,
        complete: () => {
          completed = true;
          resolve();
        },
      });
    });
    expect(ranDuring).toBe(true);
    expect(bitDiff(got, big)).toBeNull();
  });

  it('delivers bad input as an error notification', async () => {
    await expect(lastValueFrom(replay(path.join(root, 'missing')))).rejects.toThrow(RunFormatError);
    await expect(lastValueFrom(replay(path.join(root, 'missing')))).rejects.toThrow(/does not exist/);
    expect(() => replay(dir, { pace: 'slow' as never })).toThrow(/replay: options\.pace must be 'fast' or 'recorded', got "slow"/);
    expect(() => replay(dir, { speed: 0 })).toThrow(/options\.speed must be a positive finite number, got 0/);
  });
});

describe('replay recorded', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spaces events by their recorded time differences divided by speed', async () => {
    // Recorded gaps are 1–26 ms; slowed down 10× they are ≥ 10 ms apart, far wider than the ±2 ms
    // checked (the fake clock works in whole milliseconds).
    const speed = 0.1;
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const got: PolcaEvent[] = [];
    let done = false;
    const sub = replay(dir, { pace: 'recorded', speed }).subscribe({ next: (e) => got.push(e), complete: () => (done = true) });
    // Reading the directory is real I/O, outside the fake clock.
    for (let spins = 0; got.length === 0 && spins < 1e6; spins++) await new Promise((r) => setImmediate(r));
    expect(got.length).toBe(1);
    const p0 = performance.now();
    const t0 = events[0].time;
    for (let i = 1; i < 15; i++) {
      const deadline = p0 + (events[i].time - t0) / speed;
      const early = deadline - 2 - performance.now();
      if (early > 0) {
        vi.advanceTimersByTime(early);
        expect(got.length, `event ${i} came before its time`).toBe(i);
      }
      vi.advanceTimersByTime(deadline + 2 - performance.now());
      expect(got.length, `event ${i} did not come at its time`).toBe(i + 1);
    }
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    expect(done).toBe(false);
    expect(bitDiff(got, events.slice(0, 15))).toBeNull();
  });

  it('completes after the last event', async () => {
    const back = await lastValueFrom(replay(dir, { pace: 'recorded', speed: 1e6 }).pipe(toArray()));
    expect(bitDiff(back, events)).toBeNull();
  });
});
