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
 * Usage: npm run bench:serve [-- --rate 200]   (events per second emitted)
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { Subject } from 'rxjs';
import { startServer } from '../src/serve/startServer.js';
import { loadPolcaProto } from '../src/serve/polcaProto.js';
import type { PolcaEvent } from '../src/stream/events.js';
import type { Event__Output } from '../src/serve/generated/polca/v1/Event.js';
import { syntheticServeRun } from '../test/helpers/serveEvents.js';

const now = () => performance.timeOrigin + performance.now();

interface ClientsJob {
  port: number;
  fast: number;
  slow: number;
}

function clientsWorker(job: ClientsJob): void {
  const { polca } = loadPolcaProto();
  const latencies: number[] = [];
  let open = job.fast + job.slow;
  let subscribed = 0;
  const clients = Array.from({ length: Math.max(1, Math.ceil(job.fast / 10)) + job.slow }, (_, i) =>
    new polca.v1.Polca(`127.0.0.1:${job.port}`, grpc.credentials.createInsecure(), { 'bench.channel': i, 'grpc.max_receive_message_length': -1 }),
  );
  const done = () => {
    if (--open === 0) {
      clients.forEach((c) => c.close());
      parentPort!.postMessage({ type: 'done', latencies });
    }
  };
  for (let i = 0; i < job.fast; i++) {
    const call = clients[Math.floor(i / 10)].subscribe({ start: 'START_AT_LIVE' });
    call.on('metadata', () => ++subscribed === job.fast + job.slow && parentPort!.postMessage({ type: 'ready' }));
    call.on('data', (e: Event__Output) => {
      if (e.payload !== 'lost') latencies.push(now() - e.timeMs);
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

async function scenario(events: PolcaEvent[], fast: number, slow: number, rate: number): Promise<Float64Array> {
  const subject = new Subject<PolcaEvent>();
  const server = await startServer({ events$: subject, grpc: { port: 0 }, subscriberMaxLag: 256 });
  // Workers do not inherit tsx's loader: a tiny bootstrap registers it, then loads this file.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { port: server.grpcPort, fast, slow } });
  worker.on('error', (err) => {
    console.error('clients worker failed:', err);
    process.exit(1);
  });
  const ready = new Promise<void>((r) => worker.on('message', (m: { type: string }) => m.type === 'ready' && r()));
  const result = new Promise<number[]>((r) => worker.on('message', (m: { type: string; latencies: number[] }) => m.type === 'done' && r(m.latencies)));
  await ready;
  // The server registers a subscription when its handler runs, just before the metadata goes out.
  const t0 = now();
  for (let i = 0; i < events.length; i++) {
    const due = t0 + (i * 1000) / rate;
    // Sleep most of the wait (timers are coarse), then yield until due: no busy loop competing with the server.
    if (due - now() > 2) await new Promise((r) => setTimeout(r, due - now() - 1.5));
    while (now() < due) await new Promise((r) => setImmediate(r));
    subject.next({ ...events[i], time: now() });
  }
  worker.postMessage('resume');
  subject.complete();
  const latencies = Float64Array.from(await result).sort();
  await server.done;
  await worker.terminate();
  return latencies;
}

async function main(): Promise<void> {
  const rateArg = process.argv.indexOf('--rate');
  const rate = rateArg > 0 ? Number(process.argv[rateArg + 1]) : 200;
  const events = syntheticServeRun();
  console.log(`polca serve latency: ${events.length} events at ${rate} events/s (demo-size run, 500 datapoints)`);
  const rows: [string, Float64Array, number][] = [];
  rows.push(['1 subscriber', await scenario(events, 1, 0, rate), events.length]);
  rows.push(['100 fast + 5 slow', await scenario(events, 100, 5, rate), 100 * events.length]);
  const base = rows[0][1];
  for (const [name, lat, expected] of rows) {
    const p50 = quantile(lat, 0.5);
    const p99 = quantile(lat, 0.99);
    console.log(
      `${name.padEnd(18)} deliveries ${lat.length}/${expected} (fast readers)  p50 ${p50.toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  max ${lat[lat.length - 1].toFixed(2)} ms` +
        `  (p50 ×${(p50 / quantile(base, 0.5)).toFixed(1)}, p99 ×${(p99 / quantile(base, 0.99)).toFixed(1)} vs 1 subscriber)`,
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
