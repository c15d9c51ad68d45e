/**
 * Gradient covariance, centred or not, computed offline from a run's kept θ
 * and backfilled: does taking the mean gradient off GᵀG (METHOD.md §1's
 * gradient-covariance basis) give directions that separate the carry?
 *
 * At each of `--steps`, the top `--k` eigenvectors of Π⊥GᵀGΠ⊥ (or of the
 * centred Π⊥Gᵀ(I − 11ᵀ/n)GΠ⊥) at that checkpoint's θ, deflated by the ones
 * found before; then POLCA along them over the whole run (`polca backfill`),
 * clustered at each HDBSCAN size of `--sizes`, and per direction the best
 * eligible carry homogeneity beside the exact loss's.
 *
 *   npm run demo -- --out runs/keep --keep-params --bases none --no-serve
 *   npx tsx examples/arithmetic/centredCovariance.ts runs/keep --centred
 *   npx tsx examples/arithmetic/centredCovariance.ts runs/keep
 *
 * With `--within a/b`, the directions come from the datapoints of each
 * exact-loss cluster (HDBSCAN a/b) instead of the whole probe, at the
 * checkpoint nearest that cluster's break: the centred covariance of one
 * group that breaks through together spreads what tells its members apart,
 * which is where a skill hidden inside the group would show.
 *
 *   npx tsx examples/arithmetic/centredCovariance.ts runs/keep --centred --within 40/10
 *
 * Uncentred, with the live basis's steps and seeds, the vectors are those of
 * the demo's compared gradient-covariance basis (the same Ritz values), so the
 * two can be told apart by the centring alone.
 *
 * @packageDocumentation
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { backfill } from '../../src/run/index.js';
import { clustersCommand } from '../../src/report/index.js';
import { clusterBreaks } from '../../src/analysis/index.js';
import { readParams, readRun } from '../../src/sinks/arrow/index.js';
import { installSecondOrderGradients, NonConvergenceError, ParamSpace, topEigenpairs, type Eigenpairs } from '../../src/engine/index.js';
import { gradientCovarianceProduct } from '../../src/engine/basis/gradientCovarianceBasis.js';
import type { TrajectoryKind } from '../../src/index.js';
import backfillModel from './backfillModel.js';
import { bestEligibleCluster, runLabels, type ArithmeticLabels } from './evaluation.js';

/** One row: a trajectory kind along one direction (or the exact loss) at one HDBSCAN size. */
export interface CovarianceRow {
  minClusterSize: number;
  minSamples: number;
  kind: TrajectoryKind;
  basisId: number;
  oscillatory: boolean;
  clusters: number;
  /** Best eligible carry homogeneity (NaN when no cluster is eligible) and that cluster's size. */
  best: number;
  size: number;
}

/** Where directions are found: a kept checkpoint, and optionally the datapoints whose gradients count. */
export interface CovarianceTarget {
  step: number;
  /** Probe indices (an exact-loss cluster); all datapoints when absent. */
  members?: readonly number[];
}

/**
 * One target per cluster of the exact loss (HDBSCAN `minClusterSize`/`minSamples`):
 * the kept checkpoint nearest the break point of the cluster's median curve
 * (METHOD.md §4), with the cluster's members, ordered by that step.
 */
export async function lossClusterTargets(dir: string, minClusterSize: number, minSamples: number, keptSteps: readonly number[]): Promise<CovarianceTarget[]> {
  const result = await clustersCommand(dir, { kinds: ['loss'], minClusterSize, minSamples, write: false });
  const c = (result.clusterings.get('loss') ?? [])[0];
  if (!c || c.event.clusters.length === 0) throw new Error(`centredCovariance: option '--within ${minClusterSize}/${minSamples}' finds no exact-loss cluster in ${dir}`);
  const breaks = clusterBreaks(c.event, c.trajectories, { delta: result.delta, tau: result.tau, round: true });
  const nearest = (s: number) => keptSteps.reduce((m, k) => (Math.abs(k - s) < Math.abs(m - s) ? k : m), keptSteps[0]);
  return c.event.clusters
    // A median curve with no break point (too few checkpoints around it) is taken at the first kept step.
    .map((cl, i) => ({ step: nearest(Number.isFinite(breaks[i].median.step) ? breaks[i].median.step : 0), members: Array.from(cl.members) }))
    .sort((a, b) => a.step - b.step);
}

