import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { readTableBytes } from '../../../src/sinks/arrow/readTable.js';
import { decodeEvents } from '../../../src/sinks/arrow/decodeEvents.js';
import { openEventStream } from '../../../src/sinks/arrow/openEventStream.js';
import { TableFileReader } from '../../../src/sinks/arrow/TableFileReader.js';
import { RunFormatError } from '../../../src/sinks/arrow/RunFormatError.js';
import { EVENT_TABLES, TABLE_NAMES, tableSchema, type TableName } from '../../../src/sinks/arrow/schemas.js';
import { EVENT_SCHEMA_VERSION, type PolcaEvent } from '../../../src/stream/events.js';
import { prng, syntheticEvents } from '../../helpers/syntheticEvents.js';
import { bitDiff } from './bitEqual.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-readrun-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(root, `run${counter++}`);

const events = syntheticEvents({ numProbe: 9, numParams: 7, checkpoints: 7 });
/** Events committed after each flush of the reference run, and the byte size of every table after it. */
const flushes: { committed: number; sizes: Record<TableName, number> }[] = [];
let reference: string;

function copyRun(from: string): string {
  const to = freshDir();
  fs.cpSync(from, to, { recursive: true });
  return to;
}

beforeAll(async () => {
  reference = freshDir();
  const w = new RunWriter(reference);
  for (const e of events) {
    const before = w.committedEvents;
    w.write(e);
    if (w.committedEvents !== before) {
      const sizes = Object.fromEntries(TABLE_NAMES.map((t) => [t, fs.statSync(path.join(reference, `${t}.arrows`)).size])) as Record<TableName, number>;
      flushes.push({ committed: w.committedEvents, sizes });
    }
  }
  // Leave it as a killed writer would: no close, no end-of-stream markers.
  w.abort(new Error('simulated kill'));
  await w.closed.catch(() => undefined);
  expect(flushes.length).toBeGreaterThan(10);
});

/** Truncate every table of a copy of the reference run to the given sizes. */
function truncatedRun(sizes: Partial<Record<TableName, number>>): string {
  const dir = copyRun(reference);
  for (const [t, size] of Object.entries(sizes)) fs.truncateSync(path.join(dir, `${t}.arrows`), size);
  return dir;
}

async function replayed(dir: string): Promise<PolcaEvent[]> {
  return [...decodeEvents(await readRun(dir))];
}

describe('readRun crash recovery', () => {
  it('reads a run cut between flushes as exactly the committed prefix', async () => {
    for (const f of [flushes[0], flushes[3], flushes[flushes.length - 2]]) {
      const dir = truncatedRun(f.sizes);
      const run = await readRun(dir);
      expect(run.events).toBe(f.committed);
      expect(TABLE_NAMES.every((t) => run.recovery[t].end === 'eof' && run.recovery[t].droppedBytes === 0)).toBe(true);
      expect(run.complete).toBe(false);
      expect(bitDiff([...decodeEvents(run)], events.slice(0, f.committed))).toBeNull();
    }
  });

  it('recovers the complete prefix when a flush was cut at any byte', async () => {
    // Kill in the middle of flush k+1: each table is cut somewhere between its size after flush k and after flush k+1.
    const rand = prng(7);
    const bigFlush = flushes.findIndex((f, i) => i > 0 && f.sizes.polca > flushes[i - 1].sizes.polca);
    const cases = [bigFlush, bigFlush + 2, flushes.length - 1].map((k) => [flushes[k - 1], flushes[k]] as const);
    for (const [before, after] of cases) {
      for (let trial = 0; trial < 8; trial++) {
        // The writer appends tables in TABLE_NAMES order: cut one table, keep earlier ones whole, later ones untouched.
        const changed = TABLE_NAMES.filter((t) => after.sizes[t] > before.sizes[t]);
        const cutAt = changed[Math.floor(rand() * changed.length)];
        const sizes: Partial<Record<TableName, number>> = {};
        let reached = false;
        for (const t of TABLE_NAMES) {
          if (t === cutAt) {
            sizes[t] = before.sizes[t] + Math.floor(rand() * (after.sizes[t] - before.sizes[t]));
            reached = true;
          } else sizes[t] = reached ? before.sizes[t] : after.sizes[t];
        }
        const dir = truncatedRun(sizes);
        const run = await readRun(dir);
        expect(run.events).toBe(before.committed);
        const cut = run.recovery[cutAt];
        expect(cut.validBytes).toBe(before.sizes[cutAt]);
        expect(cut.droppedBytes).toBe(sizes[cutAt]! - before.sizes[cutAt]);
        expect(cut.end).toBe(cut.droppedBytes > 0 ? 'truncated' : 'eof');
        const earlier = TABLE_NAMES.slice(0, TABLE_NAMES.indexOf(cutAt)).filter((t) => after.sizes[t] > before.sizes[t]);
        // Tables written completely before the cut hold rows of the uncommitted events: dropped and counted.
        for (const t of earlier) expect(run.uncommittedRows[t]).toBeGreaterThan(0);
        expect(bitDiff([...decodeEvents(run)], events.slice(0, before.committed))).toBeNull();
        // The batch-by-batch reader recovers the same prefix.
        const stream = await openEventStream(dir);
        expect(stream.committed).toBe(before.committed);
        expect(bitDiff([...stream.events], events.slice(0, before.committed))).toBeNull();
        await expect(readRun(dir, { strict: true })).rejects.toThrow(RunFormatError);
        await expect(openEventStream(dir, { strict: true })).rejects.toThrow(/strict read/);
      }
    }
  });

  it('reads a run whose writer closed as complete', async () => {
    const dir = freshDir();
    const w = new RunWriter(dir);
    for (const e of events) w.write(e);
    await w.close();
    const run = await readRun(dir, { strict: true });
    expect(run.complete).toBe(true);
    expect(TABLE_NAMES.every((t) => run.recovery[t].end === 'eos')).toBe(true);
  });

  it('treats a table cut inside its schema message as empty, and reports the damage', async () => {
    const dir = truncatedRun({ alerts: 100 });
    const run = await readRun(dir);
    expect(run.recovery.alerts).toMatchObject({ end: 'truncated', batches: 0, rows: 0, validBytes: 0, droppedBytes: 100 });
    // Alert events are committed but their rows are gone: decoding says so instead of inventing them.
    expect(() => [...decodeEvents(run)]).toThrow(/replay: event \d+ \(alert\) has 0 rows in alerts, expected 1/);
    // An events table without its schema is an empty run.
    const empty = await readRun(truncatedRun({ events: 10 }));
    expect(empty.events).toBe(0);
    expect([...decodeEvents(empty)]).toEqual([]);
  });
});

