/**
 * `polca export --parquet`: every table of every run as zstd Parquet,
 * Hive-partitioned by run. DuckDB, an independent reader, must find each
 * table's rows exactly as polca's own reader has them, every run under its
 * `run` value, times as UTC timestamps.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParams, readRun } from '../../../src/sinks/arrow/readRun.js';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { TABLE_NAMES } from '../../../src/sinks/arrow/schemas.js';
import { exportParquet, type ExportProgress } from '../../../src/sinks/parquet/exportParquet.js';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const legacy = path.join(repo, 'test', 'sinks', 'arrow', 'fixtures', 'legacy-run');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-export-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function writeRun(dir: string, events: PolcaEvent[], probeMeta?: Record<string, readonly unknown[]>): Promise<void> {
  const w = new RunWriter(dir, { probeMeta: probeMeta as never });
  for (const e of events) w.write(e);
  await w.close();
}

async function query(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjects() as Record<string, unknown>[];
}

describe('exportParquet', () => {
  const a = syntheticEvents({ numProbe: 7, numParams: 5, checkpoints: 6, seed: 1 });
  const b = syntheticEvents({ numProbe: 4, numParams: 5, checkpoints: 3, seed: 2 });
  const dirs = { alpha: path.join(root, 'runs', 'alpha'), beta: path.join(root, 'runs', 'beta') };
  const out = path.join(root, 'dataset');
  const progress: ExportProgress[] = [];
  let c: DuckDBConnection;

  beforeAll(async () => {
    await writeRun(dirs.alpha, a, { token: ['a', 'b', 'c', 'd', 'e', 'f', 'g'] });
    await writeRun(dirs.beta, b, { carry: [true, false, true, false] });
    await exportParquet([dirs.alpha, dirs.beta, legacy], { out, maxRowsPerFile: 100, onProgress: (p) => progress.push(p) });
    c = await (await DuckDBInstance.create(':memory:')).connect();
  });
  afterAll(() => c?.closeSync());

  it('writes <table>/run=<name>/part-k.parquet for every table of every run, zstd-compressed', async () => {
    for (const table of [...TABLE_NAMES, 'labels', 'runs']) {
      for (const run of ['alpha', 'beta', 'legacy-run']) expect(fs.existsSync(path.join(out, table, `run=${run}`, 'part-00000.parquet')), `${table}/${run}`).toBe(true);
    }
    const codecs = await query(c, `SELECT DISTINCT compression FROM parquet_metadata('${out}/*/*/*.parquet')`);
    expect(codecs).toEqual([{ compression: 'ZSTD' }]);
    // maxRowsPerFile 100 splits alpha's polca table (7 datapoints × vectors × intervals) into several parts.
    const parts = fs.readdirSync(path.join(out, 'polca', 'run=alpha'));
    const rows = (await readRun(dirs.alpha)).tables.polca.numRows;
    expect(rows).toBeGreaterThan(100);
    expect(parts.sort()).toEqual(Array.from({ length: Math.ceil(rows / 100) }, (_, k) => `part-${String(k).padStart(5, '0')}.parquet`));
    expect(progress.filter((p) => p.table === 'polca' && p.run === 'alpha').reduce((s, p) => s + p.rows, 0)).toBe(rows);
  });

  it("DuckDB reads every table, all runs as one, equal to polca's reader row by row", async () => {
    for (const [run, dir] of [['alpha', dirs.alpha], ['beta', dirs.beta], ['legacy-run', legacy]] as const) {
      const { tables } = await readRun(dir);
      for (const name of TABLE_NAMES) {
        const t = tables[name];
        const columns = t.schema.fields.filter((f) => f.name !== 'time').map((f) => f.name);
        // Row order as written: the parts in name order, rows in file order.
        const got = await query(c, `SELECT ${columns.map((col) => `"${col}"`).join(', ')}
          FROM read_parquet('${out}/${name}/*/*.parquet', hive_partitioning = true, filename = true, file_row_number = true)
          WHERE run = '${run}' ORDER BY filename, file_row_number`);
        expect(got.length, `${run}/${name}`).toBe(t.numRows);
        for (const col of columns) {
          const v = t.getChild(col)!;
          got.forEach((row, r) => {
            const want = v.get(r);
            const have = row[col];
            const norm = (x: unknown) => (x !== null && typeof x === 'object' && 'items' in (x as object) ? (x as { items: unknown[] }).items.map(Number) : x !== null && typeof x === 'object' ? Array.from(x as ArrayLike<number>) : x);
            const w = want !== null && typeof want === 'object' ? Array.from(want as ArrayLike<number>) : want;
            if (typeof w === 'number' && typeof have === 'number') {
              if (!(Object.is(w, have) || (Number.isNaN(w) && Number.isNaN(have)))) throw new Error(`${run}/${name}.${col}[${r}]: duckdb ${have}, polca ${w}`);
            } else expect(norm(have), `${run}/${name}.${col}[${r}]`).toEqual(w);
          });
        }
      }
    }
  });

  it('times are UTC timestamps in microseconds, from nanosecond and legacy Float64 runs alike', async () => {
    const type = await query(c, `SELECT typeof(time) AS t FROM read_parquet('${out}/events/*/*.parquet', hive_partitioning = true) LIMIT 1`);
    expect(type).toEqual([{ t: 'TIMESTAMP WITH TIME ZONE' }]);
    const us = await query(c, `SELECT run, epoch_us(time) AS us FROM read_parquet('${out}/events/*/*.parquet', hive_partitioning = true) ORDER BY run, seq`);
    const byRun = (run: string) => us.filter((r) => r.run === run).map((r) => r.us as bigint);
    // The synthetic clock ticks in 1/16 ms; its microseconds, truncated, by integer arithmetic.
    const micro = (events: PolcaEvent[]) => events.map((e) => (BigInt(e.time * 16) * 1000n) / 16n);
    expect(byRun('alpha')).toEqual(micro(a));
    expect(byRun('legacy-run')).toEqual(micro(syntheticEvents({ numProbe: 5, numParams: 6, checkpoints: 4 })));
  });

  it('exports θ of a run that kept it, equal to readParams', async () => {
    const { params } = await readParams(legacy);
    const got = await query(c, `SELECT step, theta FROM read_parquet('${out}/params/*/*.parquet', hive_partitioning = true) WHERE run = 'legacy-run' ORDER BY step`);
    expect(got.map((r) => r.step)).toEqual(params.map((p) => p.step));
    got.forEach((r, i) => expect((r.theta as { items: number[] }).items).toEqual(Array.from(params[i].theta)));
    expect(fs.existsSync(path.join(out, 'params', 'run=alpha'))).toBe(false);
  });

  it('labels and runs tables say what each run is', async () => {
    const labels = await query(c, `SELECT run, datapoint, token, carry FROM read_parquet('${out}/labels/*/*.parquet', hive_partitioning = true, union_by_name = true) ORDER BY run, datapoint`);
    expect(labels.filter((r) => r.run === 'alpha').map((r) => r.token)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(labels.filter((r) => r.run === 'beta').map((r) => r.carry)).toEqual([true, false, true, false]);
    expect(labels.filter((r) => r.run === 'legacy-run').map((r) => r.carry)).toEqual([true, false, true, false, true]);
    const runs = await query(c, `SELECT run, numProbe, events, status FROM read_parquet('${out}/runs/*/*.parquet', hive_partitioning = true) ORDER BY run`);
    expect(runs).toEqual([
      { run: 'alpha', numProbe: 7, events: a.length, status: 'closed' },
      { run: 'beta', numProbe: 4, events: b.length, status: 'closed' },
      { run: 'legacy-run', numProbe: 5, events: 32, status: 'closed' },
    ]);
  });

  it('a run exported again replaces only its own partitions', async () => {
    const again = path.join(root, 'again', 'beta');
    const fewer = b.slice(0, 12);
    await writeRun(again, fewer, { carry: [true, false, true, false] });
    await exportParquet([again], { out });
    const n = await query(c, `SELECT run, count(*) AS n FROM read_parquet('${out}/events/*/*.parquet', hive_partitioning = true) GROUP BY run ORDER BY run`);
    expect(n.map((r) => [r.run, Number(r.n)])).toEqual([['alpha', a.length], ['beta', 12], ['legacy-run', 32]]);
  });

  it('refuses, by name, two runs with one name, a name a Hive reader would escape, and a missing directory', async () => {
    fs.mkdirSync(path.join(root, 'x', 'alpha'), { recursive: true });
    await expect(exportParquet([dirs.alpha, path.join(root, 'x', 'alpha')], { out })).rejects.toThrow(/run directories ".*alpha" and ".*alpha" are both named "alpha"/);
    await expect(exportParquet([path.join(root, 'a=b')], { out })).rejects.toThrow(/is named "a=b"; partition values must be letters, digits/);
    await expect(exportParquet([path.join(root, 'nowhere')], { out })).rejects.toThrow(/run directory ".*nowhere" does not exist/);
    await expect(exportParquet([], { out })).rejects.toThrow("exportParquet: option 'runDirs' must be a non-empty array of run directories, got an array of length 0");
  });
});

describe('parquet-wasm loads only for an export', () => {
  it('no module imports it statically; exportParquet imports it on its first call', () => {
    const files = (fs.readdirSync(path.join(repo, 'src'), { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    const users = files.filter((f) => fs.readFileSync(path.join(repo, 'src', f), 'utf8').includes("'parquet-wasm'"));
    expect(users).toEqual([path.join('sinks', 'parquet', 'exportParquet.ts')]);
    const text = fs.readFileSync(path.join(repo, 'src', users[0]), 'utf8');
    expect(text).not.toMatch(/^import[^;]*from 'parquet-wasm'/m);
    expect(text).toMatch(/import\('parquet-wasm'\)/);
  });
});

describe('polca export (the command)', () => {
  it('reports progress, the total, and exits non-zero naming a bad directory', () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'export', ...args], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
    const out = path.join(root, 'cli');
    // The legacy run kept θ: its tables, labels, runs and params.
    const ok = cli(legacy, '--parquet', '--out', out);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/polca export: legacy-run\/polca: 40 rows → polca\/run=legacy-run\/part-00000\.parquet/);
    expect(ok.stdout).toMatch(new RegExp(`^exported 1 run \\(\\d+ rows, ${TABLE_NAMES.length + 3} files, [\\d.]+ MB\\) to ${out}\\n$`));
    const bad = cli(path.join(root, 'missing-run'), '--parquet', '--out', out);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/polca: .*missing-run.* does not exist/);
    const noFormat = cli(legacy, '--out', out);
    expect(noFormat.status).toBe(1);
    expect(noFormat.stderr).toContain('choose the output format: --parquet');
  }, 120_000);
});
