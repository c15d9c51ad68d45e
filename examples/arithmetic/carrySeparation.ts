/**
 * How well each basis vector's projected loss separates carry tokens from the
 * other tokens of the 10s and 100s places — a diagnostic that does not depend
 * on HDBSCAN's settings. If even the datapoints whose loss falls most along a
 * vector are far from all-carry, no clustering of that vector's trajectories
 * can reach METHOD.md §5's carry homogeneity of 0.9. Beside the carry label
 * it measures the separation of the tokens nearest the carry threshold (the
 * column below sums to 9 or 10, {@link belowColumnSum}), carry or not, and
 * does both for the exact loss too.
 *
 * The carry AUC is given pooled over the 10s and 100s places and for each
 * place alone: pooling mixes two places whose losses fall at different times,
 * so a vector that separates the carries of one place perfectly scores only
 * about 0.74 pooled. The top datapoints are ranked twice: by how far their
 * projected loss has fallen at the end, and by how abruptly it falls (its
 * largest drop over a window of Δ), since the paper's clusters group
 * trajectories by shape, not by end value.
 *
 *   npx tsx examples/arithmetic/carrySeparation.ts <run-dir> [--kind polca] [--top 200] [--delta <steps>]
 *
 * @packageDocumentation
 */
import { lastValueFrom, toArray } from 'rxjs';
import { Command, Option } from 'commander';
import { checkpointSpacing, deltaToOffset, isOscillatory, TrajectoryBuilder, type TrajectoryMatrix } from '../../src/analysis/index.js';
import { readManifest, replay } from '../../src/sinks/arrow/index.js';
import type { PolcaEvent, TrajectoryKind } from '../../src/index.js';
import { belowColumnSum } from './data.js';
import { clusterQuality, type ArithmeticLabels } from './evaluation.js';

/** The separation of one basis vector. */
export interface VectorSeparation {
  basisId: number;
  /** Whether the mean trajectory rises (the paper leaves such vectors out). */
  oscillatory: boolean;
  /** Datapoints whose projected loss falls (L_b(x,T) < L_b(x,0)): those the paper clusters. */
  kept: number;
  /** Carry fraction among them. */
  keptHomogeneity: number;
  /** Carry fraction among the `top` kept datapoints whose projected loss falls most. */
  topHomogeneity: number;
  /** Fraction of those top datapoints' carry members in the 10s or 100s place (eligibility needs > 0.85). */
  topTensHundreds: number;
  /**
   * Carry fraction among the `top` kept datapoints whose projected loss drops
   * most abruptly: ranked by their largest drop over a window of
   * {@link shapeDelta}, max_t L_b(x,t) − L_b(x,t+Δ) ({@link largestDrop}),
   * ties to the lower index. NaN when the trajectory is shorter than the window.
   */
  topShapeHomogeneity: number;
  /**
   * Fraction of the carry members of that shape-ranked top in the 10s or
   * 100s place (NaN when it holds no carry, or the trajectory is shorter
   * than the window): a high {@link topShapeHomogeneity} made of 1000s
   * carries (the trivial carry into the leading digit) is not the paper's skill.
   */
  topShapeTensHundreds: number;
  /** Δ of {@link topShapeHomogeneity} in steps, after rounding to whole checkpoint intervals. */
  shapeDelta: number;
  /**
   * Largest |AUC − ½| over checkpoints of L_b(x,t) between carry and
   * no-carry tokens of the 10s and 100s places, plus ½ (1 = perfectly separated at some checkpoint).
   */
  bestAuc: number;
  /** The checkpoint step where it is reached. */
  bestAucStep: number;
  /** {@link bestAuc} among the tokens of the 10s place alone (NaN when the place lacks carry or no-carry tokens). */
  bestAucTens: number;
  /** The checkpoint step where it is reached. */
  bestAucTensStep: number;
  /** {@link bestAuc} among the tokens of the 100s place alone (NaN when the place lacks carry or no-carry tokens). */
  bestAucHundreds: number;
  /** The checkpoint step where it is reached. */
  bestAucHundredsStep: number;
  /**
   * The same for tokens near the carry threshold against the other tokens of
   * the 10s and 100s places (NaN without `near` labels).
   */
  bestNearAuc: number;
  /** The checkpoint step where it is reached. */
  bestNearAucStep: number;
}

/** Carry labels, plus which datapoints sit near the carry threshold. */
export interface SeparationLabels extends ArithmeticLabels {
  near?: ArrayLike<boolean | number>;
}

/**
 * Area under the ROC curve of scores `a` against `b`: P(a < b) + ½P(a = b)
 * (Mann–Whitney with mid-ranks for ties).
 */
export function auc(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const all = [...Array.from(a, (v) => ({ v, g: 0 })), ...Array.from(b, (v) => ({ v, g: 1 }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const mid = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k].g === 0) rankSumA += mid;
    i = j;
  }
  const na = a.length;
  const nb = b.length;
  // U_a counts pairs with a > b; the complement is what we want.
  const uA = rankSumA - (na * (na + 1)) / 2;
  return 1 - uA / (na * nb);
}

