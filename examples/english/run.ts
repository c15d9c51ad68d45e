/**
 * Trains the English language model on the Brown corpus with polca
 * watching, writes the run directory, clusters it and prints every cluster
 * with its part-of-speech label and the ten contexts nearest its medoid.
 *
 *     npx tsx examples/english/run.ts [--quick] [--out runs/english]
 *
 * @packageDocumentation
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../src/engine/index.js';
import { ENGLISH_CONFIGS, type EnglishConfig, type EnglishConfigName } from './configs.js';
import { runEnglish } from './experiment.js';

const program = new Command()
  .name('english')
  .option('--quick', 'the small quick configuration (a minute or two)', false)
  .addOption(new Option('--config <name>', 'built-in configuration').choices(Object.keys(ENGLISH_CONFIGS)))
  .option('--out <dir>', 'run directory (default runs/english-<config>)')
  .option('--steps <n>', 'override training steps', Number)
  .option('--probe <n>', 'override probe size', Number)
  .option('--every <n>', 'POLCA checkpoint interval', Number)
  .option('--basis-every <n>', 'Hessian basis interval', Number)
  .option('--k <n>', 'basis vectors added per basis checkpoint', Number)
  .option('--max-vectors <n>', 'most basis vectors', Number)
  .option('--min-cluster-size <n>', 'HDBSCAN min_cluster_size', Number)
  .option('--min-samples <n>', 'HDBSCAN min_samples', Number)
  .option('--lr <x>', 'override peak learning rate', Number)
  .option('--wd <x>', 'override weight decay', Number)
  .option('--batch <n>', 'override batch size (windows per step)', Number)
  .option('--seed <n>', 'override seed', Number);

interface Options {
  quick: boolean; config?: EnglishConfigName; out?: string; steps?: number; probe?: number; every?: number;
  basisEvery?: number; k?: number; maxVectors?: number; minClusterSize?: number; minSamples?: number; seed?: number;
  lr?: number; wd?: number; batch?: number;
}

async function main(): Promise<void> {
  const o = program.parse().opts<Options>();
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels();
  const name: EnglishConfigName = o.config ?? (o.quick ? 'quick' : 'default');
  const overrides: Partial<EnglishConfig> = {};
  if (o.steps !== undefined) overrides.steps = o.steps;
  if (o.probe !== undefined) overrides.probeSize = o.probe;
  if (o.seed !== undefined) overrides.seed = o.seed;
  if (o.lr !== undefined) overrides.lr = o.lr;
  if (o.wd !== undefined) overrides.weightDecay = o.wd;
  if (o.batch !== undefined) overrides.batchSize = o.batch;
  const quick = name !== 'default';
  const dir = o.out ?? path.join('runs', `english-${name}`);
  const r = await runEnglish({
    config: name,
    overrides,
    dir,
    every: o.every ?? (quick ? 10 : 40),
    basisEvery: o.basisEvery ?? (quick ? 60 : 200),
    basisK: o.k,
    maxVectors: o.maxVectors ?? (quick ? 6 : 10),
    minClusterSize: o.minClusterSize,
    minSamples: o.minSamples,
    log: (line) => console.log(line),
  });
  console.log('');
  console.log(r.clusters.text);
  console.log('');
  console.log(r.report);
  mkdirSync(path.join(dir, 'analysis'), { recursive: true });
  writeFileSync(path.join(dir, 'analysis', 'pos-labels.md'), r.report + '\n');
  console.log(`\nlabels written to ${path.join(dir, 'analysis', 'pos-labels.md')}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
