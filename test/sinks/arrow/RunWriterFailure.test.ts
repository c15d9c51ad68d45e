/**
 * The writer fails soft (#14): an unwritable directory or a full disk stops
 * it without a throw or an unhandled rejection, marks run.json failed with
 * the reason when it can, and counts the events lost. The full disk is a
 * real 128 KB tmpfs in a private mount namespace (skipped where the kernel
 * does not allow one).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject, from } from 'rxjs';
import { afterAll, describe, expect, it } from 'vitest';
import { OptionError } from '../../../src/errors/validate.js';
import { RunWriter, writeRun, type RunWriterFailure } from '../../../src/sinks/arrow/RunWriter.js';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-writer-failure-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Collects unhandled rejections while `body` runs and a few turns of the event loop after it. */
async function unhandledDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  try {
    await body();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', listener);
  }
  return seen;
}

const canMountTmpfs = (() => {
  try {
    execFileSync('unshare', ['-r', '-m', 'sh', '-c', `mount -t tmpfs -o size=128k tmpfs ${JSON.stringify(root)}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('RunWriter on a disk that refuses writes', () => {
  const events = syntheticEvents({ numProbe: 5, numParams: 6, checkpoints: 3 });

  it('an unwritable directory (/dev/null/x): no throw, no unhandled rejection, every event counted lost', async () => {
    const failures: RunWriterFailure[] = [];
    let writer!: RunWriter;
    const unhandled = await unhandledDuring(async () => {
      writer = writeRun(from(events), '/dev/null/x', { onFailure: (f) => failures.push(f) });
      const result = await writer.closed;
      // closed settles at the failure, before the rest of the stream arrives.
      expect(result).toMatchObject({ status: 'failed', committedEvents: 0, lostEvents: 0 });
    });
    expect(unhandled).toEqual([]);
    expect(failures).toHaveLength(1);
    const [f] = failures;
    expect(f).toMatchObject({ dir: '/dev/null/x', operation: 'create', code: 'ENOTDIR', committedEvents: 0, manifestUpdated: false });
    expect(f.reason).toMatch(/RunWriter: could not create the run in "\/dev\/null\/x": ENOTDIR/);
    expect(writer.lostEvents).toBe(events.length);
    expect(writer.failure).toBe(f);
    // close() after the failure reports the same, and never throws.
    await expect(writer.close()).resolves.toMatchObject({ status: 'failed', lostEvents: events.length });
  });

  it('writing directly after the failure drops and counts instead of throwing', async () => {
    const w = new RunWriter('/dev/null/y');
    for (const e of events) w.write(e);
    w.flush();
    w.writeParams({ step: 0, theta: new Float32Array(6) });
    expect(w.failure?.code).toBe('ENOTDIR');
    expect(w.lostEvents).toBe(events.length);
    expect((await w.close()).status).toBe('failed');
  });

  it('a callback that throws is a warning, not a crash', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const subject = new Subject<PolcaEvent>();
      const w = writeRun(subject, '/dev/null/z', { onFailure: () => { throw new Error('pager down'); } });
      subject.next(events[0]);
      subject.complete();
      expect((await w.closed).status).toBe('failed');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toContain('RunWriter: options.onFailure threw pager down');
  });

  it.skipIf(!canMountTmpfs)('a full 128 KB tmpfs: run.json says failed with the reason, the committed prefix reads back exactly', () => {
    const mount = path.join(root, 'tmpfs');
    fs.mkdirSync(mount);
    const script = `mount -t tmpfs -o size=128k tmpfs "$1" && exec "$2" --import tsx "$3" "$1/run"`;
    const child = spawnSync('unshare', ['-r', '-m', 'sh', '-c', script, 'sh', mount, process.execPath, path.join(here, 'fixtures', 'writeToFullDisk.ts')], {
      cwd: repo, encoding: 'utf8', timeout: 60_000,
    });
    expect(child.stderr).not.toMatch(/unhandled rejection/);
    expect(child.status, child.stderr).toBe(0);
    const report = JSON.parse(child.stdout.trim().split('\n').at(-1)!);
    expect(report.callbacks).toBe(1);
    expect(report.result.status).toBe('failed');
    expect(report.result.failure).toMatchObject({ operation: 'flush', code: 'ENOSPC', manifestUpdated: true });
    // The fixture's stream is far larger than the disk: some events made it, most were lost, and the counts add up.
    expect(report.result.committedEvents).toBeGreaterThan(0);
    expect(report.result.committedEvents + report.writerLost).toBe(report.offered);
    expect(report.manifest).toMatchObject({ status: 'failed', events: report.result.committedEvents });
    expect(report.manifest.failureReason).toMatch(/RunWriter: flush failed in ".*\/run": ENOSPC/);
    expect(report.readBack).toBe(report.result.committedEvents);
    expect(report.prefixExact).toBe(true);
  });
});

describe('RunWriter options', () => {
  it('probeMeta: null and non-array columns are named option errors', () => {
    expect(() => new RunWriter(path.join(root, 'a'), { probeMeta: null as never })).toThrow(OptionError);
    expect(() => new RunWriter(path.join(root, 'a'), { probeMeta: null as never })).toThrow("RunWriter: option 'probeMeta' must be an object of per-datapoint columns ({ name: array of length numProbe }), got null");
    expect(() => new RunWriter(path.join(root, 'a'), { probeMeta: { token: 'abc' as never } })).toThrow("RunWriter: option 'probeMeta.token' must be an array with one value per probe datapoint, got \"abc\"");
    expect(() => new RunWriter(path.join(root, 'a'), { onFailure: 1 as never })).toThrow("RunWriter: option 'onFailure' must be a function, got 1");
  });
});
