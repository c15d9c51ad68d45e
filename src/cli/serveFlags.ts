/**
 * The serving flags of `polca replay`: where to bind, the token and TLS.
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { isLoopback, type ServeTlsOptions } from '../serve/serverCredentials.js';

/** A bind address given as `port` or `host:port` (`[::1]:port` for IPv6). */
export interface HostPort {
  host?: string;
  port: number;
}

/** The environment variable the gRPC bearer token is read from, so that it never shows in `ps`. */
export const TOKEN_ENV = 'POLCA_TOKEN';

/**
 * Parser of a `--flag [host:]port` value.
 *
 * @example
 * ```ts
 * hostPort('--grpc')('0.0.0.0:50051'); // { host: '0.0.0.0', port: 50051 }
 * hostPort('--grpc')('50051');         // { port: 50051 }
 * ```
 */
export function hostPort(flag: string): (value: string) => HostPort {
  return (value) => {
    const m = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d+)$/.exec(value.trim());
    const port = m ? Number(m[2]) : NaN;
    if (!m || !(port >= 0 && port <= 65535)) {
      throw new InvalidArgumentError(`${flag} must be a port (0 to 65535) or host:port, got ${JSON.stringify(value)}`);
    }
    return m[1] ? { host: m[1].replace(/^\[|\]$/g, ''), port } : { port };
  };
}

/** The serving flags as commander parsed them. */
export interface ServeFlags {
  grpc?: HostPort;
  metrics?: HostPort;
  /** Default bind address of both servers. */
  host?: string;
  token?: string;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
}

/** What the flags resolve to. */
export interface ServeSetup {
  grpc?: { port: number; host: string; token?: string; tls?: ServeTlsOptions };
  metrics?: { port: number; host: string };
  /** Things the user should know before anyone connects (printed on stderr). */
  warnings: string[];
}

/**
 * Resolves the serving flags: each server binds to its own `host:` or to
 * `--host`; the token comes from `--token`, else `--token-file`, else the
 * {@link TOKEN_ENV} environment variable; `--tls-cert` and `--tls-key` serve
 * TLS, and `--tls-ca` also requires client certificates signed by that CA.
 * A gRPC bind outside loopback without a token gives a warning.
 *
 * @example
 * ```ts
 * serveSetup({ grpc: { host: '0.0.0.0', port: 50051 }, tokenFile: '/run/secrets/polca' }, process.env);
 * ```
 */
export function serveSetup(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServeSetup {
  const warnings: string[] = [];
  const host = flags.host ?? '127.0.0.1';
  let token = flags.token;
  let tokenFrom = '--token';
  if (token === undefined && flags.tokenFile !== undefined) {
    try {
      token = readFileSync(flags.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new InvalidArgumentError(`--token-file ${JSON.stringify(flags.tokenFile)} cannot be read: ${(err as Error).message}`);
    }
    tokenFrom = '--token-file';
  }
  if (token === undefined && env[TOKEN_ENV] !== undefined && env[TOKEN_ENV] !== '') {
    token = env[TOKEN_ENV];
    tokenFrom = TOKEN_ENV;
  }
  if (token !== undefined && (token.length === 0 || /\s/.test(token))) {
    throw new InvalidArgumentError(`the token from ${tokenFrom} must be non-empty and without whitespace, got ${token.length} characters`);
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new InvalidArgumentError(`--tls-cert and --tls-key go together, got only ${flags.tlsCert !== undefined ? '--tls-cert' : '--tls-key'}`);
  }
  if (flags.tlsCa !== undefined && flags.tlsCert === undefined) {
    throw new InvalidArgumentError('--tls-ca needs --tls-cert and --tls-key (it verifies client certificates of a TLS server)');
  }
  const pem = (flag: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new InvalidArgumentError(`${flag} ${JSON.stringify(file)} cannot be read: ${(err as Error).message}`);
    }
  };
  const tls: ServeTlsOptions | undefined =
    flags.tlsCert !== undefined && flags.tlsKey !== undefined
      ? {
          cert: pem('--tls-cert', flags.tlsCert),
          key: pem('--tls-key', flags.tlsKey),
          ...(flags.tlsCa !== undefined ? { ca: pem('--tls-ca', flags.tlsCa), requireClientCert: true } : {}),
        }
      : undefined;
  const setup: ServeSetup = { warnings };
  if (flags.grpc) {
    const grpcHost = flags.grpc.host ?? host;
    setup.grpc = { port: flags.grpc.port, host: grpcHost, token, tls };
    if (token === undefined && !isLoopback(grpcHost)) {
      warnings.push(
        `warning: gRPC on ${grpcHost} without a token: anyone who reaches this address can read the run; ` +
          `set ${TOKEN_ENV} or --token-file (and --tls-cert/--tls-key off this machine)`,
      );
    }
  } else if (token !== undefined && tokenFrom !== TOKEN_ENV) {
    warnings.push(`warning: ${tokenFrom} has no effect without --grpc`);
  }
  if (flags.metrics) setup.metrics = { port: flags.metrics.port, host: flags.metrics.host ?? host };
  if (flags.token !== undefined) warnings.push(`warning: --token shows in the process list; prefer ${TOKEN_ENV} or --token-file`);
  return setup;
}
