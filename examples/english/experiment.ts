/**
 * The English experiment end to end: train the language model with polca
 * watching, log the run to an Arrow run directory, cluster it
 * (`clustersCommand`) and label every cluster by part of speech (METHOD.md
 * §5: per position the smallest tag set covering 70 %, labels needing more
 * than two tags dropped) with the ten contexts nearest its medoid.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import { clusterBreaks } from '../../src/analysis/index.js';
import { clustersCommand, type ClustersResult } from '../../src/report/index.js';
import { attachSinks } from '../../src/run/index.js';
import { createPolca, type TrajectoryKind } from '../../src/index.js';
import { labelCluster, type LabelledCluster } from './posLabels.js';
import type { EnglishConfig, EnglishConfigName } from './configs.js';
import type { BrownDocument } from './corpus.js';
import { probeTagRows } from './data.js';
import { countLmParams } from './model.js';
import { createEnglishTask } from './task.js';

/** Options of {@link runEnglish}. */
export interface RunEnglishOptions {
  /** Configuration or its name. Default `default`. */
  config?: EnglishConfig | EnglishConfigName;
  /** Fields replacing those of the configuration. */
  overrides?: Partial<EnglishConfig>;
  /** Run directory (replaced if it holds a run). */
  dir: string;
  /** POLCA checkpoint interval in steps. Default 40. */
  every?: number;
  /** Basis checkpoint interval in steps (a multiple of `every`). Default 200. */
  basisEvery?: number;
  /** Vectors added per basis checkpoint. Default 2 (the paper: 1, with 30 vectors in all; more per checkpoint give a small run more non-oscillatory directions). */
  basisK?: number;
  /** Most basis vectors. Default 10. */
  maxVectors?: number;
  /** Most Hessian-vector products per basis checkpoint. Default 30. */
  lanczosMaxIter?: number;
  /**
   * HDBSCAN min_cluster_size. Default round(0.01·N). The paper's English
   * ratio (300 at N = 12,600, i.e. 0.024·N) with min_samples N/15 left every
   * kept token an outlier in this small model's runs (see RESULTS.md).
   */
  minClusterSize?: number;
  /** HDBSCAN min_samples. Default round(0.005·N), at least 2. */
  minSamples?: number;
  /** Trajectory kinds to cluster; the labels are made for every one. Default `['polca']`. */
  kinds?: TrajectoryKind[];
  /** Already loaded corpus documents (to share one load between runs). */
  documents?: readonly BrownDocument[];
  /** Called with a line of progress now and then. */
  log?: (line: string) => void;
}

/** One labelled cluster of one basis vector. */
export interface EnglishCluster extends LabelledCluster {
  kind: TrajectoryKind;
  basisId: number;
  size: number;
  /** Step of the largest acceleration of the cluster's median curve (eq. 6), when there are enough checkpoints. */
  breakStep?: number;
  /** Whether the members' mean break time is past τ (eq. 7). */
  hidden?: boolean;
}

/** What {@link runEnglish} produced. */
export interface EnglishRunResult {
  dir: string;
  config: EnglishConfig;
  numParams: number;
  /** Mean probe loss at the first and last checkpoint. */
  probeLoss: { first: number; last: number };
  basisVectors: number;
  clusters: ClustersResult;
  labelled: EnglishCluster[];
  /** Markdown: the run summary and every cluster with its label and medoid contexts. */
  report: string;
  seconds: { train: number; polca: number; cluster: number; total: number };
}

/**
 * Trains, logs, clusters and labels (see the module comment).
 *
 * @example
 * ```ts
 * await tf.setBackend('wasm');
 * const r = await runEnglish({ config: 'quick', dir: 'runs/english-quick' });
 * console.log(r.report);
 * ```
 */
