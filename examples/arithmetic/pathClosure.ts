/**
 * Where a loss change goes between kept checkpoints: along the whole step
 * θ_{t+1} − θ_t, or along one fixed direction.
 *
 * The oracle-direction control (RESULTS.md) found that POLCA along the chord
 * (θ_to − θ_from)/‖·‖ holds 7 % of each token's loss change over the steps
 * in which carry is learned. Two causes fit: the checkpoints are too far
 * apart to resolve the loss change (then even the full step misses it), or
 * the path is far from the chord (then the full step closes it and the chord
 * does not). This script tells them apart on a run kept with `--keep-params`:
 * per interval and datapoint, the trapezoid term
 * ½(⟨∇ℓ_x(θ_t), d_t⟩ + ⟨∇ℓ_x(θ_{t+1}), d_t⟩) with d_t = θ_{t+1} − θ_t (all
 * directions at once), and the same term restricted to the chord, which is
 * what secant POLCA along it records; summed over the range and compared with
 * the exact Δℓ_x.
 *
 *   npx tsx examples/arithmetic/pathClosure.ts DIR [--from 1000] [--to 2000]
 *
 * @packageDocumentation
 */
import type * as tf from '@tensorflow/tfjs';
import { Command, Option } from 'commander';
import { directionalDerivatives, ParamSpace, stepEigenpairs, type ProbeClosure } from '../../src/engine/index.js';
import { readParams, readRun } from '../../src/sinks/arrow/index.js';
import { capture, type Capture } from './oracleControl.js';
import backfillModel from './backfillModel.js';
import { runLabels } from './evaluation.js';

/** Sums over a path of kept θ (see {@link pathClosure}). */
export interface PathSums {
  /** Exact ℓ_x(θ_last) − ℓ_x(θ_first). */
  lossChange: Float64Array;
  /** Σ_t of the trapezoid term along the whole step d_t. */
  full: Float64Array;
  /** Σ_t of the trapezoid term along the unit chord u only: ⟨d_t, u⟩·½(⟨∇ℓ_x(θ_t), u⟩ + ⟨∇ℓ_x(θ_{t+1}), u⟩). */
  chord: Float64Array;
  /** ‖θ_last − θ_first‖ / Σ_t ‖d_t‖: 1 for a straight path. */
  straightness: number;
  /** Σ_t ⟨d_t, u⟩² / Σ_t ‖d_t‖²: the share of the steps' squared length along the chord. */
  chordShare: number;
  /** The same trapezoid sums along each of the extra unit `directions`. */
  along: Float64Array[];
  /** Σ_t ⟨d_t, v⟩² / Σ_t ‖d_t‖² of each extra direction. */
  alongShare: number[];
}

/** ⟨a, b⟩ in double precision. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The top-`k` principal directions of the steps d_t = θ_{t+1} − θ_t of a
 * path (eigenvectors of Σ_t d_t d_tᵀ, uncentered, as the `step-covariance`
 * basis finds them); with their shares of Σ_t ‖d_t‖².
 */
export async function stepDirections(thetas: readonly Float32Array[], k: number): Promise<{ vectors: Float64Array[]; shares: number[] }> {
  if (!(Number.isInteger(k) && k >= 1 && k < thetas.length)) throw new RangeError(`stepDirections: k must be an integer in [1, ${thetas.length - 1}] (the steps), got ${k}`);
  const steps = thetas.slice(1).map((t, j) => Float64Array.from(t, (x, i) => x - thetas[j][i]));
  const r = await stepEigenpairs(steps, [], k, 11);
  return { vectors: r.vectors, shares: r.values.map((v) => v / r.energy) };
}

/**
 * The {@link PathSums} of the path `thetas` (consecutive kept θ, at least
 * two). Moves `params` along the path and leaves them at its last point.
 * Exact JVPs of the probe per checkpoint: two along the steps it ends and
 * starts, one along the chord and one along each of `directions`.
 */
