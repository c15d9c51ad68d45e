/**
 * `npm run demo`: trains the small addition transformer with `model.fit` and
 * polca watching it through `polcaCallback` — live gRPC and Prometheus
 * endpoints, an Arrow run directory, and at the end the clusters, the
 * breakthroughs and METHOD.md §5's quality table.
 *
 *   npm run demo                       # the default configuration (10–20 minutes on 2 cores)
 *   npm run demo -- --quick            # under 2 minutes, for smoke tests
 *   npm run demo -- --out runs/mine    # where the run directory goes
 *   npm run demo -- --bases none --lr 3e-4 --schedule constant   # an experiment (RESULTS.md)
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { tableToIPC } from 'apache-arrow';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { polcaCallback, SECOND_ORDERS, type PolcaEvent, type SecondOrder } from '../src/index.js';
import { registerWasmKernels } from '../src/engine/index.js';
import { defaultClusterParams, formatQualityTable, formatStratumTable, type QualityRow } from '../src/analysis/index.js';
import { clustersCommand, reportCommand } from '../src/report/index.js';
import { eventTableSchema, MANIFEST_FILE, readManifest, readTableFile } from '../src/sinks/arrow/index.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfig } from './arithmetic/configs.js';
import { carryInto, datapointMeta, makeSplits, midSumColumn, TASK_FORMATS, type ArithmeticBatch, type TaskFormat } from './arithmetic/data.js';
import { arithmeticLoss, createArithmeticLayersModel, layersData } from './arithmetic/layers.js';
import { AdamW } from './arithmetic/adamw.js';
import { arithmeticReportLabels, arithmeticTarget } from './arithmetic/evaluation.js';
import { playFrames, readFrames, readTheta, ThetaFeedCallback } from './thetaFeed.js';

/** What the demo runs: a model configuration and polca's schedule. */
export interface DemoPlan {
  config: ArithmeticConfig;
  every: number;
  basisEvery: number;
  maxVectors: number;
  probeSize: number;
  hessianSize: number;
  /**
   * Bases POLCA is also computed along, each by its own tracker watching the
   * same training (same schedule and vector count), for METHOD.md §5's
   * basis table; each writes a run directory `<out>/bases/<kind>`. They run
   * in a second process by default (see {@link DemoOptions.bases}).
   */
  compare: readonly ComparedBasis[];
  /** Basis checkpoint interval of the compared bases (fewer vectors than the Hessian basis keep the demo's time). */
  compareEvery: number;
  /** Vectors per compared basis. */
  compareMaxVectors: number;
  /**
   * Curvature estimator of the second-order POLCA term (METHOD.md §2).
   * Default `secant`: at the demo's step sizes eq. 4 (`paper`) divides by a
   * near-zero aggregate gradient change and swamps the loss change it
   * decomposes (`polca budget`, RESULTS.md); `--second-order paper` is one flag away.
   */
  secondOrder?: SecondOrder;
  /**
   * Experiment (a curriculum, no longer the paper's task): training problems
   * before this step never carry into the 10s or 100s place. Default 0.
   */
  carryFrom?: number;
  /**
   * Experiment (a second skill held out with the carry): training problems
   * before this step have no 1s, 10s or 100s column whose two digits sum to
   * 5–8, so writing those sums is a skill learned from this step on. With
   * `carryFrom` at the same step, two skills break through together and
   * their tokens' losses move alike. Default 0.
   */
  midSumsFrom?: number;
  /** HDBSCAN sizes of the tables (see {@link demoClusterSizes}). Default `scaled`. */
  clusterSizes?: 'scaled' | 'paper';
}

/** File in every run directory of the demo recording the model it trained ({@link DemoRecord}). */
export const DEMO_RECORD_FILE = 'demo.json';

/**
 * What a demo run directory needs beyond polca's own files for `polca
 * backfill` to rebuild its model (`examples/arithmetic/backfillModel.ts`):
 * the configuration after every override (shape, seed, schedule). The probe
 * set needs no record; the run's labels table holds each problem's text.
 */
export interface DemoRecord {
  config: ArithmeticConfig;
  probeSize: number;
  hessianSize: number;
}

/**
 * Writes {@link DEMO_RECORD_FILE} into `dir`, unless `dir` already holds a
 * run: then the run writer refuses the directory, and the record of the run
 * there stays as it was.
 */
function writeDemoRecord(dir: string, plan: DemoPlan): void {
  if (fs.existsSync(path.join(dir, MANIFEST_FILE))) return;
  const record: DemoRecord = { config: plan.config, probeSize: plan.probeSize, hessianSize: plan.hessianSize };
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, DEMO_RECORD_FILE), JSON.stringify(record, null, 2) + '\n');
  } catch {
    // Only backfill needs it, and the run writer reports an unwritable directory as a failed sink.
  }
}

/** Bases the demo can compare with the Hessian eigenbasis (`axis` is the LCA baseline). */
export type ComparedBasis = 'random' | 'shuffled' | 'axis' | 'movement' | 'step-covariance' | 'gradient-covariance';

