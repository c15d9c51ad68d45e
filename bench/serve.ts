/**
 * Event-to-client latency of the gRPC serving layer (src/serve) at the load
 * of test/serve/load.test.ts: a demo-size synthetic run (500 datapoints,
 * 2000 steps, 10 basis vectors, ~2270 events) streamed to 100 subscribers
 * reading as fast as they can plus 5 that never read, compared with a single
 * subscriber in the same run (the ratio is what to look at).
 *
 * The clients run in a worker thread (their decoding must not share the
 * server's event loop). Latency = arrival time in the worker − the event's
 * `time`, stamped just before `subject.next` (both from
 * performance.timeOrigin + performance.now(), so sub-millisecond).
 *
 * Each load runs twice: with the servers in a worker thread (`startServer`'s
 * default) and in the training thread (`thread: 'main'`), and the 100 + 5
 * load once more with a busy training thread: a real `createPolca` taking
 * a POLCA checkpoint at every step on a small MLP (bench/serveTraining.ts,
 * ~0.2–0.4 s of synchronous work each). The clients' thread also scrapes
 * `/metrics` every 100 ms; its latency is reported beside the events'.
 * Goals with the checkpoints running: event-to-client p99 ≤ 50 ms and every
 * scrape under 100 ms.
 *
 * Usage: npm run bench:serve [-- --rate 200] [-- --quick] [-- --only 'worker: 100']
 *   (events per second emitted; --quick: a 200-step run; --only: the rows whose name starts so)
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import { startServer } from '../src/serve/startServer.js';
import { loadPolcaProto } from '../src/serve/polcaProto.js';
import type { PolcaEvent } from '../src/stream/events.js';
import type { PolcaClient } from '../src/serve/generated/polca/v1/Polca.js';
import { syntheticServeRun } from '../test/helpers/serveEvents.js';

const now = () => performance.timeOrigin + performance.now();

interface ClientsJob {
  port: number;
  metricsPort: number;
  fast: number;
  slow: number;
}

/**
 * `time_ms` of an encoded `polca.v1.Event`, or undefined for a lost notice:
 * read from the bytes (seq varint, then the double), so that the 100
 * clients' decoding does not swamp the thread that measures.
 */
function eventTime(b: Buffer): number | undefined {
  let i = 0;
  if (b[i] === 0x08) {
    i++;
    while (b[i++] & 0x80);
  }
  if (b[i] !== 0x11) return undefined;
  const time = b.readDoubleLE(i + 1);
  // Field 19 (Lost), length-delimited: tag 0x9a 0x01.
  return b[i + 9] === 0x9a && b[i + 10] === 0x01 ? undefined : time;
}

