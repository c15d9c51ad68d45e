/**
 * An upper bound, not a method: POLCA along directions picked out by the
 * probe's own carry labels. If even these give no carry cluster near the
 * paper's 0.9, no basis built without the labels can be expected to.
 *
 * At each of `--steps`, the direction is the gradient, at that checkpoint's
 * kept θ, of the carry tokens' mean loss minus the no-carry tokens' mean loss
 * over the probe's 10s and 100s places: the direction in which a step lowers
 * the carry tokens' losses most against the others'. The directions are
 * orthonormalised in order, the run is backfilled along them (`polca
 * backfill`), and each HDBSCAN size of `--sizes` gives, per direction, the
 * best eligible carry homogeneity beside the exact loss's.
 *
 *   npm run demo -- --out runs/keep --keep-params --bases none --no-serve
 *   npx tsx examples/arithmetic/carryContrast.ts runs/keep --steps 300,500,700,900
 *
 * @packageDocumentation
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Command, Option } from 'commander';
import { backfill } from '../../src/run/index.js';
import { readParams, readRun } from '../../src/sinks/arrow/index.js';
import { ParamSpace } from '../../src/engine/index.js';
import { flatGradient } from '../../src/engine/hvp.js';
import backfillModel from './backfillModel.js';
import { runLabels, type ArithmeticLabels } from './evaluation.js';
import { directionRows, formatCovariance, parseSizePair } from './centredCovariance.js';
import { orthonormalize } from './oracleControl.js';

/**
 * Weights of the contrast: +1/n₊ on the carry tokens of the 10s and 100s,
 * −1/n₋ on their other tokens, 0 elsewhere (1s and 1000s).
 */
export function contrastWeights(labels: Pick<ArithmeticLabels, 'place' | 'carry'>): Float32Array {
  const n = labels.place.length;
  let plus = 0;
  let minus = 0;
  for (let x = 0; x < n; x++) {
    if (labels.place[x] !== 1 && labels.place[x] !== 2) continue;
    if (labels.carry[x]) plus++;
    else minus++;
  }
  if (plus === 0 || minus === 0) throw new Error(`carryContrast: the probe needs carry and no-carry tokens in the 10s and 100s, got ${plus} and ${minus}`);
  const w = new Float32Array(n);
  for (let x = 0; x < n; x++) {
    if (labels.place[x] !== 1 && labels.place[x] !== 2) continue;
    w[x] = labels.carry[x] ? 1 / plus : -1 / minus;
  }
  return w;
}

/** ∇θ Σ_x w_x ℓ_x(θ) at the parameters' current values, flattened in `space`'s order (one backward pass). */
export function weightedGradient(space: ParamSpace, probe: () => tf.Tensor1D, w: Float32Array): Float32Array {
  const out = flatGradient(space, () => tf.sum(tf.mul(tf.tensor1d(w), probe())) as tf.Scalar);
  try {
    return Float32Array.from(out.dataSync() as Float32Array);
  } finally {
    out.dispose();
  }
}

/** Computes the directions, backfills the run along them, and clusters; returns the rows and the backfill's directory. */
export async function carryContrast(
  dir: string,
  o: { steps: readonly number[]; sizes: readonly [number, number][]; onLine?: (s: string) => void },
) {
  const say = o.onLine ?? (() => undefined);
  const run = await readRun(dir);
  const { params: records } = await readParams(dir);
  const labels = runLabels(run.manifest, 'carryContrast');
  const w = contrastWeights(labels);
  const model = await backfillModel(run.manifest, dir);
  const space = new ParamSpace(model.params);
  const initial = space.read();
  const directions: Float32Array[] = [];
  try {
    for (const step of o.steps) {
      const r = records.find((p) => p.step === step);
      if (!r) throw new Error(`carryContrast: option '--steps' names step ${step}, but ${dir} kept no θ there`);
      space.assignHost(Float32Array.from(r.theta));
      const g = weightedGradient(space, model.probe, w);
      directions.push(g);
      let sq = 0;
      // A loop, not Math.hypot(...g): spreading P arguments overflows the stack for P in the hundreds of thousands.
      for (let i = 0; i < g.length; i++) sq += g[i] * g[i];
      say(`step ${step}: ‖∇(mean carry loss − mean other loss)‖ = ${Math.sqrt(sq).toExponential(3)}`);
    }
  } finally {
    space.assignHost(initial);
  }
  const { vectors } = orthonormalize(directions);
  const out = path.join(dir, 'carry-contrast');
  await backfill(dir, {
    ...model, vectors, out, overwrite: true,
    onProgress: (done, total) => done % 25 === 0 && say(`backfill ${done}/${total} checkpoints`),
  });
  const rows = await directionRows(out, o.sizes, labels);
  return { rows, out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = new Command('carryContrast')
    .argument('<run-dir>', 'a run recorded with --keep-params')
    .addOption(new Option('--steps <list>', 'kept checkpoints to take directions at, comma-separated').default('300,500,700,900'))
    .addOption(new Option('--sizes <list>', 'HDBSCAN min_cluster_size/min_samples pairs, comma-separated').default('40/10,60/15,100/25'))
    .action(async (dir: string, opts: { steps: string; sizes: string }) => {
      const steps = opts.steps.split(',').map(Number);
      if (steps.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`carryContrast: option '--steps' must list non-negative integers, got '${opts.steps}'`);
      const sizes = opts.sizes.split(',').map((text) => parseSizePair(text, 'carryContrast', '--sizes'));
      const { rows, out } = await carryContrast(dir, { steps, sizes, onLine: (s) => process.stderr.write(`${s}\n`) });
      process.stdout.write(`## Carry-contrast directions (the probe's own labels), backfilled (${out})\n${formatCovariance(rows)}\n`);
    });
  await cmd.parseAsync();
}
