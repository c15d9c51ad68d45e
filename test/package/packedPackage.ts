/**
 * The package as a user receives it: `npm pack` (which runs the `prepack`
 * build) of a copy of the repository, and a fresh project outside the
 * repository with the tarball and its peers installed by npm from the
 * registry (the local cache first).
 *
 * Both test/package/pack.test.ts and test/package/browserBundle.test.ts
 * need it, and vitest runs them in separate processes at the same time, so
 * the work is done once under a lock in the system temp directory, keyed by
 * a hash of everything the build and `npm pack` read. A second run with
 * unchanged sources reuses it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** One file of the tarball, as `npm pack --json` lists it. */
export interface PackedFile {
  path: string;
  size: number;
}

/** The packed and installed package. */
export interface PackedPackage {
  /** Absolute path of `polca-<version>.tgz`. */
  tarball: string;
  /** The files inside the tarball, relative to its `package/` root. */
  files: PackedFile[];
  /** The package's root after extraction (a copy of the tarball's `package/`). */
  extracted: string;
  /** A fresh project (outside the repository) with the tarball and its peers installed. */
  consumer: string;
  /** Wall time of the build and pack, and of the install, in seconds (0 when reused). */
  seconds: { pack: number; install: number };
}

/** Peers and type packages the consumer installs beside polca, at the versions this repository tests with (so npm's cache has them). */
const CONSUMER_EXTRAS = ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-cpu', '@types/node'];

/** Repository paths the build and `npm pack` read, besides the `files` entries of package.json (the ignore files as npm would see them). */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'tsconfig.build.json', '.gitignore', '.npmignore'];

/**
 * The environment for child npm processes: without the variables npm sets
 * for a running script (`npm test` → vitest → here), which would otherwise
 * point the child at this repository's package and prefix.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_(package|lifecycle|config_(local_)?prefix)/i.test(k) || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** What a finished command printed. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking the event loop; resolves whatever its exit status. */
export function spawnAsync(cmd: string, args: string[], cwd: string, env = cleanEnv(), timeout = 240_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed to start: ${e.message}`));
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Runs a command; rejects with its output unless it exits 0. */
export async function run(cmd: string, args: string[], cwd: string, env = cleanEnv(), timeout = 240_000): Promise<string> {
  const r = await spawnAsync(cmd, args, cwd, env, timeout);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  }
  return r.stdout;
}

/** The top-level repository paths that package.json's `files` entries name (`dashboards/*.json` → `dashboards`). */
function shippedRoots(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { files: string[] };
  return [...new Set(pkg.files.map((f) => f.split('/')[0]))];
}

function walk(p: string, out: string[]): void {
  if (!fs.existsSync(p)) return;
  if (fs.statSync(p).isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name), out);
  } else out.push(p);
}

/** The inputs of the build and pack: relative paths, sorted. */
function inputs(): string[] {
  const out: string[] = [];
  for (const rel of [...BUILD_INPUTS, ...shippedRoots()]) walk(path.join(REPO, rel), out);
  return out.map((f) => path.relative(REPO, f));
}

function versionOf(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

function keyOf(files: string[]): string {
  const h = createHash('sha256');
  h.update(process.version);
  for (const extra of CONSUMER_EXTRAS) h.update(`${extra}@${versionOf(extra)}\n`);
  for (const rel of files) {
    h.update(rel + '\0');
    h.update(fs.readFileSync(path.join(REPO, rel)));
  }
  return h.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes `lock` (a directory); waits while another live process holds it. */
async function acquire(lock: string): Promise<void> {
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    try {
      holder = Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8'));
    } catch {
      // The holder has made the directory but not yet written its pid.
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
    else await sleep(500);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function build(dir: string, files: string[]): Promise<PackedPackage> {
  fs.rmSync(dir, { recursive: true, force: true });
  const stage = path.join(dir, 'stage');
  for (const rel of files) {
    fs.mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true });
    fs.copyFileSync(path.join(REPO, rel), path.join(stage, rel));
  }
  // The build's tsc and type packages come from the repository's install.
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(stage, 'node_modules'), 'dir');
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  let t = performance.now();
  const listing = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', out], stage)) as { filename: string; files: PackedFile[] }[];
  const pack = (performance.now() - t) / 1000;
  const tarball = path.join(out, listing[0].filename);

  const extracted = path.join(dir, 'extracted');
  fs.mkdirSync(extracted);
  await run('tar', ['-xzf', tarball, '-C', extracted, '--strip-components=1'], dir);

  const consumer = path.join(dir, 'consumer');
  fs.mkdirSync(consumer);
  fs.writeFileSync(path.join(consumer, 'package.json'), JSON.stringify({ name: 'polca-consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
  t = performance.now();
  await run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...CONSUMER_EXTRAS.map((n) => `${n}@${versionOf(n)}`)],
    consumer,
  );
  const install = (performance.now() - t) / 1000;
  return { tarball, files: listing[0].files.map(({ path: p, size }) => ({ path: p, size })), extracted, consumer, seconds: { pack, install } };
}

/** Packages older than this, of other source states, are removed after a build (each holds an install of about 180 MB). */
const KEEP_MS = 30 * 60_000;

/** Removes the packages of earlier source states that nobody has touched for KEEP_MS. */
function pruneOthers(current: string): void {
  const now = Date.now();
  for (const name of fs.readdirSync(os.tmpdir())) {
    const dir = path.join(os.tmpdir(), name);
    if (!/^polca-package-[0-9a-f]{16}$/.test(name) || dir === current || fs.existsSync(`${dir}.lock`)) continue;
    try {
      if (now - fs.statSync(dir).mtimeMs > KEEP_MS) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Removed by another process meanwhile.
    }
  }
}

let memo: PackedPackage | undefined;

/**
 * Builds, packs and installs polca once for the current sources (see the
 * module comment); later calls, here or in another process, reuse it.
 */
export async function packedPackage(): Promise<PackedPackage> {
  if (memo) return memo;
  const files = inputs();
  const dir = path.join(os.tmpdir(), `polca-package-${keyOf(files)}`);
  const done = path.join(dir, 'done.json');
  const lock = `${dir}.lock`;
  await acquire(lock);
  try {
    if (fs.existsSync(done)) {
      const now = new Date();
      fs.utimesSync(dir, now, now);
      memo = { ...(JSON.parse(fs.readFileSync(done, 'utf8')) as PackedPackage), seconds: { pack: 0, install: 0 } };
    } else {
      memo = await build(dir, files);
      fs.writeFileSync(done, JSON.stringify(memo));
      pruneOthers(dir);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  return memo;
}