/** Computes the directions, backfills the run along them, and clusters; returns the rows, the Ritz values and the backfill's directory. */
export async function centredCovariance(
  dir: string,
  o: {
    centred: boolean;
    steps: readonly number[];
    k: number;
    sizes: readonly [number, number][];
    /** Directions per exact-loss cluster at this HDBSCAN size, in place of `steps` (see {@link lossClusterTargets}). */
    within?: readonly [number, number];
    onLine?: (s: string) => void;
  },
) {
  const say = o.onLine ?? (() => undefined);
  const run = await readRun(dir);
  const { params: records } = await readParams(dir);
  const targets: CovarianceTarget[] = o.within
    ? await lossClusterTargets(dir, o.within[0], o.within[1], records.map((r) => r.step))
    : o.steps.map((step) => ({ step }));
  const model = await backfillModel(run.manifest, dir);
  const space = new ParamSpace(model.params);
  const n = run.manifest.numProbe;
  const found: Float64Array[] = [];
  const values: { step: number; value: number; members: number }[] = [];
  // The exact JVP differentiates through the model's backward pass: second derivatives must be right.
  const uninstall = installSecondOrderGradients();
  const initial = space.read();
  try {
    for (const { step, members } of targets) {
      const r = records.find((p) => p.step === step);
      if (!r) throw new Error(`centredCovariance: option 'steps' names step ${step}, but ${dir} kept no θ there`);
      space.assignHost(Float32Array.from(r.theta));
      let res: Eigenpairs;
      try {
        res = await topEigenpairs({
          matvec: (v) => gradientCovarianceProduct(space, model.probe, v, n, o.centred, members),
          dim: space.size, k: o.k, deflate: found, tol: 1e-3, maxIter: 200, seed: 2000 + step,
        });
      } catch (e) {
        if (e instanceof NonConvergenceError && e.partial) res = e.partial as Eigenpairs;
        else throw e;
      }
      found.push(...res.vectors);
      res.values.forEach((value) => values.push({ step, value, members: members?.length ?? n }));
      say(`step ${step}${members ? ` (${members.length} datapoints)` : ''}: Ritz value ${res.values.map((x) => x.toExponential(4)).join(', ')} (${res.matvecs} products)`);
    }
  } finally {
    space.assignHost(initial);
    uninstall();
  }
  const out = path.join(dir, `${o.within ? 'cluster-' : ''}${o.centred ? 'centred-covariance' : 'covariance'}`);
  await backfill(dir, {
    ...model, vectors: found.map((v) => Float32Array.from(v)), out, overwrite: true,
    onProgress: (done, total) => done % 25 === 0 && say(`backfill ${done}/${total} checkpoints`),
  });
  const rows = await directionRows(out, o.sizes, runLabels(run.manifest, 'centredCovariance'));
  return { rows, values, out };
}

/**
 * Clusters a backfilled run at each HDBSCAN size (POLCA, first-order POLCA
 * and the exact loss) and gives, per direction, the best eligible carry
 * cluster: the rows {@link formatCovariance} reads.
 */
export async function directionRows(out: string, sizes: readonly [number, number][], labels: ArithmeticLabels): Promise<CovarianceRow[]> {
  const kinds: TrajectoryKind[] = ['polca', 'polca-first', 'loss'];
  const rows: CovarianceRow[] = [];
  for (const [minClusterSize, minSamples] of sizes) {
    const result = await clustersCommand(out, { kinds, minClusterSize, minSamples });
    for (const kind of kinds) {
      for (const c of result.clusterings.get(kind) ?? []) {
        const best = bestEligibleCluster(c.event.clusters, labels);
        rows.push({
          minClusterSize, minSamples, kind, basisId: c.event.basisId, oscillatory: c.oscillatory, clusters: c.event.clusters.length,
          best: best?.homogeneity ?? Number.NaN, size: best?.size ?? 0,
        });
      }
    }
  }
  return rows;
}

