/**
 * Integrity of run directories (#14): per-batch checksums, row counts
 * against run.json and across tables, foreign tables, untrusted paths and
 * sizes. Damage is made to a real run written by RunWriter; every case goes
 * through `replayCommand`, the function behind `polca replay` (the real
 * process is exercised in test/cli/damage.test.ts), and must either fail
 * naming the damaged file, or, with `allowPartial`, print exactly a prefix
 * of the intact run's output and say how much it dropped.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Subject, from } from 'rxjs';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { Data, Float32, Int32, Message, RecordBatch, Struct, makeData } from 'apache-arrow';
import { writeRun } from '../../../src/sinks/arrow/RunWriter.js';
import { verifyRun } from '../../../src/sinks/arrow/verifyRun.js';
import { readManifest } from '../../../src/sinks/arrow/manifest.js';
import { RunFormatError } from '../../../src/sinks/arrow/RunFormatError.js';
import { TableFileReader } from '../../../src/sinks/arrow/TableFileReader.js';
import { TableFile } from '../../../src/sinks/arrow/TableFile.js';
import { eventTableSchema } from '../../../src/sinks/arrow/schemas.js';
import { replayCommand } from '../../../src/cli/replayCommand.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';
import { mulberry32 } from '../../helpers/prng.js';

const OPTIONS = { numProbe: 8, checkpoints: 6, seed: 3 };

async function writeSmallRun(seed = OPTIONS.seed): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-integrity-'));
  const writer = writeRun(from(syntheticEvents({ ...OPTIONS, seed })), dir);
  await writer.closed;
  return dir;
}

function copyRun(src: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-damaged-'));
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  return dir;
}

/** A copy of a run whose run.json says it is still running, as a killed writer leaves it (no file sizes, no event count). */
function copyAsUnclosed(src: string): { dir: string; m: ReturnType<typeof JSON.parse> } {
  const dir = copyRun(src);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
  m.status = 'running';
  delete m.files;
  delete m.events;
  fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(m));
  return { dir, m };
}

function tableFiles(dir: string): Record<string, string> {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as { tables: Record<string, string> };
  return m.tables;
}

/** Start offsets of every message (schema, batches, end marker) from the documented framing, read independently of polca's scanner. */
function messageOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  let at = 0;
  while (at + 8 <= bytes.byteLength) {
    out.push(at);
    const meta = view.getInt32(at + 4, true);
    if (meta === 0) break;
    at += 8 + meta + Number(Message.decode(bytes.subarray(at + 8, at + 8 + meta)).bodyLength);
  }
  return out;
}

/** Table-driven CRC-32 (IEEE 802.3, reflected), written here so the checksums are checked by another implementation than zlib's. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array, seed = 0): number {
  let c = ~seed >>> 0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

interface Outcome {
  threw?: string;
  lines: string[];
  warnings: string[];
}

async function runReplay(dir: string, allowPartial: boolean): Promise<Outcome> {
  const lines: string[] = [];
  const warnings: string[] = [];
  try {
    await replayCommand(dir, { json: true, allowPartial, warn: (w) => warnings.push(w) }, (s) => lines.push(s));
    return { lines, warnings };
  } catch (e) {
    return { threw: (e as Error).message, lines, warnings };
  }
}

/**
 * The rule every damaged directory must follow. Returns whether the damage
 * was detected (an inert flip — padding, an unused flatbuffer byte — may
 * change nothing, and then the output must be the intact one).
 */
async function expectDetectedOrHarmless(dir: string, file: string, baseline: string[]): Promise<{ detected: boolean; kept: number }> {
  const strict = await runReplay(dir, false);
  if (strict.threw === undefined) {
    // Nothing found: the output must be the intact one (--allow-partial then changes nothing: no damage, no limit).
    expect(strict.lines).toEqual(baseline);
    return { detected: false, kept: baseline.length };
  }
  const partial = await runReplay(dir, true);
  expect(strict.threw).toContain(file);
  expect(strict.lines).toEqual([]); // nothing printed before the damage was found
  expect(partial.threw).toBeUndefined();
  const k = partial.lines.length;
  expect(partial.lines).toEqual(baseline.slice(0, k));
  expect(partial.warnings.some((w) => w.includes(file))).toBe(true);
  expect(partial.warnings.some((w) => w.includes(`using the first ${k} of ${baseline.length} events; ${baseline.length - k} dropped`))).toBe(true);
  return { detected: true, kept: k };
}