/** Every {@link ComparedBasis}. */
export const COMPARED_BASES: readonly ComparedBasis[] = ['random', 'shuffled', 'axis', 'movement', 'step-covariance', 'gradient-covariance'];

/** The demo's two plans. */
export const DEMO_PLANS: Record<'default' | 'quick', DemoPlan> = {
  // The addition model with a 4× wider MLP (300,492 parameters): over four seeds it gave the paper's order,
  // by more than 0.1 on three, where the narrower model gave it on two seeds of four (RESULTS.md). To keep
  // 20 minutes: random (never an eligible cluster) left the compared bases, the Hessian basis stops at 8
  // vectors, and each compared basis at 4, all found by step 2000 (the comparison process, filling every
  // vector in over the whole run, is the longer of the demo's two).
  default: {
    config: { ...ARITHMETIC_CONFIGS.default, dMlp: 1024 }, every: 20, basisEvery: 200, maxVectors: 8, probeSize: 500, hessianSize: 256,
    compare: ['step-covariance', 'gradient-covariance'], compareEvery: 500, compareMaxVectors: 4,
  },
  quick: {
    config: { ...ARITHMETIC_CONFIGS.quick, steps: 400 }, every: 20, basisEvery: 100, maxVectors: 4, probeSize: 150, hessianSize: 100,
    compare: ['random'], compareEvery: 100, compareMaxVectors: 4,
  },
};

/** A fixed batch as the callback's `{x, y}`: one-hot inputs and class-index targets. */
function probeTensors(batch: ArithmeticBatch): { x: tf.Tensor; y: tf.Tensor } {
  const { xs, ys } = layersData(batch);
  const y = tf.argMax(ys, -1);
  ys.dispose();
  return { x: xs, y };
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The short plan (smoke tests). */
  quick?: boolean;
  /** Run directory. Default: a fresh directory under `runs/`. */
  out?: string;
  /** Start the gRPC and metrics servers. Default true. */
  serve?: boolean;
  grpcPort?: number;
  metricsPort?: number;
  /** Keep θ of every checkpoint (for `polca backfill`). */
  keepParams?: boolean;
  /** The run's name: the `run` label of its metrics. Default: the run directory's base name. */
  runName?: string;
  /** POST transitions and alerts to this URL while training. */
  webhook?: string;
  /** Body of the webhook POSTs: `json` (the event) or `slack` (`{ text }`). Default `json`. */
  webhookFormat?: 'json' | 'slack';
  /** Where the comparison bases run: `child` (default) a second process on another core, repeating the same deterministic training; `inline` in this process; `none` skips them. */
  bases?: 'child' | 'inline' | 'none';
  log?: (s: string) => void;
  /** Draw a progress bar (default: when stdout is a terminal) instead of progress lines. */
  tty?: boolean;
  /** Changes to the plan's training, for experiments (RESULTS.md lists the ones tried). */
  overrides?: DemoOverrides;
}

/** What an experiment may change in a demo plan. */
export interface DemoOverrides {
  /** Peak learning rate. */
  lr?: number;
  schedule?: 'constant' | 'cosine';
  /** Training steps. */
  steps?: number;
  /** Probe problems (4 datapoints each). */
  probeSize?: number;
  /** Data and initialisation seed. */
  seed?: number;
  /** Transformer blocks. */
  layers?: number;
  /** Model width (a multiple of the 4 heads). */
  dModel?: number;
  /** MLP hidden width. */
  dMlp?: number;
  /** Steps between POLCA checkpoints (the interval of every term); `basisEvery` and `compareEvery` must be multiples of it. */
  every?: number;
  /** Steps between Hessian eigenvectors (the plan's cap on their number stays unless `maxVectors` is given). */
  basisEvery?: number;
  /** Most Hessian eigenvectors. */
  maxVectors?: number;
  /** Train without carries into the 10s and 100s before this step (see {@link DemoPlan.carryFrom}). */
  carryFrom?: number;
  /** Train without columns summing to 5–8 before this step (see {@link DemoPlan.midSumsFrom}). */
  midSumsFrom?: number;
  /** How problems are shown to the model: the sum written out (`sequence`, default) or one digit asked for per input (`query`, Skill-it's layout). */
  format?: TaskFormat;
  /** Curvature estimator (see {@link DemoPlan.secondOrder}). */
  secondOrder?: SecondOrder;
  /** HDBSCAN sizes of the demo's tables (see {@link demoClusterSizes}). */
  clusterSizes?: 'scaled' | 'paper';
  /** Bases compared with the Hessian eigenbasis, comma-separated {@link ComparedBasis} names (`none` for none). */
  compare?: string;
  /** Steps between vectors of the compared bases. */
  compareEvery?: number;
  /** Most vectors per compared basis. */
  compareVectors?: number;
}

/**
 * HDBSCAN sizes of the demo's tables for N probe datapoints. `scaled`
 * (default): min_cluster_size 2 % of N and min_samples 0.5 % of N (40 and 10
 * at N = 2000) — a place × carry group of the probe is 10–15 % of N, and the
 * paper's min_samples = N/15 (133 here) smooths so hard that at N = 2000 no
 * vector but the first has a cluster (RESULTS.md). `paper`: the paper's
 * values scaled linearly to N, 3 % and N/15 (`defaultClusterParams`).
 */
