/**
 * Plain training run of the addition task (no polca), for measuring speed
 * and learning curves. Run with
 *
 *     npx tsx examples/arithmetic/train.ts --config default --backend wasm --eval-every 100 --groups
 *
 * Prints one line per evaluation (and per place/carry accuracies with
 * `--groups`), then timings; `--out file.json` saves the curves.
 *
 * @packageDocumentation
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
// The full package registers the gradients (tfjs-core alone does not).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ARITHMETIC_CONFIGS, type ArithmeticConfig, type ArithmeticConfigName } from './configs.js';
import { TASK_FORMATS, type TaskFormat } from './data.js';
import { countParams } from './model.js';
import type { ProbeReport } from './metrics.js';
import { createArithmeticTask } from './task.js';
import { readSnapshotManifest, restoreSnapshot, saveSnapshot } from './snapshots.js';
import { registerWasmKernels } from '../../src/engine/index.js';

const program = new Command()
  .name('train')
  .addOption(new Option('--config <name>', 'built-in configuration').choices(Object.keys(ARITHMETIC_CONFIGS)).default('default'))
  .addOption(new Option('--backend <name>', 'tfjs backend').choices(['wasm', 'cpu']).default('wasm'))
  .option('--steps <n>', 'training steps', Number)
  .option('--eval-every <n>', 'evaluate the probe set every n steps', Number, 100)
  .option('--groups', 'print accuracy by place and carry at every evaluation', false)
  .option('--layers <n>', 'override layers', Number)
  .option('--d <n>', 'override dModel', Number)
  .option('--heads <n>', 'override heads', Number)
  .option('--mlp <n>', 'override dMlp', Number)
  .option('--lr <x>', 'override peak learning rate', Number)
  .option('--batch <n>', 'override batch size', Number)
  .option('--wd <x>', 'override weight decay', Number)
  .option('--warmup <n>', 'override warm-up steps', Number)
  .option('--schedule <s>', 'override schedule (constant|cosine)')
  .option('--min-lr <x>', 'override minLrFactor (final lr of the cosine schedule / lr)', Number)
  .option('--seed <n>', 'override seed', Number)
  .addOption(new Option('--format <f>', 'how problems are shown (data.ts)').choices(TASK_FORMATS))
  .option('--out <file>', 'write the evaluations as JSON')
  .option('--save-dir <dir>', 'keep θ every --save-every steps there (snapshots.ts), with the optimiser state to resume from, and append each evaluation to evals.jsonl')
  .option('--save-every <n>', 'steps between snapshots', Number, 100)
  .option('--resume', 'continue from the latest snapshot in --save-dir (same flags as the run that wrote it)', false)
  .option('--no-fast-kernels', "do not install polca's wasm kernels (XNNPACK BatchMatMul)");

interface Options {
  config: ArithmeticConfigName; backend: string; steps?: number; evalEvery: number; groups: boolean;
  layers?: number; d?: number; heads?: number; mlp?: number; lr?: number; batch?: number; wd?: number;
  warmup?: number; schedule?: 'constant' | 'cosine'; minLr?: number; seed?: number; format?: TaskFormat; out?: string; fastKernels: boolean;
  saveDir?: string; saveEvery: number; resume: boolean;
}

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  await tf.setBackend(o.backend);
  await tf.ready();
  if (o.fastKernels && o.backend === 'wasm') registerWasmKernels();
  const overrides: Partial<ArithmeticConfig> = {};
  const set = <K extends keyof ArithmeticConfig>(k: K, v: ArithmeticConfig[K] | undefined): void => {
    if (v !== undefined) overrides[k] = v;
  };
  set('steps', o.steps); set('layers', o.layers); set('dModel', o.d); set('heads', o.heads); set('dMlp', o.mlp);
  set('lr', o.lr); set('batchSize', o.batch); set('weightDecay', o.wd); set('warmupSteps', o.warmup);
  set('schedule', o.schedule); set('minLrFactor', o.minLr); set('seed', o.seed); set('format', o.format);
  if (!Number.isInteger(o.saveEvery) || o.saveEvery < 1) throw new Error(`train: option --save-every must be a positive integer, got ${o.saveEvery}`);
  if (o.resume && o.saveDir === undefined) throw new Error('train: option --resume needs --save-dir');
  const task = createArithmeticTask(o.config, overrides);
  const cfg = task.config;
  let resumedAt: number | null = null;
  if (o.resume && readSnapshotManifest(o.saveDir!) !== null) {
    resumedAt = await restoreSnapshot(o.saveDir!, task);
    console.log(`resumed from the snapshot of step ${resumedAt} in ${o.saveDir}`);
  }
  console.log(`config ${JSON.stringify(cfg)}`);
  console.log(`backend ${tf.getBackend()}${o.fastKernels && o.backend === 'wasm' ? ' + polca wasm kernels' : ''}, parameters ${countParams(cfg)}`);

  const evals: { step: number; trainLoss: number; report: ProbeReport }[] = [];
  let trainMs = 0;
  let evalMs = 0;
  let evalCount = 0;
  let lossSum = 0;
  let lossCount = 0;
  const evaluate = (): void => {
    const t0 = performance.now();
    const report = task.evaluate();
    evalMs += performance.now() - t0;
    evalCount++;
    const trainLoss = lossCount > 0 ? lossSum / lossCount : NaN;
    lossSum = 0; lossCount = 0;
    evals.push({ step: task.step, trainLoss, report });
    if (o.saveDir !== undefined) {
      mkdirSync(o.saveDir, { recursive: true });
      appendFileSync(path.join(o.saveDir, 'evals.jsonl'), JSON.stringify({ step: task.step, trainLoss, report }) + '\n');
    }
    const pc = report.byPlaceCarry;
    const fmt = (x: number | undefined): string => (x === undefined ? '  -  ' : x.toFixed(3));
    console.log(
      `step ${String(task.step).padStart(5)}  train ${trainLoss.toFixed(4)}  probe ${report.all.meanLoss.toFixed(4)}` +
      `  acc ${fmt(report.all.accuracy)}  carry ${fmt(report.carry.accuracy)}  no-carry ${fmt(report.noCarry.accuracy)}` +
      `  exact ${fmt(report.exactMatch)}`,
    );
    if (o.groups) {
      console.log('      ' + Object.values(pc).map((g) => `${g.name} ${fmt(g.accuracy)}/${g.meanLoss.toFixed(3)}`).join('  '));
    }
  };

  if (resumedAt === null) {
    evaluate();
    if (o.saveDir !== undefined) await saveSnapshot(o.saveDir, task);
  }
  const t0 = performance.now();
  const first = task.step;
  for (let i = first; i < cfg.steps; i++) {
    const s = performance.now();
    lossSum += task.trainStep();
    lossCount++;
    trainMs += performance.now() - s;
    if ((i + 1) % o.evalEvery === 0 || i + 1 === cfg.steps) evaluate();
    if (o.saveDir !== undefined && ((i + 1) % o.saveEvery === 0 || i + 1 === cfg.steps)) await saveSnapshot(o.saveDir, task);
  }
  const wall = (performance.now() - t0) / 1000;

  // Probe forward alone (per-token losses of all probe datapoints), averaged over a few calls.
  const reps = 5;
  const p0 = performance.now();
  for (let r = 0; r < reps; r++) {
    const l = task.probeLosses();
    l.dataSync();
    l.dispose();
  }
  const probeMs = (performance.now() - p0) / reps;
  const reached = (thr: number, pick: (r: ProbeReport) => number): number | null =>
    evals.find((e) => pick(e.report) >= thr)?.step ?? null;
  console.log(`ms/step ${(trainMs / Math.max(cfg.steps - first, 1)).toFixed(2)}  ms/probe-forward(${task.probe.size * 4} tokens) ${probeMs.toFixed(1)}` +
    `  ms/evaluate ${(evalMs / evalCount).toFixed(1)}  wall ${wall.toFixed(1)} s`);
  console.log(`first step with probe token accuracy ≥ 0.95: ${reached(0.95, (r) => r.all.accuracy)}, ≥ 0.99: ${reached(0.99, (r) => r.all.accuracy)}`);
  for (const name of Object.keys(evals[0]?.report.byPlaceCarry ?? {})) {
    console.log(`  ${name.padEnd(16)} ≥ 0.95 at ${reached(0.95, (r) => r.byPlaceCarry[name].accuracy)}`);
  }
  if (o.out !== undefined) writeFileSync(o.out, JSON.stringify({ config: cfg, backend: tf.getBackend(), evals }, null, 1));
  task.dispose();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