let intactDir: string;
let baseline: string[];

beforeAll(async () => {
  intactDir = await writeSmallRun();
  const r = await runReplay(intactDir, false);
  expect(r.threw).toBeUndefined();
  expect(r.warnings).toEqual([]);
  baseline = r.lines;
});

describe('checksums', () => {
  it('every batch of every table carries a CRC-32 of its position, header values and body, as documented', () => {
    const files = tableFiles(intactDir);
    let checked = 0;
    for (const rel of Object.values(files)) {
      const bytes = fs.readFileSync(path.join(intactDir, rel));
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const offsets = messageOffsets(bytes);
      // schema, batches, end-of-stream marker
      for (let b = 0; b < offsets.length - 2; b++) {
        const at = offsets[b + 1];
        const meta = view.getInt32(at + 4, true);
        const message = Message.decode(bytes.subarray(at + 8, at + 8 + meta));
        const header = message.header() as unknown as { length: number; nodes: { length: number; nullCount: number }[]; buffers: { offset: number; length: number }[] };
        const described = JSON.stringify([
          b, message.version, Number(header.length),
          header.nodes.map((n) => [Number(n.length), Number(n.nullCount)]), header.buffers.map((r) => [Number(r.offset), Number(r.length)]),
        ]);
        const body = bytes.subarray(at + 8 + meta, at + 8 + meta + Number(message.bodyLength));
        const expected = crc32(body, crc32(new TextEncoder().encode(described))).toString(16).padStart(8, '0');
        expect(message.metadata.get('polca.crc32')).toBe(expected);
        checked += 1;
      }
    }
    // The fixture has batches in every table but clusters-free ones.
    expect(checked).toBeGreaterThan(30);
  });

  it('the checksum is written in place, or by a second encoding when the stand-in value is ambiguous; readers verify both', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-crc-'));
    const file = path.join(dir, 'steps.arrows');
    const schema = eventTableSchema('steps');
    const reader0 = new TableFileReader(path.join(intactDir, tableFiles(intactDir).steps), schema);
    const batch = reader0.next()!;
    reader0.close();
    const out = new TableFile(file, schema, false, 'run-1');
    out.append(batch);
    // Batch metadata holding the stand-in's bytes: the in-place spot is ambiguous.
    out.append(new RecordBatch(batch.schema, batch.data, new Map([['note', 'ffffffff']])));
    out.end();
    const reader = new TableFileReader(file, schema);
    const seen = [];
    for (let b = reader.next(); b; b = reader.next()) seen.push(b);
    expect(reader.end).toBe('eos');
    expect(seen).toHaveLength(2);
    expect(reader.checksummed).toBe(2);
    expect(seen[1].metadata.get('note')).toBe('ffffffff');
    fs.rmSync(dir, { recursive: true });
  });

  it('run.json records the run id, the scheme and each file as written; each file carries the run id', async () => {
    const manifest = await readManifest(intactDir);
    expect(manifest.checksum).toBe('crc32');
    expect(manifest.runId).toMatch(/^[0-9a-f-]{36}$/);
    for (const [name, rel] of Object.entries(manifest.tables)) {
      const file = path.join(intactDir, rel);
      const reader = new TableFileReader(file, eventTableSchema(name as never, manifest.layout ?? 1));
      while (reader.next()) { /* count */ }
      expect(reader.runId).toBe(manifest.runId);
      expect(manifest.files![name]).toEqual({ bytes: fs.statSync(file).size, batches: reader.batches, rows: reader.rows });
    }
    const check = await verifyRun(intactDir);
    expect(check.damage).toEqual([]);
    expect(check.intactEvents).toBe(baseline.length);
  });
});

