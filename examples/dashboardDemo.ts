/**
 * Serves a synthetic polca run in real time (about 5 minutes) so that the
 * dashboards and alert rules can be tried without training a model:
 * gRPC on 127.0.0.1:50051, Prometheus metrics on http://127.0.0.1:9464/metrics.
 * The run ends diverging with non-finite losses, to trip the alerts.
 * The events come from the test suite's synthetic-run generator, which is why
 * this lives with the repository's examples and is not shipped.
 *
 *   npm run demo:dashboards -- [--step-ms 150]
 *
 * A real run is served the same way: startServer({ events$: <tracker>.events$,
 * grpc: { port: 50051 }, metrics: { port: 9464 } }).
 */
import { Subject } from 'rxjs';
import { startServer } from '../src/serve/index.js';
import type { PolcaEvent } from '../src/index.js';
import { syntheticServeRun } from '../test/helpers/serveEvents.js';

const arg = process.argv.indexOf('--step-ms');
const stepMs = arg > 0 ? Number(process.argv[arg + 1]) : 150;
const start = Date.now();
const events = syntheticServeRun({ startTime: start, stepMs, troubledEnding: true });
const subject = new Subject<PolcaEvent>();
const server = await startServer({ events$: subject, grpc: { port: 50051 }, metrics: { port: 9464 }, run: 'synthetic' });
console.log(`polca demo: grpc 127.0.0.1:${server.grpcPort}, metrics http://127.0.0.1:${server.metricsPort}/metrics, ${events.length} events over ${((2000 * stepMs) / 1000).toFixed(0)} s`);
for (const event of events) {
  const wait = event.time - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  subject.next(event);
}
subject.complete();
await server.done;
console.log('polca demo: run ended, server closed');