describe('readRun bad input', () => {
  it('names a missing directory, a directory without run.json, and a newer schema', async () => {
    await expect(readRun(path.join(root, 'nope'))).rejects.toThrow(/readRun: run directory ".*nope" does not exist/);
    const bare = freshDir();
    fs.mkdirSync(bare);
    await expect(readRun(bare)).rejects.toThrow(/has no run\.json/);
    const newer = copyRun(reference);
    const m = JSON.parse(fs.readFileSync(path.join(newer, 'run.json'), 'utf8'));
    fs.writeFileSync(path.join(newer, 'run.json'), JSON.stringify({ ...m, schemaVersion: EVENT_SCHEMA_VERSION + 1 }));
    await expect(readRun(newer)).rejects.toThrow(`written with schema version ${EVENT_SCHEMA_VERSION + 1}, but this polca reads schema versions up to ${EVENT_SCHEMA_VERSION}`);
    fs.writeFileSync(path.join(newer, 'run.json'), '{"format": "polca-run", ');
    await expect(readRun(newer)).rejects.toThrow(/run\.json" is not valid JSON/);
    const missing = copyRun(reference);
    fs.rmSync(path.join(missing, 'polca.arrows'));
    await expect(readRun(missing)).rejects.toThrow(/readRun: cannot read table file ".*polca\.arrows" \(ENOENT\)/);
  });

  it('rejects a table file with other columns', async () => {
    const dir = copyRun(reference);
    fs.copyFileSync(path.join(dir, 'steps.arrows'), path.join(dir, 'alerts.arrows'));
    await expect(readRun(dir)).rejects.toThrow(/readRun: .*alerts\.arrows has columns \(seq: Int32, time: Timestamp<NANOSECOND, UTC>, step: Int32, loss: Float64\?, lr: Float64\?\), expected \(seq: Int32, time: Timestamp<NANOSECOND, UTC>, step: Int32, rule: Utf8/);
  });

  it('never crashes or hangs on random bytes anywhere in a table: named error or a recovered prefix', async () => {
    const rand = prng(11);
    const outcomes = { error: 0, corrupt: 0, intact: 0 };
    for (let trial = 0; trial < 450; trial++) {
      const name = (['polca', 'clusters', 'events'] as const)[trial % 3];
      const bytes = fs.readFileSync(path.join(reference, `${name}.arrows`));
      const schema = tableSchema(name, EVENT_TABLES[name]);
      const good = readTableBytes(bytes, schema, name);
      const damaged = Uint8Array.from(bytes);
      const at = Math.floor(rand() * damaged.length);
      const len = 1 + Math.floor(rand() * 16);
      for (let i = at; i < Math.min(damaged.length, at + len); i++) damaged[i] = Math.floor(rand() * 256);
      const file = path.join(root, `fuzz-${name}.arrows`);
      fs.writeFileSync(file, damaged);
      let result;
      try {
        result = readTableBytes(damaged, schema, name);
      } catch (e) {
        expect(e).toBeInstanceOf(RunFormatError);
        expect(() => drain(new TableFileReader(file, schema))).toThrow(RunFormatError);
        outcomes.error += 1;
        continue;
      }
      // The batch-by-batch reader applies the same checks: same batches kept, same verdict.
      const streamed = drain(new TableFileReader(file, schema));
      expect(streamed.batches).toBe(result.recovery.batches);
      expect(streamed.end).toBe(result.recovery.end);
      expect(result.recovery.batches).toBeLessThanOrEqual(good.recovery.batches);
      expect(result.recovery.validBytes + result.recovery.droppedBytes).toBe(damaged.length);
      if (result.recovery.end === 'corrupt' || result.recovery.end === 'truncated') {
        outcomes.corrupt += 1;
        expect(result.recovery.reason).toBeTruthy();
        // Batches before the damaged message are kept unchanged (value bytes after the damage point may differ).
        const keptBytes = result.recovery.validBytes;
        if (keptBytes <= at) expect(result.table.numRows).toBe(good.table.batches.slice(0, result.recovery.batches).reduce((s, b) => s + b.numRows, 0));
      } else {
        outcomes.intact += 1; // damage inside value buffers: not detectable without checksums
      }
    }
    expect(outcomes.error + outcomes.corrupt).toBeGreaterThan(0);
  });
});

function drain(reader: TableFileReader): { batches: number; end: string | null } {
  try {
    while (reader.next() !== null);
  } finally {
    reader.close();
  }
  return { batches: reader.batches, end: reader.end };
}

describe('openEventStream', () => {
  /** Files of `dir` this process holds open (Linux). */
  const openIn = (dir: string) => fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false; // closed meanwhile
    }
  }).length;
  const openFds = () => openIn(root);

  it('reads batch by batch, releases every file when done or closed early', async () => {
    const before = openFds();
    const stream = await openEventStream(reference);
    expect(openIn(reference)).toBe(TABLE_NAMES.length - 1);
    const first = [stream.events.next().value, stream.events.next().value];
    expect(bitDiff(first, events.slice(0, 2))).toBeNull();
    stream.close();
    stream.close();
    expect(openFds()).toBe(before);
    const all = await openEventStream(reference);
    expect(bitDiff([...all.events], events.slice(0, all.committed))).toBeNull();
    expect(all.committed).toBe(flushes[flushes.length - 1].committed);
    expect(openFds()).toBe(before);
  });

  it('names a missing table and closes what it had opened', async () => {
    const dir = copyRun(reference);
    fs.rmSync(path.join(dir, 'residuals.arrows'));
    const before = openFds();
    await expect(openEventStream(dir)).rejects.toThrow(/replay: cannot read table file ".*residuals\.arrows" \(ENOENT\)/);
    expect(openFds()).toBe(before);
  });
});

