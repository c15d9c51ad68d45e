/**
 * gRPC server credentials and bind addresses from plain options.
 *
 * @packageDocumentation
 */
import * as grpc from '@grpc/grpc-js';

/** TLS material for the gRPC server (PEM). */
export interface ServeTlsOptions {
  cert: Buffer | string;
  key: Buffer | string;
  /** CA bundle to verify client certificates against. */
  ca?: Buffer | string;
  /** Require and verify client certificates (needs `ca`). Default false. */
  requireClientCert?: boolean;
}

/**
 * TLS credentials from PEM material, or plaintext without it.
 *
 * @example
 * ```ts
 * server.bindAsync('0.0.0.0:50051', serverCredentials({ cert, key }), cb);
 * ```
 */
export function serverCredentials(tls?: ServeTlsOptions): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  if (tls.requireClientCert && !tls.ca) {
    throw new TypeError("serverCredentials: option 'tls.requireClientCert' needs 'tls.ca' to verify client certificates against, got no ca");
  }
  return grpc.ServerCredentials.createSsl(
    tls.ca ? Buffer.from(tls.ca) : null,
    [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }],
    tls.requireClientCert ?? false,
  );
}

/**
 * `host:port` for grpc-js, with IPv6 hosts in brackets.
 *
 * @example
 * ```ts
 * bindAddress('::1', 50051); // '[::1]:50051'
 * ```
 */
export function bindAddress(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * True for hosts only this machine reaches: `localhost`, 127.0.0.0/8 and `::1`.
 *
 * @example
 * ```ts
 * isLoopback('0.0.0.0'); // false
 * ```
 */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}
