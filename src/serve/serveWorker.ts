/**
 * Entry of the worker thread that {@link startServer} serves from: composes
 * the servers, ingests the events the training thread posts, and answers
 * its control messages.
 *
 * @packageDocumentation
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { PolcaEvent } from '../stream/events.js';
import { composeServer, type ComposeOptions } from './composeServer.js';
import { warmEncoders } from './warmEncoders.js';

/** Messages from the training thread. */
export type ToWorker =
  | { type: 'event'; event: PolcaEvent; bytes: number }
  /** Events the training thread dropped (channel full) since the last event, by proto kind number. */
  | { type: 'dropped'; byKind: number[] }
  | { type: 'end'; error?: string }
  | { type: 'counts'; id: number }
  | { type: 'clustering'; stats: { seconds: number; rounds: number } | undefined }
  | { type: 'close' };

/** Messages to the training thread. */
export type FromWorker =
  | { type: 'ready'; grpcPort: number | undefined; metricsPort: number | undefined }
  | { type: 'start-failed'; message: string }
  | { type: 'counts'; id: number; subscribers: number; lostEvents: number; ingestErrors: number }
  | { type: 'done' }
  | { type: 'closed' };

/** What the worker is started with. */
export interface WorkerInput {
  options: ComposeOptions;
  /** Int32 [events ingested, KiB ingested, events sent]: the training thread bounds the channel with them, queries wait for events in flight. */
  ingested: SharedArrayBuffer;
  /** Warm the encoders before reporting ready ({@link warmEncoders}). */
  warmUp: boolean;
}

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const { options, ingested: shared, warmUp } = workerData as WorkerInput;
const ingested = new Int32Array(shared);
let clustering: { seconds: number; rounds: number } | undefined;

let server: Awaited<ReturnType<typeof composeServer>> | undefined;
const control = (m: ToWorker): void => {
  if (m.type === 'clustering') clustering = m.stats;
  else if (m.type === 'counts') void counts(m.id);
  else if (m.type === 'close') {
    const s = server;
    if (!s) return;
    void s.close().then(() => {
      post({ type: 'closed' });
      port.close();
    });
  }
};
port.on('message', control);

async function counts(id: number): Promise<void> {
  const serve = server?.metrics.serve;
  const value = async (m: { get(): Promise<{ values: { value: number }[] }> } | undefined) => (m ? ((await m.get()).values[0]?.value ?? 0) : 0);
  post({ type: 'counts', id, subscribers: server?.subscribers() ?? 0, lostEvents: await value(serve?.lostEvents), ingestErrors: await value(serve?.ingestErrors) });
}

try {
  // This thread's own start-up time, not the training thread's: the first events then go out at full speed.
  if (warmUp) warmEncoders();
  server = await composeServer({ ...options, holdLinger: true }, (view) => {
    view.feedFrom({ sent: () => Atomics.load(ingested, 2), ingested: () => Atomics.load(ingested, 0) });
    const feed = (m: ToWorker): void => {
      if (m.type === 'event') {
        view.ingest(m.event);
        Atomics.add(ingested, 0, 1);
        Atomics.add(ingested, 1, Math.ceil(m.bytes / 1024));
      } else if (m.type === 'dropped') {
        view.dropped(m.byKind);
      } else if (m.type === 'end') {
        view.end(m.error === undefined ? undefined : new Error(m.error));
      }
    };
    port.on('message', feed);
    return () => port.off('message', feed);
  });
  server.metrics.watchClustering(() => clustering);
  post({ type: 'ready', grpcPort: server.grpcPort, metricsPort: server.metricsPort });
  void server.done.then(() => post({ type: 'done' }));
} catch (err) {
  post({ type: 'start-failed', message: err instanceof Error ? err.message : String(err) });
  port.close();
}