export function demoClusterSizes(n: number, sizes: 'scaled' | 'paper' = 'scaled'): { minClusterSize: number; minSamples: number } {
  if (sizes === 'paper') return defaultClusterParams(n);
  return { minClusterSize: Math.max(2, Math.ceil(0.02 * n)), minSamples: Math.max(1, Math.ceil(0.005 * n)) };
}

/** The plan with `overrides` applied, checked. */
export function demoPlan(quick: boolean | undefined, overrides: DemoOverrides = {}): DemoPlan {
  const base = DEMO_PLANS[quick ? 'quick' : 'default'];
  const { lr, schedule, steps, probeSize, seed, layers, dModel, dMlp, every, basisEvery, maxVectors, carryFrom, midSumsFrom, format, secondOrder, clusterSizes, compare, compareEvery, compareVectors } = overrides;
  const bad = (name: string, want: string, got: unknown) => new RangeError(`demo: option '${name}' must be ${want}, got ${JSON.stringify(got)}`);
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw bad('lr', 'a positive number', lr);
  if (schedule !== undefined && schedule !== 'constant' && schedule !== 'cosine') throw bad('schedule', "'constant' or 'cosine'", schedule);
  if (every !== undefined && !(Number.isInteger(every) && every >= 1)) throw bad('every', 'a positive integer', every);
  const interval = every ?? base.every;
  if (steps !== undefined && !(Number.isInteger(steps) && steps >= 2 * interval)) throw bad('steps', `an integer ≥ ${2 * interval}`, steps);
  if (probeSize !== undefined && !(Number.isInteger(probeSize) && probeSize >= 10)) throw bad('probe', 'an integer ≥ 10', probeSize);
  if (seed !== undefined && !Number.isInteger(seed)) throw bad('seed', 'an integer', seed);
  if (layers !== undefined && !(Number.isInteger(layers) && layers >= 1)) throw bad('layers', 'a positive integer', layers);
  if (dModel !== undefined && !(Number.isInteger(dModel) && dModel > 0 && dModel % base.config.heads === 0)) {
    throw bad('d-model', `a positive multiple of the ${base.config.heads} heads`, dModel);
  }
  if (dMlp !== undefined && !(Number.isInteger(dMlp) && dMlp >= 1)) throw bad('mlp', 'a positive integer', dMlp);
  const multiple = (v: number) => Number.isInteger(v) && v > 0 && v % interval === 0;
  if (!multiple(basisEvery ?? base.basisEvery)) throw bad('basis-every', `a positive multiple of the checkpoint interval ${interval}`, basisEvery ?? base.basisEvery);
  if (!multiple(compareEvery ?? base.compareEvery)) throw bad('compare-every', `a positive multiple of the checkpoint interval ${interval}`, compareEvery ?? base.compareEvery);
  if (compareVectors !== undefined && !(Number.isInteger(compareVectors) && compareVectors >= 1)) throw bad('compare-vectors', 'a positive integer', compareVectors);
  if (maxVectors !== undefined && !(Number.isInteger(maxVectors) && maxVectors >= 1)) throw bad('max-vectors', 'a positive integer', maxVectors);
  const totalSteps = steps ?? base.config.steps;
  if (carryFrom !== undefined && !(Number.isInteger(carryFrom) && carryFrom >= 0 && carryFrom <= totalSteps)) {
    throw bad('carry-from', `an integer in [0, ${totalSteps}] (the training steps)`, carryFrom);
  }
  if (midSumsFrom !== undefined && !(Number.isInteger(midSumsFrom) && midSumsFrom >= 0 && midSumsFrom <= totalSteps)) {
    throw bad('mid-sums-from', `an integer in [0, ${totalSteps}] (the training steps)`, midSumsFrom);
  }
  if (format !== undefined && !TASK_FORMATS.includes(format)) throw bad('format', TASK_FORMATS.map((x) => `'${x}'`).join(', '), format);
  if (secondOrder !== undefined && !SECOND_ORDERS.includes(secondOrder)) throw bad('second-order', SECOND_ORDERS.map((x) => `'${x}'`).join(', '), secondOrder);
  if (clusterSizes !== undefined && clusterSizes !== 'scaled' && clusterSizes !== 'paper') throw bad('cluster-sizes', "'scaled' or 'paper'", clusterSizes);
  const compared = compare === undefined ? base.compare : compare === 'none' ? [] : compare.split(',');
  const unknown = compared.find((k) => !(COMPARED_BASES as readonly string[]).includes(k));
  if (unknown !== undefined) throw bad('compare', `'none' or a comma-separated list of ${COMPARED_BASES.map((k) => `'${k}'`).join(', ')}`, compare);
  return {
    ...base,
    compare: compared as ComparedBasis[],
    clusterSizes: clusterSizes ?? base.clusterSizes,
    secondOrder: secondOrder ?? base.secondOrder,
    every: interval,
    basisEvery: basisEvery ?? base.basisEvery,
    compareEvery: compareEvery ?? base.compareEvery,
    compareMaxVectors: compareVectors ?? base.compareMaxVectors,
    maxVectors: maxVectors ?? base.maxVectors,
    carryFrom: carryFrom ?? base.carryFrom,
    midSumsFrom: midSumsFrom ?? base.midSumsFrom,
    probeSize: probeSize ?? base.probeSize,
    config: {
      ...base.config,
      lr: lr ?? base.config.lr,
      schedule: schedule ?? base.config.schedule,
      steps: totalSteps,
      seed: seed ?? base.config.seed,
      layers: layers ?? base.config.layers,
      dModel: dModel ?? base.config.dModel,
      dMlp: dMlp ?? base.config.dMlp,
      ...(format === undefined || format === 'sequence' ? {} : { format }),
    },
  };
}