describe('real runs verify clean', () => {
  it('a tracker run with a grown Hessian basis, full-length fills and kept θ has no damage and nothing unverified', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { createPolca } = await import('../../../src/tracker/createPolca.js');
    const { recordRun } = await import('../../../src/run/recordRun.js');
    const { tinyMlp } = await import('../../reference/tinyModels.js');
    await tf.setBackend('cpu');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-integrity-real-'));
    const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 6, numData: 10, seed: 5 });
    const opt = tf.train.sgd(0.2);
    const tracker = createPolca({
      params: m.params, probe: () => m.perDatapointLossTf(), hessianLoss: () => m.lossTf(), every: 2,
      basis: { kind: 'hessian', every: 4, k: 1, maxVectors: 3 }, secondOrder: 'secant',
    });
    const seen: string[] = [];
    tracker.events$.subscribe((e) => seen.push(e.type === 'polca' && e.filled ? 'filled' : e.type));
    const writer = recordRun(tracker, dir, { keepParams: true });
    await tracker.step(0);
    for (let s = 1; s <= 12; s++) {
      opt.minimize(() => m.lossTf(), false, m.params);
      await tracker.step(s);
    }
    await tracker.close();
    await writer.closed;
    opt.dispose();
    m.dispose();
    // The fixture exercised what the cross-table checks look at: grown vectors, filled intervals, θ.
    expect(seen.filter((t) => t === 'basis').length).toBe(3);
    expect(seen).toContain('filled');
    const check = await verifyRun(dir);
    expect(check.damage).toEqual([]);
    expect(check.unverified).toEqual([]);
    expect(check.intactEvents).toBe(seen.length);
    expect(check.tables.params.batches).toBeGreaterThan(0);
  });
});

describe('damage is detected: truncation', () => {
  it('at every batch boundary of every table, and mid-batch: an error naming the file, or the intact prefix with what was dropped', async () => {
    const files = tableFiles(intactDir);
    let cases = 0;
    const dir = copyRun(intactDir);
    for (const rel of Object.values(files)) {
      const bytes = fs.readFileSync(path.join(intactDir, rel));
      const offsets = messageOffsets(bytes);
      const cuts = new Set<number>(offsets.slice(1)); // after the schema, after each batch (the end marker's start)
      // A few cuts inside batches: a third of the way into each of the first two batch messages.
      for (let b = 1; b < Math.min(3, offsets.length - 1); b++) cuts.add(offsets[b] + Math.floor((offsets[b + 1] - offsets[b]) / 3));
      cuts.add(bytes.length - 3); // inside the end-of-stream marker
      for (const cut of cuts) {
        fs.writeFileSync(path.join(dir, rel), bytes.subarray(0, cut));
        const { detected } = await expectDetectedOrHarmless(dir, rel, baseline);
        expect(detected, `${rel} cut at ${cut}`).toBe(true);
        cases += 1;
      }
      fs.writeFileSync(path.join(dir, rel), bytes);
    }
    fs.rmSync(dir, { recursive: true });
    expect(cases).toBeGreaterThan(60);
  });
});

describe('damage is detected: byte flips', () => {
  it('20 seeded random flips per table: never exit 0 with output that differs from the intact run', async () => {
    const files = tableFiles(intactDir);
    const rand = mulberry32(14);
    let detected = 0;
    let inert = 0;
    const dir = copyRun(intactDir);
    for (const rel of Object.values(files)) {
      const original = fs.readFileSync(path.join(intactDir, rel));
      for (let i = 0; i < 20; i++) {
        const bytes = Buffer.from(original);
        const at = Math.floor(rand() * bytes.length);
        bytes[at] ^= 1 << Math.floor(rand() * 8);
        fs.writeFileSync(path.join(dir, rel), bytes);
        const r = await expectDetectedOrHarmless(dir, rel, baseline);
        if (r.detected) detected += 1;
        else inert += 1;
      }
      fs.writeFileSync(path.join(dir, rel), original);
    }
    fs.rmSync(dir, { recursive: true });
    console.info(`byte flips: ${detected} detected, ${inert} inert (output identical to the intact run)`);
    // Most flips land in checksummed bodies or checked headers; the rest hit bytes Arrow never reads.
    expect(detected + inert).toBe(20 * Object.keys(files).length);
    expect(detected).toBeGreaterThan(inert);
  });

  it('a flipped float in a polca value is caught by the checksum (the reader would otherwise return another number)', async () => {
    const rel = tableFiles(intactDir).polca;
    const bytes = fs.readFileSync(path.join(intactDir, rel));
    const offsets = messageOffsets(bytes);
    const at = offsets[1];
    const meta = bytes.readInt32LE(at + 4);
    const bodyStart = at + 8 + meta;
    const dir = copyRun(intactDir);
    const damaged = Buffer.from(bytes);
    damaged[bodyStart + Math.floor((offsets[2] - bodyStart) * 0.8)] ^= 0x01; // in the value buffers, far from offsets
    fs.writeFileSync(path.join(dir, rel), damaged);
    const check = await verifyRun(dir);
    expect(check.damage.map((d) => d.message).join('\n')).toContain(`corrupt at byte ${offsets[1]} of ${bytes.length} (record batch 0 at byte ${offsets[1]} fails its checksum`);
    await expectDetectedOrHarmless(dir, rel, baseline);
  });
});