export function pathClosure(
  thetas: readonly Float32Array[],
  params: readonly tf.Variable[],
  probe: ProbeClosure,
  directions: readonly ArrayLike<number>[] = [],
): PathSums {
  if (thetas.length < 2) throw new RangeError(`pathClosure: the path needs at least two θ, got ${thetas.length}`);
  const space = new ParamSpace(params, 'pathClosure');
  const P = space.size;
  const bad = thetas.findIndex((t) => t.length !== P);
  if (bad >= 0) throw new RangeError(`pathClosure: θ ${bad} has ${thetas[bad].length} values, the parameters ${P}`);
  const first = thetas[0];
  const last = thetas[thetas.length - 1];
  const chordVector = Float64Array.from(last, (x, i) => x - first[i]);
  const chordNorm = Math.sqrt(dot(chordVector, chordVector));
  if (!(chordNorm > 0)) throw new RangeError('pathClosure: the path ends where it starts (no chord)');
  // The unit chord is the first fixed direction; the caller's follow.
  const fixed = [chordVector.map((x) => x / chordNorm), ...directions];
  const steps = thetas.slice(1).map((t, k) => Float64Array.from(t, (x, i) => x - thetas[k][i]));
  const loss = (theta: Float32Array) => {
    space.assignHost(theta);
    const t = probe();
    try {
      return Float64Array.from(t.dataSync());
    } finally {
      t.dispose();
    }
  };
  const l0 = loss(first);
  const n = l0.length;
  const full = new Float64Array(n);
  const sums = fixed.map(() => new Float64Array(n));
  const squares = fixed.map(() => 0);
  let pathLength = 0;
  let total2 = 0;
  // The fixed directions' derivatives at θ_{k+1} serve intervals k and k + 1: computed once.
  let cached: { at: number; g: Float32Array[] } | undefined;
  for (let k = 0; k < steps.length; k++) {
    const d = steps[k];
    const dd = dot(d, d);
    pathLength += Math.sqrt(dd);
    total2 += dd;
    const weights = fixed.map((v) => dot(d, v));
    weights.forEach((c, j) => (squares[j] += c * c));
    for (const end of [k, k + 1]) {
      space.assignHost(thetas[end]);
      const gd = directionalDerivatives(probe, params, d);
      for (let x = 0; x < n; x++) full[x] += 0.5 * gd[x];
      if (cached?.at !== end) cached = { at: end, g: fixed.map((v) => directionalDerivatives(probe, params, v)) };
      const g = cached.g;
      fixed.forEach((_, j) => {
        for (let x = 0; x < n; x++) sums[j][x] += 0.5 * weights[j] * g[j][x];
      });
    }
  }
  const l1 = loss(last);
  return {
    lossChange: Float64Array.from(l1, (v, x) => v - l0[x]),
    full,
    chord: sums[0],
    straightness: chordNorm / pathLength,
    chordShare: squares[0] / total2,
    along: sums.slice(1),
    alongShare: squares.slice(1).map((q) => q / total2),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = new Command('pathClosure')
    .argument('<run-dir>', 'a run recorded with --keep-params')
    .addOption(new Option('--from <step>', 'first step of the range').default('1000'))
    .addOption(new Option('--to <step>', 'last step of the range').default('2000'))
    .addOption(new Option('--pcs <k>', "also along the top k principal directions of the path's steps").default('0'))
    .action(async (dir: string, opts: { from: string; to: string; pcs: string }) => {
      const from = Number(opts.from);
      const to = Number(opts.to);
      const run = await readRun(dir);
      const { params: records } = await readParams(dir);
      const path = records.filter((r) => r.step >= from && r.step <= to);
      if (path[0]?.step !== from || path.at(-1)?.step !== to) {
        throw new Error(`pathClosure: ${dir} kept no θ at step ${path[0]?.step !== from ? from : to} (kept ${records[0]?.step}…${records.at(-1)?.step})`);
      }
      const { params, probe } = await backfillModel(run.manifest, dir);
      const t0 = Date.now();
      const thetas = path.map((r) => r.theta);
      const k = Number(opts.pcs);
      const pcs = k > 0 ? await stepDirections(thetas, k) : { vectors: [], shares: [] };
      const s = pathClosure(thetas, params, probe, pcs.vectors);
      const labels = runLabels(run.manifest, 'pathClosure');
      const rest = Float64Array.from(s.full, (v, x) => v - s.chord[x]);
      const f = (x: number) => x.toFixed(3);
      const row = (name: string, c: Capture) =>
        `| ${name} | ${f(c.correlation)} | ${f(c.slope)} | ${f(c.carry)} / ${f(c.noCarry)} | ${f(c.lossCarry)} / ${f(c.lossNoCarry)} |`;
      process.stdout.write(
        `${dir}: steps ${from}–${to}, ${path.length} kept θ (${((Date.now() - t0) / 1000).toFixed(0)} s)\n` +
          `straightness ‖θ_to − θ_from‖ / Σ‖d_t‖ = ${s.straightness.toFixed(4)}; share of Σ‖d_t‖² along the chord ${s.chordShare.toFixed(4)}\n\n` +
          '| trapezoid terms along | corr(Δℓ, terms) | slope | mean terms carry / no carry (10s, 100s) | mean Δℓ carry / no carry |\n|---|---|---|---|---|\n' +
          [
            row('the whole step d_t', capture(s.lossChange, s.full, labels)),
            row('the chord', capture(s.lossChange, s.chord, labels)),
            row('the rest of d_t', capture(s.lossChange, rest, labels)),
            ...s.along.map((a, j) => row(`principal direction ${j} of the steps (${(100 * s.alongShare[j]).toFixed(1)} % of Σ‖d_t‖²)`, capture(s.lossChange, a, labels))),
          ].join('\n') +
          '\n',
      );
    });
  await cmd.parseAsync();
}
