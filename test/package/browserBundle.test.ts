/**
 * `polca` in a browser: esbuild bundles a user's entry (the tracker, the
 * callback and the event types, fixtures/consumer/browser.mts) from the
 * packed package installed in a fresh project, for `platform: 'browser'`,
 * resolving `polca` through package.json's exports and honouring its
 * `browser` field (the Node-only sinks swapped for a stub). Headless
 * Chromium (Debian's, from .ci/deps/chromium.sh) then runs the bundle: a
 * createPolca run on the cpu backend, compared with a hand computation.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectPolcaRows, handFit, handPolca, loadProblem, type PolcaRow } from './handPolca.js';
import { packedPackage, REPO, type PackedPackage } from './packedPackage.js';

const CHROMIUM = '/usr/bin/chromium';
const ENTRY = 'browser.mts';
/** Code that has no place in a browser bundle of `polca`. */
const FOREIGN = /\/node_modules\/(@grpc\/|grpc-health-check\/|prom-client\/|apache-arrow\/|vega[^/]*\/|commander\/|parquet-wasm\/)/;

let pkg: PackedPackage;
let tmp: string;

beforeAll(async () => {
  pkg = await packedPackage();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-browser-'));
  for (const f of ['browser.mts', 'problem.mjs']) {
    fs.copyFileSync(path.join(REPO, 'test/package/fixtures/consumer', f), path.join(pkg.consumer, f));
  }
}, 480_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const externalExceptPolca: esbuild.Plugin = {
  name: 'external-except-polca',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => (args.path === 'polca' || args.path.startsWith('polca/') ? undefined : { path: args.path, external: true }));
  },
};

function bundle(platform: 'browser' | 'node', write = false) {
  return esbuild.build({
    absWorkingDir: pkg.consumer,
    entryPoints: [ENTRY],
    bundle: true,
    platform,
    format: platform === 'browser' ? 'iife' : 'esm',
    // A `node` bundle takes polca in and leaves the other packages outside, as Node would load them.
    plugins: platform === 'node' ? [externalExceptPolca] : [],
    outfile: path.join(tmp, `${platform}.js`),
    write,
    metafile: true,
    logLevel: 'silent',
  });
}

describe('esbuild bundles polca for the browser', () => {
  let result: Awaited<ReturnType<typeof bundle>>;
  let inputs: string[];
  beforeAll(async () => {
    result = await bundle('browser', true);
    inputs = Object.keys(result.metafile.inputs);
  });

  it('with no error and no warning', () => {
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.text)).toEqual([]);
  });

  it('takes polca from the installed package through its exports, with the browser stub in place of the Node sinks', () => {
    expect(inputs).toContain('node_modules/polca/dist/src/index.js');
    expect(inputs).toContain('node_modules/polca/dist/src/run/attachSinks.browser.js');
    expect(inputs).not.toContain('node_modules/polca/dist/src/run/attachSinks.js');
    expect(inputs.filter((f) => f.startsWith('node_modules/@tensorflow/tfjs-core/')).length).toBeGreaterThan(100);
  });

  it('holds no grpc, prom-client, apache-arrow, vega, commander or parquet code, and no node: import', () => {
    expect(inputs.filter((f) => FOREIGN.test('/' + f))).toEqual([]);
    const code = fs.readFileSync(path.join(tmp, 'browser.js'), 'utf8');
    expect(code).not.toMatch(/\b(require\(|import\(|from\s*)["']node:/);
    expect(code).not.toMatch(/@grpc\/grpc-js|prom-client|apache-arrow/);
    // Nothing of polca outside what a browser user asked for: its Node-only folders are absent.
    const polcaFiles = inputs.filter((f) => f.startsWith('node_modules/polca/'));
    expect(polcaFiles.filter((f) => /\/dist\/src\/(serve|sinks|report|cli)\//.test(f))).toEqual([]);
  });

  it('for Node the same entry takes the real sinks module, so the swap above is the browser field at work', async () => {
    const node = await bundle('node');
    const files = Object.keys(node.metafile.inputs);
    expect(files).toContain('node_modules/polca/dist/src/run/attachSinks.js');
    expect(files).not.toContain('node_modules/polca/dist/src/run/attachSinks.browser.js');
  });
});

describe('headless Chromium runs the bundle', () => {
  it('createPolca and polcaCallback in model.fit on the cpu backend: POLCA values, losses and residuals match a hand computation; the Node-only sinks fail with the stub\'s message', async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test needs Debian's chromium; run \`bash .ci/deps/chromium.sh\``);
    }
    const built = await bundle('browser', true);
    expect(built.errors).toEqual([]);
    const page = path.join(tmp, 'index.html');
    fs.writeFileSync(page, '<!doctype html><html><body><script src="browser.js"></script></body></html>');
    const r = spawnSync(
      CHROMIUM,
      [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(tmp, 'profile')}`,
        '--virtual-time-budget=30000', '--dump-dom', `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 90_000, maxBuffer: 16 * 1024 * 1024 },
    );
    if (r.error) throw new Error(`chromium failed: ${r.error.message}`);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
    const text = /<pre id="result">([\s\S]*?)<\/pre>/.exec(r.stdout)?.[1];
    expect(text, r.stdout.slice(-2000)).toBeDefined();
    const decoded = text!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const out = JSON.parse(decoded) as {
      error?: string;
      backend: string;
      types: string[];
      polca: PolcaRow[];
      fit: { types: string[]; polca: PolcaRow[]; error: string };
      sinkError: string;
      optionError: string;
    };
    expect(out.error).toBeUndefined();
    expect(out.backend).toBe('cpu');
    const problem = await loadProblem();
    // createPolca in a custom loop.
    expect(out.types[0]).toBe('run-start');
    expect(out.types.at(-1)).toBe('run-end');
    expectPolcaRows(out.polca, handPolca(problem));
    // polcaCallback in model.fit: the SGD steps, the losses and the POLCA terms redone by hand.
    expect(out.fit.error).toBe('');
    expect(out.fit.types[0]).toBe('run-start');
    expect(out.fit.types.at(-1)).toBe('run-end');
    expectPolcaRows(out.fit.polca, handFit(problem.FIT), 1e-5);
    // The Node-only sinks are the stub, which says so; option errors name the option.
    expect(out.sinkError).toMatch(/polcaCallback: options 'log', 'serve' and 'alerts' need Node\.js/);
    expect(out.optionError).toMatch(/polcaCallback: option 'every'/);
  });
});
