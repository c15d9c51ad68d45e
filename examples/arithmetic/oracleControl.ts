/**
 * The oracle-direction control: is the pipeline (POLCA → filters → HDBSCAN →
 * carry homogeneity) able to find a carry cluster along a direction that is
 * known to carry the carry skill?
 *
 * On a curriculum run (`npm run demo -- --carry-from 1000 --keep-params
 * --second-order secant --bases none --out DIR`) the model learns carry as
 * its own, later skill. This script backfills that run with a fixed basis:
 * the unit displacement (θ_to − θ_from)/‖·‖ over the steps where carry is
 * learned, the run's own Hessian vectors, and `--random` random directions,
 * orthonormalised in that order, then clusters the projected losses and
 * prints, per direction, the best eligible carry homogeneity.
 *
 *   npx tsx examples/arithmetic/oracleControl.ts DIR [--from 1000] [--to 2000] [--random 8]
 *     [--min-cluster-size n --min-samples m] [--reuse]
 *
 * How to read it: a sound pipeline finds a ≥ 0.9 carry cluster along the
 * displacement. If it does not, the fault is in the pipeline, not the basis.
 *
 * @packageDocumentation
 */
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { lastValueFrom, toArray } from 'rxjs';
import { backfill } from '../../src/run/index.js';
import { clustersCommand } from '../../src/report/index.js';
import { decodeEvents, readParams, readRun, replay } from '../../src/sinks/arrow/index.js';
import type { BasisEvent, TrajectoryKind } from '../../src/index.js';
import { TrajectoryBuilder, type TrajectoryMatrix } from '../../src/analysis/index.js';
import { orthonormalizeAgainst } from '../../src/engine/index.js';
import { mulberry32, normalArray } from './prng.js';
import { bestEligibleCluster, runLabels, type ArithmeticLabels } from './evaluation.js';
import backfillModel from './backfillModel.js';
import { stepDirections } from './pathClosure.js';

/** What each direction of the control basis is. */
export type DirectionRole = 'displacement' | 'step-pc' | 'hessian' | 'random';

/**
 * Orthonormalises `vectors` in order (modified Gram–Schmidt, twice, in
 * double precision), dropping any whose part off the earlier ones is below
 * 1e-6 of its length; returns float32 unit vectors and the kept indices.
 */
export function orthonormalize(vectors: readonly ArrayLike<number>[]): { vectors: Float32Array[]; kept: number[] } {
  const out: Float64Array[] = [];
  const kept: number[] = [];
  vectors.forEach((v, i) => {
    const w = orthonormalizeAgainst(v, out);
    if (!w) return;
    out.push(w);
    kept.push(i);
  });
  return { vectors: out.map((w) => Float32Array.from(w)), kept };
}


/** One row of the control's table. */
export interface ControlRow {
  kind: TrajectoryKind;
  role: DirectionRole;
  basisId: number;
  oscillatory: boolean;
  clusters: number;
  /** Best carry homogeneity over the direction's eligible clusters (NaN when none is eligible). */
  best: number;
  /** Size of that cluster. */
  size: number;
}