/** Reads an `a/b` pair of positive integers (HDBSCAN min_cluster_size/min_samples); `owner` and `option` name it in the error. */
export function parseSizePair(text: string, owner: string, option: string): [number, number] {
  const p = text.split('/').map(Number);
  if (p.length !== 2 || p.some((x) => !(Number.isInteger(x) && x >= 1))) {
    throw new Error(`${owner}: option '${option}' takes pairs of positive integers as a/b, got '${text}'`);
  }
  return p as [number, number];
}

/** Markdown: per HDBSCAN size, the best direction per kind against the exact loss. */
export function formatCovariance(rows: readonly CovarianceRow[]): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
  const sizes = [...new Set(rows.map((r) => `${r.minClusterSize}/${r.minSamples}`))];
  const lines = ['| HDBSCAN | exact loss | POLCA (secant), best direction | first-order POLCA, best direction |', '|---|---|---|---|'];
  for (const s of sizes) {
    const at = rows.filter((r) => `${r.minClusterSize}/${r.minSamples}` === s);
    const top = (kind: TrajectoryKind) =>
      at.filter((r) => r.kind === kind && !r.oscillatory && !Number.isNaN(r.best)).reduce<CovarianceRow | null>((m, r) => (m === null || r.best > m.best ? r : m), null);
    const cell = (r: CovarianceRow | null, withId = true) => (r ? `${f(r.best)} (${r.size}${withId ? `, vector ${r.basisId}` : ''})` : '-');
    lines.push(`| ${s} | ${cell(top('loss'), false)} | ${cell(top('polca'))} | ${cell(top('polca-first'))} |`);
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = new Command('centredCovariance')
    .argument('<run-dir>', 'a run recorded with --keep-params')
    .option('--centred', 'take the mean gradient off (Gᵀ(I − 11ᵀ/n)G); without it, GᵀG as the live basis has it')
    .addOption(new Option('--steps <list>', 'checkpoints to find directions at, comma-separated').default('0,500,1000,1500,2000,2500'))
    .addOption(new Option('--k <n>', 'directions per checkpoint').default('1'))
    .addOption(new Option('--sizes <list>', 'HDBSCAN min_cluster_size/min_samples pairs, comma-separated').default('40/10,60/15,100/25'))
    .option('--within <a/b>', 'in place of --steps: directions of each exact-loss cluster (HDBSCAN a/b) at its break, from its members\' gradients only')
    .action(async (dir: string, opts: { centred?: boolean; steps: string; k: string; sizes: string; within?: string }) => {
      const steps = opts.steps.split(',').map(Number);
      const bad = steps.find((s) => !Number.isInteger(s) || s < 0);
      if (bad !== undefined) throw new Error(`centredCovariance: option '--steps' must list non-negative integers, got '${opts.steps}'`);
      const k = Number(opts.k);
      if (!(Number.isInteger(k) && k >= 1)) throw new Error(`centredCovariance: option '--k' must be a positive integer, got '${opts.k}'`);
      const sizes = opts.sizes.split(',').map((p) => parseSizePair(p, 'centredCovariance', '--sizes'));
      const within = opts.within === undefined ? undefined : parseSizePair(opts.within, 'centredCovariance', '--within');
      const { rows, out } = await centredCovariance(dir, { centred: opts.centred === true, steps, k, sizes, within, onLine: (s) => process.stderr.write(`${s}\n`) });
      process.stdout.write(`## ${opts.centred ? 'Centred' : 'Uncentred'} gradient covariance, backfilled (${out})\n${formatCovariance(rows)}\n`);
    });
  await cmd.parseAsync();
}