describe('per-datapoint row counts', () => {
  it('checkpoint losses and interval residuals must have N rows, N from run.json', async () => {
    const dir = copyRun(reference);
    const manifestFile = path.join(dir, 'run.json');
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    // The tables are intact; run.json claims one datapoint more than they hold.
    manifest.numProbe += 1;
    // The labels table (N rows) would refuse this first (labelsTable.test.ts); without it, the event tables must.
    delete manifest.labels;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const run = await readRun(dir);
    expect(() => [...decodeEvents(run)]).toThrow(/rows in losses, expected \d+; the run directory is damaged/);
    const stream = await openEventStream(dir);
    expect(() => [...stream.events]).toThrow(/rows in (losses|residuals), expected \d+/);
  });
});

describe('untrusted run directories', () => {
  it('refuses table paths outside the directory, a FIFO in place of a table, and a bad numProbe, by name', async () => {
    const edit = (dir: string, f: (m: Record<string, any>) => void) => {
      const file = path.join(dir, 'run.json');
      const m = JSON.parse(fs.readFileSync(file, 'utf8'));
      f(m);
      fs.writeFileSync(file, JSON.stringify(m));
    };
    const outside = copyRun(reference);
    edit(outside, (m) => (m.tables.events = '../../../../dev/zero'));
    await expect(readRun(outside)).rejects.toThrow(/field 'tables\.events' \("\.\.\/\.\.\/\.\.\/\.\.\/dev\/zero"\) points outside the run directory; refused/);
    await expect(openEventStream(outside)).rejects.toThrow(/points outside the run directory/);
    const absolute = copyRun(reference);
    edit(absolute, (m) => (m.tables.losses = '/etc/passwd'));
    await expect(readRun(absolute)).rejects.toThrow(/field 'tables\.losses' \("\/etc\/passwd"\) points outside/);
    const fifo = copyRun(reference);
    fs.rmSync(path.join(fifo, 'events.arrows'));
    execFileSync('mkfifo', [path.join(fifo, 'events.arrows')]);
    await expect(readRun(fifo)).rejects.toThrow(/field 'tables\.events' \("events\.arrows"\) is not a regular file; refused/);
    const badN = copyRun(reference);
    edit(badN, (m) => (m.numProbe = null));
    await expect(readRun(badN)).rejects.toThrow(/field 'numProbe' must be a positive integer, got null/);
  });
});
