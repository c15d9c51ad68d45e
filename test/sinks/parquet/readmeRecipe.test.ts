/**
 * The README's recipe for reading runs outside Node, run as written: two
 * real runs (polca's tracker on a small MLP, recorded by RunWriter) are
 * exported to Parquet, the README's SQL is taken verbatim from README.md and
 * run by DuckDB, and the README's polars steps by nodejs-polars. Both must
 * equal the projected-loss trajectories that polca's TrajectoryBuilder
 * builds from the runs' events.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrajectoryBuilder } from '../../../src/analysis/trajectories.js';
import { decodeEvents } from '../../../src/sinks/arrow/decodeEvents.js';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { exportParquet } from '../../../src/sinks/parquet/exportParquet.js';
import { makeTrackerRun } from '../../report/trackerRun.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-readme-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The first fenced block of `lang` after `heading` in README.md, verbatim. */
function readmeBlock(heading: string, lang: string): string {
  const readme = fs.readFileSync(path.join(repo, 'README.md'), 'utf8');
  const at = readme.indexOf(heading);
  expect(at, `README has ${heading}`).toBeGreaterThanOrEqual(0);
  const m = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme.slice(at));
  expect(m, `a ${lang} block after ${heading}`).not.toBeNull();
  return m![1];
}

/** Python polars, when this machine has it (the Node test below runs the same steps either way). */
const pythonPolars = spawnSync('python3', ['-c', 'import polars'], { encoding: 'utf8' }).status === 0;

type Curves = Map<string, number>;
const key = (run: string, basisId: number, datapoint: number, step: number) => `${run}/${basisId}/${datapoint}/${step}`;

/** L_b(x, t) of every run, vector, datapoint and step, from polca's own analysis of the events. */
async function builderCurves(runs: Record<string, string>): Promise<{ curves: Curves; filled: number; scale: number }> {
  const curves: Curves = new Map();
  let filled = 0;
  let scale = 0;
  for (const [name, dir] of Object.entries(runs)) {
    const b = new TrajectoryBuilder({ kinds: ['polca'] });
    for (const e of decodeEvents(await readRun(dir))) {
      if (e.type === 'polca' && e.filled) filled += 1;
      b.push(e);
    }
    for (const id of b.basisIds('polca')) {
      const m = b.matrix('polca', id)!;
      for (let x = 0; x < m.n; x++) {
        const row = m.row(x);
        m.steps.forEach((step, t) => {
          curves.set(key(name, id, x, step), row[t]);
          scale = Math.max(scale, Math.abs(row[t]));
        });
      }
    }
  }
  return { curves, filled, scale };
}

function compare(got: Curves, want: Curves, scale: number): void {
  expect(got.size).toBe(want.size);
  let worst = 0;
  for (const [k, v] of want) {
    const g = got.get(k);
    if (g === undefined) throw new Error(`missing ${k}`);
    worst = Math.max(worst, Math.abs(g - v));
  }
  // The builder stores float32; the readers sum the float32 terms in double.
  expect(worst).toBeLessThanOrEqual(1e-6 * scale);
}

describe('README: projected-loss trajectories from the Parquet export', () => {
  const runs: Record<string, string> = {};
  let want: Awaited<ReturnType<typeof builderCurves>>;

  beforeAll(async () => {
    runs.hessian = path.join(root, 'runs', 'hessian');
    runs.random = path.join(root, 'runs', 'random');
    await makeTrackerRun(runs.hessian, { steps: 24 });
    await makeTrackerRun(runs.random, { steps: 24, basisKind: 'random' });
    await exportParquet(Object.values(runs), { out: path.join(root, 'polca-parquet') });
    want = await builderCurves(runs);
    // The runs must exercise what the query handles: two runs, several vectors, and intervals filled in backwards.
    expect(want.filled).toBeGreaterThan(0);
    expect(new Set([...want.curves.keys()].map((k) => k.split('/').slice(0, 2).join('/'))).size).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('the SQL, verbatim from README.md, in DuckDB', async () => {
    const sql = readmeBlock('### Reading runs outside Node', 'sql');
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // Relative paths in the README resolve against the export's parent, as they would in a shell there.
    await c.run(`SET file_search_path = '${root}'`);
    const rows = (await c.runAndReadAll(sql)).getRowObjects() as { run: string; basisId: number; datapoint: number; step: number; projected_loss: number }[];
    c.closeSync();
    const got: Curves = new Map(rows.map((r) => [key(r.run, r.basisId, r.datapoint, r.step), r.projected_loss]));
    expect(got.size).toBe(rows.length); // one value per (run, vector, datapoint, step)
    compare(got, want.curves, want.scale);
  });

  it.skipIf(!pythonPolars)("the README's Python, verbatim, in Python polars", () => {
    const python = readmeBlock('### Reading runs outside Node', 'python');
    const script = `${python}\nimport sys\nsys.stdout.write(trajectories.write_csv())\n`;
    const child = spawnSync('python3', ['-c', script], { cwd: root, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    expect(child.status, child.stderr).toBe(0);
    const [header, ...lines] = child.stdout.trim().split('\n');
    expect(header).toBe('run,basisId,datapoint,step,projected_loss');
    const got: Curves = new Map(lines.map((line) => {
      const [run, basisId, datapoint, step, value] = line.split(',');
      return [key(run, Number(basisId), Number(datapoint), Number(step)), Number(value)];
    }));
    expect(got.size).toBe(lines.length);
    compare(got, want.curves, want.scale);
  });

  it("the README's polars steps, in nodejs-polars", async () => {
    const python = readmeBlock('### Reading runs outside Node', 'python');
    // The Node spelling of each line of the Python recipe below; this checks the recipe's steps are still the ones run here.
    for (const step of ['scan_parquet("polca-parquet/polca/*/*.parquet", hive_partitioning=True)', 'pl.col("fromStep").min()', 'cum_sum().over(key)', 'pl.concat([start, curve])']) {
      expect(python).toContain(step);
    }
    const terms = pl.scanParquet(path.join(root, 'polca-parquet/polca/*/*.parquet'), { hivePartitioning: true });
    const k = ['run', 'basisId', 'datapoint'];
    const start = terms.groupBy(k).agg(pl.col('fromStep').min().alias('step'), pl.lit(0.0).alias('projected_loss'));
    const curve = terms.sort('toStep').select(
      ...k, pl.col('toStep').alias('step'),
      pl.col('value').cast(pl.Float64).cumSum().over(k[0], ...k.slice(1)).alias('projected_loss'),
    );
    const trajectories = await pl.concat([start, curve]).sort([...k, 'step']).collect();
    const cols = Object.fromEntries(['run', ...k.slice(1), 'step', 'projected_loss'].map((c) => [c, trajectories.getColumn(c).toArray()]));
    const got: Curves = new Map();
    for (let i = 0; i < trajectories.height; i++) {
      got.set(key(String(cols.run[i]), Number(cols.basisId[i]), Number(cols.datapoint[i]), Number(cols.step[i])), Number(cols.projected_loss[i]));
    }
    expect(got.size).toBe(trajectories.height);
    compare(got, want.curves, want.scale);
  });
});