describe('tables from elsewhere and counts', () => {
  it('a polca table copied from another run is refused by name', async () => {
    const other = await writeSmallRun(OPTIONS.seed); // the same events, another run id
    const dir = copyRun(intactDir);
    const rel = tableFiles(dir).polca;
    fs.copyFileSync(path.join(other, rel), path.join(dir, rel));
    const strict = await runReplay(dir, false);
    expect(strict.threw).toMatch(new RegExp(`${rel.replace('.', '\\.')}: belongs to run [0-9a-f-]+, but run\\.json is run`));
    const { detected, kept } = await expectDetectedOrHarmless(dir, rel, baseline);
    expect(detected).toBe(true);
    // The intact prefix ends just before the first polca event.
    expect(JSON.parse(baseline[kept]).type).toBe('polca');
    expect(baseline.slice(0, kept).every((l) => JSON.parse(l).type !== 'polca')).toBe(true);
  });

  it('losses has N rows per checkpoint like the other per-datapoint tables, even in a file whose checksums and sizes are all right', async () => {
    // Rewrite losses with the last row of its second batch missing: every checksum is valid and run.json's files agree.
    const dir = copyRun(intactDir);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    const file = path.join(dir, m.tables.losses);
    const reader = new TableFileReader(file, eventTableSchema('losses', m.layout ?? 1));
    const batches = [];
    for (let b = reader.next(); b; b = reader.next()) batches.push(b);
    expect(batches.length).toBeGreaterThan(2);
    fs.rmSync(file);
    const out = new TableFile(file, eventTableSchema('losses', m.layout ?? 1), false, m.runId);
    batches.forEach((b, i) => out.append(i === 1 ? b.slice(0, b.numRows - 1) : b));
    out.end();
    m.files.losses = { bytes: out.bytes, batches: out.batches, rows: out.rows };
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(m));
    const seq = batches[1].getChild('seq')!.get(0) as number;
    const check = await verifyRun(dir);
    expect(check.damage).toEqual([{ table: 'losses', file, message: `event ${seq} (checkpoint) has 7 rows, expected 8` }]);
    expect(check.intactEvents).toBe(seq);
    const { detected, kept } = await expectDetectedOrHarmless(dir, m.tables.losses, baseline);
    expect(detected).toBe(true);
    expect(kept).toBe(seq);
  });

  it('θ rows are checked against the commit log: a missing, misplaced or extra θ is damage naming the checkpoint', async () => {
    const events = syntheticEvents({ ...OPTIONS, numParams: 5 });
    const checkpoints = events.flatMap((e, seq) => (e.type === 'checkpoint' ? [{ seq, step: e.step }] : []));
    expect(checkpoints.length).toBe(OPTIONS.checkpoints);
    /** Writes the run with θ per checkpoint as `thetaSteps` says (the steps written after each checkpoint, in order). */
    const write = async (thetaSteps: (step: number, i: number) => number[]) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-params-'));
      const subject = new Subject<PolcaEvent>();
      const writer = writeRun(subject, dir, { keepParams: true });
      let i = 0;
      for (const e of events) {
        subject.next(e);
        if (e.type === 'checkpoint') for (const step of thetaSteps(e.step, i++)) writer.writeParams({ step, theta: new Float32Array(5).fill(step) });
      }
      subject.complete();
      await writer.closed;
      return { dir, file: path.join(dir, 'params.arrows') };
    };
    const intact = await write((step) => [step]);
    const ok = await verifyRun(intact.dir);
    expect(ok.damage).toEqual([]);
    expect(ok.intactEvents).toBe(events.length);

    const skipped = await write((step, i) => (i === 3 ? [] : [step]));
    const bad = await verifyRun(skipped.dir);
    expect(bad.damage).toEqual([{
      table: 'params', file: skipped.file,
      message: `row 3 holds θ of step ${checkpoints[4].step}, but checkpoint 3 (event ${checkpoints[3].seq}) is at step ${checkpoints[3].step}`,
    }]);
    expect(bad.intactEvents).toBe(checkpoints[3].seq);

    const last = checkpoints.length - 1;
    const missingLast = await write((step, i) => (i === last ? [] : [step]));
    expect((await verifyRun(missingLast.dir)).damage.map((d) => d.message)).toEqual([
      `holds θ of ${last} checkpoints, the commit log has ${checkpoints.length}: θ of event ${checkpoints[last].seq} (step ${checkpoints[last].step}) and later is missing`,
    ]);

    const extra = await write((step, i) => (i === last ? [step, step + 1] : [step]));
    const more = await verifyRun(extra.dir);
    expect(more.damage.map((d) => d.message)).toEqual([`1 row of θ after the last checkpoint in the commit log (${checkpoints.length} checkpoints)`]);
    expect(more.intactEvents).toBe(events.length);
  });

  it('an interval naming a basis vector no basis event announced is damage, even with a recomputed checksum', async () => {
    const dir = copyRun(intactDir);
    const rel = tableFiles(dir).projections;
    const file = path.join(dir, rel);
    const bytes = fs.readFileSync(file);
    const at = messageOffsets(bytes)[1];
    const meta = bytes.readInt32LE(at + 4);
    const message = Message.decode(bytes.subarray(at + 8, at + 8 + meta));
    const header = message.header() as unknown as { length: number; nodes: { length: number; nullCount: number }[]; buffers: { offset: number; length: number }[] };
    // Buffers: validity and values of seq, fromStep, toStep, basisId, projection; set the first basisId to 99.
    const body = at + 8 + meta;
    bytes.writeInt32LE(99, body + Number(header.buffers[7].offset));
    const described = JSON.stringify([
      0, message.version, Number(header.length),
      header.nodes.map((n) => [Number(n.length), Number(n.nullCount)]), header.buffers.map((r) => [Number(r.offset), Number(r.length)]),
    ]);
    const crc = crc32(bytes.subarray(body, body + Number(message.bodyLength)), crc32(new TextEncoder().encode(described))).toString(16).padStart(8, '0');
    const stored = Buffer.from(message.metadata.get('polca.crc32')!);
    const where = bytes.indexOf(stored, at + 8);
    expect(where).toBeGreaterThan(at);
    expect(where).toBeLessThan(body);
    Buffer.from(crc).copy(bytes, where);
    fs.writeFileSync(file, bytes);
    const check = await verifyRun(dir);
    const seq = check.damage.length > 0 ? Number(/event (\d+)/.exec(check.damage[0].message)?.[1]) : -1;
    expect(check.damage).toEqual([{ table: 'projections', file, message: `event ${seq} (polca) projects on basis vector 99, which no earlier basis event announced` }]);
    expect(JSON.parse(baseline[seq]).basisIds[0]).not.toBe(99);
    const { detected, kept } = await expectDetectedOrHarmless(dir, rel, baseline);
    expect(detected).toBe(true);
    expect(kept).toBe(seq);
  });

  it('a closed run whose files disagree with run.json is damage even when each file reads cleanly', async () => {
    const dir = copyRun(intactDir);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    m.files.steps.rows += 1;
    m.events += 1;
    fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(m));
    const check = await verifyRun(dir);
    const messages = check.damage.map((d) => d.message).join('\n');
    expect(messages).toMatch(/run\.json records \d+ batches, \d+ rows/);
    expect(messages).toMatch(new RegExp(`holds ${baseline.length} events, run.json records ${baseline.length + 1}`));
  });
});

