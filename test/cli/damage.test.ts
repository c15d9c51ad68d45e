/**
 * The `polca` command line on damaged and untrusted run directories (#14),
 * as real processes: damage exits non-zero naming the file, or with
 * --allow-partial prints exactly a prefix of the intact output and says
 * how much was dropped. The exhaustive sweep (every batch boundary, 20
 * flips per table) runs in-process through the same command functions in
 * test/sinks/arrow/integrity.test.ts; here a seeded sample goes through
 * the process, its exit code and its streams.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { build } from 'esbuild';
import { from } from 'rxjs';
import { Message } from 'apache-arrow';
import { writeRun } from '../../src/sinks/arrow/RunWriter.js';
import { syntheticEvents } from '../helpers/syntheticEvents.js';
import { mulberry32 } from '../helpers/prng.js';

const ROOT = path.resolve(__dirname, '../..');
/** The CLI bundled once (a process starts in a fraction of tsx's time); inside the repository so its packages resolve. */
const CLI = path.join(ROOT, 'node_modules', '.cache', `polca-damage-cli-${process.pid}.mjs`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], wrap?: (argv: string[]) => [string, string[]]): Promise<Run> {
  const argv = [process.execPath, CLI, ...args];
  const [cmd, rest] = wrap ? wrap(argv) : [argv[0], argv.slice(1)];
  return new Promise((resolve) => {
    execFile(cmd, rest, { cwd: ROOT, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

async function writeSmallRun(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-cli-damage-'));
  await writeRun(from(syntheticEvents({ numProbe: 8, checkpoints: 6, seed: 3 })), dir).closed;
  return dir;
}

function copyRun(src: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-cli-damaged-'));
  for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
  return dir;
}

const tables = (dir: string) => (JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')) as { tables: Record<string, string> }).tables;

/** Start of every message of a stream file (schema, batches, end marker), from the documented framing. */
function messageOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 8 <= bytes.byteLength;) {
    out.push(at);
    const meta = view.getInt32(at + 4, true);
    if (meta === 0) break;
    at += 8 + meta + Number(Message.decode(bytes.subarray(at + 8, at + 8 + meta)).bodyLength);
  }
  return out;
}

/** Non-zero exit naming the file, nothing on stdout; or, with --allow-partial, a prefix of the intact lines and the drop on stderr. */
function expectRefusedThenPartial(strict: Run, partial: Run, file: string, intact: string[]): number {
  expect(strict.code).not.toBe(0);
  expect(strict.stderr).toContain(file);
  expect(strict.stderr).toMatch(/pass --allow-partial to use the intact first \d+ events/);
  expect(strict.stdout).toBe('');
  expect(partial.code).toBe(0);
  const lines = partial.stdout.trim() === '' ? [] : partial.stdout.trim().split('\n');
  expect(lines).toEqual(intact.slice(0, lines.length));
  expect(partial.stderr).toContain(file);
  expect(partial.stderr).toContain(`using the first ${lines.length} of ${intact.length} events; ${intact.length - lines.length} dropped`);
  return lines.length;
}

let run: string;
let intact: string[];
const made: string[] = [];

beforeAll(async () => {
  await build({ entryPoints: [path.join(ROOT, 'src/cli/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: CLI, logLevel: 'warning' });
  run = await writeSmallRun();
  made.push(run);
  const r = await cli(['replay', run, '--json']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  intact = r.stdout.trim().split('\n');
  expect(intact.length).toBeGreaterThan(40);
}, 120_000);

afterAll(() => {
  fs.rmSync(CLI, { force: true });
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

describe('polca on damaged run directories (real processes)', () => {
  it('seeded truncations at batch boundaries and byte flips: exit non-zero naming the file, or the intact prefix with --allow-partial', async () => {
    const rand = mulberry32(2026);
    const cases: { dir: string; file: string }[] = [];
    for (const name of ['losses', 'polca', 'events']) {
      const rel = tables(run)[name];
      const bytes = fs.readFileSync(path.join(run, rel));
      const offsets = messageOffsets(bytes);
      // A batch boundary (after batch 1 or later) …
      const cutAt = offsets[2 + Math.floor(rand() * (offsets.length - 3))];
      const cut = copyRun(run);
      fs.truncateSync(path.join(cut, rel), cutAt);
      cases.push({ dir: cut, file: rel });
      // … and a flipped bit inside a batch body.
      const flipped = copyRun(run);
      const damaged = Buffer.from(bytes);
      const b = 1 + Math.floor(rand() * (offsets.length - 2));
      const at = offsets[b] + Math.floor((offsets[b + 1] - offsets[b]) * (0.6 + 0.35 * rand()));
      damaged[at] ^= 1 << Math.floor(rand() * 8);
      fs.writeFileSync(path.join(flipped, rel), damaged);
      cases.push({ dir: flipped, file: rel });
    }
    made.push(...cases.map((c) => c.dir));
    const results = await Promise.all(cases.map(async (c) => [await cli(['replay', c.dir, '--json']), await cli(['replay', c.dir, '--json', '--allow-partial'])] as const));
    results.forEach(([strict, partial], i) => expectRefusedThenPartial(strict, partial, path.join(cases[i].dir, cases[i].file), intact));
  }, 300_000);

  it('budget and clusters refuse a flipped polca table by name (not a TrajectoryBuilder error), before computing', async () => {
    const dir = copyRun(run);
    made.push(dir);
    const rel = tables(dir).polca;
    const bytes = fs.readFileSync(path.join(dir, rel));
    const offsets = messageOffsets(bytes);
    bytes[offsets[2] - 5] ^= 0x40; // the end of batch 0's body
    fs.writeFileSync(path.join(dir, rel), bytes);
    const [budget, clusters] = await Promise.all([cli(['budget', dir]), cli(['clusters', dir, '--no-write'])]);
    for (const r of [budget, clusters]) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`damaged: ${path.join(dir, rel)}: corrupt at byte ${offsets[1]}`);
      expect(r.stderr).toContain(`record batch 0 at byte ${offsets[1]} fails its checksum`);
      expect(r.stderr).not.toMatch(/TrajectoryBuilder/);
      expect(r.stdout).toBe('');
    }
  }, 120_000);

  it('refuses run.json pointing outside the directory, at a FIFO, and a polca table from another run, by name', async () => {
    const outside = copyRun(run);
    const m = JSON.parse(fs.readFileSync(path.join(outside, 'run.json'), 'utf8'));
    m.tables.events = '../../../../dev/zero';
    fs.writeFileSync(path.join(outside, 'run.json'), JSON.stringify(m));
    const fifo = copyRun(run);
    const events = tables(fifo).events;
    fs.rmSync(path.join(fifo, events));
    execFileSync('mkfifo', [path.join(fifo, events)]);
    const foreign = copyRun(run);
    const other = await writeSmallRun();
    const polca = tables(foreign).polca;
    fs.copyFileSync(path.join(other, polca), path.join(foreign, polca));
    made.push(outside, fifo, foreign, other);
    const t0 = performance.now();
    const [a, b, c] = await Promise.all([cli(['replay', outside]), cli(['replay', fifo, '--allow-partial']), cli(['replay', foreign])]);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toMatch(/field 'tables\.events' \("\.\.\/\.\.\/\.\.\/\.\.\/dev\/zero"\) points outside the run directory; refused/);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toContain(`field 'tables.events' ("${events}") is not a regular file; refused`);
    expect(c.code).not.toBe(0);
    expect(c.stderr).toMatch(new RegExp(`${polca.replace('.', '\\.')}: belongs to run [0-9a-f-]+, but run\\.json is run`));
    // None of them waited on the FIFO (the 60 s process timeout would show as a null code).
    expect(performance.now() - t0).toBeLessThan(55_000);
  }, 120_000);

  it('clusters in a read-only run directory says so before computing; --out writes elsewhere', async () => {
    const dir = copyRun(run);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-cli-out-'));
    made.push(dir, out);
    // A read-only bind mount in a private mount namespace (root ignores file modes).
    const readOnly = (argv: string[]): [string, string[]] => [
      'unshare', ['-r', '-m', 'sh', '-c', 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" "$1" && shift && exec "$@"', 'sh', dir, ...argv],
    ];
    let probe: Run;
    try {
      probe = await cli(['--version'], readOnly);
    } catch {
      probe = { code: 1, stdout: '', stderr: '' };
    }
    if (probe.code !== 0) {
      console.warn('read-only test skipped: no private mount namespace here', probe.stderr);
      return;
    }
    const [refused, elsewhere] = await Promise.all([cli(['clusters', dir, '--kinds', 'loss'], readOnly), cli(['clusters', dir, '--kinds', 'loss', '--out', out], readOnly)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`cannot write the memberships to "${path.join(dir, 'analysis')}" (EROFS); the run directory is read-only? pass --out <dir>`);
    expect(refused.stdout).toBe('');
    expect(elsewhere.code).toBe(0);
    expect(elsewhere.stdout).toContain(`memberships written to ${path.join(out, 'clusters.arrows')}`);
    expect(fs.statSync(path.join(out, 'clusters.arrows')).size).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(dir, 'analysis'))).toBe(false);
  }, 120_000);
});
