/**
 * The serving parts composed in the calling thread: a {@link RunView}, its
 * {@link MetricsSink}, the polca service with the health service on a gRPC
 * server of its own, and the Prometheus endpoint. {@link startServer} runs
 * this in a worker thread by default, or in the caller's thread.
 *
 * @packageDocumentation
 */
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { MetricsServer } from './metricsServer.js';
import { MetricsSink } from './metricsSink.js';
import { POLCA_SERVICE_NAME, addToServer, type PolcaService } from './polcaService.js';
import type { PolcaMetrics } from './polcaMetrics.js';
import { RunView } from './runView.js';
import { bindAddress, serverCredentials } from './serverCredentials.js';
import { checkServeOptions, type ServeOptions } from './serveOptions.js';

/** {@link ServeOptions} without the source, as a worker receives them. */
export type ComposeOptions = Omit<ServeOptions, 'events$' | 'thread' | 'worker'> & {
  /** Keep the lingering metrics endpoint referenced (in a worker, whose parent unrefs the thread). */
  holdLinger?: boolean;
};

/** A server composed in the calling thread. */
export interface InThreadServer {
  readonly grpcPort: number | undefined;
  readonly metricsPort: number | undefined;
  readonly metrics: PolcaMetrics;
  /** Open subscriptions. */
  subscribers(): number;
  readonly done: Promise<void>;
  close(): Promise<void>;
}

/**
 * Composes and binds the servers; `follow(view)` starts feeding the view
 * (before the ports are bound, so a hot source loses nothing) and returns
 * how to stop.
 *
 * @example
 * ```ts
 * const server = await composeServer({ grpc: { port: 0 } }, (view) => view.follow(events$));
 * ```
 */
export async function composeServer(options: ComposeOptions, follow: (view: RunView) => () => void): Promise<InThreadServer> {
  const grpcOpts = options.grpc;
  const metricsOpts = options.metrics;
  const { grpcPort, metricsPort, subscriberMaxLag, drainTimeoutMs, lingerMs } = checkServeOptions(options);
  const view = new RunView({ run: options.run, history: options.history, trajectoryMaxValues: options.trajectoryMaxValues });
  const sink = new MetricsSink(view, { maxBases: metricsOpts?.maxBases, maxClustersPerBasis: metricsOpts?.maxClustersPerBasis });
  let grpcServer: grpc.Server | undefined;
  let service: PolcaService | undefined;
  let health: HealthImplementation | undefined;
  if (grpcOpts) {
    grpcServer = new grpc.Server();
    service = addToServer(grpcServer, view, {
      token: grpcOpts.token,
      subscriberMaxLag,
      drainTimeoutMs,
      metrics: sink.metrics.serve,
      limits: options.limits,
    });
    health = new HealthImplementation({ '': 'SERVING', [POLCA_SERVICE_NAME]: 'SERVING' });
    health.addToServer(grpcServer);
  }

  let started = false;
  let closeWhenStarted = false;
  view.listen({
    end: () => {
      if (!(options.closeOnComplete ?? true)) return;
      if (started) void shutdown(true);
      else closeWhenStarted = true;
    },
  });
  // Before binding: a hot stream loses nothing; a synchronous one may complete right here.
  const unfollow = follow(view);

  let boundGrpcPort: number | undefined;
  let metricsServer: MetricsServer | undefined;
  try {
    if (grpcServer && grpcOpts) {
      const server = grpcServer;
      const creds = serverCredentials(grpcOpts.tls);
      const address = bindAddress(grpcOpts.host ?? '127.0.0.1', grpcPort);
      boundGrpcPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, creds, (err, port) => (err ? reject(err) : resolve(port))),
      );
    }
    if (metricsOpts) metricsServer = await sink.listen({ port: metricsPort, host: metricsOpts.host });
  } catch (err) {
    unfollow();
    grpcServer?.forceShutdown();
    await metricsServer?.close();
    throw new Error(`startServer: could not bind: ${err instanceof Error ? err.message : String(err)}`);
  }

  let closing: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  let lingering: NodeJS.Timeout | undefined;

  function close(): Promise<void> {
    // An explicit close ends a lingering metrics endpoint at once.
    if (lingering) {
      clearTimeout(lingering);
      lingering = undefined;
      void metricsServer?.close();
    }
    return shutdown(false);
  }

  function shutdown(linger: boolean): Promise<void> {
    closing ??= (async () => {
      unfollow();
      health?.setStatus('', 'NOT_SERVING');
      health?.setStatus(POLCA_SERVICE_NAME, 'NOT_SERVING');
      await service?.close();
      sink.close();
      const server = grpcServer;
      if (server) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, drainTimeoutMs);
          server.tryShutdown(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      if (linger && lingerMs > 0 && metricsServer) {
        const m = metricsServer;
        // In a worker the parent unrefs the whole thread instead: unref'd here, the worker would end before the linger.
        if (!options.holdLinger) m.unref();
        lingering = setTimeout(() => {
          lingering = undefined;
          void m.close();
        }, lingerMs);
        if (!options.holdLinger) lingering.unref();
      } else {
        await metricsServer?.close();
      }
      resolveDone();
    })();
    return closing;
  }

  started = true;
  if (closeWhenStarted) void shutdown(true);

  return {
    grpcPort: boundGrpcPort,
    metricsPort: metricsServer?.port,
    metrics: sink.metrics,
    subscribers: () => service?.subscribers ?? 0,
    done,
    close,
  };
}