describe('replay limit', () => {
  it('emits exactly the first n events, strict or not, and names a bad limit', async () => {
    const { lastValueFrom, toArray } = await import('rxjs');
    const { replay } = await import('../../../src/sinks/arrow/replay.js');
    const json = (e: unknown) => JSON.stringify(e, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v));
    for (const strict of [false, true]) {
      const events = await lastValueFrom(replay(intactDir, { limit: 17, strict }).pipe(toArray()));
      expect(events.map(json)).toEqual(baseline.slice(0, 17));
    }
    expect(() => replay(intactDir, { limit: -1 })).toThrow("replay: option 'limit' must be a non-negative integer, got -1");
  });
});

describe('runs that were not closed', () => {
  it('a half-written last message of a killed writer is noted, not damage: the committed events replay in full', async () => {
    const { dir, m } = copyAsUnclosed(intactDir);
    const rel = m.tables.polca;
    const bytes = fs.readFileSync(path.join(dir, rel));
    const offsets = messageOffsets(bytes);
    // Drop the end-of-stream marker and start a new batch that never finished (its event was never committed).
    const half = bytes.subarray(offsets[1], offsets[1] + Math.floor((offsets[2] - offsets[1]) / 2));
    fs.writeFileSync(path.join(dir, rel), Buffer.concat([bytes.subarray(0, offsets.at(-1)!), half]));
    const r = await runReplay(dir, false);
    expect(r.threw).toBeUndefined();
    expect(r.lines).toEqual(baseline);
    expect(r.warnings.some((w) => w.includes(`not verified: ${path.join(dir, rel)}: the last message is cut at byte ${offsets.at(-1)! + half.length}`))).toBe(true);
    expect(r.warnings.some((w) => w.includes("run.json status is 'running'"))).toBe(true);
    // A row an event needs is still damage in an unclosed run: cut the same file inside a committed batch.
    fs.writeFileSync(path.join(dir, rel), bytes.subarray(0, offsets[2] + 20));
    const cut = await runReplay(dir, false);
    expect(cut.threw).toContain(path.join(dir, rel));
  });
});

