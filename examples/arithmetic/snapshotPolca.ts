/**
 * POLCA computed offline from the θ a training run saved (`train.ts
 * --save-dir`), as the paper computes it: the basis is grown from the saved
 * checkpoints in order (Algorithm 1, METHOD.md §1), then every vector's
 * trajectory is computed over the whole run and clustered. This is how the
 * paper's own model (`--config paper`, 9.5M parameters, about 1 s per
 * training step on wasm) is analysed here: training in one or more
 * sittings, then this.
 *
 *   npx tsx examples/arithmetic/train.ts --config paper --save-dir runs/paper --save-every 20 --resume
 *   npx tsx examples/arithmetic/snapshotPolca.ts runs/paper --basis hessian --basis-every 300 --vectors 10 --every 40 --until 3000
 *
 * Bases (`--basis`): `hessian`, the top eigenvector of Π⊥HΠ⊥ of the Hessian
 * sample's mean loss at every basis step (the paper's); `gradient-covariance`,
 * the top eigenvector of Π⊥GᵀGΠ⊥ of the probe's per-token gradients;
 * `random`, seeded orthonormal directions. `--probe-problems` and
 * `--sample-problems` take the first problems of the run's probe set and
 * Hessian sample, to bound the cost on a CPU.
 *
 * @packageDocumentation
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command, Option } from 'commander';
import { replayCheckpoints } from '../../src/run/backfill.js';
import { readRun } from '../../src/sinks/arrow/index.js';
import {
  chunkedProbe, installSecondOrderGradients, NonConvergenceError, ParamSpace, registerWasmKernels, topEigenpairs, type Eigenpairs,
} from '../../src/engine/index.js';
import { exactHvp } from '../../src/engine/hvp.js';
import { gradientCovarianceProduct } from '../../src/engine/basis/gradientCovarianceBasis.js';
import { datapointMeta, makeBatch, makeSplits, type ArithmeticBatch } from './data.js';
import { batchTensors, createModel, perTokenLoss } from './model.js';
import { mulberry32, normalArray } from './prng.js';
import { readSnapshotManifest, readTheta } from './snapshots.js';
import { runLabels } from './evaluation.js';
import { directionRows, formatCovariance, parseSizePair, type CovarianceRow } from './centredCovariance.js';
import { orthonormalize } from './oracleControl.js';

/** The basis kinds this script grows offline. */
export const SNAPSHOT_BASES = ['hessian', 'gradient-covariance', 'random'] as const;
export type SnapshotBasis = (typeof SNAPSHOT_BASES)[number];

/** Options of {@link snapshotPolca}. */
export interface SnapshotPolcaOptions {
  basis: SnapshotBasis;
  /** Steps between POLCA checkpoints; a multiple of the snapshots' spacing. */
  every: number;
  /** The last step to include (a run still training keeps adding snapshots). Default: every snapshot. */
  until?: number;
  /**
   * Steps at which a vector is added (Algorithm 1's basis checkpoints), in
   * order. A step may repeat: each repeat adds the next eigenvector at that
   * θ, deflated by the ones before (the top k of a single checkpoint).
   */
  basisSteps: readonly number[];
  /** The first problems of the run's probe set that form the probe (4 datapoints each). */
  probeProblems: number;
  /**
   * Problems per part of the probe for the passes that differentiate through
   * it (the exact JVP, the gradient covariance): {@link chunkedProbe}. Default:
   * the whole probe at once. On the paper's model a part costs about 11 MB of
   * wasm heap per problem, and the heap stops at 4 GB.
   */
  probeChunk?: number;
  /** The first problems of the run's Hessian sample (the `hessian` basis). */
  sampleProblems: number;
  /** Output run directory. */
  out: string;
  /** HDBSCAN min_cluster_size / min_samples pairs to cluster at. */
  sizes: readonly [number, number][];
  /** Lanczos iterations per vector. */
  maxIter?: number;
  /**
   * Check the fast directional derivatives against the exact JVP at every
   * n-th checkpoint. Default 1. The exact JVP differentiates twice through
   * the whole probe; on the paper's model that is the largest allocation of
   * the run, and it bounds the probe wasm can hold.
   */
  checkEvery?: number;
  seed?: number;
  onLine?: (s: string) => void;
}