/**
 * The experiment flags, one row per {@link DemoOverrides} key: the command
 * line reads them, and the parent hands its overrides to the child process
 * through them.
 */
const EXPERIMENT_FLAGS: readonly { key: keyof DemoOverrides; flag: string; help: string; choices?: readonly string[]; text?: true }[] = [
  { key: 'lr', flag: '--lr', help: 'peak learning rate' },
  { key: 'schedule', flag: '--schedule', help: 'learning-rate schedule', choices: ['constant', 'cosine'] },
  { key: 'steps', flag: '--steps', help: 'training steps' },
  { key: 'probeSize', flag: '--probe', help: 'probe problems (4 datapoints each)' },
  { key: 'seed', flag: '--seed', help: 'data and initialisation seed' },
  { key: 'layers', flag: '--layers', help: 'transformer blocks' },
  { key: 'dModel', flag: '--d-model', help: 'model width' },
  { key: 'dMlp', flag: '--mlp', help: 'MLP hidden width' },
  { key: 'every', flag: '--every', help: 'steps between POLCA checkpoints' },
  { key: 'basisEvery', flag: '--basis-every', help: 'steps between Hessian eigenvectors' },
  { key: 'maxVectors', flag: '--max-vectors', help: 'most Hessian eigenvectors' },
  { key: 'secondOrder', flag: '--second-order', help: 'curvature estimator of the second-order term', choices: SECOND_ORDERS },
  { key: 'carryFrom', flag: '--carry-from', help: '(a curriculum) no carries into the 10s and 100s in training before this step' },
  { key: 'midSumsFrom', flag: '--mid-sums-from', help: '(a second held-out skill) no 1s, 10s or 100s column summing to 5–8 in training before this step' },
  { key: 'format', flag: '--format', help: "how problems are shown: the sum written out, or one digit asked for per input (Skill-it's layout, the paper's source)", choices: TASK_FORMATS },
  { key: 'compare', flag: '--compare', help: `bases compared with the Hessian eigenbasis: 'none' or a comma-separated list of ${COMPARED_BASES.join(', ')}`, text: true },
  { key: 'compareEvery', flag: '--compare-every', help: 'steps between vectors of the compared bases' },
  { key: 'compareVectors', flag: '--compare-vectors', help: 'most vectors per compared basis' },
  { key: 'clusterSizes', flag: '--cluster-sizes', help: "HDBSCAN sizes of the tables: 2 % / 0.5 % of N, or the paper's 3 % / N/15", choices: ['scaled', 'paper'] },
];

/** Command-line flags that reproduce `overrides` (for the child process). */
export function overrideFlags(o: DemoOverrides): string[] {
  return EXPERIMENT_FLAGS.flatMap(({ key, flag }) => (o[key] === undefined ? [] : [flag, String(o[key])]));
}

/** Problems with no carry into the 10s or the 100s place (the 1000s may still get one). */
function noCarryBelowThousands(a: number, b: number): boolean {
  return !carryInto(a, b, 1) && !carryInto(a, b, 2);
}

/** Problems with no 1s, 10s or 100s column whose two digits sum to 5–8. */
export function noMidSumColumn(a: number, b: number): boolean {
  return !midSumColumn(a, b, 0) && !midSumColumn(a, b, 1) && !midSumColumn(a, b, 2);
}

/** The training filter at `step` under the plan's curricula, or undefined when every problem is taken. */
function curriculumFilter(plan: DemoPlan, step: number): ((a: number, b: number) => boolean) | undefined {
  const noCarry = step < (plan.carryFrom ?? 0);
  const noMid = step < (plan.midSumsFrom ?? 0);
  if (noCarry && noMid) return (a, b) => noCarryBelowThousands(a, b) && noMidSumColumn(a, b);
  if (noCarry) return noCarryBelowThousands;
  if (noMid) return noMidSumColumn;
  return undefined;
}