export async function runEnglish(options: RunEnglishOptions): Promise<EnglishRunResult> {
  const log = options.log ?? (() => undefined);
  const t0 = performance.now();
  const task = createEnglishTask(options.config ?? 'default', options.overrides ?? {}, options.documents);
  const cfg = task.config;
  const every = options.every ?? 40;
  const basisEvery = options.basisEvery ?? 200;
  const maxVectors = options.maxVectors ?? 10;
  const numParams = countLmParams(cfg);
  const N = task.probe.rows.length;
  const model = `english ${cfg.name}: ${cfg.layers}-layer causal transformer, d=${cfg.dModel}, ${cfg.heads} heads, MLP ${cfg.dMlp}, T=${cfg.seqLen}, word vocabulary ${cfg.vocabSize}; Brown corpus`;
  log(`${model}; P = ${numParams}, probe N = ${N}, Hessian sample ${cfg.hessianWindows}×${cfg.seqLen} tokens, backend ${tf.getBackend()}`);

  let trainMs = 0;
  let polcaMs = 0;
  const meanLoss: number[] = [];
  try {
    const tracker = createPolca({
      params: task.params,
      probe: () => task.probeLosses(),
      hessianLoss: () => task.hessianLoss(),
      every,
      basis: { kind: 'hessian', every: basisEvery, k: options.basisK ?? 2, maxVectors },
      secondOrder: 'paper',
      lanczos: { maxIter: options.lanczosMaxIter ?? 30 },
      seed: cfg.seed + 7,
      model,
    });
    tracker.events$.subscribe({
      next: (e) => {
        if (e.type === 'checkpoint') meanLoss.push(e.meanLoss);
        if (e.type === 'basis') log(`  basis vector ${e.id} at step ${e.step}: eigenvalue ${e.eigenvalue.toPrecision(4)}, ${e.hvps} HVPs`);
      },
      error: () => undefined,
    });
    const sinks = await attachSinks(tracker, { log: { dir: options.dir, probeMeta: task.probeMeta, overwrite: true } });
    let p = performance.now();
    let lossSum = 0;
    try {
      await tracker.step(0);
      polcaMs += performance.now() - p;
      for (let s = 1; s <= cfg.steps; s++) {
        const lr = task.optimizer.currentLr;
        const q = performance.now();
        const loss = task.trainStep();
        trainMs += performance.now() - q;
        lossSum += loss;
        p = performance.now();
        await tracker.step(s, { loss, lr });
        polcaMs += performance.now() - p;
        if (s % 100 === 0 || s === cfg.steps) {
          log(`step ${s}: train loss ${(lossSum / (s % 100 === 0 ? 100 : s % 100)).toFixed(3)}, probe loss ${meanLoss[meanLoss.length - 1]?.toFixed(3)}, ` +
            `train ${(trainMs / 1000).toFixed(0)} s, polca ${(polcaMs / 1000).toFixed(0)} s, basis ${tracker.basisSize}`);
          lossSum = 0;
        }
      }
    } catch (e) {
      // End the run so the log is closed (with the cause) before rethrowing.
      await tracker.close().catch(() => undefined);
      await sinks.closed.catch(() => undefined);
      throw e;
    }
    await tracker.close();
    await sinks.closed;
    const basisVectors = tracker.basisSize;

    const c0 = performance.now();
    const kinds = options.kinds ?? ['polca'];
    const minClusterSize = options.minClusterSize ?? Math.max(2, Math.round(0.01 * N));
    const minSamples = options.minSamples ?? Math.max(2, Math.round(0.005 * N));
    const clusters = await clustersCommand(options.dir, { kinds, minClusterSize, minSamples });
    const tags = probeTagRows(task.probeMeta);
    const labelled: EnglishCluster[] = [];
    for (const kind of kinds) {
      for (const c of clusters.clusterings.get(kind) ?? []) {
        if (c.oscillatory || c.event.clusters.length === 0) continue;
        let breaks: ReturnType<typeof clusterBreaks> = [];
        try {
          breaks = clusterBreaks(c.event, c.trajectories, { delta: clusters.delta, tau: clusters.tau, round: true });
        } catch {
          // Too few checkpoints along a late vector for a window of Δ on both sides.
        }
        c.event.clusters.forEach((cluster, i) => {
          const l = labelCluster(cluster, c.trajectories, tags, task.probeMeta.context);
          labelled.push({ ...l, kind, basisId: c.event.basisId, size: cluster.members.length, breakStep: breaks[i]?.median.step, hidden: breaks[i]?.hidden });
        });
      }
    }
    const clusterMs = performance.now() - c0;
    const result: Omit<EnglishRunResult, 'report'> = {
      dir: options.dir,
      config: cfg,
      numParams,
      probeLoss: { first: meanLoss[0], last: meanLoss[meanLoss.length - 1] },
      basisVectors,
      clusters,
      labelled,
      seconds: { train: trainMs / 1000, polca: polcaMs / 1000, cluster: clusterMs / 1000, total: (performance.now() - t0) / 1000 },
    };
    return { ...result, report: englishReport(result, { every, basisEvery, N, minClusterSize, minSamples }) };
  } finally {
    task.dispose();
  }
}