/** Runs the control on a curriculum run directory; returns the rows and the backfilled run's directory. */
export async function oracleControl(
  dir: string,
  o: {
    from: number; to: number; random: number; seed?: number; minClusterSize?: number; minSamples?: number; reuse?: boolean;
    /** Top principal directions of the kept steps over [from, to], after the displacement. Default 0. */
    pcs?: number;
    /** Include the run's Hessian vectors. Default true. */
    hessian?: boolean;
  },
) {
  const run = await readRun(dir);
  const { params: records } = await readParams(dir);
  const at = (step: number) => {
    const r = records.find((p) => p.step === step);
    if (!r) throw new Error(`oracleControl: ${dir} kept no θ at step ${step} (steps ${records[0]?.step}…${records.at(-1)?.step})`);
    return r.theta;
  };
  const a = at(o.from);
  const b = at(o.to);
  const displacement = Float64Array.from(b, (x, i) => x - a[i]);
  const window = records.filter((p) => p.step >= o.from && p.step <= o.to).map((p) => p.theta);
  const pcs = (o.pcs ?? 0) > 0 ? (await stepDirections(window, o.pcs!)).vectors : [];
  const hessian = o.hessian === false ? [] : [...decodeEvents(run)].filter((e): e is BasisEvent => e.type === 'basis' && e.vector !== undefined).sort((x, y) => x.id - y.id);
  const rand = mulberry32(o.seed ?? 7);
  const P = a.length;
  const randoms = Array.from({ length: o.random }, () => normalArray(rand, P, 1));
  const candidates: { role: DirectionRole; v: ArrayLike<number> }[] = [
    { role: 'displacement', v: displacement },
    ...pcs.map((v) => ({ role: 'step-pc' as const, v })),
    ...hessian.map((h) => ({ role: 'hessian' as const, v: h.vector! })),
    ...randoms.map((v) => ({ role: 'random' as const, v })),
  ];
  const { vectors, kept } = orthonormalize(candidates.map((c) => c.v));
  const roles = kept.map((i) => candidates[i].role);

  const out = path.join(dir, 'oracle');
  // --reuse clusters an earlier backfill again (other HDBSCAN sizes) without recomputing it.
  if (!o.reuse) {
    const model = await backfillModel(run.manifest, dir);
    await backfill(dir, { ...model, vectors, out, overwrite: true });
  }

  const kinds: TrajectoryKind[] = ['polca', 'polca-first', 'loss'];
  const result = await clustersCommand(out, { kinds, minClusterSize: o.minClusterSize, minSamples: o.minSamples });
  const labels = runLabels(run.manifest, 'oracleControl');
  const rows: ControlRow[] = [];
  for (const kind of kinds) {
    for (const c of result.clusterings.get(kind) ?? []) {
      const best = bestEligibleCluster(c.event.clusters, labels);
      rows.push({
        kind,
        role: kind === 'loss' ? 'displacement' : roles[c.event.basisId],
        basisId: c.event.basisId,
        oscillatory: c.oscillatory,
        clusters: c.event.clusters.length,
        best: best?.homogeneity ?? NaN,
        size: best?.size ?? 0,
      });
    }
  }
  // Along the displacement (vector 0), how much of the loss change over [from, to] its projected loss holds.
  const events = await lastValueFrom(replay(out).pipe(toArray()));
  const builder = new TrajectoryBuilder({ kinds: ['loss', 'polca', 'polca-first'] });
  for (const e of events) builder.push(e);
  const loss = builder.matrix('loss')!;
  const range = (m: TrajectoryMatrix) => {
    const s = m.steps;
    const i = s.indexOf(o.from);
    const j = s.indexOf(o.to);
    return Array.from({ length: m.n }, (_, x) => m.get(x, j) - m.get(x, i));
  };
  const dLoss = range(loss);
  const captures = (['polca-first', 'polca'] as const).map((kind) => ({ kind, ...capture(dLoss, range(builder.matrix(kind, 0)!), labels) }));
  return { rows, out, text: result.text, captures };
}

/** How much of each datapoint's loss change over a step range one direction's projected loss accounts for. */
export interface Capture {
  /** Pearson correlation over datapoints of Δℓ_x and ΔL_b(x). */
  correlation: number;
  /** Least-squares slope of ΔL_b(x) on Δℓ_x: the fraction of a loss change the direction carries. */
  slope: number;
  /** Mean ΔL_b(x) of the carry and no-carry tokens of the 10s and 100s places. */
  carry: number;
  noCarry: number;
  /** Mean Δℓ_x of the same two groups. */
  lossCarry: number;
  lossNoCarry: number;
}

/**
 * {@link Capture} of loss changes `dLoss` by projected-loss changes `dProj`
 * (both per datapoint, over the same step range).
 */