/** Everything one training run of the demo needs; the same plan gives the same run, bit for bit. */
async function prepare(plan: DemoPlan) {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels();
  const cfg = plan.config;
  const splits = makeSplits({ seed: cfg.seed, probeSize: plan.probeSize, hessianSize: plan.hessianSize, format: cfg.format });
  const model = createArithmeticLayersModel({ ...cfg, seed: cfg.seed + 1, initStd: cfg.initStd });
  const optimizer = new AdamW({
    lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay,
    warmupSteps: cfg.warmupSteps, schedule: cfg.schedule, totalSteps: cfg.steps, minLrFactor: cfg.minLrFactor,
  });
  model.compile({ optimizer, loss: arithmeticLoss });
  const probe = probeTensors(splits.probe);
  const sample = probeTensors(splits.hessian);
  const meta = datapointMeta(splits.probe);
  const probeMeta = {
    text: meta.map((m) => m.text),
    target: meta.map((m) => m.target),
    place: Array.from(splits.probe.place),
    carry: meta.map((m) => m.carry),
  };
  const common = { probe, hessianSample: sample, fromLogits: true, every: plan.every, secondOrder: plan.secondOrder ?? 'secant' } as const;
  const fit = async (callbacks: tf.CustomCallbackArgs[] | tf.Callback[]) => {
    const batches = tf.data.generator(function* () {
      for (let i = 0; i < cfg.steps; i++) {
        const { xs, ys } = layersData(splits.train.next(cfg.batchSize, curriculumFilter(plan, i)));
        yield { xs, ys };
      }
    });
    await model.fitDataset(batches, { epochs: 1, batchesPerEpoch: cfg.steps, callbacks: callbacks as tf.Callback[], verbose: 0 });
  };
  const dispose = () => {
    tf.dispose([probe.x, probe.y, sample.x, sample.y]);
    model.dispose();
  };
  /** SHA-256 of the trained θ's float32 bytes: the same training gives the same digest, whatever watched it. */
  const thetaDigest = () => {
    const hash = createHash('sha256');
    const theta = readTheta(model);
    hash.update(new Uint8Array(theta.buffer, theta.byteOffset, theta.byteLength));
    return hash.digest('hex');
  };
  return { probeMeta, common, fit, dispose, thetaDigest, model };
}

/** A comparison tracker: the main run's schedule along another basis, logged to `<out>/bases/<kind>`. */
function comparedTracker(plan: DemoPlan, out: string, kind: ComparedBasis, setup: Awaited<ReturnType<typeof prepare>>) {
  const dir = basisDir(out, kind);
  writeDemoRecord(dir, plan);
  return {
    kind,
    dir,
    callback: polcaCallback({
      ...setup.common,
      basis: { kind, every: plan.compareEvery, k: 1, maxVectors: plan.compareMaxVectors },
      log: { dir, probeMeta: setup.probeMeta },
      derivativeCheckEvery: 5,
    }),
  };
}

/** Run directory of a compared basis. */
export function basisDir(out: string, kind: ComparedBasis): string {
  return path.join(out, 'bases', kind);
}

const BASIS_ROW: Record<ComparedBasis, string> = {
  random: 'random orthonormal',
  shuffled: 'shuffled-checkpoint Hessian',
  axis: 'axis (LCA, largest parameters)',
  movement: 'movement (θ displacement)',
  'step-covariance': 'step covariance (top of Σ d dᵀ)',
  'gradient-covariance': 'gradient covariance (top of GᵀG)',
};

/**
 * The child role of the demo: the comparison trackers, watching the parent's
 * training through the θ it sends on stdin ({@link ThetaFeedCallback}), and
 * printing `step <s>/<total>` lines for the parent. The parent trains once;
 * this process only measures. Resolves with the last step it was sent.
 */
export async function runComparedBases(o: { quick?: boolean; out: string; kinds: readonly ComparedBasis[]; overrides?: DemoOverrides; feed: AsyncIterable<Uint8Array> }): Promise<number> {
  const plan = demoPlan(o.quick, o.overrides);
  const setup = await prepare(plan);
  const trackers = o.kinds.map((k) => comparedTracker(plan, o.out, k, setup));
  const tenth = Math.max(1, Math.round(plan.config.steps / 10));
  trackers[0]?.callback.events$.subscribe((e) => {
    if (e.type === 'step' && e.step % tenth === 0) process.stdout.write(`step ${e.step}/${plan.config.steps}\n`);
  });
  try {
    return await playFrames(setup.model, trackers.map((t) => t.callback), readFrames(o.feed));
  } finally {
    for (const t of trackers) await t.callback.close();
    setup.dispose();
  }
}

/**
 * Starts {@link runComparedBases} in a child process (a second core). `feed`
 * sends it a frame; `end` says the training is over; `done` resolves when it
 * exits cleanly.
 */
function spawnComparedBases(
  o: { quick?: boolean; out: string; kinds: readonly ComparedBasis[]; overrides?: DemoOverrides },
  onLine: (line: string) => void,
): { feed: (frame: Buffer) => void; end: () => void; done: Promise<void> } {
  const args = [
    '--import', 'tsx', fileURLToPath(import.meta.url), '--compared-bases', o.kinds.join(','), '--out', o.out,
    ...(o.quick ? ['--quick'] : []), ...overrideFlags(o.overrides ?? {}),
  ];
  // stdin carries the training's θ; when it closes early the child stops, so a killed demo leaves no orphan.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop() ?? '';
    lines.forEach(onLine);
  });
  // A child that died closes the pipe: its exit code says why, and training goes on.
  child.stdin.on('error', () => undefined);
  const open = () => child.stdin.writable && child.exitCode === null;
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`demo: the comparison-bases process failed (exit ${code ?? signal}): ${stderr.trim()}`)),
    );
  });
  return {
    feed: (frame) => {
      if (open()) child.stdin.write(frame);
    },
    end: () => {
      if (open()) child.stdin.end();
    },
    done,
  };
}