/** The checkpoint where `group` and `rest` are told apart best by AUC, folded to ≥ ½. */
function bestSeparation(matrix: TrajectoryMatrix, group: number[], rest: number[]): { auc: number; step: number } {
  let best = 0.5;
  let step = matrix.steps[0];
  if (group.length === 0 || rest.length === 0) return { auc: NaN, step };
  // Column 0 of a projected kind is all zeros (AUC ½); the exact loss's is the initial loss.
  for (let t = 0; t < matrix.length; t++) {
    const col = matrix.column(t);
    const a = auc(group.map((i) => col[i]), rest.map((i) => col[i]));
    if (Math.abs(a - 0.5) > Math.abs(best - 0.5)) {
      best = a;
      step = matrix.steps[t];
    }
  }
  return { auc: Math.max(best, 1 - best), step };
}

/**
 * Largest drop of trajectory `f` over a window of `d` checkpoint intervals,
 * max_t f[t] − f[t+d]: how abruptly it falls. Non-finite differences are
 * skipped; −Infinity when none is left (including f shorter than d + 1).
 *
 * @example
 * ```ts
 * largestDrop([0, 0, -1, -4, -4], 1); // 3
 * ```
 */
export function largestDrop(f: ArrayLike<number>, d: number): number {
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`largestDrop: d must be a positive integer number of checkpoints, got ${d}`);
  let best = -Infinity;
  for (let t = 0; t + d < f.length; t++) {
    const drop = f[t] - f[t + d];
    if (drop > best) best = drop;
  }
  return best;
}

/**
 * {@link VectorSeparation} of one trajectory matrix.
 *
 * @param top - how many of the kept datapoints the two top rankings look at.
 * @param delta - Δ of {@link VectorSeparation.topShapeHomogeneity} in steps, rounded to whole
 *   checkpoint intervals. Default 5 intervals, as `polca clusters`' Δ.
 * @throws RangeError when the matrix has fewer than 2 checkpoints or unevenly spaced ones, or `top` or `delta` is not positive.
 */
export function carrySeparation(matrix: TrajectoryMatrix, labels: SeparationLabels, basisId: number, top = 200, delta?: number): VectorSeparation {
  const T = matrix.length;
  if (T < 2) throw new RangeError(`carrySeparation: basis ${basisId} has ${T} checkpoints; at least 2 are needed`);
  if (!Number.isInteger(top) || top < 1) throw new RangeError(`carrySeparation: top must be a positive integer, got ${top}`);
  const steps = matrix.steps;
  const spacing = checkpointSpacing(steps, 'carrySeparation');
  const d = delta === undefined ? 5 : deltaToOffset(spacing, delta, { round: true }, 'carrySeparation');
  const n = matrix.n;
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (matrix.get(i, T - 1) < matrix.get(i, 0)) kept.push(i);
  const keptQ = clusterQuality(kept, labels);
  const byDrop = kept.slice().sort((x, y) => matrix.get(x, T - 1) - matrix.get(y, T - 1) || x - y);
  const topQ = clusterQuality(byDrop.slice(0, top), labels);
  // A trajectory shorter than the window (a vector found late) has no drop over Δ to rank by.
  let topShapeHomogeneity = NaN;
  let topShapeTensHundreds = NaN;
  if (T > d) {
    const drop = new Map(kept.map((i) => [i, largestDrop(matrix.row(i), d)]));
    const byShape = kept.slice().sort((x, y) => drop.get(y)! - drop.get(x)! || x - y);
    const shapeQ = clusterQuality(byShape.slice(0, top), labels);
    topShapeHomogeneity = shapeQ.homogeneity;
    topShapeTensHundreds = shapeQ.carryTensHundreds;
  }
  const places: number[] = [];
  for (let i = 0; i < n; i++) if (labels.place[i] === 1 || labels.place[i] === 2) places.push(i);
  const carry = bestSeparation(matrix, places.filter((i) => labels.carry[i]), places.filter((i) => !labels.carry[i]));
  const byPlace = (p: number) => {
    const own = places.filter((i) => labels.place[i] === p);
    return bestSeparation(matrix, own.filter((i) => labels.carry[i]), own.filter((i) => !labels.carry[i]));
  };
  const tens = byPlace(1);
  const hundreds = byPlace(2);
  const { near } = labels;
  const nearSep = near
    ? bestSeparation(matrix, places.filter((i) => near[i]), places.filter((i) => !near[i]))
    : { auc: NaN, step: matrix.steps[0] };
  return {
    basisId,
    oscillatory: isOscillatory(matrix),
    kept: kept.length,
    keptHomogeneity: keptQ.homogeneity,
    topHomogeneity: topQ.homogeneity,
    topTensHundreds: topQ.carryTensHundreds,
    topShapeHomogeneity,
    topShapeTensHundreds,
    shapeDelta: d * spacing,
    bestAuc: Number.isNaN(carry.auc) ? 0.5 : carry.auc,
    bestAucStep: carry.step,
    bestAucTens: tens.auc,
    bestAucTensStep: tens.step,
    bestAucHundreds: hundreds.auc,
    bestAucHundredsStep: hundreds.step,
    bestNearAuc: nearSep.auc,
    bestNearAucStep: nearSep.step,
  };
}

