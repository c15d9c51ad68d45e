/**
 * A Python grpcio client (Debian python3-grpcio), with stubs generated at
 * test time by grpc_tools.protoc (python3-grpc-tools) from the committed
 * proto, subscribes to a live run and receives exactly what was sent.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { startServer } from '../../src/serve/startServer.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import type { Event__Output } from '../../src/serve/generated/polca/v1/Event.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { expectEventMatches } from './expectEvent.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
// Debian's interpreter, where python3-grpcio and python3-grpc-tools live (a PATH python3 may be another one).
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** JSON cannot carry NaN or ±Infinity; the client sends them as strings. */
function revive(value: unknown): unknown {
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  return value;
}

describe('Python grpcio client', () => {
  it('receives the live stream equal to what was sent', async () => {
    const stubs = mkdtempSync(join(tmpdir(), 'polca-py-'));
    dirs.push(stubs);
    await run(PYTHON, ['-m', 'grpc_tools.protoc', `-I${join(ROOT, 'proto')}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, 'polca/v1/polca.proto']);

    const events = syntheticServeRun({ numProbe: 40, steps: 400, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100, troubledEnding: true });
    const token = 'py-token';
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0, token }, closeOnComplete: false });
    try {
      const half = Math.floor(events.length / 2);
      events.slice(0, half).forEach((e) => subject.next(e));
      const child = spawn(PYTHON, [join(ROOT, 'test/serve/subscribe_client.py'), stubs, String(server.grpcPort), token], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exit = new Promise<number | null>((r) => child.on('exit', r));
      // The rest arrives live, once the Python client is subscribed.
      for (let i = 0; (await server.metrics.serve.subscribers.get()).values[0].value < 1; i++) {
        if (i > 1000) throw new Error(`python client never subscribed: ${stderr}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      events.slice(half).forEach((e) => subject.next(e));
      subject.complete();
      expect(await exit, stderr).toBe(0);

      const lines = stdout.trim().split('\n').map((l) => revive(JSON.parse(l)) as Record<string, any>);
      const received = lines.filter((l) => l.event).map((l) => l.event as Event__Output);
      expect(received.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      received.forEach((e) => expectEventMatches(e, events[e.seq], { datapoints: true }));
      // Spot check that the comparison saw non-finite values and datapoint arrays.
      const last = received.filter((e) => e.payload === 'polca').pop()!;
      expect(last.polca!.lossAfter.filter((v) => !Number.isFinite(v)).length).toBe(7);
      expect(last.polca!.bases[0].values.length).toBe(40);

      const runInfo = lines.find((l) => l.run)!.run;
      expect([runInfo.started, runInfo.ended, runInfo.events]).toEqual([true, true, events.length]);
      expect(lines.find((l) => l.unauthenticated)!.unauthenticated).toBe('UNAUTHENTICATED');
      expect(lines.find((l) => l.status)!.status).toBe('OK');
    } finally {
      await server.close();
    }
  });
});