describe('untrusted run directories', () => {
  it('run.json pointing outside the directory, at a FIFO, or at a symlink to /dev/zero is refused by name, without hanging', async () => {
    const outside = copyRun(intactDir);
    const m = JSON.parse(fs.readFileSync(path.join(outside, 'run.json'), 'utf8'));
    m.tables.events = '../../../../dev/zero';
    fs.writeFileSync(path.join(outside, 'run.json'), JSON.stringify(m));
    expect((await runReplay(outside, true)).threw).toMatch(/field 'tables\.events' \("\.\.\/\.\.\/\.\.\/\.\.\/dev\/zero"\) points outside the run directory; refused/);
    m.tables.events = '/etc/passwd';
    fs.writeFileSync(path.join(outside, 'run.json'), JSON.stringify(m));
    expect((await runReplay(outside, true)).threw).toMatch(/field 'tables\.events' \("\/etc\/passwd"\) points outside the run directory/);

    const fifo = copyRun(intactDir);
    const events = tableFiles(fifo).events;
    fs.rmSync(path.join(fifo, events));
    execFileSync('mkfifo', [path.join(fifo, events)]);
    const t0 = performance.now();
    expect((await runReplay(fifo, true)).threw).toMatch(new RegExp(`field 'tables\\.events' \\("${events.replace('.', '\\.')}"\\) is not a regular file; refused`));
    // The readers refuse it on their own too (a path swapped after run.json was checked), without blocking on the open.
    expect(() => new TableFileReader(path.join(fifo, events), eventTableSchema('events'))).toThrow(/is not a regular file; refused/);
    fs.rmSync(path.join(fifo, events));
    fs.symlinkSync('/dev/zero', path.join(fifo, events));
    expect((await runReplay(fifo, true)).threw).toMatch(/is not a regular file; refused/);
    expect(() => new TableFileReader(path.join(fifo, events), eventTableSchema('events'))).toThrow(/ELOOP/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('run.json itself as a FIFO or a huge file is refused by name, without hanging or reading it', async () => {
    const dir = copyRun(intactDir);
    const manifest = path.join(dir, 'run.json');
    fs.rmSync(manifest);
    execFileSync('mkfifo', [manifest]);
    const t0 = performance.now();
    expect((await runReplay(dir, true)).threw).toBe(`polca replay: run.json ${JSON.stringify(manifest)} is not a regular file; refused`);
    fs.rmSync(manifest);
    fs.copyFileSync(path.join(intactDir, 'run.json'), manifest);
    fs.truncateSync(manifest, 2 * 1024 ** 3);
    expect((await runReplay(dir, true)).threw).toBe(`polca replay: run.json ${JSON.stringify(manifest)} has ${2 * 1024 ** 3} bytes, more than ${64 * 1024 * 1024}; refused`);
    expect(performance.now() - t0).toBeLessThan(5000);
    fs.rmSync(dir, { recursive: true });
  });

  it('a huge table file is not read: it is larger than run.json records', async () => {
    const dir = copyRun(intactDir);
    const rel = tableFiles(dir).polca;
    fs.truncateSync(path.join(dir, rel), 16 * 1024 ** 3); // sparse: 16 GB that would take minutes and the heap to read
    const t0 = performance.now();
    const strict = await runReplay(dir, false);
    expect(strict.threw).toMatch(new RegExp(`${rel.replace('.', '\\.')}.*has 17179869184 bytes, more than the \\d+ bytes run\\.json's counts allow; refused`));
    const { detected } = await expectDetectedOrHarmless(dir, rel, baseline);
    expect(detected).toBe(true);
    expect(performance.now() - t0).toBeLessThan(10000);
    fs.rmSync(dir, { recursive: true });
  });

  it('in a run that was not closed, a message larger than run.json\'s counts allow is damage and is not read', async () => {
    const { recordBatchMessage, schemaMessage } = await import('../../../src/sinks/arrow/ipcFrames.js');
    const { readLimits } = await import('../../../src/sinks/arrow/readLimits.js');
    const { dir, m } = copyAsUnclosed(intactDir);
    const limit = readLimits(m, 'losses').messageBytes;
    // A real losses batch with more rows than one flush can hold; only its metadata is written, the body is a sparse hole.
    const schema = eventTableSchema('losses', m.layout ?? 1);
    const rows = Math.ceil(limit / 16) + 1;
    const ints = new Int32Array(rows);
    const children = [ints, ints, ints].map((data) => makeData({ type: new Int32(), length: rows, nullCount: 0, data }) as Data);
    children.push(makeData({ type: new Float32(), length: rows, nullCount: 0, data: new Float32Array(ints.buffer) }) as Data);
    const batch = new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
    const message = recordBatchMessage(batch, schemaMessage(schema).byteLength);
    const metaEnd = 8 + new DataView(message.buffer, message.byteOffset).getInt32(4, true);
    const rel = m.tables.losses;
    const file = path.join(dir, rel);
    const bytes = fs.readFileSync(file);
    const offsets = messageOffsets(bytes);
    fs.writeFileSync(file, Buffer.concat([bytes.subarray(0, offsets.at(-1)!), message.subarray(0, metaEnd)]));
    fs.truncateSync(file, offsets.at(-1)! + message.byteLength);
    const t0 = performance.now();
    const strict = await runReplay(dir, false);
    expect(strict.threw).toContain(`${file}: corrupt at byte ${offsets.at(-1)}`);
    expect(strict.threw).toContain(`message of ${message.byteLength} bytes at byte ${offsets.at(-1)}, more than the ${limit} bytes run.json's counts allow`);
    expect(performance.now() - t0).toBeLessThan(10000);
    fs.rmSync(dir, { recursive: true });
  });

  it('every bad run.json field is named with its value', async () => {
    const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
      ['events', (m) => { m.events = -3; }, /field 'events' must be a non-negative integer, got -3/],
      ['numParams', (m) => { m.numParams = 'many'; }, /field 'numParams' must be a non-negative integer, got "many"/],
      ['status', (m) => { m.status = 'weird'; }, /field 'status' must be one of running, closed, aborted, failed, got "weird"/],
      ['runId', (m) => { m.runId = '../x'; }, /field 'runId' must be a run id/],
      ['checksum', (m) => { m.checksum = 'md5'; }, /field 'checksum' must be 'crc32', got "md5"/],
      ['files', (m) => { m.files.polca.rows = 1.5; }, /field 'files\.polca\.rows' must be a non-negative integer, got 1\.5/],
      ['probeMeta', (m) => { m.probeMeta = { place: [1, 2] }; }, /field 'probeMeta\.place' must be an array of length numProbe = 8, got \[1,2\]/],
      ['params', (m) => { m.params = '../../etc/shadow'; }, /field 'params' \("\.\.\/\.\.\/etc\/shadow"\) points outside the run directory/],
      ['tables', (m) => { m.tables = 'x'; }, /field 'tables' must be an object of table file names, got "x"/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = copyRun(intactDir);
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
      edit(m);
      fs.writeFileSync(path.join(dir, 'run.json'), JSON.stringify(m));
      let error: unknown;
      try {
        await readManifest(dir, 'polca replay');
      } catch (e) {
        error = e;
      }
      expect(error, name).toBeInstanceOf(RunFormatError);
      expect((error as Error).message, name).toMatch(message);
      fs.rmSync(dir, { recursive: true });
    }
  });
});
