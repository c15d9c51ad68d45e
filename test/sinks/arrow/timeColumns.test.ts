/**
 * Wall-clock time columns are Arrow timestamps (nanoseconds, UTC) that give
 * back the events' millisecond times bit for bit; step columns stay Int32.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Type, type Timestamp } from 'apache-arrow';
import { afterAll, describe, expect, it } from 'vitest';
import { nanosecondsOf } from '../../../src/sinks/arrow/columnBuffer.js';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { TABLE_NAMES } from '../../../src/sinks/arrow/schemas.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-time-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('time columns', () => {
  it('are timestamp[ns, UTC] in every table that has one, and steps stay Int32', async () => {
    const events = syntheticEvents({ numProbe: 3, checkpoints: 3 });
    const dir = path.join(root, 'a');
    const w = new RunWriter(dir);
    for (const e of events) w.write(e);
    await w.close();
    const { tables, manifest } = await readRun(dir);
    expect(manifest.layout).toBe(2);
    const withTime = TABLE_NAMES.filter((t) => tables[t].schema.fields.some((f) => f.name === 'time'));
    expect(withTime.sort()).toEqual(['alerts', 'basis', 'checkpoints', 'events', 'intervals', 'steps', 'transitions']);
    for (const t of withTime) {
      const type = tables[t].schema.fields.find((f) => f.name === 'time')!.type as Timestamp;
      expect([type.typeId, type.unit, type.timezone], t).toEqual([Type.Timestamp, 3, 'UTC']); // TimeUnit.NANOSECOND = 3
    }
    for (const f of tables.steps.schema.fields.filter((f) => f.name === 'step' || f.name === 'seq')) expect(f.type.typeId).toBe(Type.Int);
    // The raw int64 values are the times in nanoseconds, computed here by BigInt arithmetic on the 1/16 ms clock.
    const raw = tables.events.getChild('time')!.data.flatMap((d) => [...(d.values as BigInt64Array).subarray(d.offset, d.offset + d.length)]);
    expect(raw.length).toBe(events.length);
    events.forEach((e, i) => expect(raw[i]).toBe(BigInt(e.time * 16) * 62_500n));
  });

  it('nanosecondsOf keeps every millisecond double of the epoch era exactly', () => {
    const samples = [0, 1, -1.5, 1_700_000_000_000.25, 1_764_633_600_123.4567, 8.6e9 + 0.123456789, 4_102_444_800_000.999];
    for (let i = 0; i < 200; i++) samples.push(1e10 + Math.random() * 4e12);
    for (const ms of samples) {
      const ns = nanosecondsOf(ms);
      // Arrow's own conversion back (whole ms + remainder / 1e6), written out.
      const back = Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
      expect(Object.is(back, ms), `${ms}`).toBe(true);
    }
  });

  it('refuses a time that is not finite, by event type', () => {
    const [start, step] = syntheticEvents({ numProbe: 3, checkpoints: 1 });
    const w = new RunWriter(path.join(root, 'b'));
    w.write(start);
    expect(() => w.write({ ...step, time: NaN })).toThrow('RunWriter.write: step.time must be finite milliseconds since the epoch, got NaN');
    void w.close();
  });
});
