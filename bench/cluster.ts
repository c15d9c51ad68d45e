/**
 * HDBSCAN speed: polca's `hdbscan` against R's `dbscan::hdbscan` on
 * N = 5000 synthetic loss trajectories of length T = 50, 200, 500, timed in one
 * run on the same points (R's time excludes reading the CSV).
 *
 *     npx tsx bench/cluster.ts [--n 5000] [--min-pts 150] [--dims 50,200,500]
 *
 * Needs `Rscript` with the dbscan package; installs `r-cran-dbscan` with
 * apt-get when running as root on Debian/Ubuntu, else says how. Set R_LIBS to
 * use another dbscan build (Debian bookworm ships 1.1-11, whose spanning tree
 * differs from dbscan ≥ 1.2.1, so its labels can differ a little).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adjustedRandIndex } from '../src/analysis/adjustedRand.js';
import { hdbscan } from '../src/analysis/hdbscan.js';
import { trajectories, writeGridCsv } from '../test/fixtures/hdbscan/points.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const N = Number(arg('n', '5000'));
const MIN_PTS = Number(arg('min-pts', '150'));
const DIMS = arg('dims', '50,200,500').split(',').map(Number);
const here = dirname(fileURLToPath(import.meta.url));

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function rReady(): boolean {
  return has('Rscript') && spawnSync('Rscript', ['-e', 'library(dbscan)'], { stdio: 'ignore' }).status === 0;
}

function ensureR(): boolean {
  if (rReady()) return true;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (root && has('apt-get')) {
    console.log('Rscript or dbscan missing: apt-get install -y r-base-core r-cran-dbscan …');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq r-base-core r-cran-dbscan'], { stdio: 'inherit', env });
    if (rReady()) return true;
  }
  console.log('R timings skipped: install R and dbscan (Debian: apt-get install r-cran-dbscan; elsewhere: install.packages("dbscan")).');
  return false;
}

const withR = ensureR();
const work = mkdtempSync(join(tmpdir(), 'polca-bench-cluster-'));
// Warm the JIT on a small problem so the first timed run is not penalised.
hdbscan(trajectories(400, 20, 1), { minClusterSize: 10 });

const rows: string[][] = [];
for (const T of DIMS) {
  const points = trajectories(N, T, 7 + T);
  const t0 = performance.now();
  const ours = hdbscan(points, { minClusterSize: MIN_PTS, minSamples: MIN_PTS });
  const oursSec = (performance.now() - t0) / 1000;
  let rSec = NaN;
  let rClusters = '–';
  let ari = '–';
  let version = '–';
  if (withR) {
    const csv = join(work, `t${T}.csv`);
    const out = join(work, `t${T}.labels`);
    writeGridCsv(csv, points);
    const r = spawnSync('Rscript', [join(here, 'cluster.R'), csv, String(MIN_PTS), out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/cluster.R failed: ${r.stderr}`);
    const [sec, ver, k] = r.stdout.trim().split(/\s+/);
    rSec = Number(sec);
    version = ver;
    rClusters = k;
    const rLabels = readFileSync(out, 'utf8').trim().split('\n').map(Number);
    ari = adjustedRandIndex(ours.labels, rLabels).toFixed(4);
  }
  rows.push([
    String(T),
    String(N),
    String(MIN_PTS),
    oursSec.toFixed(2),
    Number.isNaN(rSec) ? '–' : rSec.toFixed(2),
    Number.isNaN(rSec) ? '–' : (rSec / oursSec).toFixed(2),
    String(ours.numClusters),
    rClusters,
    ari,
    version,
  ]);
}
rmSync(work, { recursive: true, force: true });

const header = ['T (dim)', 'N', 'minPts', 'polca s', 'R s', 'R/polca', 'clusters polca', 'clusters R', 'ARI', 'R dbscan'];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
