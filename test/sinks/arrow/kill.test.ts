/**
 * Crash safety with a real process: a child writes an endless run and is
 * killed with SIGKILL at random moments. Every run left behind must read
 * back as exactly the synthetic events (and θ) up to at least the last flush
 * the child reported before it died.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { readParams, readRun } from '../../../src/sinks/arrow/readRun.js';
import { decodeEvents } from '../../../src/sinks/arrow/decodeEvents.js';
import { openEventStream } from '../../../src/sinks/arrow/openEventStream.js';
import { TABLE_NAMES } from '../../../src/sinks/arrow/schemas.js';
import { prng, takeEvents } from '../../helpers/syntheticEvents.js';
import { bitDiff } from './bitEqual.js';
import { KILL_STREAM, thetaAt } from './fixtures/killStream.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, 'fixtures', 'writeForever.ts');
const repo = path.resolve(here, '..', '..', '..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-kill-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Run the child until `delayMs` after its first flush, SIGKILL it, and return what it reported. */
function runAndKill(dir: string, seed: number, delayMs: number, whileRunning?: () => Promise<void>): Promise<{ committed: number; params: number; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, String(seed)], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let armed = false;
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child never reported a flush: ${err}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!armed && out.includes('committed ')) {
        armed = true;
        const started = Date.now();
        void (whileRunning ?? (async () => undefined))()
          .catch((e: unknown) => {
            child.kill('SIGKILL');
            reject(e);
          })
          .then(() => setTimeout(() => child.kill('SIGKILL'), Math.max(0, delayMs - (Date.now() - started))));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('close', (_code, signal) => {
      clearTimeout(guard);
      const last = (word: string) => Math.max(0, ...[...out.matchAll(new RegExp(`^${word} (\\d+)$`, 'gm'))].map((m) => Number(m[1])));
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (${signal}): ${err}`));
      else resolve({ committed: last('committed'), params: last('params'), signal });
    });
  });
}

describe('RunWriter under SIGKILL', () => {
  it('leaves a readable run equal to the events up to the last reported flush, at 10 random kill points', async () => {
    const rand = prng(2024);
    let midFlush = 0;
    // Ten random kill points; then, only if none of them landed inside a flush, more until one does
    // (about one kill in five does), so that recovery of a half-written flush is always exercised.
    for (let k = 0; k < 10 || (midFlush === 0 && k < 30); k++) {
      const dir = path.join(root, `kill${k}`);
      const seed = 100 + k;
      // The first kills also read the run while the child is still writing it.
      const live = async () => {
        for (let r = 0; r < 3; r++) {
          const run = await readRun(dir);
          expect(bitDiff([...decodeEvents(run)], takeEvents({ ...KILL_STREAM, seed }, run.events)), `live read ${r}`).toBeNull();
        }
      };
      const { committed, params } = await runAndKill(dir, seed, Math.floor(rand() * 400), k < 3 ? live : undefined);
      expect(committed).toBeGreaterThan(0);
      const run = await readRun(dir);
      expect(run.manifest.status).toBe('running');
      expect(run.events).toBeGreaterThanOrEqual(committed);
      if (TABLE_NAMES.some((t) => run.recovery[t].droppedBytes > 0 || run.uncommittedRows[t] > 0)) midFlush += 1;
      const back = [...decodeEvents(run)];
      const want = takeEvents({ ...KILL_STREAM, seed }, run.events);
      expect(back.length).toBe(run.events);
      expect(bitDiff(back, want), `kill ${k}`).toBeNull();
      const streamed = await openEventStream(dir);
      expect(bitDiff([...streamed.events], want), `kill ${k}, batch by batch`).toBeNull();
      const kept = await readParams(dir);
      expect(kept.params.length).toBeGreaterThanOrEqual(params);
      expect(bitDiff(kept.params.map((p) => p.theta), kept.params.map((_, i) => thetaAt(seed, i)))).toBeNull();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(midFlush).toBeGreaterThan(0);
  });
});
