/**
 * Serving off the training thread: while this thread is blocked
 * synchronously, a client in another process still gets health checks and
 * /metrics scrapes answered; the same measurement with `thread: 'main'`
 * shows the stall. The channel to the worker is bounded, and a worker that
 * runs out of memory is reported on `failed` while this thread carries on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import { startServer, type PolcaServer } from '../../src/serve/startServer.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { polcaClient, getRun, collect } from './grpcClient.js';
import type { Event__Output } from '../../src/serve/generated/polca/v1/Event.js';

const ROOT = resolve(import.meta.dirname, '../..');
/** The bound on each answer while the training thread is blocked. */
const BOUND_MS = 250;
const BLOCK_MS = 3000;
const servers: PolcaServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/**
 * A prober in a process of its own: a health check every 20 ms and a
 * /metrics scrape every 50 ms, each timed, for `seconds`; prints one JSON line.
 */
const PROBER = `
const grpc = require('@grpc/grpc-js');
const { service } = require('grpc-health-check');
const [grpcPort, metricsPort, seconds] = process.argv.slice(1).map(Number);
const Health = grpc.makeGenericClientConstructor(service, 'Health');
const health = new Health('127.0.0.1:' + grpcPort, grpc.credentials.createInsecure());
const checks = [], scrapes = [];
const end = Date.now() + seconds * 1000;
const check = () => new Promise((res) => { const t0 = Date.now(); health.check({ service: '' }, { deadline: Date.now() + 10000 }, (err, r) => res([t0, Date.now() - t0, err ? err.code : r.status])); });
const scrape = async () => { const t0 = Date.now(); const body = await (await fetch('http://127.0.0.1:' + metricsPort + '/metrics')).text(); return [t0, Date.now() - t0, /polca_training_step\\{[^}]*\\} (\\d+)/.exec(body)?.[1]]; };
(async () => {
  await check(); await scrape();
  console.log('ready');
  await Promise.all([
    (async () => { while (Date.now() < end) { checks.push(await check()); await new Promise((r) => setTimeout(r, 20)); } })(),
    (async () => { while (Date.now() < end) { scrapes.push(await scrape()); await new Promise((r) => setTimeout(r, 50)); } })(),
  ]);
  console.log(JSON.stringify({ checks, scrapes }));
  health.close();
})();
`;

type Probe = [start: number, ms: number, value: string | number | undefined];

