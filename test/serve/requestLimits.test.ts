/**
 * Bounded work per request, against a server in a process of its own on
 * loopback: the request that used to exhaust the heap, the limits on
 * indices, kinds, basis ids and response size, paged trajectory reads, and
 * short error details.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { PolcaIncrementEvent } from '../../src/stream/events.js';
import type { Trajectories__Output } from '../../src/serve/generated/polca/v1/Trajectories.js';
import type { PolcaClient } from '../../src/serve/generated/polca/v1/Polca.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { polcaClient, getTrajectories, listClusters, collect } from './grpcClient.js';

const ROOT = resolve(import.meta.dirname, '../..');
const N = 2000;
const MAX_RESPONSE = 64 * 1024;
/** The bound this test asserts on the server's resident memory growth while it refuses the 4M-index request. */
const RSS_BOUND_BYTES = 48 * 2 ** 20;

let child: ChildProcess;
let ports: { grpcPort: number; metricsPort: number; pid: number };
let client: PolcaClient;

beforeAll(async () => {
  child = spawn(process.execPath, ['--import', 'tsx', 'test/serve/processes/limitsServer.ts', String(N), String(MAX_RESPONSE)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', (code) => rej(new Error(`server exited with ${code}`)));
  });
  ports = JSON.parse(line);
  client = polcaClient(ports.grpcPort);
}, 60_000);

afterAll(async () => {
  client?.close();
  child?.stdin?.end();
  await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
});

/** Resident and peak resident memory of the server process (Linux /proc). */
function rss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(/(\d+) kB/.exec(status.split('\n').find((l) => l.startsWith(field))!)![1]) * 1024;
  return { rss: kb('VmRSS:'), peak: kb('VmHWM:') };
}

/** A GetTrajectories request with `count` copies of index 7, encoded by hand (proto wire format). */
function duplicateIndexRequest(count: number): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n = Math.floor(n / 128);
    }
    out.push(n);
    return Buffer.from(out);
  };
  const packed = Buffer.concat([Buffer.from([0x0a]), varint(count), Buffer.alloc(count, 7)]); // DatapointList.indices, packed
  return Buffer.concat([Buffer.from([0x1a]), varint(packed.length), packed]); // GetTrajectoriesRequest.datapoints
}

function rawUnary(port: number, method: string, bytes: Buffer): Promise<{ status: grpc.StatusObject; ms: number }> {
  const raw = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const t0 = performance.now();
  return new Promise((res) => {
    const call = raw.makeUnaryRequest(method, (b: Buffer) => b, (b: Buffer) => b, bytes, () => {});
    call.on('status', (status: grpc.StatusObject) => {
      raw.close();
      res({ status, ms: performance.now() - t0 });
    });
  });
}

function stream(req: object): Promise<{ pages: Trajectories__Output[]; status: grpc.StatusObject }> {
  return new Promise((res) => {
    const pages: Trajectories__Output[] = [];
    const call = client.streamTrajectories(req);
    call.on('data', (p: Trajectories__Output) => pages.push(p));
    call.on('error', () => {});
    call.on('status', (status: grpc.StatusObject) => res({ pages, status }));
  });
}