function firstProblems(batch: ArithmeticBatch, n: number, option: string): ArithmeticBatch {
  if (!Number.isInteger(n) || n < 1 || n > batch.size) throw new Error(`snapshotPolca: option '${option}' must be an integer in [1, ${batch.size}], got ${n}`);
  return makeBatch(Array.from(batch.a.subarray(0, n)), Array.from(batch.b.subarray(0, n)), batch.format);
}

/**
 * Reads `--basis-steps`: comma-separated steps, each optionally `step*k` for
 * k vectors at that step (`2400*10` is the top 10 eigenvectors at step 2400).
 *
 * @throws Error naming the option and the entry when an entry is not of that
 * form, or the steps go backwards.
 */
export function parseBasisSteps(list: string): number[] {
  const steps: number[] = [];
  for (const entry of list.split(',')) {
    const m = /^\s*(\d+)\s*(?:\*\s*(\d+)\s*)?$/.exec(entry);
    const k = m === null ? NaN : Number(m[2] ?? 1);
    if (m === null || !(k >= 1)) throw new Error(`snapshotPolca: option '--basis-steps' takes steps or step*count, comma-separated; got '${entry}' in '${list}'`);
    const step = Number(m[1]);
    if (steps.length > 0 && step < steps[steps.length - 1]) throw new Error(`snapshotPolca: option '--basis-steps' must not go backwards; got ${step} after ${steps[steps.length - 1]} in '${list}'`);
    for (let i = 0; i < k; i++) steps.push(step);
  }
  return steps;
}

/**
 * Grows the basis from the snapshots, replays every snapshot `every` steps
 * apart along it, and clusters.
 *
 * @param dir - a snapshot directory written by `train.ts --save-dir`.
 * @returns the clustering rows, the output directory, the basis's eigenvalues and its vectors.
 */