/** Runs the demo; returns the run directory. */
export async function runDemo(o: DemoOptions = {}): Promise<string> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const plan = demoPlan(o.quick, o.overrides);
  const cfg = plan.config;
  const out = o.out ?? path.join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  try {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  } catch {
    // The log reports a directory it cannot make, as a failed sink, and training goes on.
  }
  const where = o.bases ?? 'child';
  const kinds = where === 'none' ? [] : plan.compare;

  const setup = await prepare(plan);
  writeDemoRecord(out, plan);
  const polca = polcaCallback({
    ...setup.common,
    basis: { kind: 'hessian', every: plan.basisEvery, k: 1, maxVectors: plan.maxVectors },
    // The fast path's exact-JVP check at every 5th checkpoint, as the compared trackers do: 1.19× the
    // two-pass floor instead of 1.43× (bench:engine), which keeps the default demo under 20 minutes.
    derivativeCheckEvery: 5,
    log: { dir: out, keepParams: o.keepParams ?? false, probeMeta: setup.probeMeta },
    serve: o.serve === false ? undefined : { grpc: { port: o.grpcPort ?? 0 }, metrics: { port: o.metricsPort ?? 0 } },
    // Live clustering and transition detection are on by default with a log or a server; here with the
    // demo's HDBSCAN sizes, which the run records so that its report uses them too. The quick plan's
    // 400 steps (21 checkpoints) need a shorter Δ and noise window to decide anything before training ends.
    analysis: {
      alerts: { signal: 'probe' },
      clusters: demoClusterSizes(plan.probeSize * 4, plan.clusterSizes),
      transitions: o.quick ? { delta: 3 * plan.every, minNoise: 10 } : {},
    },
    runName: o.runName,
    alerts: o.webhook ? { webhook: { url: o.webhook, format: o.webhookFormat ?? 'json' } } : undefined,
  });
  // The other bases watch the same training, so their rows of the basis
  // table differ only by the basis: in a child process on the second core,
  // sent θ at every checkpoint (training once, not twice), or here.
  const inline = where === 'inline' ? kinds.map((k) => comparedTracker(plan, out, k, setup)) : [];
  let childStep = '';
  // Once training is over the demo only waits, so the child's progress becomes the demo's.
  let waiting = false;
  const onChildLine = (line: string) => {
    childStep = line;
    if (waiting) log(`comparison bases: ${line}`);
  };
  const spawned =
    where === 'child' && kinds.length > 0
      ? spawnComparedBases({ quick: o.quick, out, kinds, overrides: o.overrides }, onChildLine)
      : undefined;
  const child = spawned?.done;
  // Surface a failure at once, and never leave the rejection unhandled while training runs.
  let childError: unknown;
  child?.catch((e: unknown) => (childError = e));
  const feed = spawned ? [new ThetaFeedCallback(plan.every, spawned.feed)] : [];

  const bar = progress(cfg.steps, o.tty ?? process.stdout.isTTY === true, log);
  let basis = 0;
  polca.events$.subscribe({
    next: (e: PolcaEvent) => {
      if (e.type === 'run-start') {
        log(`polca: P = ${e.numParams} parameters, N = ${e.numProbe} probe datapoints, backend ${e.backend}, HVP ${e.hvpMode} (${e.hvpReason})`);
        const s = polca.server;
        if (s) log(`live: gRPC 127.0.0.1:${s.grpcPort} (polca.v1.Polca), metrics http://127.0.0.1:${s.metricsPort}/metrics`);
        log(`run directory: ${out}`);
        if (kinds.length > 0) log(`also along: ${kinds.map((k) => `${k} basis (${basisDir(out, k)})`).join(', ')}${child ? ', in a second process' : ''}`);
        bar.start();
      } else if (e.type === 'step') {
        bar.update(e.step, { loss: e.loss !== undefined ? e.loss.toFixed(3) : '-', basis });
      } else if (e.type === 'basis') {
        basis = e.id + 1;
      } else if (e.type === 'alert' || e.type === 'transition') {
        bar.phase(e.type === 'alert' ? `alert: ${e.rule}` : `breakthrough at ${e.step}`);
      }
    },
    error: () => bar.stop(),
    complete: () => bar.stop(),
  });

  // The feed goes first, so that the child measures a checkpoint while this process measures it too.
  try {
    await setup.fit([...feed, polca, ...inline.map((c) => c.callback)]);
  } finally {
    spawned?.end();
  }
  const ended = await polca.close();
  for (const c of inline) await c.callback.close();
  log(`trained θ: sha256 ${setup.thetaDigest()}`);
  setup.dispose();
  // Observers never stop training; a sink that failed said so as it happened, and here what it cost.
  for (const f of ended.sinks?.failures ?? []) log(`the ${f.sink === 'log' ? 'log' : 'server'} stopped at step ${f.step}: ${f.reason} (${f.lostEvents} events lost); training went on`);
  if (ended.trackerError) log(`polca stopped tracking: ${ended.trackerError.message}; training went on`);
  if (ended.sinks?.log && ended.sinks.log.status !== 'closed') {
    child?.catch(() => undefined);
    log(`the run directory ${out} is incomplete (${ended.sinks.log.status}): no clusters or report from it`);
    return out;
  }
  if (child) {
    if (!childError) log(`waiting for the comparison bases (${childStep || 'starting'})`);
    waiting = true;
    await child;
  }

  for (const dir of [out, ...kinds.map((k) => basisDir(out, k))]) {
    // A second copy for other readers: failing to write it costs nothing the run directory needs.
    await writePolcaIpcFile(dir).catch((e: unknown) => log(`could not write ${path.join(dir, 'polca.ipc')}: ${(e as Error).message}`));
  }

  log('');
  const sizes = demoClusterSizes(plan.probeSize * 4, plan.clusterSizes);
  log(`HDBSCAN: min_cluster_size ${sizes.minClusterSize}, min_samples ${sizes.minSamples} (${plan.clusterSizes ?? 'scaled'} sizes for N = ${plan.probeSize * 4})`);
  const result = await clustersCommand(out, { ...sizes, quality: arithmeticTarget });
  log(result.text);
  const label = (kind: string, basis: string) => `${basis}, ${kind === 'polca' ? `POLCA (${plan.secondOrder ?? 'secant'})` : 'first-order POLCA'}`;
  const pick = (q: typeof result.quality, basis: string) =>
    (q ?? []).filter((r) => r.kind === 'polca' || r.kind === 'polca-first').map((r) => ({ ...r, kind: label(r.kind, basis) }));
  const rows = pick(result.quality, 'hessian (top eigenvectors)');
  for (const k of kinds) {
    // Same Δ, τ and sizes as the main run: the same training, so the same flat point.
    const r = await clustersCommand(basisDir(out, k), { kinds: ['polca', 'polca-first'], delta: result.delta, tau: result.tau, ...sizes, quality: arithmeticTarget });
    rows.push(...pick(r.quality, BASIS_ROW[k]));
  }
  if (rows.length > 1) log(['', '## POLCA by basis (METHOD.md §5)', formatQualityTable(rows).replace('| trajectories |', '| POLCA basis |')].join('\n'));
  const lossRow = result.quality?.find((r) => r.kind === 'loss');
  // A cluster of one place is about as carry-homogeneous as that place's carry rate, found or not.
  const beyond = formatStratumTable([...rows, ...(lossRow ? [lossRow] : [])]);
  if (beyond) log(['', "## Beyond place: the homogeneity each best cluster's places alone explain", beyond.replace('| trajectories |', '| POLCA basis |')].join('\n'));
  log(paperOrder(rows, lossRow));
  const report = await reportCommand(out, { compare: kinds.map((k) => basisDir(out, k)), labels: arithmeticReportLabels });
  log(`report: ${report}`);
  return out;
}