/**
 * Which probe datapoints sit near the carry threshold: 10s and 100s tokens
 * whose column below sums to 9 or 10 ({@link belowColumnSum}), from the
 * problem texts of an addition run's probe metadata.
 */
export function nearThreshold(text: ArrayLike<string>, place: ArrayLike<number>): boolean[] {
  return Array.from({ length: place.length }, (_, i) => {
    const p = place[i];
    if (p !== 1 && p !== 2) return false;
    const m = /^(\d+)\+(\d+)=/.exec(text[i]);
    if (!m) throw new Error(`nearThreshold: probe text ${JSON.stringify(text[i])} is not an addition problem`);
    const c = belowColumnSum(Number(m[1]), Number(m[2]), p);
    return c === 9 || c === 10;
  });
}

/**
 * Separation of the exact loss and of every basis vector of a run directory
 * whose probe metadata has `place` and `carry`; `top` and `delta` as in {@link carrySeparation}.
 */
export async function runCarrySeparation(
  dir: string,
  kind: TrajectoryKind = 'polca',
  top = 200,
  delta?: number,
): Promise<{ exactLoss: VectorSeparation; vectors: VectorSeparation[] }> {
  const manifest = await readManifest(dir, 'carrySeparation');
  const meta = (manifest.probeMeta ?? {}) as Record<string, ArrayLike<number | boolean | string> | undefined>;
  if (!meta.place || !meta.carry) throw new Error(`carrySeparation: ${dir} has no place/carry probe metadata (an addition run is needed)`);
  const place = meta.place as ArrayLike<number>;
  const labels: SeparationLabels = {
    place,
    carry: meta.carry as ArrayLike<boolean>,
    near: meta.text ? nearThreshold(meta.text as ArrayLike<string>, place) : undefined,
  };
  const events: PolcaEvent[] = await lastValueFrom(replay(dir).pipe(toArray()));
  const builder = new TrajectoryBuilder({ kinds: [kind, 'loss'] });
  for (const e of events) builder.push(e);
  const lossId = builder.basisIds('loss')[0];
  return {
    exactLoss: carrySeparation(builder.matrix('loss', lossId)!, labels, lossId, top, delta),
    vectors: builder.basisIds(kind).map((id) => carrySeparation(builder.matrix(kind, id)!, labels, id, top, delta)),
  };
}

/**
 * Markdown table of {@link runCarrySeparation}: the exact loss first, then the
 * vectors. The newer columns come last so that the earlier ones keep their
 * positions (readers such as the demo's test pick them by index).
 */
export function formatSeparation(result: { exactLoss: VectorSeparation; vectors: readonly VectorSeparation[] }, top: number): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(2));
  const at = (x: number, step: number) => (Number.isNaN(x) ? '-' : `${f(x)} (${step})`);
  const row = (name: string, r: VectorSeparation, osc: string) =>
    `| ${name} | ${osc} | ${r.kept} | ${f(r.keptHomogeneity)} | ${f(r.topHomogeneity)} | ${f(r.topTensHundreds)} | ${f(r.bestAuc)} (${r.bestAucStep}) | ${f(r.bestNearAuc)} (${r.bestNearAucStep}) | ` +
    `${f(r.topShapeHomogeneity)} | ${at(r.bestAucTens, r.bestAucTensStep)} | ${at(r.bestAucHundreds, r.bestAucHundredsStep)} | ${f(r.topShapeTensHundreds)} |`;
  return [
    `| trajectories | oscillatory | kept | carry among kept | carry among top ${top} | of which 10s/100s | best AUC carry (step) | best AUC near threshold (step) | ` +
      `carry among top ${top} by drop over Δ = ${result.exactLoss.shapeDelta} | best AUC carry 10s (step) | best AUC carry 100s (step) | of which 10s/100s (by drop) |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    row('exact loss', result.exactLoss, '-'),
    ...result.vectors.map((r) => row(`vector ${r.basisId}`, r, r.oscillatory ? 'yes' : 'no')),
  ].join('\n');
}

if (process.argv[1]?.endsWith('carrySeparation.ts')) {
  const program = new Command()
    .argument('<dir>', 'run directory of an addition run')
    .addOption(new Option('--kind <kind>', 'trajectory kind').choices(['polca', 'polca-first', 'lca']).default('polca'))
    .option('--top <n>', 'how many of the most-decreasing datapoints to look at', Number, 200)
    .option('--delta <steps>', 'Δ in steps of the drop that ranks datapoints by shape (default 5 checkpoint intervals)', Number)
    .parse();
  const o = program.opts<{ kind: TrajectoryKind; top: number; delta?: number }>();
  runCarrySeparation(program.args[0], o.kind, o.top, o.delta)
    .then((rows) => process.stdout.write(formatSeparation(rows, o.top) + '\n'))
    .catch((e: unknown) => {
      process.stderr.write(`carrySeparation: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    });
}
