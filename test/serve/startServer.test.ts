import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { Subject, from } from 'rxjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolcaProto } from '../../src/serve/polcaProto.js';
import { startServer, type PolcaServer } from '../../src/serve/startServer.js';
import type { PolcaEvent, PolcaIncrementEvent, ClustersEvent } from '../../src/stream/events.js';
import { syntheticServeRun, syntheticCluster } from '../helpers/serveEvents.js';
import { polcaClient, collect, getRun, listClusters, getTrajectories, rawSubscribe, bearer } from './grpcClient.js';
import { expectEventMatches } from './expectEvent.js';
import type { PolcaClient } from '../../src/serve/generated/polca/v1/Polca.js';

const TOKEN = 's3cret-token';
const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
});

async function waitFor(cond: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function subscriberCount(server: PolcaServer): Promise<number> {
  return (await server.metrics.serve.subscribers.get()).values[0]?.value ?? 0;
}

function open(server: PolcaServer, client?: PolcaClient) {
  opened.push(server);
  if (client) opened.push(client);
}

describe('startServer', () => {
  it('streams every event in order to subscribers starting at the beginning, a step, or live, with filters', async () => {
    const events = syntheticServeRun({ numProbe: 60, steps: 400, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100, troubledEnding: true });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0, token: TOKEN }, closeOnComplete: false });
    const client = polcaClient(server.grpcPort!);
    open(server, client);

    const early = collect(client, { start: 'START_AT_BEGINNING', datapoints: true }, TOKEN);
    await waitFor(async () => (await subscriberCount(server)) === 1, 'first subscriber');
    const half = Math.floor(events.length / 2);
    events.slice(0, half).forEach((e) => subject.next(e));

    const late = collect(client, { start: 'START_AT_UNSPECIFIED' }, TOKEN);
    const fromStep = collect(client, { start: 'START_AT_STEP', fromStep: 200 }, TOKEN);
    const live = collect(client, { start: 'START_AT_LIVE', datapoints: true }, TOKEN);
    const filtered = collect(client, { kinds: ['EVENT_KIND_POLCA', 'EVENT_KIND_BASIS', 'EVENT_KIND_CLUSTERS'], basisIds: [1] }, TOKEN);
    await waitFor(async () => (await subscriberCount(server)) === 5, 'five subscribers');
    events.slice(half).forEach((e) => subject.next(e));
    subject.complete();

    const all = events.map((_, i) => i);
    const check = async (p: Promise<{ events: any[]; status: grpc.StatusObject }>, seqs: number[], datapoints: boolean, basisIds?: number[]) => {
      const got = await p;
      expect(got.status.code).toBe(grpc.status.OK);
      expect(got.events.map((e) => e.seq)).toEqual(seqs);
      got.events.forEach((e) => expectEventMatches(e, events[e.seq], { datapoints, basisIds }));
    };
    await check(early, all, true);
    await check(late, all, false);
    const firstAtStep = events.findIndex((e) => e.type === 'step' && e.step >= 200);
    expect(firstAtStep).toBeGreaterThan(0);
    await check(fromStep, [0, ...all.filter((i) => i >= firstAtStep)], false);
    await check(live, all.filter((i) => i >= half), true);
    const wanted = all.filter((i) => {
      const e = events[i];
      return (e.type === 'basis' && e.id === 1) || (e.type === 'clusters' && e.basisId === 1) || e.type === 'polca';
    });
    await check(filtered, wanted, false, [1]);
    // The filter really narrowed the polca entries.
    const lastPolca = [...wanted].reverse().find((i) => events[i].type === 'polca') as number;
    expect((events[lastPolca] as PolcaIncrementEvent).basisIds.length).toBeGreaterThan(1);
  });

  it('answers GetRun, ListClusters and GetTrajectories from the events (trajectories = brute-force cumulative sums)', async () => {
    const events = syntheticServeRun({ numProbe: 40, steps: 300, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100 });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0 }, closeOnComplete: false });
    const client = polcaClient(server.grpcPort!);
    open(server, client);
    events.slice(0, -1).forEach((e) => subject.next(e));

    const run = (await getRun(client)).response!;
    const steps = events.filter((e) => e.type === 'step');
    expect(run.started).toBe(true);
    expect(run.ended).toBe(false);
    expect(run.lastStep).toBe(steps[steps.length - 1].step);
    expect(run.lastLoss).toBe(steps[steps.length - 1].loss);
    expect(run.checkpoints).toBe(events.filter((e) => e.type === 'checkpoint').length);
    expect(run.events).toBe(events.length - 1);
    expect(run.basis.map((b) => [b.id, b.eigenvalue])).toEqual(
      events.flatMap((e) => (e.type === 'basis' ? [[e.id, e.eigenvalue]] : [])),
    );
    expect(run.start?.numProbe).toBe(40);

    const lastClusters = new Map<number, ClustersEvent>();
    for (const e of events) if (e.type === 'clusters') lastClusters.set(e.basisId, e);
    const list = (await listClusters(client, {})).response!;
    expect(list.clusterings.map((c) => [c.basisId, c.step])).toEqual([...lastClusters.values()].sort((a, b) => a.basisId - b.basisId).map((c) => [c.basisId, c.step]));
    expect(list.clusterings[0].clusters[1].members).toEqual(Array.from(lastClusters.get(0)!.clusters[1].members));
    expect((await listClusters(client, { kind: 'polka' })).error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await listClusters(client, { kind: 'loss' })).response?.clusterings).toEqual([]);
    const one = (await listClusters(client, { basisId: 1, hasBasisId: true })).response!;
    expect(one.clusterings.map((c) => c.basisId)).toEqual([1]);

    // Brute force: L_b(x, t) from the polca events, in double precision.
    const basis = 1;
    const polcas = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.basisIds.includes(basis));
    const members = Array.from({ length: 40 }, (_, x) => x).filter((x) => syntheticCluster(x) === 2);
    const expected = members.map((x) => {
      let sum = 0;
      return [0, ...polcas.map((p) => (sum += p.values[p.basisIds.indexOf(basis)][x]))].map(Math.fround);
    });
    const traj = (await getTrajectories(client, { basisId: basis, clusterId: 2 })).response!;
    expect(traj.steps).toEqual([polcas[0].fromStep, ...polcas.map((p) => p.toStep)]);
    expect(traj.truncated).toBe(false);
    expect(traj.trajectories.map((t) => t.datapoint)).toEqual(members);
    expect(traj.trajectories.map((t) => t.values)).toEqual(expected);
    const picked = (await getTrajectories(client, { basisId: basis, datapoints: { indices: [members[2], members[0]] } })).response!;
    expect(picked.trajectories.map((t) => t.values)).toEqual([expected[2], expected[0]]);

    const notFound = await getTrajectories(client, { basisId: 1, clusterId: 9 });
    expect(notFound.error?.code).toBe(grpc.status.NOT_FOUND);
    for (const bad of [{ basisId: 1 }, { basisId: -1, clusterId: 0 }, { basisId: 0, datapoints: { indices: [40] } }, { basisId: 0, datapoints: { indices: [] } }]) {
      expect((await getTrajectories(client, bad)).error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    }
    subject.next(events[events.length - 1]);
    const ended = (await getRun(client)).response!;
    expect([ended.ended, ended.end?.reason]).toEqual([true, 'closed']);
  });

  it('rejects bad tokens with UNAUTHENTICATED and malformed requests with INVALID_ARGUMENT; health stays open', async () => {
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0, token: TOKEN }, closeOnComplete: false });
    const client = polcaClient(server.grpcPort!);
    open(server, client);
    for (const token of [undefined, 'wrong', TOKEN + 'x']) {
      expect((await collect(client, {}, token)).status.code).toBe(grpc.status.UNAUTHENTICATED);
      expect((await getRun(client, token)).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    }
    const malformed = [
      { start: 'START_AT_STEP' as const, fromStep: -5 },
      { start: 'START_AT_LIVE' as const, fromStep: 7 },
      { start: 42 as unknown as 'START_AT_LIVE' },
      { kinds: [99 as unknown as 'EVENT_KIND_STEP'] },
      { kinds: ['EVENT_KIND_UNSPECIFIED' as const] },
      { basisIds: [-2] },
    ];
    for (const req of malformed) expect((await collect(client, req, TOKEN)).status.code).toBe(grpc.status.INVALID_ARGUMENT);
    // Bytes that are not a SubscribeRequest (field 1 announced as length-delimited, then truncated).
    expect((await rawSubscribe(server.grpcPort!, Buffer.from([0x0a, 0xff, 0x01, 0x02]), TOKEN)).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await rawSubscribe(server.grpcPort!, Buffer.from([0x0a, 0xff, 0x01, 0x02]), 'nope')).code).toBe(grpc.status.UNAUTHENTICATED);

    const Health = grpc.makeGenericClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
    const health = new Health(`127.0.0.1:${server.grpcPort}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    };
    opened.push(health);
    const check = (service: string) => new Promise<{ err: grpc.ServiceError | null; res: { status: string } }>((r) => health.check({ service }, (err, res) => r({ err, res })));
    expect((await check('polca.v1.Polca')).res.status).toBe('SERVING');
    expect((await check('')).res.status).toBe('SERVING');
    expect((await check('nope')).err?.code).toBe(grpc.status.NOT_FOUND);
    // Still serving after all that.
    subject.next(syntheticServeRun({ numProbe: 4, steps: 1 })[0]);
    expect((await getRun(client, TOKEN)).response?.started).toBe(true);
  });

  it('closes by itself when the run completes, after subscribers got everything; close() is idempotent', async () => {
    const events = syntheticServeRun({ numProbe: 8, steps: 60, checkpointEvery: 10, basisEvery: 30, clusterEvery: 30 });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0 }, metrics: { port: 0 } });
    const client = polcaClient(server.grpcPort!);
    opened.push(client);
    const sub = collect(client, { datapoints: true });
    await waitFor(async () => (await subscriberCount(server)) === 1, 'subscriber');
    events.forEach((e) => subject.next(e));
    subject.complete();
    const got = await sub;
    expect(got.status.code).toBe(grpc.status.OK);
    expect(got.events.length).toBe(events.length);
    await server.done;
    await expect(fetch(`http://127.0.0.1:${server.metricsPort}/metrics`)).rejects.toThrow();
    await Promise.all([server.close(), server.close()]);
    const after = await getRun(client);
    expect(after.error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('ends streams with UNAVAILABLE after the pending events when events$ errors, and when closed mid-run', async () => {
    const events = syntheticServeRun({ numProbe: 8, steps: 30, checkpointEvery: 10, basisEvery: 30, clusterEvery: 30 });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0 } });
    const client = polcaClient(server.grpcPort!);
    open(server, client);
    const sub = collect(client, {});
    await waitFor(async () => (await subscriberCount(server)) === 1, 'subscriber');
    events.slice(0, 10).forEach((e) => subject.next(e));
    subject.error(new Error('tracker crashed'));
    const got = await sub;
    expect(got.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(got.status.details).toContain('tracker crashed');
    expect(got.events.map((e) => e.seq)).toEqual([...Array(10).keys()]);
    await server.done;

    const subject2 = new Subject<PolcaEvent>();
    const server2 = await startServer({ events$: subject2, grpc: { port: 0 } });
    const client2 = polcaClient(server2.grpcPort!);
    open(server2, client2);
    const sub2 = collect(client2, {});
    await waitFor(async () => (await subscriberCount(server2)) === 1, 'subscriber');
    events.slice(0, 5).forEach((e) => subject2.next(e));
    await server2.close();
    const got2 = await sub2;
    expect(got2.status.code).toBe(grpc.status.UNAVAILABLE);
    expect(got2.events.length).toBe(5);
    expect(subject2.observed).toBe(false);
  });

  it('tells a late subscriber what left the bounded history', async () => {
    const events = syntheticServeRun({ numProbe: 8, steps: 100, checkpointEvery: 10, basisEvery: 50, clusterEvery: 50 });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0 }, history: { maxEvents: 30 }, closeOnComplete: false });
    const client = polcaClient(server.grpcPort!);
    open(server, client);
    events.forEach((e) => subject.next(e));
    subject.complete();
    const got = await collect(client, { kinds: ['EVENT_KIND_STEP', 'EVENT_KIND_RUN_START'] });
    const first = events.length - 30;
    const lost = got.events[0].lost!;
    expect(got.events[0].payload).toBe('lost');
    expect(lost.reason).toBe('history-evicted');
    expect([lost.firstSeq, lost.lastSeq]).toEqual([0, first - 1]);
    const steps = events.slice(0, first).filter((e) => e.type === 'step').length;
    expect(lost.byKind).toEqual([
      { kind: 'EVENT_KIND_RUN_START', count: 1 },
      { kind: 'EVENT_KIND_STEP', count: steps },
    ]);
    expect(lost.events).toBe(steps + 1);
    const rest = events.map((e, i) => [e, i] as const).filter(([e, i]) => i >= first && e.type === 'step').map(([, i]) => i);
    expect(got.events.slice(1).map((e) => e.seq)).toEqual(rest);

    // From a step past everything evicted: nothing to report. From step 0: the evicted part is reported.
    const lastEvictedStep = Math.max(...events.slice(0, first).map((e) => ('step' in e && e.type !== 'run-end' ? e.step : -1)));
    const after = await collect(client, { start: 'START_AT_STEP', fromStep: lastEvictedStep + 1, kinds: ['EVENT_KIND_STEP'] });
    expect(after.events.every((e) => e.payload === 'step')).toBe(true);
    expect(after.events[0].step!.step).toBeGreaterThanOrEqual(lastEvictedStep + 1);
    const fromZero = await collect(client, { start: 'START_AT_STEP', fromStep: 0, kinds: ['EVENT_KIND_STEP'] });
    expect(fromZero.events[0].lost?.byKind).toEqual([{ kind: 'EVENT_KIND_STEP', count: steps }]);
  });

  it('serves a synchronous replay (from(events)) and closes after it by default', async () => {
    const events = syntheticServeRun({ numProbe: 8, steps: 60, checkpointEvery: 10, basisEvery: 30, clusterEvery: 30 });
    const kept = await startServer({ events$: from(events), grpc: { port: 0 }, closeOnComplete: false });
    const client = polcaClient(kept.grpcPort!);
    open(kept, client);
    const got = await collect(client, { datapoints: true });
    expect(got.status.code).toBe(grpc.status.OK);
    expect(got.events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    got.events.forEach((e) => expectEventMatches(e, events[e.seq], { datapoints: true }));

    const closing = await startServer({ events$: from(events), grpc: { port: 0 }, metrics: { port: 0 } });
    await closing.done;
    await expect(fetch(`http://127.0.0.1:${closing.metricsPort}/metrics`)).rejects.toThrow();
  });

  it('serves TLS with the token over it', async () => {
    const dir = join(import.meta.dirname, 'fixtures/tls');
    const ca = readFileSync(join(dir, 'ca.crt'));
    const events = syntheticServeRun({ numProbe: 8, steps: 30, checkpointEvery: 10, basisEvery: 30, clusterEvery: 30 });
    const server = await startServer({
      events$: from(events),
      grpc: { port: 0, token: TOKEN, tls: { cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) } },
      closeOnComplete: false,
    });
    const { polca } = loadPolcaProto();
    const client = new polca.v1.Polca(`localhost:${server.grpcPort}`, grpc.credentials.createSsl(ca));
    open(server, client);
    const got = await collect(client, {}, TOKEN);
    expect(got.status.code).toBe(grpc.status.OK);
    expect(got.events.length).toBe(events.length);
    const plain = polcaClient(server.grpcPort!);
    opened.push(plain);
    expect((await getRun(plain, TOKEN)).error?.code).toBe(grpc.status.UNAVAILABLE);
  });

  it('survives a malformed event: counted, the stream goes on', async () => {
    const events = syntheticServeRun({ numProbe: 8, steps: 60, checkpointEvery: 10, basisEvery: 30, clusterEvery: 30 });
    const subject = new Subject<PolcaEvent>();
    const server = await startServer({ events$: subject, grpc: { port: 0 }, closeOnComplete: false });
    const client = polcaClient(server.grpcPort!);
    open(server, client);
    const polcaAt = events.findIndex((e) => e.type === 'polca');
    const bad = { ...(events[polcaAt] as PolcaIncrementEvent) };
    bad.values = [new Float32Array(3)]; // 3 datapoints where the run has 8
    const sent = [...events.slice(0, polcaAt + 1), bad as PolcaEvent, ...events.slice(polcaAt + 1)];
    sent.forEach((e) => subject.next(e));
    subject.complete();
    const got = await collect(client, {});
    expect((await server.metrics.serve.ingestErrors.get()).values[0].value).toBe(1);
    expect(got.status.code).toBe(grpc.status.OK);
    expect(got.events[got.events.length - 1].payload).toBe('runEnd');
    const traj = (await getTrajectories(client, { basisId: 0, datapoints: { indices: [0] } })).response!;
    expect(traj.steps.length).toBe(events.filter((e) => e.type === 'polca').length + 1);
  });

  it('validates its options', async () => {
    const subject = new Subject<PolcaEvent>();
    await expect(startServer({ events$: undefined as never })).rejects.toThrow(/startServer: option events\$/);
    await expect(startServer({ events$: subject, grpc: { port: 70000 } })).rejects.toThrow(/option 'grpc.port' .*70000/);
    await expect(startServer({ events$: subject, grpc: { token: 'a b' } })).rejects.toThrow(/option 'grpc.token' must be a non-empty string without spaces, got a string of 3 characters \(not shown\)/);
    await expect(startServer({ events$: subject, subscriberMaxLag: 0 })).rejects.toThrow(/option 'subscriberMaxLag' .* 0/);
    await expect(startServer({ events$: subject, worker: { warmUp: 'yes' as never } })).rejects.toThrow(/startServer: option 'worker.warmUp' must be a boolean, got "yes"/);
    void bearer;
  });
});