/**
 * The paper's order (METHOD.md §5) in one line: the best eligible POLCA
 * cluster's carry homogeneity over every basis and estimator, against the
 * best eligible exact-loss cluster's at the same HDBSCAN sizes. The paper has
 * 0.973 against 0.514; a difference above zero is its order.
 */
export function paperOrder(
  polca: readonly Pick<QualityRow, 'kind' | 'topHomogeneity'>[],
  loss: Pick<QualityRow, 'topHomogeneity'> | undefined,
): string {
  let best: { kind: string; h: number } | undefined;
  for (const r of polca) {
    const h = r.topHomogeneity[0];
    if (h !== undefined && (best === undefined || h > best.h)) best = { kind: r.kind, h };
  }
  const exact = loss?.topHomogeneity[0];
  const show = (h: number | undefined) => (h === undefined ? 'no eligible cluster' : h.toFixed(3));
  const diff = best !== undefined && exact !== undefined ? `, difference ${best.h - exact >= 0 ? '+' : ''}${(best.h - exact).toFixed(3)}` : '';
  return `paper's order (best eligible carry homogeneity): POLCA ${show(best?.h)}${best ? ` (${best.kind})` : ''}, exact loss ${show(exact)}${diff}`;
}

/**
 * Writes a finished run's POLCA table a second time, as `polca.ipc` in the
 * Arrow IPC *file* format (the `ARROW1` magic and a footer), beside the
 * `polca.arrows` stream that run.json names: readers that take `.ipc` as a
 * file (polars' `read_ipc`, pyarrow's `ipc.open_file`) need the footer, and
 * the discovery issue names that file. Written under a temporary name and
 * renamed, so a crash leaves the previous file or none, never half of one.
 */
