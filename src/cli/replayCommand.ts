import * as path from 'node:path';
import { replay } from '../sinks/arrow/replay.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';
import { startServer } from '../serve/startServer.js';
import type { ServeTlsOptions } from '../serve/serverCredentials.js';
import type { PolcaEvent } from '../stream/events.js';

/** Options of {@link replayCommand}. */
export interface ReplayCommandOptions {
  pace?: 'fast' | 'recorded';
  speed?: number;
  json?: boolean;
  grpc?: number;
  metrics?: number;
  /** Bind address of both servers unless `grpcHost` / `metricsHost` say otherwise. Default 127.0.0.1. */
  host?: string;
  grpcHost?: string;
  metricsHost?: string;
  token?: string;
  /** Serve gRPC over TLS. */
  tls?: ServeTlsOptions;
  linger?: number;
  /** The run's name for the `run` label of the metrics. Default: the directory's base name. */
  run?: string;
  /** Replay the intact prefix of a damaged run (saying what was dropped) instead of failing. Default false. */
  allowPartial?: boolean;
  /** Where damage and what could not be verified are reported. Default: standard error. */
  warn?: (line: string) => void;
}

/** One line describing an event, typed arrays summarised. */
export function describeEvent(e: PolcaEvent): string {
  switch (e.type) {
    case 'run-start':
      return `run-start P=${e.numParams} N=${e.numProbe} backend=${e.backend} hvp=${e.hvpMode}`;
    case 'step':
      return `step ${e.step}${e.loss !== undefined ? ` loss=${e.loss.toFixed(4)}` : ''}`;
    case 'checkpoint':
      return `checkpoint ${e.step} mean loss=${e.meanLoss.toFixed(4)} (${e.seconds.toFixed(2)} s)`;
    case 'basis':
      return `basis #${e.id} at ${e.step} (${e.kind}) λ=${e.eigenvalue.toPrecision(4)} residual=${e.residual.toExponential(1)}`;
    case 'polca':
      return `polca ${e.fromStep}→${e.toStep} ${e.basisIds.length} vectors`;
    case 'clusters':
      return `clusters ${e.kind} basis ${e.basisId} at ${e.step}: ${e.clusters.map((c) => c.members.length).join('/')}`;
    case 'transition':
      return `transition at ${e.step} (${e.target.kind === 'cluster' ? `basis ${e.target.basisId} cluster ${e.target.clusterId}` : e.target.name}) confidence ${e.confidence.toFixed(2)}`;
    case 'alert':
      return `alert ${e.rule} at ${e.step}: ${e.message}`;
    case 'run-end':
      return `run-end at ${e.step} (${e.reason}${e.error ? `: ${e.error}` : ''})`;
  }
}

function toJson(e: PolcaEvent): string {
  return JSON.stringify(e, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v));
}

/**
 * `polca replay <dir>`: prints the run's events, paced as asked; with
 * `grpc` and/or `metrics` ports, also serves the replayed stream exactly as
 * a live run is served, until the replay ends (plus `linger` seconds).
 */
export async function replayCommand(dir: string, o: ReplayCommandOptions = {}, out: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<number> {
  let count = 0;
  const { limit } = await requireIntactRun(dir, 'polca replay', { allowPartial: o.allowPartial, warn: o.warn });
  const events$ = replay(dir, { pace: o.pace, speed: o.speed, limit });
  const serving = o.grpc !== undefined || o.metrics !== undefined;
  if (!serving) {
    await new Promise<void>((resolve, reject) => {
      events$.subscribe({
        next: (e) => {
          count++;
          out(o.json ? toJson(e) : describeEvent(e));
        },
        error: reject,
        complete: resolve,
      });
    });
    return count;
  }
  const { share } = await import('rxjs');
  const shared = events$.pipe(share());
  const grpcHost = o.grpcHost ?? o.host ?? '127.0.0.1';
  const metricsHost = o.metricsHost ?? o.host ?? '127.0.0.1';
  const done = new Promise<void>((resolve, reject) => {
    shared.subscribe({
      next: (e) => {
        count++;
        if (o.json) out(toJson(e));
        else if (e.type !== 'step') out(describeEvent(e));
      },
      error: reject,
      complete: resolve,
    });
  });
  const server = await startServer({
    events$: shared,
    run: o.run ?? path.basename(path.resolve(dir)),
    grpc: o.grpc !== undefined ? { port: o.grpc, host: grpcHost, token: o.token, tls: o.tls } : undefined,
    metrics: o.metrics !== undefined ? { port: o.metrics, host: metricsHost } : undefined,
    closeOnComplete: false,
  });
  const at = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
  if (server.grpcPort !== undefined) out(`serving gRPC on ${at(grpcHost, server.grpcPort)} (polca.v1.Polca${o.tls ? ', TLS' : ''})`);
  if (server.metricsPort !== undefined) out(`serving metrics on http://${at(metricsHost, server.metricsPort)}/metrics`);
  try {
    await done;
    if (o.linger) await new Promise((r) => setTimeout(r, o.linger! * 1000));
  } finally {
    await server.close();
  }
  return count;
}
