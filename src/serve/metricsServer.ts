/**
 * A node:http server exposing a prom-client registry on `/metrics`.
 *
 * @packageDocumentation
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { port as checkPort } from '../errors/validate.js';

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound port (useful when 0 was asked). */
  readonly port: number;
  /** Stops listening and drops open connections; idempotent. */
  close(): Promise<void>;
  /** Lets the process exit while the server (and its connections) are still open. */
  unref(): void;
}

/**
 * Serves `registry` at `http://host:port/metrics` (404 elsewhere, 405 for
 * methods other than GET and HEAD).
 *
 * @example
 * ```ts
 * const server = await startMetricsServer(metrics.registry, { port: 0 });
 * // curl http://127.0.0.1:${server.port}/metrics
 * await server.close();
 * ```
 */
export async function startMetricsServer(
  registry: Registry,
  options: { port?: number; host?: string } = {},
): Promise<MetricsServer> {
  const port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
  checkPort('startMetricsServer', 'port', port);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`);
      },
    );
  });
  let unrefd = false;
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (unrefd) socket.unref();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
    unref() {
      unrefd = true;
      server.unref();
      // Keep-alive connections (a scraper's) would hold the process too.
      for (const socket of sockets) socket.unref();
    },
  };
}