function clientsWorker(job: ClientsJob): void {
  const { polca } = loadPolcaProto();
  const service = polca.v1.Polca.service;
  // Subscribe's messages arrive as bytes (see eventTime).
  const RawPolca = grpc.makeGenericClientConstructor({ ...service, Subscribe: { ...service.Subscribe, responseDeserialize: (b: Buffer) => b } }, 'Polca');
  const latencies: number[] = [];
  let open = job.fast + job.slow;
  let subscribed = 0;
  const clients = Array.from({ length: Math.max(1, Math.ceil(job.fast / 10)) + job.slow }, (_, i) =>
    new RawPolca(`127.0.0.1:${job.port}`, grpc.credentials.createInsecure(), { 'bench.channel': i, 'grpc.max_receive_message_length': -1 }) as unknown as PolcaClient,
  );
  const scrapes: number[] = [];
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      const t0 = now();
      await (await fetch(`http://127.0.0.1:${job.metricsPort}/metrics`)).text();
      scrapes.push(now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const done = () => {
    if (--open === 0) {
      scraping = false;
      clients.forEach((c) => c.close());
      void scraper.then(() => parentPort!.postMessage({ type: 'done', latencies, scrapes }));
    }
  };
  for (let i = 0; i < job.fast; i++) {
    const call = clients[Math.floor(i / 10)].subscribe({ start: 'START_AT_LIVE' });
    call.on('metadata', () => ++subscribed === job.fast + job.slow && parentPort!.postMessage({ type: 'ready' }));
    call.on('data', (b: Buffer) => {
      const time = eventTime(b);
      if (time !== undefined) latencies.push(now() - time);
    });
    call.on('error', () => {});
    call.on('status', done);
  }
  for (let i = 0; i < job.slow; i++) {
    const call = clients[clients.length - 1 - i].subscribe({ start: 'START_AT_LIVE', datapoints: true });
    call.on('metadata', () => ++subscribed === job.fast + job.slow && parentPort!.postMessage({ type: 'ready' }));
    call.on('data', () => call.pause());
    call.on('error', () => {});
    call.on('status', done);
    // Resumed at run end so that the stream can finish.
    parentPort!.on('message', (m: string) => m === 'resume' && (call.removeAllListeners('data'), call.on('data', () => {}), call.resume()));
  }
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Scenario {
  fast: number;
  slow: number;
  thread: 'worker' | 'main';
  /** A POLCA checkpoint at every training step on this thread meanwhile. */
  training: boolean;
}

async function scenario(events: PolcaEvent[], sc: Scenario, rate: number): Promise<{ latencies: Float64Array; scrapes: Float64Array; checkpointMs: number[] }> {
  const { fast, slow } = sc;
  const subject = new Subject<PolcaEvent>();
  const server = await startServer({ events$: subject, grpc: { port: 0 }, metrics: { port: 0 }, subscriberMaxLag: 256, thread: sc.thread });
  // Workers do not inherit tsx's loader: a tiny bootstrap registers it, then loads this file.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { port: server.grpcPort, metricsPort: server.metricsPort, fast, slow } });
  worker.on('error', (err) => {
    console.error('clients worker failed:', err);
    process.exit(1);
  });
  const ready = new Promise<void>((r) => worker.on('message', (m: { type: string }) => m.type === 'ready' && r()));
  const result = new Promise<{ latencies: number[]; scrapes: number[] }>((r) =>
    worker.on('message', (m: { type: string; latencies: number[]; scrapes: number[] }) => m.type === 'done' && r(m)),
  );
  await ready;
  // The first checkpoint also builds the basis; the measurement starts after it.
  // Imported here: the clients' thread loads this module too and needs no tfjs.
  const training = sc.training ? await (await import('./serveTraining.js')).startBusyTraining() : undefined;
  if (training) while (training.checkpointMs.length < 2) await new Promise((r) => setTimeout(r, 50));
  // The server registers a subscription when its handler runs, just before the metadata goes out.
  const t0 = now();
  for (let i = 0; i < events.length; i++) {
    const due = t0 + (i * 1000) / rate;
    // Timers only: a spin until due would take a core from the server and client threads (the stamp below is the send time either way).
    if (due > now()) await new Promise((r) => setTimeout(r, due - now()));
    subject.next({ ...events[i], time: now() });
  }
  await training?.stop();
  worker.postMessage('resume');
  subject.complete();
  const got = await result;
  await server.done;
  await worker.terminate();
  return {
    latencies: Float64Array.from(got.latencies).sort(),
    scrapes: Float64Array.from(got.scrapes).sort(),
    checkpointMs: training?.checkpointMs.slice(1) ?? [],
  };
}

async function main(): Promise<void> {
  const rateArg = process.argv.indexOf('--rate');
  const rate = rateArg > 0 ? Number(process.argv[rateArg + 1]) : 200;
  const quick = process.argv.includes('--quick');
  const events = syntheticServeRun(quick ? { steps: 200 } : {});
  console.log(`polca serve latency: ${events.length} events at ${rate} events/s (demo-size run, 500 datapoints)`);
  const scenarios: [string, Scenario][] = [];
  for (const thread of ['worker', 'main'] as const) {
    scenarios.push([`${thread}: 1 subscriber`, { fast: 1, slow: 0, thread, training: false }]);
    scenarios.push([`${thread}: 100 fast + 5 slow`, { fast: 100, slow: 5, thread, training: false }]);
    scenarios.push([`${thread}: 100 + 5, checkpoints`, { fast: 100, slow: 5, thread, training: true }]);
  }
  const f = (v: number) => v.toFixed(1).padStart(7);
  console.log(`${'scenario'.padEnd(32)} ${'deliveries'.padStart(13)}   events p50 / p99 / max (ms)   /metrics p50 / p99 / max (ms)   checkpoints`);
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
  for (const [name, sc] of scenarios) {
    if (only !== undefined && !name.startsWith(only)) continue;
    const r = await scenario(events, sc, rate);
    const lat = r.latencies;
    const sc50 = r.scrapes.length ? quantile(r.scrapes, 0.5) : NaN;
    const ckpt = r.checkpointMs.length ? `${r.checkpointMs.length} × ${(r.checkpointMs.reduce((a, b) => a + b, 0) / r.checkpointMs.length).toFixed(0)} ms` : '-';
    console.log(
      `${name.padEnd(32)} ${`${lat.length}/${sc.fast * events.length}`.padStart(13)}   ${f(quantile(lat, 0.5))} ${f(quantile(lat, 0.99))} ${f(lat[lat.length - 1])}` +
        `        ${f(sc50)} ${f(quantile(r.scrapes, 0.99))} ${f(r.scrapes[r.scrapes.length - 1])}   ${ckpt}`,
    );
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  clientsWorker(workerData as ClientsJob);
}
