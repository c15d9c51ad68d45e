import { afterAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import { startServer } from '../../src/serve/startServer.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import type { Event__Output } from '../../src/serve/generated/polca/v1/Event.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { polcaClient, bearer, collect, getRun, rawSubscribe } from './grpcClient.js';
import { expectEventMatches } from './expectEvent.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function memory(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cleanup: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanup) await c();
});

describe('serving under load', () => {
  it('100 fast subscribers get every event in order, 5 slow readers get loss notices, memory stays bounded', async () => {
    const events = syntheticServeRun(); // demo-run size: 500 datapoints, 2000 steps, 10 basis vectors
    const total = events.length;
    const token = 'load-token';
    const maxLag = 256;
    const historyBytes = 16 * 2 ** 20;
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({
      events$: subject,
      grpc: { port: 0, token },
      metrics: { port: 0 },
      subscriberMaxLag: maxLag,
      history: { maxEvents: 1000, maxBytes: historyBytes },
      // In this thread, so that the memory measured below (this isolate's heap) is the server's.
      thread: 'main',
    });
    cleanup.push(() => server.close());
    const port = server.grpcPort!;
    // Fast clients share 10 connections; each slow reader has its own (as separate processes would).
    const fastClients = Array.from({ length: 10 }, (_, i) => polcaClient(port, { 'polca.test.channel': `fast-${i}` }));
    const slowClients = Array.from({ length: 5 }, (_, i) => polcaClient(port, { 'polca.test.channel': `slow-${i}` }));
    cleanup.push(() => [...fastClients, ...slowClients].forEach((c) => c.close()));

    const fastSeqs: number[][] = [];
    const fastKinds: string[][] = [];
    const fastDone: Promise<grpc.StatusObject>[] = [];
    const sample: Event__Output[] = [];
    for (let i = 0; i < 100; i++) {
      const seqs: number[] = [];
      const kinds: string[] = [];
      fastSeqs.push(seqs);
      fastKinds.push(kinds);
      const call = fastClients[i % 10].subscribe({ start: 'START_AT_BEGINNING' }, bearer(token));
      const keep: Event__Output[] | undefined = i === 0 ? sample : undefined;
      call.on('data', (e: Event__Output) => {
        seqs.push(e.seq);
        kinds.push(e.payload ?? '');
        keep?.push(e);
      });
      call.on('error', () => {});
      fastDone.push(new Promise((r) => call.on('status', r)));
    }
    const slow: { events: Event__Output[]; call: grpc.ClientReadableStream<Event__Output>; done: Promise<grpc.StatusObject> }[] = [];
    for (const client of slowClients) {
      const got: Event__Output[] = [];
      const call = client.subscribe({ start: 'START_AT_BEGINNING', datapoints: true }, bearer(token));
      call.on('data', (e: Event__Output) => {
        got.push(e);
        call.pause(); // read one message, then stop reading: the server sees back-pressure
      });
      call.on('error', () => {});
      slow.push({ events: got, call, done: new Promise((r) => call.on('status', r)) });
    }
    for (let i = 0; i < 200 && (await server.metrics.serve.subscribers.get()).values[0].value < 105; i++) await sleep(10);
    expect((await server.metrics.serve.subscribers.get()).values[0].value).toBe(105);

    const before = memory();
    const t0 = performance.now();
    // Emit at the pace of the fast subscribers (they read as fast as they can); slow readers never
    // hold the stream back. Bad requests arrive meanwhile.
    const abuse: Promise<number>[] = [];
    for (let at = 0; at < total; ) {
      const end = Math.min(total, at + 64);
      for (; at < end; at++) subject.next(events[at]);
      if (at % 320 === 0) {
        abuse.push(collect(fastClients[0], {}, 'bad-token').then((r) => r.status.code));
        abuse.push(collect(fastClients[1], { start: 'START_AT_STEP', fromStep: -1 }, token).then((r) => r.status.code));
        abuse.push(rawSubscribe(port, Buffer.from([0x0a, 0xff, 0x01]), token).then((s) => s.code));
      }
      for (let wait = 0; at - Math.min(...fastSeqs.map((s) => s.length)) > maxLag / 2; wait++) {
        if (wait > 1_000_000) throw new Error('fast subscribers stopped reading');
        await new Promise((r) => setImmediate(r));
      }
    }
    // Every event emitted, slow readers still stalled: the worst moment for memory.
    const t1 = performance.now();
    await sleep(50);
    const peak = memory();
    const run = (await getRun(fastClients[2], token)).response!;
    expect(run.events).toBe(total);
    expect(run.historyEndSeq - run.historyFirstSeq).toBeLessThanOrEqual(1000);

    for (const s of slow) {
      s.call.removeAllListeners('data');
      s.call.on('data', (e: Event__Output) => s.events.push(e));
      s.call.resume();
    }
    subject.complete();
    const fastStatus = await Promise.all(fastDone);
    const slowStatus = await Promise.all(slow.map((s) => s.done));
    await server.done;
    console.log(`emit ${(t1 - t0).toFixed(0)} ms, drain ${(performance.now() - t1).toFixed(0)} ms`);

    // Fast: everything, in order.
    expect(fastStatus.every((s) => s.code === grpc.status.OK)).toBe(true);
    const all = events.map((_, i) => i);
    for (const seqs of fastSeqs) expect(seqs).toEqual(all);
    for (const kinds of fastKinds) expect(kinds.includes('lost')).toBe(false);
    sample.forEach((e) => expectEventMatches(e, events[e.seq], { datapoints: false }));

    // Slow: a gap announced by a notice, nothing delivered twice, every delivered event intact.
    let lostTotal = 0;
    for (const [i, s] of slow.entries()) {
      expect(slowStatus[i].code).toBe(grpc.status.OK);
      const notices = s.events.filter((e) => e.payload === 'lost');
      expect(notices.length).toBeGreaterThan(0);
      expect(notices.every((n) => n.lost!.reason === 'slow-client')).toBe(true);
      let expectedNext = 0;
      let received = 0;
      let lost = 0;
      for (const e of s.events) {
        if (e.payload === 'lost') {
          const l = e.lost!;
          expect(l.firstSeq).toBe(expectedNext);
          expect(l.events).toBe(l.lastSeq - l.firstSeq + 1);
          expect(l.byKind.reduce((t, k) => t + k.count, 0)).toBe(l.events);
          expectedNext = l.lastSeq + 1;
          lost += l.events;
        } else {
          expect(e.seq).toBe(expectedNext);
          expectEventMatches(e, events[e.seq], { datapoints: true });
          expectedNext++;
          received++;
        }
      }
      expect(expectedNext).toBe(total);
      expect(received + lost).toBe(total);
      lostTotal += lost;
    }
    expect(abuse.length).toBeGreaterThan(0);
    const codes = await Promise.all(abuse);
    expect(codes.filter((_, i) => i % 3 === 0).every((c) => c === grpc.status.UNAUTHENTICATED)).toBe(true);
    expect(codes.filter((_, i) => i % 3 !== 0).every((c) => c === grpc.status.INVALID_ARGUMENT)).toBe(true);
    expect((await server.metrics.serve.lostEvents.get()).values[0].value).toBe(lostTotal);

    // Memory: the shared history (bounded by historyBytes, estimated), the trajectories
    // (10 vectors × ≤100 checkpoints × 500 float32) and the receivers' bookkeeping — not
    // 105 copies of the run (which would exceed 105 × the full run's size).
    const trajectoryBytes = 10 * 101 * 500 * 4 + 10 * 500 * 8;
    const bound = historyBytes + trajectoryBytes + 105 * 256 * 1024 + 8 * 2 ** 20;
    const delta = peak - before;
    expect(delta).toBeLessThan(bound);
    const runBytes = events.reduce((t, e) => t + (e.type === 'polca' ? e.values.length * 500 * 4 * 3 + 500 * 12 : 100), 0);
    expect(bound).toBeLessThan(105 * runBytes);
    console.log(`load: ${total} events, heap+arrayBuffers delta ${(delta / 2 ** 20).toFixed(1)} MiB (bound ${(bound / 2 ** 20).toFixed(1)} MiB), slow readers lost ${lostTotal} events`);
  });
});
