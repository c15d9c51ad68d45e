/**
 * Event-to-client latency of the gRPC serving layer (src/serve) at the load
 * of test/serve/load.test.ts: a demo-size synthetic run (500 datapoints,
 * 2000 steps, 10 basis vectors, ~2270 events) streamed to 100 subscribers
 * reading as fast as they can plus 5 that never read, compared with a single
 * subscriber in the same run (the ratio is what to look at).
 *
 * The clients run in a worker thread (their decoding must not share the
 * server's event loop) and speak HTTP/2 directly, framing the gRPC messages
 * themselves: with grpc-js's client stack, 100 subscriptions in one thread
 * cost more CPU than the server and the table measured the clients. That
 * thread first runs its own code hot on throwaway local servers (see
 * warmClients); nothing of the server under test is warmed. Latency =
 * arrival time in the clients' thread − the event's `time`, stamped just
 * before `subject.next` (both from performance.timeOrigin +
 * performance.now(), so sub-millisecond). Percentiles are given over the
 * whole run and over the events sent after its first second, where the
 * server's thread starts cold.
 *
 * Each load runs twice: with the servers in a worker thread (`startServer`'s
 * default) and in the training thread (`thread: 'main'`), and the 100 + 5
 * load once more with a busy training thread: a real `createPolca` taking
 * a POLCA checkpoint at every step on a small MLP (bench/serveTraining.ts,
 * ~60 ms of synchronous work each). The clients' thread also scrapes
 * `/metrics` every 100 ms; its latency is reported beside the events'.
 * Goals with the checkpoints running: event-to-client p99 ≤ 50 ms and every
 * scrape under 100 ms. The last worker row repeats that load with the
 * worker's start-up warm-up of its encoders turned off (`worker.warmUp`).
 *
 * Usage: npm run bench:serve [-- --rate 200] [-- --quick] [-- --only 'worker: 100'] [-- --repeat 3]
 *   (events per second emitted; --quick: a 200-step run; --only: the rows whose name starts so;
 *   --repeat: run each row that many times)
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import { Subject } from 'rxjs';
import { startServer } from '../src/serve/startServer.js';
import { loadPolcaProto } from '../src/serve/polcaProto.js';
import type { PolcaEvent } from '../src/stream/events.js';
import type { SubscribeRequest } from '../src/serve/generated/polca/v1/SubscribeRequest.js';
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

/**
 * One `Subscribe` call spoken directly over HTTP/2 (node:http2), with the
 * gRPC length-prefixed framing done here: grpc-js's client stack costs
 * several times more per message than the server's, and 100 of them in one
 * thread would measure the clients rather than the server. (Interop with a
 * real gRPC client is tested elsewhere, with Python grpcio.)
 */
function rawSubscribe(
  session: http2.ClientHttp2Session,
  request: Buffer,
  on: { ready(): void; message(b: Buffer): void; end(): void },
): http2.ClientHttp2Stream {
  const stream = session.request({
    ':method': 'POST',
    ':path': '/polca.v1.Polca/Subscribe',
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  const head = Buffer.alloc(5);
  head.writeUInt32BE(request.length, 1);
  stream.end(Buffer.concat([head, request]));
  stream.on('response', () => on.ready());
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let at = 0;
    while (pending.length - at >= 5) {
      const len = pending.readUInt32BE(at + 1);
      if (pending.length - at - 5 < len) break;
      on.message(pending.subarray(at + 5, at + 5 + len));
      at += 5 + len;
    }
    pending = pending.subarray(at);
  });
  stream.on('error', () => {});
  stream.on('close', () => on.end());
  return stream;
}

function clientsWorker(job: ClientsJob): void {
  const { polca } = loadPolcaProto();
  const serialize = polca.v1.Polca.service.Subscribe.requestSerialize as (r: SubscribeRequest) => Buffer;
  const latencies: number[] = [];
  const sent: number[] = [];
  let open = job.fast + job.slow;
  let subscribed = 0;
  // 10 subscriptions per connection, as several dashboards behind one proxy would.
  const sessions = Array.from({ length: Math.max(1, Math.ceil(job.fast / 10)) + job.slow }, () => http2.connect(`http://127.0.0.1:${job.port}`));
  sessions.forEach((s) => s.on('error', () => {}));
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
  const ready = () => ++subscribed === job.fast + job.slow && parentPort!.postMessage({ type: 'ready' });
  const done = () => {
    if (--open === 0) {
      scraping = false;
      sessions.forEach((s) => s.close());
      void scraper.then(() => parentPort!.postMessage({ type: 'done', latencies, sent, scrapes }));
    }
  };
  const live = serialize({ start: 'START_AT_LIVE' });
  for (let i = 0; i < job.fast; i++) {
    rawSubscribe(sessions[Math.floor(i / 10)], live, {
      ready,
      message(b) {
        const time = eventTime(b);
        if (time === undefined) return;
        latencies.push(now() - time);
        sent.push(time);
      },
      end: done,
    });
  }
  const detailed = serialize({ start: 'START_AT_LIVE', datapoints: true });
  for (let i = 0; i < job.slow; i++) {
    // Never reads after its first message: HTTP/2 flow control then holds the server's writes.
    const stream: http2.ClientHttp2Stream = rawSubscribe(sessions[sessions.length - 1 - i], detailed, { ready, message: () => stream.pause(), end: done });
    // Resumed at run end so that the stream can finish.
    parentPort!.on('message', (m: string) => {
      if (m !== 'resume') return;
      stream.removeAllListeners('data');
      stream.on('data', () => {});
      stream.resume();
    });
  }
}