export function capture(dLoss: ArrayLike<number>, dProj: ArrayLike<number>, labels: ArithmeticLabels): Capture {
  const n = dLoss.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += dLoss[i] / n;
    my += dProj[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  const g = { c: [0, 0, 0], o: [0, 0, 0] };
  for (let i = 0; i < n; i++) {
    sxy += (dLoss[i] - mx) * (dProj[i] - my);
    sxx += (dLoss[i] - mx) ** 2;
    syy += (dProj[i] - my) ** 2;
    if (labels.place[i] === 1 || labels.place[i] === 2) {
      const a = labels.carry[i] ? g.c : g.o;
      a[0] += dProj[i];
      a[1] += dLoss[i];
      a[2]++;
    }
  }
  return {
    correlation: sxy / Math.sqrt(sxx * syy),
    slope: sxy / sxx,
    carry: g.c[0] / g.c[2],
    noCarry: g.o[0] / g.o[2],
    lossCarry: g.c[1] / g.c[2],
    lossNoCarry: g.o[1] / g.o[2],
  };
}

/** Markdown table of the control's rows. */
export function formatControl(rows: readonly ControlRow[]): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
  return [
    '| trajectories | direction | basis id | clusters | best eligible carry homogeneity (size) |',
    '|---|---|---|---|---|',
    ...rows.map((r) =>
      r.kind === 'loss'
        ? `| exact loss | - | - | ${r.clusters} | ${f(r.best)} (${r.size}) |`
        : `| ${r.kind} | ${r.role} | ${r.basisId} | ${r.oscillatory ? 'oscillatory' : r.clusters} | ${f(r.best)}${r.size ? ` (${r.size})` : ''} |`,
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cmd = new Command('oracleControl')
    .argument('<run-dir>', 'a curriculum run recorded with --keep-params')
    .addOption(new Option('--from <step>', 'start of the displacement').default('1000'))
    .addOption(new Option('--to <step>', 'end of the displacement').default('2000'))
    .addOption(new Option('--random <n>', 'random directions').default('8'))
    .addOption(new Option('--pcs <k>', "top principal directions of the kept steps over the range, after the displacement").default('0'))
    .option('--no-hessian', "leave out the run's Hessian vectors")
    .option('--min-cluster-size <n>', 'HDBSCAN min_cluster_size (default: the paper scaled to N)')
    .option('--min-samples <n>', 'HDBSCAN min_samples (default: the paper scaled to N)')
    .option('--reuse', 'cluster the backfill already in <run-dir>/oracle again')
    .action(async (dir: string, opts: { from: string; to: string; random: string; pcs: string; hessian: boolean; minClusterSize?: string; minSamples?: string; reuse?: boolean }) => {
      const num = (x?: string) => (x === undefined ? undefined : Number(x));
      const { rows, out, text, captures } = await oracleControl(dir, {
        from: Number(opts.from), to: Number(opts.to), random: Number(opts.random), pcs: Number(opts.pcs), hessian: opts.hessian,
        minClusterSize: num(opts.minClusterSize), minSamples: num(opts.minSamples), reuse: opts.reuse,
      });
      process.stdout.write(`${text}\n\n## Oracle-direction control (${out})\n${formatControl(rows)}\n`);
      const f = (x: number) => x.toFixed(3);
      process.stdout.write(
        `\n## How much of the loss change over ${opts.from}–${opts.to} the displacement holds\n` +
          '| trajectories | corr(Δℓ, ΔL_b) | slope | mean ΔL_b carry / no carry (10s, 100s) | mean Δℓ carry / no carry |\n|---|---|---|---|---|\n' +
          captures.map((c) => `| ${c.kind} | ${f(c.correlation)} | ${f(c.slope)} | ${f(c.carry)} / ${f(c.noCarry)} | ${f(c.lossCarry)} / ${f(c.lossNoCarry)} |`).join('\n') + '\n',
      );
    });
  await cmd.parseAsync();
}