describe('bounded work per request (server in its own process)', () => {
  it('refuses 4,000,000 duplicate indices within a second; health checks answer throughout; memory stays bounded', async () => {
    const health = new (grpc.makeGenericClientConstructor(healthService, 'Health'))(`127.0.0.1:${ports.grpcPort}`, grpc.credentials.createInsecure());
    const check = () =>
      new Promise<number>((res, rej) => {
        const t0 = performance.now();
        (health as any).check({ service: '' }, { deadline: Date.now() + 2000 }, (err: Error | null, r: { status: string }) =>
          err ? rej(err) : r.status === 'SERVING' ? res(performance.now() - t0) : rej(new Error(r.status)),
        );
      });
    await check(); // connected
    // Peak RSS counts from here (writing 5 to clear_refs resets VmHWM).
    writeFileSync(`/proc/${ports.pid}/clear_refs`, '5');
    const before = rss(ports.pid);
    const latencies: number[] = [];
    let running = true;
    const checker = (async () => {
      while (running) {
        latencies.push(await check());
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const body = duplicateIndexRequest(4_000_000);
    expect(body.length).toBeLessThan(4 * 2 ** 20); // under grpc's default receive limit: the server does get it
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await rawUnary(ports.grpcPort, '/polca.v1.Polca/GetTrajectories', body));
    await new Promise((r) => setTimeout(r, 100));
    running = false;
    await checker;
    health.close();
    const after = rss(ports.pid);
    for (const r of results) {
      expect(r.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(r.status.details).toMatch(/GetTrajectories: .*maxIndices = 65536/);
      expect(r.ms).toBeLessThan(1000);
    }
    // Answered throughout: checks kept completing while the three requests were sent (the machine may be shared, hence the loose bound).
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(750);
    const growth = after.peak - before.rss;
    console.log(`4M-index request x3: ${results.map((r) => r.ms.toFixed(0)).join(', ')} ms; health max ${Math.max(...latencies).toFixed(1)} ms over ${latencies.length} checks; server RSS ${(before.rss / 2 ** 20).toFixed(1)} MiB, peak +${(growth / 2 ** 20).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(RSS_BOUND_BYTES);
  });

  it('answers repeated indices once; the same request past maxIndices fails naming the limit', async () => {
    const ok = await getTrajectories(client, { basisId: 0, datapoints: { indices: [7, 3, 7, 7, 3, 9] } });
    expect(ok.error).toBeNull();
    expect(ok.response!.trajectories.map((t) => t.datapoint)).toEqual([7, 3, 9]);
    const many = await getTrajectories(client, { basisId: 0, datapoints: { indices: new Array(65_537).fill(1) } });
    expect(many.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(many.error?.details).toMatch(/65537 entries, more than the limit maxIndices = 65536/);
    const atLimit = await getTrajectories(client, { basisId: 0, datapoints: { indices: new Array(65_536).fill(1) } });
    expect(atLimit.response!.trajectories.map((t) => t.datapoint)).toEqual([1]);
  });

  it('caps kinds and basis ids of a subscription, naming the limit', async () => {
    const kinds = await collect(client, { start: 'START_AT_LIVE', kinds: new Array(65).fill('EVENT_KIND_STEP') });
    expect(kinds.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(kinds.status.details).toMatch(/kinds has 65 entries, more than the limit maxKinds = 64/);
    const basis = await collect(client, { start: 'START_AT_LIVE', basisIds: Array.from({ length: 4097 }, (_, i) => i) });
    expect(basis.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(basis.status.details).toMatch(/basis_ids has 4097 entries, more than the limit maxBasisIds = 4096/);
  });

  it('a 1 MB field gets INVALID_ARGUMENT with a short detail', async () => {
    const r = await listClusters(client, { kind: 'x'.repeat(2 ** 20) });
    expect(r.error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(r.error!.details.length).toBeLessThan(300);
    expect(r.error!.details).toMatch(/ListClusters: kind must be one of .*\(1048576 characters\)/);
  });

  it('refuses an answer above maxResponseBytes and streams the same curves in pages', async () => {
    const all = Array.from({ length: N }, (_, i) => N - 1 - i); // every datapoint, in reverse order
    const unary = await getTrajectories(client, { basisId: 0, datapoints: { indices: all } });
    expect(unary.error?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(unary.error?.details).toMatch(/maxResponseBytes = 65536; StreamTrajectories sends them in pages/);

    const { pages, status } = await stream({ basisId: 0, datapoints: { indices: all } });
    expect(status.code).toBe(grpc.status.OK);
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.flatMap((p) => p.trajectories.map((t) => t.datapoint))).toEqual(all);
    // Each page fits the limit.
    const { loadPolcaProto } = await import('../../src/serve/polcaProto.js');
    const serialize = loadPolcaProto().polca.v1.Polca.service.StreamTrajectories.responseSerialize;
    for (const p of pages) expect(serialize(p).length).toBeLessThanOrEqual(MAX_RESPONSE);
    // Values: L_b(x, t) as the running float sum of the run's increments, computed here from the same synthetic run.
    const events = syntheticServeRun({ numProbe: N, steps: 400, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100 });
    const incs = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.basisIds.includes(0));
    const byX = new Map(pages.flatMap((p) => p.trajectories.map((t) => [t.datapoint, t.values] as const)));
    for (const x of [0, 1, 999, N - 1]) {
      let sum = 0;
      expect(byX.get(x)).toEqual([0, ...incs.map((e) => Math.fround((sum += e.values[e.basisIds.indexOf(0)][x])))]);
    }
    expect(pages[0].steps).toEqual([incs[0].fromStep, ...incs.map((e) => e.toStep)]);
    // A selection that fits comes back whole from either call, equal.
    const few = await getTrajectories(client, { basisId: 0, datapoints: { indices: [5, 6] } });
    const fewStream = await stream({ basisId: 0, datapoints: { indices: [5, 6] } });
    expect(fewStream.pages).toHaveLength(1);
    expect(fewStream.pages[0].trajectories).toEqual(few.response!.trajectories);
    // Limits apply to the stream too.
    const tooMany = await stream({ basisId: 0, datapoints: { indices: new Array(70_000).fill(0) } });
    expect(tooMany.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });
});