export async function writePolcaIpcFile(dir: string): Promise<void> {
  const manifest = await readManifest(dir, 'demo');
  const table = manifest.tables.polca;
  if (table === 'polca.ipc') return;
  const { table: polcaTable } = await readTableFile(path.join(dir, table), eventTableSchema('polca', manifest.layout ?? 1), 'demo');
  const to = path.join(dir, 'polca.ipc');
  const partial = `${to}.partial`;
  try {
    fs.writeFileSync(partial, tableToIPC(polcaTable, 'file'));
    fs.renameSync(partial, to);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/** Progress of the training: a bar on a terminal, a line per tenth of the run otherwise (logs, CI). */
function progress(total: number, tty: boolean, log: (s: string) => void) {
  const values = { loss: '-', basis: 0 as number, phase: '' };
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: 'training |{bar}| {value}/{total} steps | loss {loss} | basis {basis} | {phase}', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const t0 = Date.now();
  let nextLine = 0;
  return {
    start: () => bar?.start(total, 0, values),
    update(step: number, v: { loss: string; basis: number }) {
      Object.assign(values, v);
      bar?.update(step, values);
      if (!bar && step >= nextLine) {
        const s = (Date.now() - t0) / 1000;
        const eta = step > 0 ? ` eta ${Math.round((s * (total - step)) / step)} s` : '';
        log(`training ${step}/${total} steps, loss ${values.loss}, basis ${values.basis}, ${s.toFixed(0)} s${eta}${values.phase ? `, ${values.phase}` : ''}`);
        nextLine += Math.max(1, Math.round(total / 10));
      }
    },
    phase(p: string) {
      values.phase = p;
      bar?.update(values);
    },
    stop: () => bar?.stop(),
  };
}

/** The demo's command-line options, parsed. */
export interface DemoArgs {
  quick?: boolean;
  out?: string;
  serve: boolean;
  keepParams?: boolean;
  runName?: string;
  webhook?: string;
  webhookFormat?: 'json' | 'slack';
  grpc?: number;
  metrics?: number;
  bases: 'child' | 'inline' | 'none';
  /** Set in the child role only. */
  comparedBases?: string;
  overrides: DemoOverrides;
}

/**
 * Parses the demo's arguments (without the node and script entries).
 * Experiment flags land in `overrides`, so {@link overrideFlags} and this
 * round-trip.
 */
export function parseDemoArgs(argv: readonly string[]): DemoArgs {
  const program = new Command()
    .name('npm run demo --')
    .exitOverride()
    .option('--quick', 'a short run for smoke tests (under 2 minutes)')
    .option('--out <dir>', 'run directory (default: a fresh directory under runs/)')
    .option('--no-serve', 'do not start the gRPC and metrics servers')
    .option('--grpc <port>', 'gRPC port (default: any free port)', (v) => Number(v))
    .option('--metrics <port>', 'Prometheus metrics port (default: any free port)', (v) => Number(v))
    .option('--keep-params', 'keep θ of every checkpoint for `polca backfill` (4·P bytes per checkpoint)')
    .option('--run-name <name>', "the run label of the metrics (default: the run directory's name)")
    .option('--webhook <url>', 'POST breakthroughs and alerts to this URL while training')
    .addOption(new Option('--webhook-format <format>', 'webhook body: the event as JSON, or a Slack message').choices(['json', 'slack']).default('json'))
    .addOption(new Option('--bases <where>', 'where the comparison bases run').choices(['child', 'inline', 'none']).default('child'))
    .addOption(new Option('--compared-bases <kinds>', 'internal: the child role, watching the training along these bases').hideHelp());
  const experiments = EXPERIMENT_FLAGS.map((f) => {
    const option = new Option(`${f.flag} <value>`, `experiment: ${f.help}`);
    program.addOption(f.choices ? option.choices(f.choices) : f.text ? option : option.argParser(Number));
    return { key: f.key, name: option.attributeName() };
  });
  program.parse([...argv], { from: 'user' });
  const values = program.opts<Record<string, unknown>>();
  const overrides = Object.fromEntries(experiments.flatMap(({ key, name }) => (values[name] === undefined ? [] : [[key, values[name]]])));
  return { ...program.opts<Omit<DemoArgs, 'overrides'>>(), overrides };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('demo.ts')) {
  let opts: DemoArgs;
  try {
    opts = parseDemoArgs(process.argv.slice(2));
  } catch (e) {
    // commander has printed the message or the help.
    process.exit((e as { exitCode?: number }).exitCode ?? 1);
  }
  const { overrides } = opts;
  const run = opts.comparedBases
    ? runComparedBases({ quick: opts.quick, out: opts.out!, kinds: opts.comparedBases.split(',') as ComparedBasis[], overrides, feed: process.stdin }).then((last) => {
        const total = demoPlan(opts.quick, overrides).config.steps;
        if (last < total) {
          process.stderr.write(`demo: the parent process is gone after step ${last} of ${total}; the comparison bases stopped there\n`);
          process.exitCode = 2;
        }
      })
    : runDemo({ ...opts, grpcPort: opts.grpc, metricsPort: opts.metrics, overrides });
  run
    .catch((e: unknown) => {
      process.stderr.write(`demo: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = 1;
    })
    // Stop watching the parent's pipe, which would keep this process alive.
    .finally(() => process.stdin.destroy());
}
