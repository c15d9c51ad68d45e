/**
 * The serving flags of the real CLI (`polca replay … --grpc`), each checked
 * with a real gRPC client: host:port binds, the token from the environment
 * or a file, the warning for an open bind without a token, and TLS with a
 * certificate made here by openssl.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { from } from 'rxjs';
import { writeRun } from '../../src/sinks/arrow/RunWriter.js';
import { loadPolcaProto } from '../../src/serve/polcaProto.js';
import type { PolcaClient } from '../../src/serve/generated/polca/v1/Polca.js';
import type { Run__Output } from '../../src/serve/generated/polca/v1/Run.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
// Basis vectors are not written here (the synthetic ones do not match its parameter count).
const EVENTS = syntheticServeRun({ numProbe: 20, steps: 100, checkpointEvery: 20, basisEvery: 50, clusterEvery: 50 }).map((e) =>
  e.type === 'basis' ? { ...e, vector: undefined } : e,
);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-serve-flags-'));
const runDir = path.join(tmp, 'run');
const children: ChildProcess[] = [];

beforeAll(async () => {
  await writeRun(from(EVENTS), runDir).closed;
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Served {
  port: number;
  host: string;
  stderr: () => string;
}

/** Starts `polca replay` with the flags; resolves once it says where gRPC is served. */
function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'replay', runDir, '--linger', '60', ...args], {
    cwd: ROOT,
    env: { ...process.env, POLCA_TOKEN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^serving gRPC on (.+):(\d+) /.exec(line);
      if (m) resolve({ host: m[1], port: Number(m[2]), stderr: () => stderr });
    });
    child.once('exit', (code) => reject(new Error(`polca replay exited with ${code}: ${stderr}`)));
  });
}

function client(port: number, creds = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): PolcaClient {
  return new (loadPolcaProto().polca.v1.Polca)(`127.0.0.1:${port}`, creds, options);
}

function getRun(c: PolcaClient, token?: string): Promise<{ error: grpc.ServiceError | null; run?: Run__Output }> {
  const md = new grpc.Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve) => c.getRun({}, md, { deadline: Date.now() + 5000 }, (error, run) => resolve({ error, run })));
}

