/**
 * The polca service installed on a grpc.Server the user created (next to a
 * service of their own), read by a real grpc-js client; the metrics sink
 * fed without any gRPC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { Subject } from 'rxjs';
import { RunView, addToServer, MetricsSink, POLCA_SERVICE_NAME } from '../../src/serve/index.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { polcaClient, collect, getRun, getTrajectories } from './grpcClient.js';
import { expectEventMatches } from './expectEvent.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

function bind(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

describe('addToServer', () => {
  it("serves a run on the user's own grpc.Server, beside the user's services, with the token", async () => {
    const events = syntheticServeRun({ numProbe: 30, steps: 200, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100 });
    const server = new grpc.Server();
    // The user's own service on the same server.
    const health = new HealthImplementation({ 'my.App': 'SERVING' });
    health.addToServer(server);
    const view = new RunView({ run: 'mine' });
    const polca = addToServer(server, view, { token: 'tok' });
    const subject = new Subject<PolcaEvent>();
    view.follow(subject);
    const port = await bind(server);
    closers.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    closers.push(() => polca.close());
    const client = polcaClient(port);
    closers.push(() => client.close());

    const half = events.length >> 1;
    events.slice(0, half).forEach((e) => subject.next(e));
    const all = collect(client, { start: 'START_AT_BEGINNING', datapoints: true }, 'tok');
    for (let i = 0; polca.subscribers < 1; i++) {
      if (i > 500) throw new Error('never subscribed');
      await new Promise((r) => setTimeout(r, 10));
    }
    events.slice(half).forEach((e) => subject.next(e));
    subject.complete();
    const got = await all;
    expect(got.status.code).toBe(grpc.status.OK);
    expect(got.events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    got.events.forEach((e) => expectEventMatches(e, events[e.seq], { datapoints: true }));

    // Unary calls: the token is required; the answers come from the view.
    expect((await getRun(client)).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    const run = (await getRun(client, 'tok')).response!;
    expect([run.name, run.events, run.ended]).toEqual(['mine', events.length, true]);
    // L_b(x, t) along vector 0 for datapoint 4: the running sum of its increments, by hand.
    const polcaEvents = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca' && e.basisIds.includes(0));
    const traj = (await getTrajectories(client, { basisId: 0, datapoints: { indices: [4] } }, 'tok')).response!;
    let sum = 0;
    const want = [0, ...polcaEvents.map((e) => Math.fround((sum += e.values[e.basisIds.indexOf(0)][4])))];
    expect(traj.trajectories[0].values).toEqual(want);
    expect(traj.steps).toEqual([polcaEvents[0].fromStep, ...polcaEvents.map((e) => e.toStep)]);

    // The user's health service is still theirs.
    const healthClient = new (grpc.makeGenericClientConstructor(healthService, 'Health'))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    closers.push(() => healthClient.close());
    const check = await new Promise<{ status: string }>((resolve, reject) =>
      (healthClient as any).check({ service: 'my.App' }, (err: Error | null, res: { status: string }) => (err ? reject(err) : resolve(res))),
    );
    expect(check.status).toBe('SERVING');
    expect(POLCA_SERVICE_NAME).toBe('polca.v1.Polca');
  });

  it('close() ends open subscriptions with UNAVAILABLE; the grpc.Server keeps running', async () => {
    const server = new grpc.Server();
    const view = new RunView();
    const polca = addToServer(server, view);
    const port = await bind(server);
    closers.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    const client = polcaClient(port);
    closers.push(() => client.close());
    const events = syntheticServeRun({ numProbe: 10, steps: 40 });
    events.slice(0, 5).forEach((e) => view.ingest(e));
    const sub = collect(client, { start: 'START_AT_BEGINNING' });
    while (polca.subscribers < 1) await new Promise((r) => setTimeout(r, 10));
    await polca.close();
    await polca.close(); // idempotent
    const got = await sub;
    expect(got.events.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(got.status.code).toBe(grpc.status.UNAVAILABLE);
    // The server still answers (unary calls read the view).
    expect((await getRun(client)).response!.events).toBe(5);
  });
});

describe('RunView fed from another thread', () => {
  it('queries wait for the events sent before them (and only those)', async () => {
    const events = syntheticServeRun({ numProbe: 10, steps: 40 });
    const server = new grpc.Server();
    const view = new RunView();
    const polca = addToServer(server, view);
    const port = await bind(server);
    closers.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    closers.push(() => polca.close());
    const client = polcaClient(port);
    closers.push(() => client.close());
    // Five events are "in flight": counted as sent, not yet ingested.
    let sent = 5;
    view.feedFrom({ sent: () => sent, ingested: () => view.log.end });
    const answer = getRun(client);
    await new Promise((r) => setTimeout(r, 200));
    events.slice(0, 3).forEach((e) => view.ingest(e));
    sent = 9; // sent after the query: not waited for
    await new Promise((r) => setTimeout(r, 100));
    events.slice(3, 5).forEach((e) => view.ingest(e));
    expect((await answer).response!.events).toBe(5);
    // Nothing in flight: answered at once.
    sent = 5;
    expect(view.caughtUp()).toBeUndefined();
    expect((await getRun(client)).response!.events).toBe(5);
  });
});

describe('MetricsSink', () => {
  it('keeps the Prometheus metrics from a RunView without any gRPC', async () => {
    const events = syntheticServeRun({ numProbe: 20, steps: 100, checkpointEvery: 20, basisEvery: 50, clusterEvery: 50 });
    const view = new RunView({ run: 'nogrpc' });
    const sink = new MetricsSink(view);
    closers.push(() => sink.close());
    events.forEach((e) => view.ingest(e));
    const text = await sink.metrics.registry.metrics();
    const lastStep = Math.max(...events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step));
    expect(text).toContain(`polca_training_step{run="nogrpc"} ${lastStep}`);
    const checkpoints = events.filter((e) => e.type === 'checkpoint').length;
    expect(text).toContain(`polca_checkpoints_total{run="nogrpc"} ${checkpoints}`);
    // Served over HTTP on request.
    const http = await sink.listen({ port: 0 });
    closers.push(() => http.close());
    const body = await (await fetch(`http://127.0.0.1:${http.port}/metrics`)).text();
    expect(body).toContain(`polca_training_step{run="nogrpc"} ${lastStep}`);
  });
});
