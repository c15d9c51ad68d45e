/**
 * The published package, tried as a user would: `npm pack` (the `prepack`
 * build), the tarball's contents, and a fresh project outside this
 * repository that installs it from the tarball and runs an ES-module
 * consumer, a CommonJS consumer, a strict `tsc` consumer and the `polca` bin.
 * The consumers are in test/package/fixtures/consumer and import only the
 * package's public entry points.
 */
import { builtinModules } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectPolcaRows, handPolca, loadProblem, type PolcaRow } from './handPolca.js';
import { cleanEnv, packedPackage, REPO, run, spawnAsync, type PackedPackage } from './packedPackage.js';

const FIXTURES = path.join(REPO, 'test/package/fixtures/consumer');
const SUBPATHS = ['polca', 'polca/engine', 'polca/arrow', 'polca/serve', 'polca/analysis', 'polca/report', 'polca/run'];
/** Packages that must not load with `polca` alone: Node-only or heavy. */
const NODE_ONLY = ['@grpc/grpc-js', '@grpc/proto-loader', 'grpc-health-check', 'prom-client', 'apache-arrow', 'vega', 'vega-lite', 'commander', 'parquet-wasm'];

interface PackageJson {
  main: string;
  types: string;
  bin: Record<string, string>;
  browser: Record<string, string>;
  exports: Record<string, string | Record<string, string>>;
  license: string;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

let pkg: PackedPackage;
let manifest: PackageJson;
let shipped: Set<string>;

beforeAll(async () => {
  pkg = await packedPackage();
  manifest = JSON.parse(fs.readFileSync(path.join(pkg.extracted, 'package.json'), 'utf8')) as PackageJson;
  shipped = new Set(pkg.files.map((f) => f.path));
  for (const f of fs.readdirSync(FIXTURES)) fs.copyFileSync(path.join(FIXTURES, f), path.join(pkg.consumer, f));
  console.log(`pack (build included) ${pkg.seconds.pack.toFixed(1)} s, install ${pkg.seconds.install.toFixed(1)} s, ${pkg.files.length} files, ${(fs.statSync(pkg.tarball).size / 1024).toFixed(0)} KiB`);
}, 480_000);

/** Runs node in the consumer project; the last stdout line is the program's JSON result. */
async function node(args: string[], env: Record<string, string> = {}): Promise<unknown> {
  const out = await run(process.execPath, args, pkg.consumer, cleanEnv(env), 120_000);
  const last = out.trimEnd().split('\n').at(-1)!;
  return JSON.parse(last) as unknown;
}

/**
 * esbuild resolves the shipped modules from `entryPoints` (paths in the
 * extracted package) the way a bundler or Node would, packages left outside;
 * its metafile lists every module read and every import.
 */
function resolveShipped(entryPoints: string[]) {
  return esbuild.build({
    absWorkingDir: pkg.extracted,
    entryPoints,
    bundle: true,
    write: false,
    outdir: 'bundle-check',
    platform: 'node',
    format: 'esm',
    packages: 'external',
    metafile: true,
    logLevel: 'silent',
  });
}

/** Hubert & Arabie's adjusted Rand index from the pair counts of the contingency table. */
function pairCountingAri(a: number[], b: number[]): number {
  const pairs = (n: number) => (n * (n - 1)) / 2;
  const count = (keys: string[]) => [...keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>()).values()];
  const index = count(a.map((x, i) => `${x},${b[i]}`)).reduce((s, n) => s + pairs(n), 0);
  const rows = count(a.map(String)).reduce((s, n) => s + pairs(n), 0);
  const cols = count(b.map(String)).reduce((s, n) => s + pairs(n), 0);
  const expected = (rows * cols) / pairs(a.length);
  return (index - expected) / ((rows + cols) / 2 - expected);
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

describe('the tarball', () => {
  it('ships dist/src with its sources, proto, the dashboards, README and LICENSE, and nothing else', () => {
    const allowed = [
      /^(package\.json|README\.md|LICENSE)$/,
      /^dist\/src\/.+\.(js|js\.map|d\.ts|d\.ts\.map)$/,
      /^src\/.+\.ts$/,
      /^src\/.+\/README\.md$/,
      /^proto\/.+\.proto$/,
      /^dashboards\/[^/]+\.json$/,
      /^dashboards\/README\.md$/,
      /^dashboards\/(prometheus|provisioning)\/.+\.ya?ml$/,
    ];
    expect([...shipped].filter((f) => !allowed.some((r) => r.test(f)))).toEqual([]);
    for (const f of ['LICENSE', 'README.md', 'proto/polca/v1/polca.proto', 'dashboards/polca-live.json', 'dashboards/prometheus/alerts.yml']) {
      expect(shipped.has(f), f).toBe(true);
    }
    // One compiled module per source and no stale output of a removed source.
    const sources = [...shipped].filter((f) => /^src\/.+\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, ''));
    const compiled = [...shipped].filter((f) => /^dist\/src\/.+\.js$/.test(f)).map((f) => f.replace(/^dist\//, '').replace(/\.js$/, ''));
    expect(sources.length).toBeGreaterThan(100);
    expect(compiled.sort()).toEqual(sources.sort());
    // The repository's own runs, tests and examples stay home.
    expect([...shipped].some((f) => /^(test|examples|bench|runs)\//.test(f) || f.endsWith('demo.ts'))).toBe(false);
  });

  it('has a file for every exports, main, types, bin and browser target, each export with types, import and default', () => {
    const targets = [manifest.main, manifest.types, ...Object.values(manifest.bin), ...Object.keys(manifest.browser), ...Object.values(manifest.browser)];
    expect(Object.keys(manifest.exports).sort()).toEqual(['.', './analysis', './arrow', './engine', './package.json', './report', './run', './serve']);
    for (const [sub, entry] of Object.entries(manifest.exports)) {
      if (typeof entry === 'string') {
        targets.push(entry);
        continue;
      }
      expect(Object.keys(entry), sub).toEqual(['types', 'import', 'default']);
      targets.push(...Object.values(entry));
    }
    const missing = targets.map((t) => path.posix.normalize(t)).filter((t) => !shipped.has(t));
    expect(missing).toEqual([]);
    expect(fs.readFileSync(path.join(pkg.extracted, manifest.bin.polca), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('every relative import of a shipped module resolves inside the tarball (esbuild resolves the .js, the .d.ts are checked by path)', async () => {
    const js = [...shipped].filter((f) => /^dist\/.+\.js$/.test(f));
    const result = await resolveShipped(js);
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    // Every shipped module was read, and nothing outside the tarball was.
    expect(inputs.length).toBe(js.length);
    expect(inputs.filter((f) => !shipped.has(f))).toEqual([]);

    const unresolved: string[] = [];
    for (const f of [...shipped].filter((p) => p.endsWith('.d.ts'))) {
      // TypeScript's own scan of a file's imports, re-exports and import types (comments skipped).
      const { importedFiles } = ts.preProcessFile(fs.readFileSync(path.join(pkg.extracted, f), 'utf8'), true, true);
      for (const { fileName } of importedFiles.filter((i) => i.fileName.startsWith('.'))) {
        const target = path.posix.join(path.posix.dirname(f), fileName).replace(/\.js$/, '.d.ts');
        if (!shipped.has(target)) unresolved.push(`${f} → ${fileName}`);
      }
    }
    expect(unresolved).toEqual([]);
  });

  it('imports, at run time and in its declarations, only its dependencies and peers; uses every runtime dependency; needs every peer that polca loads', async () => {
    const result = await resolveShipped([...shipped].filter((f) => /^dist\/.+\.js$/.test(f)));
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const input of Object.values(result.metafile.inputs)) {
      for (const i of input.imports) {
        if (!i.external || i.path.startsWith('node:') || builtins.has(i.path)) continue;
        imported.add(packageName(i.path));
      }
    }
    const declared = new Set([...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]);
    expect([...imported].filter((p) => !declared.has(p)).sort()).toEqual([]);
    expect(Object.keys(manifest.dependencies).filter((p) => !imported.has(p)).sort()).toEqual([]);
    expect(imported.has('@tensorflow/tfjs-core')).toBe(true);

    // The declarations too: a consumer compiles against them (with skipLibCheck, as most do, a
    // missing package would silently become \`any\`), so every package they name must be installed with polca.
    const typeImports = new Set<string>();
    for (const f of [...shipped].filter((p) => p.endsWith('.d.ts'))) {
      const { importedFiles, typeReferenceDirectives } = ts.preProcessFile(fs.readFileSync(path.join(pkg.extracted, f), 'utf8'), true, true);
      for (const { fileName } of [...importedFiles, ...typeReferenceDirectives]) {
        if (fileName.startsWith('.') || fileName.startsWith('node:') || builtins.has(fileName) || fileName === 'node') continue;
        typeImports.add(packageName(fileName));
      }
    }
    expect([...typeImports].filter((p) => !declared.has(p)).sort()).toEqual([]);
    expect(typeImports.has('rxjs')).toBe(true);

    // A peer that `polca` itself loads cannot be optional: importing polca without it fails.
    const main = await resolveShipped([manifest.main]);
    const mainImports = new Set(Object.values(main.metafile.inputs).flatMap((i) => i.imports.filter((m) => m.external).map((m) => packageName(m.path))));
    const optional = Object.entries(manifest.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([p]) => p);
    expect(optional.filter((p) => mainImports.has(p))).toEqual([]);
    expect(mainImports.has('@tensorflow/tfjs-layers')).toBe(true);
  });

  it('source maps name only shipped sources, and a stack trace maps back into them', async () => {
    const maps = [...shipped].filter((f) => f.endsWith('.map'));
    expect(maps.length).toBe(2 * [...shipped].filter((f) => /^dist\/.+\.js$/.test(f)).length);
    const broken: string[] = [];
    for (const m of maps) {
      const map = JSON.parse(fs.readFileSync(path.join(pkg.extracted, m), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const s of map.sources) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(m), map.sourceRoot ?? '', s));
        if (!shipped.has(target)) broken.push(`${m} → ${s}`);
      }
    }
    expect(broken).toEqual([]);
    for (const f of [...shipped].filter((p) => /^dist\/.+\.js$/.test(p))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(fs.readFileSync(path.join(pkg.extracted, f), 'utf8'))?.[1];
      expect(url && shipped.has(path.posix.join(path.posix.dirname(f), url)), f).toBe(true);
    }

    // A user's error: with --enable-source-maps the throwing frame is a shipped .ts line that throws.
    const script = "import('polca').then((m) => m.createPolca({ params: 'theta' })).catch((e) => console.log(JSON.stringify(e.stack)))";
    const stack = String(await node(['--enable-source-maps', '--input-type=module', '-e', script]));
    const frame = /\(?(\/[^\s()]+\/node_modules\/polca\/[^\s():]+):(\d+):\d+\)?/.exec(stack);
    expect(frame, stack).not.toBeNull();
    const [, file, line] = frame!;
    expect(file).toMatch(/\/node_modules\/polca\/src\/.+\.ts$/);
    expect(fs.readFileSync(file, 'utf8').split('\n')[Number(line) - 1]).toMatch(/throw|fail\(/);
  });

  it('LICENSE is the Apache License 2.0 that package.json names', () => {
    expect(manifest.license).toBe('Apache-2.0');
    const text = fs.readFileSync(path.join(pkg.extracted, 'LICENSE'), 'utf8');
    expect(text).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s+http:\/\/www\.apache\.org\/licenses\//);
    expect(text).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
    expect(text).toContain('END OF TERMS AND CONDITIONS');
    expect(text.split('\n').length).toBeGreaterThan(190);
  });
});

describe('a fresh project with the tarball installed', () => {
  it('has every dependency and peer installed and valid (npm ls)', async () => {
    const r = await spawnAsync('npm', ['ls', '--all', '--json'], pkg.consumer);
    const tree = JSON.parse(r.stdout) as { problems?: string[]; dependencies: Record<string, { version: string }> };
    expect(tree.problems ?? []).toEqual([]);
    expect(r.status).toBe(0);
    expect(tree.dependencies.polca.version).toBe(JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
  });

  it('an ES-module consumer runs createPolca, logs it with polca/arrow, serves metrics with polca/serve, runs Lanczos from polca/engine and an index from polca/analysis: the numbers match hand computations', async () => {
    const out = (await node(['esm.mjs'])) as {
      types: string[];
      polca: PolcaRow[];
      arrow: { status: string; complete: boolean; rows: { fromStep: number; toStep: number; basisId: number; datapoint: number; value: number }[] };
      metrics: { probeLossMean: number; checkpoints: number };
      engine: { diagonal: number[]; values: number[]; converged: boolean };
      analysis: { labels: [number[], number[]]; ari: number };
      subpaths: Record<string, string[]>;
      deep: string;
    };
    const hand = handPolca(await loadProblem());
    expect(out.types[0]).toBe('run-start');
    expect(out.types.at(-1)).toBe('run-end');
    expectPolcaRows(out.polca, hand);
    // The trapezoid rule is exact on a quadratic: the two axes account for the whole loss change.
    for (const p of out.polca) expectClose(p.residual, [0, 0, 0], 1e-6, 'residual');
    // The log, read back by polca/arrow, holds the same POLCA values, row per (interval, vector, datapoint).
    expect(out.arrow.status).toBe('closed');
    expect(out.arrow.complete).toBe(true);
    const expectedRows = hand.flatMap((h) => [0, 1].flatMap((b) => h.values[b].map((v, x) => ({ fromStep: h.fromStep, toStep: h.toStep, basisId: b, datapoint: x, value: v }))));
    const key = (r: { fromStep: number; basisId: number; datapoint: number }) => r.fromStep * 100 + r.basisId * 10 + r.datapoint;
    const rows = [...out.arrow.rows].sort((a, b) => key(a) - key(b));
    expect(rows.map(({ value: _, ...r }) => r)).toEqual(expectedRows.map(({ value: _, ...r }) => r));
    expectClose(rows.map((r) => r.value), expectedRows.map((r) => r.value), 1e-6, 'arrow values');
    // polca/serve's Prometheus endpoint: four checkpoints, and the mean probe loss at the last one.
    expect(out.metrics.checkpoints).toBe(4);
    const last = hand.at(-1)!.lossAfter;
    expect(Math.abs(out.metrics.probeLossMean - last.reduce((s, v) => s + v, 0) / last.length)).toBeLessThan(1e-6);
    // polca/engine: the two largest eigenvalues of a diagonal operator are its two largest entries.
    expect(out.engine.converged).toBe(true);
    expectClose(out.engine.values, [...out.engine.diagonal].sort((a, b) => b - a).slice(0, 2), 1e-9, 'eigenvalues');
    // polca/analysis: the adjusted Rand index against its pair-counting definition.
    expect(Math.abs(out.analysis.ari - pairCountingAri(...out.analysis.labels))).toBeLessThan(1e-12);
    // Every subpath loads and exports something; a deep path is refused.
    for (const s of SUBPATHS) expect(out.subpaths[s]?.length, s).toBeGreaterThan(0);
    expect(out.subpaths.polca).toEqual(expect.arrayContaining(['createPolca', 'polcaCallback']));
    expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('a CommonJS consumer requires polca and its subpaths and gets the same modules as import(); polca/report, which loads vega (top-level await), fails with a clear error, as does every require on a Node.js without require(esm)', async () => {
    const out = (await node(['cjs.cjs'])) as Record<string, { ok: boolean; sameModule?: boolean; keys?: string[]; code?: string; message?: string }> & {
      functions: Record<string, string>;
    };
    expect(out.functions).toEqual({ createPolca: 'function', polcaCallback: 'function' });
    for (const s of SUBPATHS.filter((p) => p !== 'polca/report')) {
      expect(out[s], s).toMatchObject({ ok: true, sameModule: true });
      expect(out[s].keys!.length, s).toBeGreaterThan(0);
    }
    expect(out['polca/report']).toMatchObject({ ok: false, code: 'ERR_REQUIRE_ASYNC_MODULE' });
    expect(out['polca/report'].message).toMatch(/import\(\)/);

    // Node.js before 20.19 cannot require ES modules at all (simulated by turning the feature off): the error says to use import().
    const old = (await node(['--no-experimental-require-module', 'cjs.cjs'])) as typeof out;
    for (const s of SUBPATHS) {
      expect(old[s], s).toMatchObject({ ok: false, code: 'ERR_REQUIRE_ESM' });
      expect(old[s].message, s).toMatch(/import\(\)/);
    }
  });

  it('a strict tsc consumer (module nodenext) type-checks imports of every subpath from ESM and CommonJS files', async () => {
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc');
    const r = await spawnAsync(process.execPath, [tsc, '-p', 'tsconfig.json'], pkg.consumer, cleanEnv(), 180_000);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
    // The check can fail: a wrong type in a consumer is reported.
    const bad = path.join(pkg.consumer, 'bad.mts');
    fs.writeFileSync(bad, "import { createPolca } from 'polca';\nexport const n: number = createPolca;\n");
    try {
      const b = await spawnAsync(process.execPath, [tsc, '--strict', '--module', 'nodenext', '--noEmit', '--skipLibCheck', '--lib', 'es2022,dom', '--types', 'node', 'bad.mts'], pkg.consumer, cleanEnv(), 180_000);
      expect(b.status).not.toBe(0);
      expect(b.stdout).toMatch(/bad\.mts\(2,14\): error TS2322/);
    } finally {
      fs.rmSync(bad);
    }
  });

  it('the polca bin prints its help', async () => {
    const out = await run('npx', ['--no', '--', 'polca', '--help'], pkg.consumer);
    expect(out).toMatch(/^Usage: polca /);
    for (const command of ['replay', 'report', 'backfill']) expect(out).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('importing polca alone loads no Node-only or heavy dependency and no node: module; polca/serve and polca/report do load theirs', async () => {
    const loads = async (entry: string) => {
      const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-loads-')), 'resolved.jsonl');
      fs.writeFileSync(log, '');
      const out = (await node(['--import', './loadHook.mjs', 'importOnly.mjs', entry], { POLCA_RESOLVE_LOG: log })) as { cjs: string[] };
      const resolved = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { from: string | null; url: string });
      fs.rmSync(path.dirname(log), { recursive: true });
      const files = [...resolved.map((r) => r.url), ...out.cjs.map((f) => pathToFileURL(f).href)];
      const packages = new Set(files.map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1]).filter((p): p is string => !!p));
      const builtinsFromPolca = resolved.filter((r) => r.from?.includes('/node_modules/polca/') && r.url.startsWith('node:')).map((r) => `${r.from} → ${r.url}`);
      return { packages, builtinsFromPolca, polcaFiles: resolved.filter((r) => r.url.includes('/node_modules/polca/')).length };
    };
    const main = await loads('polca');
    expect(main.polcaFiles).toBeGreaterThan(10);
    expect(main.packages.has('@tensorflow/tfjs-core')).toBe(true);
    expect(NODE_ONLY.filter((p) => main.packages.has(p))).toEqual([]);
    expect(main.builtinsFromPolca).toEqual([]);
    // The recorder sees these packages when they do load.
    const serve = await loads('polca/serve');
    expect(['@grpc/grpc-js', 'prom-client'].filter((p) => !serve.packages.has(p))).toEqual([]);
    expect(serve.builtinsFromPolca.length).toBeGreaterThan(0);
    const report = await loads('polca/report');
    expect(report.packages.has('vega')).toBe(true);
  });
});