async function probeWhileBlocked(server: PolcaServer): Promise<{ checks: Probe[]; scrapes: Probe[]; blocked: [number, number] }> {
  const child = spawn(process.execPath, ['-e', PROBER, String(server.grpcPort), String(server.metricsPort), String(BLOCK_MS / 1000 + 2)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  expect((await it.next()).value).toBe('ready');
  await new Promise((r) => setTimeout(r, 300));
  // The training thread busy for BLOCK_MS: synchronous, no event loop (as a long checkpoint or Lanczos run is).
  const t0 = Date.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BLOCK_MS);
  const t1 = Date.now();
  const result = JSON.parse((await it.next()).value as string);
  return { ...result, blocked: [t0, t1] };
}

describe('serving in a worker thread', () => {
  it('answers health checks and /metrics scrapes within a bound while the training thread is blocked; in-thread it stalls', async () => {
    const events = syntheticServeRun({ numProbe: 50, steps: 200 });
    const measure = async (thread: 'worker' | 'main') => {
      const subject = new Subject<PolcaEvent>();
      const server = await startServer({ events$: subject, grpc: { port: 0 }, metrics: { port: 0 }, closeOnComplete: false, thread });
      servers.push(server);
      events.slice(0, 100).forEach((e) => subject.next(e));
      const lastStep = Math.max(...events.slice(0, 100).flatMap((e) => (e.type === 'step' ? [e.step] : [])));
      const r = await probeWhileBlocked(server);
      // Probes started while this thread was blocked (leaving the last 100 ms as margin).
      const during = (p: Probe[]) => p.filter(([start]) => start >= r.blocked[0] && start < r.blocked[1] - 100);
      return { ...r, lastStep, duringChecks: during(r.checks), duringScrapes: during(r.scrapes) };
    };

    const worker = await measure('worker');
    expect(worker.blocked[1] - worker.blocked[0]).toBeGreaterThanOrEqual(BLOCK_MS - 5);
    expect(worker.duringChecks.length).toBeGreaterThan(20);
    expect(worker.duringScrapes.length).toBeGreaterThan(10);
    for (const [, ms, status] of worker.duringChecks) {
      expect(status).toBe('SERVING');
      expect(ms).toBeLessThan(BOUND_MS);
    }
    for (const [, ms, step] of worker.duringScrapes) {
      expect(ms).toBeLessThan(BOUND_MS);
      expect(Number(step)).toBe(worker.lastStep);
    }
    const main = await measure('main');
    // In the training thread nothing is answered until it is free again: the first probe waits out the block.
    const slowest = Math.max(...[...main.checks, ...main.scrapes].map(([, ms]) => ms));
    expect(slowest).toBeGreaterThan(BLOCK_MS / 2);
    const max = (p: Probe[]) => Math.max(...p.map(([, ms]) => ms)).toFixed(0);
    console.log(
      `blocked ${BLOCK_MS} ms — worker: ${worker.duringChecks.length} health checks max ${max(worker.duringChecks)} ms, ${worker.duringScrapes.length} scrapes max ${max(worker.duringScrapes)} ms; ` +
        `main: slowest answer ${slowest} ms`,
    );
  });

  /**
   * A server whose channel holds 10 events, sent a run's first 100 while its
   * worker starts (nothing is ingested meanwhile): events 10 … 99 are dropped.
   */
  async function serverWithBacklog() {
    const events = syntheticServeRun({ numProbe: 10, steps: 200 });
    const subject = new Subject<PolcaEvent>();
    const starting = startServer({ events$: subject, grpc: { port: 0 }, closeOnComplete: false, worker: { maxQueuedEvents: 10 } });
    events.slice(0, 100).forEach((e) => subject.next(e));
    const server = await starting;
    servers.push(server);
    return { events, subject, server };
  }

  it('bounds the channel: events beyond maxQueuedEvents in flight are dropped and counted', async () => {
    const { server } = await serverWithBacklog();
    expect(server.droppedEvents).toBe(90);
    const client = polcaClient(server.grpcPort!);
    const run = (await getRun(client)).response!;
    client.close();
    expect(run.events).toBe(10);
    expect(run.started).toBe(true);
  });

  it('a gap of dropped events reaches every subscriber, live or replaying, as one server-behind Lost notice with its counts by kind', async () => {
    // Events 10 … 99 are dropped, as one gap before event 100.
    const { events, subject, server } = await serverWithBacklog();
    const client = polcaClient(server.grpcPort!);
    const live = collect(client, { start: 'START_AT_BEGINNING' });
    const stepsOnly = collect(client, { start: 'START_AT_BEGINNING', kinds: ['EVENT_KIND_STEP'] });
    // Let both subscriptions register before the rest arrives (they replay from seq 0 either way).
    await getRun(client);
    for (const e of events.slice(100)) {
      subject.next(e);
      // Queries wait for the events in flight: one after each event adds no gap, the second part is all delivered.
      await getRun(client);
    }
    subject.complete();
    const [all, steps] = await Promise.all([live, stepsOnly]);
    const replay = await collect(client, { start: 'START_AT_BEGINNING' });
    client.close();
    expect(server.droppedEvents).toBe(90);

    const protoKind = (type: string) => `EVENT_KIND_${type.toUpperCase().replace('-', '_')}`;
    const countByKind = (list: PolcaEvent[], keep: (k: string) => boolean = () => true) => {
      const m = new Map<string, number>();
      for (const e of list) if (keep(protoKind(e.type))) m.set(protoKind(e.type), (m.get(protoKind(e.type)) ?? 0) + 1);
      return m;
    };
    const notices = (got: Event__Output[]) => got.filter((e) => e.payload === 'lost');
    const asMap = (e: Event__Output) => new Map(e.lost!.byKind.map((k) => [k.kind as string, Number(k.count)]));
    for (const got of [all.events, replay.events]) {
      const [notice, ...more] = notices(got);
      expect(more).toEqual([]);
      expect(notice.lost).toMatchObject({ reason: 'server-behind', events: 90, firstSeq: 10, lastSeq: 10 });
      expect(asMap(notice)).toEqual(countByKind(events.slice(10, 100)));
      // In place: after the first 10 events, before event 100, then every later event in order.
      const delivered = got.filter((e) => e.payload !== 'lost');
      expect(got.indexOf(notice)).toBe(10);
      expect(delivered.map((e) => [e.payload, e.timeMs])).toEqual(
        [...events.slice(0, 10), ...events.slice(100)].map((e) => [e.type.replace(/-(\w)/, (_, c: string) => c.toUpperCase()), e.time]),
      );
      expect(delivered.length + notice.lost!.events).toBe(events.length);
    }
    // A kind filter counts only its kind in the gap.
    const [stepNotice] = notices(steps.events);
    expect(stepNotice.lost).toMatchObject({ reason: 'server-behind', events: countByKind(events.slice(10, 100)).get('EVENT_KIND_STEP') });
    expect(steps.events.filter((e) => e.payload !== 'lost').length + stepNotice.lost!.events).toBe(countByKind(events).get('EVENT_KIND_STEP'));
  });

  it('a worker that runs out of memory is reported on failed; this thread carries on, nothing is an unhandled rejection', async () => {
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({
      events$: subject,
      grpc: { port: 0 },
      closeOnComplete: false,
      worker: { resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 } },
    });
    servers.push(server);
    const client = polcaClient(server.grpcPort!);
    const [start] = syntheticServeRun({ numProbe: 10, steps: 20 });
    subject.next(start);
    expect((await getRun(client)).response!.events).toBe(1);
    // Clusterings of 10^6 members: the summary message the history keeps for each holds them as a JS array, on
    // the worker's heap; a few exceed its 32 MB.
    const members = Int32Array.from({ length: 1_000_000 }, (_, i) => i);
    const one = Float64Array.of(0);
    let sent = 0;
    const failure = server.failed;
    for (let step = 1; step <= 40; step++) {
      subject.next({
        type: 'clusters', time: step, step, kind: 'polca', basisId: 0, steps: Int32Array.of(step),
        clusters: [{ id: 0, members, medoid: 0, median: one, q25: one, q75: one }], dropped: 0, outliers: 0,
      });
      sent++;
      const done = await Promise.race([failure, new Promise((r) => setTimeout(() => r('running'), 200))]);
      if (done !== 'running') break;
    }
    const err = await Promise.race([failure, new Promise<Error>((_, rej) => setTimeout(() => rej(new Error('no failure reported')), 30_000))]);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as Error & { code?: string }).code ?? err!.message)).toMatch(/OUT_OF_MEMORY|memory/i);
    expect(sent).toBeLessThan(40);
    await server.done; // resolves after a failure too
    // This thread is fine: more events are simply not served, close() is harmless.
    subject.next({ type: 'step', time: 1, step: 1, loss: 0.5 });
    await server.close();
    expect((await getRun(client)).error?.code).toBe(grpc.status.UNAVAILABLE);
    client.close();
  });
});