/** GetRun once the replay has served the whole run (the replay runs on after the server is up). */
async function endedRun(c: PolcaClient, token?: string): Promise<Run__Output> {
  for (let i = 0; ; i++) {
    const { error, run } = await getRun(c, token);
    if (error) throw error;
    if (run!.ended || i > 200) return run!;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('polca replay serving flags', () => {
  it('--grpc host:port binds there; the token comes from POLCA_TOKEN', async () => {
    const s = await serve(['--grpc', '127.0.0.1:0'], { POLCA_TOKEN: 'env-token' });
    expect(s.host).toBe('127.0.0.1');
    const c = client(s.port);
    expect((await getRun(c)).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await getRun(c, 'wrong')).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await endedRun(c, 'env-token')).events).toBe(EVENTS.length);
    expect(s.stderr()).not.toMatch(/warning/);
    c.close();
  });

  it('--token-file reads the token (trailing newline dropped); it wins over POLCA_TOKEN', async () => {
    const file = path.join(tmp, 'token');
    fs.writeFileSync(file, 'file-token\n', { mode: 0o600 });
    const s = await serve(['--grpc', '0', '--token-file', file], { POLCA_TOKEN: 'env-token' });
    const c = client(s.port);
    expect((await getRun(c, 'env-token')).error?.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await endedRun(c, 'file-token')).events).toBe(EVENTS.length);
    c.close();
  });

  it('warns about a non-loopback bind without a token, and about --token in the process list', async () => {
    const open = await serve(['--grpc', '0.0.0.0:0']);
    expect(open.host).toBe('0.0.0.0');
    expect(open.stderr()).toMatch(/warning: gRPC on 0\.0\.0\.0 without a token: .*POLCA_TOKEN or --token-file/);
    const c = client(open.port);
    expect((await endedRun(c)).events).toBe(EVENTS.length);
    c.close();
    const flag = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'replay', runDir, '--token', 'visible'], { cwd: ROOT, encoding: 'utf8' });
    expect(flag.status).toBe(0);
    expect(flag.stderr).toMatch(/warning: --token shows in the process list/);
    expect(flag.stderr).toMatch(/warning: --token has no effect without --grpc/);
  });

  it('refuses a malformed --grpc, naming the flag', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'replay', runDir, '--grpc', 'localhost:http'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--grpc must be a port \(0 to 65535\) or host:port, got "localhost:http"/);
  });

  const openssl = spawnSync('which', ['openssl']).status === 0;
  it.runIf(openssl)('--tls-cert/--tls-key serve TLS; --tls-ca requires a client certificate', async () => {
    const key = path.join(tmp, 'server.key');
    const cert = path.join(tmp, 'server.crt');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    const s = await serve(['--grpc', '0', '--tls-cert', cert, '--tls-key', key], { POLCA_TOKEN: 'tls-token' });
    const tls = client(s.port, grpc.credentials.createSsl(fs.readFileSync(cert)));
    expect((await endedRun(tls, 'tls-token')).events).toBe(EVENTS.length);
    const plain = client(s.port);
    expect((await getRun(plain, 'tls-token')).error?.code).toBe(grpc.status.UNAVAILABLE);
    tls.close();
    plain.close();

    // Mutual TLS: a client with a certificate from the CA gets in, one without does not.
    const caKey = path.join(tmp, 'ca.key');
    const ca = path.join(tmp, 'ca.crt');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca, '-days', '1', '-subj', '/CN=polca-test-ca'], { stdio: 'ignore' });
    const clientKey = path.join(tmp, 'client.key');
    const csr = path.join(tmp, 'client.csr');
    const clientCert = path.join(tmp, 'client.crt');
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', clientKey, '-out', csr, '-subj', '/CN=polca-client'], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', ca, '-CAkey', caKey, '-CAcreateserial', '-out', clientCert, '-days', '1'], { stdio: 'ignore' });
    const m = await serve(['--grpc', '0', '--tls-cert', cert, '--tls-key', key, '--tls-ca', ca], { POLCA_TOKEN: 'tls-token' });
    const withCert = client(m.port, grpc.credentials.createSsl(fs.readFileSync(cert), fs.readFileSync(clientKey), fs.readFileSync(clientCert)));
    expect((await endedRun(withCert, 'tls-token')).events).toBe(EVENTS.length);
    const without = client(m.port, grpc.credentials.createSsl(fs.readFileSync(cert)));
    expect((await getRun(without, 'tls-token')).error?.code).toBe(grpc.status.UNAVAILABLE);
    withCert.close();
    without.close();
  });
});

describe('serving flag parsing', () => {
  it('reads [host:]port, IPv6 in brackets; the token from --token, else --token-file, else POLCA_TOKEN', async () => {
    const { hostPort, serveSetup } = await import('../../src/cli/serveFlags.js');
    const parse = hostPort('--metrics');
    expect(parse('9464')).toEqual({ port: 9464 });
    expect(parse('0.0.0.0:9464')).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(parse('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parse('70000')).toThrow(/--metrics must be a port \(0 to 65535\) or host:port, got "70000"/);
    expect(() => parse('::1:5')).toThrow(/--metrics/);
    const file = path.join(tmp, 'token2');
    fs.writeFileSync(file, 'from-file\n');
    const env = { POLCA_TOKEN: 'from-env' };
    expect(serveSetup({ grpc: { port: 0 }, token: 'from-flag', tokenFile: file }, env).grpc!.token).toBe('from-flag');
    expect(serveSetup({ grpc: { port: 0 }, tokenFile: file }, env).grpc!.token).toBe('from-file');
    expect(serveSetup({ grpc: { port: 0 } }, env).grpc!.token).toBe('from-env');
    expect(serveSetup({ grpc: { port: 0 } }, {}).grpc!.token).toBeUndefined();
    // Each server binds its own host, else --host.
    const s = serveSetup({ grpc: { port: 1 }, metrics: { host: '::1', port: 2 }, host: '127.0.0.2' }, {});
    expect([s.grpc!.host, s.metrics!.host]).toEqual(['127.0.0.2', '::1']);
    expect(s.warnings).toEqual([]);
    expect(serveSetup({ grpc: { host: '::', port: 1 } }, {}).warnings[0]).toMatch(/gRPC on :: without a token/);
    expect(() => serveSetup({ grpc: { port: 1 }, tlsCert: file }, {})).toThrow(/--tls-cert and --tls-key go together/);
    expect(() => serveSetup({ grpc: { port: 1 }, tokenFile: path.join(tmp, 'missing') }, {})).toThrow(/--token-file .*missing.* cannot be read/);
  });
});