export async function snapshotPolca(dir: string, o: SnapshotPolcaOptions): Promise<{ rows: CovarianceRow[]; out: string; values: number[]; vectors: Float32Array[] }> {
  const say = o.onLine ?? (() => undefined);
  const m = readSnapshotManifest(dir);
  if (m === null) throw new Error(`snapshotPolca: ${JSON.stringify(dir)} holds no snapshots.json (write one with train.ts --save-dir)`);
  if (!SNAPSHOT_BASES.includes(o.basis)) throw new Error(`snapshotPolca: option 'basis' must be one of ${SNAPSHOT_BASES.join(', ')}, got '${o.basis}'`);
  if (!Number.isInteger(o.every) || o.every < 1) throw new Error(`snapshotPolca: option 'every' must be a positive integer, got ${o.every}`);
  const steps = m.steps.filter((s) => s % o.every === 0 && s <= (o.until ?? Infinity));
  if (steps.length < 2) throw new Error(`snapshotPolca: option 'every' = ${o.every} leaves ${steps.length} of the ${m.steps.length} snapshots; at least 2 are needed`);
  for (const s of o.basisSteps) {
    if (!m.steps.includes(s)) throw new Error(`snapshotPolca: option 'basisSteps' names step ${s}, which ${dir} did not keep`);
  }
  const cfg = m.config;
  const splits = makeSplits({ seed: cfg.seed, probeSize: cfg.probeSize, hessianSize: cfg.hessianSize, format: cfg.format });
  const probeBatch = firstProblems(splits.probe, o.probeProblems, 'probeProblems');
  const sampleBatch = firstProblems(splits.hessian, o.sampleProblems, 'sampleProblems');
  const chunk = o.probeChunk ?? probeBatch.size;
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`snapshotPolca: option 'probeChunk' must be a positive integer, got ${chunk}`);
  const model = createModel(cfg, { seed: cfg.seed + 1, initStd: cfg.initStd });
  if (JSON.stringify(model.params.map((p) => p.shape)) !== JSON.stringify(m.shapes)) {
    model.dispose();
    throw new Error(`snapshotPolca: the model of ${dir}'s configuration does not have the snapshots' parameter shapes`);
  }
  const partTensors: ReturnType<typeof batchTensors>[] = [];
  for (let at = 0; at < probeBatch.size; at += chunk) {
    const end = Math.min(probeBatch.size, at + chunk);
    partTensors.push(batchTensors(makeBatch(Array.from(probeBatch.a.subarray(at, end)), Array.from(probeBatch.b.subarray(at, end)), probeBatch.format)));
  }
  const sampleT = batchTensors(sampleBatch);
  const probe = partTensors.length === 1
    ? (): tf.Tensor1D => perTokenLoss(model, partTensors[0])
    : chunkedProbe(partTensors.map((t) => (): tf.Tensor1D => perTokenLoss(model, t)));
  const sampleLoss = (): tf.Scalar => tf.tidy(() => tf.mean(perTokenLoss(model, sampleT)) as tf.Scalar);
  const space = new ParamSpace(model.params);
  const n = probeBatch.size * 4;
  // Exact HVPs and JVPs differentiate through the backward pass: second derivatives must be right.
  const uninstall = installSecondOrderGradients();
  const found: Float64Array[] = [];
  const values: number[] = [];
  const vectors: Float32Array[] = [];
  try {
    if (o.basis === 'random') {
      const rand = mulberry32(o.seed ?? 7);
      found.push(...orthonormalize(o.basisSteps.map(() => normalArray(rand, space.size, 1))).vectors.map((v) => Float64Array.from(v)));
    } else {
      for (const step of o.basisSteps) {
        space.assignHost(readTheta(dir, step));
        const t0 = performance.now();
        let res: Eigenpairs;
        try {
          res = await topEigenpairs({
            matvec: o.basis === 'hessian'
              ? (v) => {
                const vt = space.toDevice(v);
                const hv = exactHvp(space, sampleLoss, vt);
                vt.dispose();
                try { return hv.dataSync() as Float32Array; } finally { hv.dispose(); }
              }
              : (v) => gradientCovarianceProduct(space, probe, v, n),
            dim: space.size, k: 1, deflate: found, tol: 1e-3, maxIter: o.maxIter ?? 30, seed: (o.seed ?? 7) + step,
          });
        } catch (e) {
          if (e instanceof NonConvergenceError && e.partial) res = e.partial as Eigenpairs;
          else throw e;
        }
        found.push(res.vectors[0]);
        values.push(res.values[0]);
        say(`basis step ${step}: λ = ${res.values[0].toExponential(3)}, residual ${res.residuals[0].toExponential(2)}, ${res.matvecs} matvecs, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      }
    }
    vectors.push(...found.map((v) => Float32Array.from(v)));
    const meta = datapointMeta(probeBatch);
    const t0 = performance.now();
    await replayCheckpoints({ steps, theta: (s) => readTheta(dir, s) }, {
      params: model.params, probe, vectors,
      every: o.every, secondOrder: 'secant', derivatives: 'fast', derivativeCheckEvery: o.checkEvery, seed: o.seed ?? 7,
      model: `${cfg.name} (${cfg.layers} layers, d = ${cfg.dModel}, MLP ${cfg.dMlp}) from the snapshots in ${path.resolve(dir)}`,
      out: o.out, overwrite: true,
      probeMeta: { text: meta.map((d) => d.text), target: meta.map((d) => d.target), place: Array.from(probeBatch.place), carry: meta.map((d) => d.carry) },
      onProgress: (done, total) => {
        if (done % 10 === 0 || done === total) say(`replay ${done}/${total} checkpoints, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      },
    });
  } finally {
    uninstall();
    model.dispose();
    for (const t of [...partTensors, sampleT]) tf.dispose([t.inputs, t.targets]);
  }
  const run = await readRun(o.out);
  const rows = await directionRows(o.out, o.sizes, runLabels(run.manifest, 'snapshotPolca'));
  return { rows, out: o.out, values, vectors };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const int = (name: string) => (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`snapshotPolca: option '${name}' must be a positive integer, got '${v}'`);
    return x;
  };
  const cmd = new Command('snapshotPolca')
    .argument('<snapshot-dir>', 'a directory written by train.ts --save-dir')
    .addOption(new Option('--basis <kind>', 'basis grown from the snapshots').choices(SNAPSHOT_BASES).default('hessian'))
    .option('--every <n>', 'steps between POLCA checkpoints', int('--every'), 100)
    .option('--basis-every <n>', 'steps between basis vectors, from step 0', int('--basis-every'), 1000)
    .addOption(new Option('--basis-steps <list>', 'the steps of the basis vectors, step or step*count, comma-separated (in place of --basis-every)').conflicts('basisEvery'))
    .option('--until <step>', 'the last step to include (default: every snapshot)', int('--until'))
    .option('--vectors <n>', 'basis vectors at most', int('--vectors'), 8)
    .option('--probe-problems <n>', 'problems of the probe set (4 datapoints each)', int('--probe-problems'), 500)
    .option('--probe-chunk <n>', 'problems per part of the probe in the passes that differentiate through it', int('--probe-chunk'), 50)
    .option('--sample-problems <n>', 'problems of the Hessian sample', int('--sample-problems'), 256)
    .option('--max-iter <n>', 'Lanczos iterations per vector', int('--max-iter'), 30)
    .option('--check-every <n>', 'check the fast derivatives against the exact JVP every n checkpoints', int('--check-every'), 1)
    .option('--out <dir>', 'output run directory (default <snapshot-dir>/polca-<basis>)')
    .addOption(new Option('--sizes <list>', 'HDBSCAN min_cluster_size/min_samples pairs, comma-separated').default('40/10,60/15,100/25'))
    .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
    .action(async (dir: string, opts: {
      basis: SnapshotBasis; every: number; basisEvery: number; basisSteps?: string; until?: number; vectors: number; probeProblems: number; probeChunk: number; sampleProblems: number;
      maxIter: number; checkEvery: number; out?: string; sizes: string; backend: string;
    }) => {
      await tf.setBackend(opts.backend);
      await tf.ready();
      if (opts.backend === 'wasm') registerWasmKernels();
      const m = readSnapshotManifest(dir);
      if (m === null) throw new Error(`snapshotPolca: ${JSON.stringify(dir)} holds no snapshots.json`);
      const basisSteps = opts.basisSteps !== undefined
        ? parseBasisSteps(opts.basisSteps)
        : m.steps.filter((s) => s % opts.basisEvery === 0 && s <= (opts.until ?? Infinity)).slice(0, opts.vectors);
      if (basisSteps.length === 0) throw new Error(`snapshotPolca: no kept step is a multiple of --basis-every ${opts.basisEvery} (kept: ${m.steps[0]}…${m.steps.at(-1)})`);
      const sizes = opts.sizes.split(',').map((t) => parseSizePair(t, 'snapshotPolca', '--sizes'));
      const { rows, out, values } = await snapshotPolca(dir, {
        basis: opts.basis, every: opts.every, until: opts.until, basisSteps, probeProblems: opts.probeProblems, probeChunk: opts.probeChunk, sampleProblems: opts.sampleProblems,
        out: opts.out ?? path.join(dir, `polca-${opts.basis}`), sizes, maxIter: opts.maxIter, checkEvery: opts.checkEvery,
        onLine: (s) => process.stderr.write(`${s}\n`),
      });
      process.stdout.write(`## ${opts.basis} basis from the snapshots (steps ${basisSteps.join(', ')}; eigenvalues ${values.map((v) => v.toExponential(2)).join(', ') || '-'}), ${out}\n${formatCovariance(rows)}\n`);
    });
  try {
    await cmd.parseAsync();
  } catch (e) {
    // Bad options are the user's to fix: the message, not a stack through the wasm module's source.
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