/**
 * The markdown summary of a run: settings, timings, and per labelled
 * cluster its label, size, coverage and the ten contexts nearest its medoid
 * (clusters whose label needs more than two tags at every position are
 * listed as unlabelled).
 *
 * @example
 * ```ts
 * englishReport(result, { every: 40, basisEvery: 200, N: 2000, minClusterSize: 20, minSamples: 10 });
 * ```
 */
export function englishReport(
  r: Omit<EnglishRunResult, 'report'>,
  s: { every: number; basisEvery: number; N: number; minClusterSize: number; minSamples: number },
): string {
  const c = r.config;
  const lines: string[] = [
    `- model: ${c.layers}-layer transformer, d = ${c.dModel}, ${c.heads} heads, MLP ${c.dMlp}, context ${c.seqLen} words, vocabulary ${c.vocabSize} words; P = ${r.numParams}`,
    `- training: ${c.steps} steps of ${c.batchSize} windows, AdamW lr ${c.lr} (cosine), weight decay ${c.weightDecay}`,
    `- polca: checkpoint every ${s.every} steps, Hessian eigenvectors every ${s.basisEvery} steps (${r.basisVectors} vectors), probe N = ${s.N} held-out target words, Hessian sample ${c.hessianWindows} × ${c.seqLen} training words`,
    `- mean probe loss ${r.probeLoss.first.toFixed(3)} → ${r.probeLoss.last.toFixed(3)} nats`,
    `- HDBSCAN min_cluster_size ${s.minClusterSize}, min_samples ${s.minSamples}; Δ = ${r.clusters.delta}, τ = ${r.clusters.tau}`,
    `- time: training ${r.seconds.train.toFixed(0)} s, polca ${r.seconds.polca.toFixed(0)} s, clustering ${r.seconds.cluster.toFixed(0)} s, total ${r.seconds.total.toFixed(0)} s`,
    '',
  ];
  const withLabel = r.labelled.filter((l) => l.label.text !== undefined);
  lines.push(`${r.labelled.length} clusters, ${withLabel.length} with a POS label (positions: 3rd, 2nd, 1st predecessor, target; \`*\` = needs more than two tags).`, '');
  lines.push('| kind | basis | cluster | size | label | coverage per position | break | hidden |', '|---|---|---|---|---|---|---|---|');
  for (const l of r.labelled) {
    const cov = l.label.covered.map((x) => x.toFixed(2)).join(' ');
    lines.push(`| ${l.kind} | ${l.basisId} | ${l.clusterId} | ${l.size} | ${l.label.text ?? '(none)'} | ${cov} | ${l.breakStep ?? ''} | ${l.hidden === undefined ? '' : l.hidden ? 'yes' : 'no'} |`);
  }
  // Labelled clusters first: they are what the paper's English table shows.
  for (const l of [...withLabel, ...r.labelled.filter((x) => !withLabel.includes(x))]) {
    lines.push('', `### ${l.kind} basis ${l.basisId}, cluster ${l.clusterId}: ${l.label.text ?? '(no label)'} (${l.size} tokens)`, '');
    for (const ctx of l.contexts ?? []) lines.push(`- ${ctx}`);
  }
  return lines.join('\n');
}
