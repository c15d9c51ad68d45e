/**
 * A polca server in a process of its own for the request-limit tests (not a
 * test file): serves a complete synthetic run and prints its ports as one
 * JSON line; exits when its stdin closes.
 *
 * Usage: node --import tsx test/serve/processes/limitsServer.ts <numProbe> <maxResponseBytes>
 */
import { from } from 'rxjs';
import { startServer } from '../../../src/serve/startServer.js';
import { syntheticServeRun } from '../../helpers/serveEvents.js';

const numProbe = Number(process.argv[2] ?? 2000);
const maxResponseBytes = Number(process.argv[3] ?? 4 * 2 ** 20 - 64 * 2 ** 10);
const events = syntheticServeRun({ numProbe, steps: 400, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100 });
const server = await startServer({ events$: from(events), grpc: { port: 0 }, metrics: { port: 0 }, closeOnComplete: false, limits: { maxResponseBytes } });
process.stdout.write(`${JSON.stringify({ grpcPort: server.grpcPort, metricsPort: server.metricsPort, pid: process.pid })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