/**
 * Runs the clients' thread's own code paths hot before the measurement, on
 * throwaway local servers (an HTTP/1 one for `fetch`, an HTTP/2 one for the
 * subscriptions' framing), so that their first-use costs (`fetch` loads
 * undici on its first call, ~100 ms in this thread) are not counted as the
 * server's latency. Nothing of the server under test is warmed.
 */
async function warmClients(): Promise<void> {
  const body = 'x'.repeat(100_000);
  const web = http.createServer((_req, res) => res.end(body));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  for (let i = 0; i < 50; i++) await (await fetch(`http://127.0.0.1:${(web.address() as { port: number }).port}/`)).text();
  web.closeAllConnections();
  web.close();
  const h2 = http2.createServer();
  const frame = Buffer.alloc(205);
  frame.writeUInt32BE(200, 1);
  h2.on('stream', (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    let i = 0;
    const pump = () => {
      while (i++ < 400) if (!stream.write(frame)) return void stream.once('drain', pump);
      stream.end();
    };
    pump();
  });
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', () => r()));
  const session = http2.connect(`http://127.0.0.1:${(h2.address() as { port: number }).port}`);
  await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((end) => rawSubscribe(session, Buffer.alloc(0), { ready() {}, message: (b) => void eventTime(b), end }))));
  session.close();
  h2.close();
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

interface Scenario {
  fast: number;
  slow: number;
  thread: 'worker' | 'main';
  /** A POLCA checkpoint at every training step on this thread meanwhile. */
  training: boolean;
  /** The worker's start-up warm-up of its encoders (`worker.warmUp`, default true). */
  warmUp?: boolean;
}

interface Measured {
  /** Every delivery's latency, sorted. */
  latencies: Float64Array;
  /** Those of events sent after the first second, sorted. */
  steady: Float64Array;
  scrapes: Float64Array;
  checkpointMs: number[];
}

async function scenario(events: PolcaEvent[], sc: Scenario, rate: number): Promise<Measured> {
  const { fast, slow } = sc;
  const subject = new Subject<PolcaEvent>();
  const server = await startServer({ events$: subject, grpc: { port: 0 }, metrics: { port: 0 }, subscriberMaxLag: 256, thread: sc.thread, worker: { warmUp: sc.warmUp ?? true } });
  // Workers do not inherit tsx's loader: a tiny bootstrap registers it, then loads this file.
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((api) => { api.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { port: server.grpcPort, metricsPort: server.metricsPort, fast, slow } });
  worker.on('error', (err) => {
    console.error('clients worker failed:', err);
    process.exit(1);
  });
  const ready = new Promise<void>((r) => worker.on('message', (m: { type: string }) => m.type === 'ready' && r()));
  const result = new Promise<{ latencies: number[]; sent: number[]; scrapes: number[] }>((r) =>
    worker.on('message', (m: { type: string; latencies: number[]; sent: number[]; scrapes: number[] }) => m.type === 'done' && r(m)),
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
    steady: Float64Array.from(got.latencies.filter((_, i) => got.sent[i] >= t0 + 1000)).sort(),
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
    if (thread === 'worker') scenarios.push(['worker: 100 + 5, checkpoints, no warm-up', { fast: 100, slow: 5, thread, training: true, warmUp: false }]);
  }
  const f = (v: number) => v.toFixed(1).padStart(7);
  console.log(
    `${'scenario'.padEnd(42)} ${'deliveries'.padStart(13)}   events p50 / p99 / max (ms)   after 1 s: p99 / max   /metrics p50 / p99 / max (ms)   checkpoints`,
  );
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1] : undefined;
  const repeatArg = process.argv.indexOf('--repeat');
  const repeat = repeatArg > 0 ? Number(process.argv[repeatArg + 1]) : 1;
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new TypeError(`bench:serve: --repeat must be an integer >= 1, got ${process.argv[repeatArg + 1]}`);
  for (const [name, sc] of scenarios.flatMap((s) => Array.from({ length: repeat }, () => s))) {
    if (only !== undefined && !name.startsWith(only)) continue;
    const r = await scenario(events, sc, rate);
    const lat = r.latencies;
    const sc50 = quantile(r.scrapes, 0.5);
    const ckpt = r.checkpointMs.length ? `${r.checkpointMs.length} × ${(r.checkpointMs.reduce((a, b) => a + b, 0) / r.checkpointMs.length).toFixed(0)} ms` : '-';
    console.log(
      `${name.padEnd(42)} ${`${lat.length}/${sc.fast * events.length}`.padStart(13)}   ${f(quantile(lat, 0.5))} ${f(quantile(lat, 0.99))} ${f(quantile(lat, 1))}` +
        `       ${f(quantile(r.steady, 0.99))} ${f(quantile(r.steady, 1))}` +
        `        ${f(sc50)} ${f(quantile(r.scrapes, 0.99))} ${f(quantile(r.scrapes, 1))}   ${ckpt}`,
    );
  }
}

if (isMainThread) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
} else {
  void warmClients().then(() => clientsWorker(workerData as ClientsJob));
}
