/**
 * `npm run demo`: trains the small addition transformer with `model.fit` and
 * polca watching it through `polcaCallback` — live gRPC and Prometheus
 * endpoints, an Arrow run directory, and at the end the clusters, the
 * breakthroughs and METHOD.md §5's quality table.
 *
 *   npm run demo                       # the default configuration (about 15 minutes on 2 cores)
 *   npm run demo -- --quick            # under 2 minutes, for smoke tests
 *   npm run demo -- --out runs/mine    # where the run directory goes
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { polcaCallback } from '../src/tracker/polcaCallback.js';
import { registerWasmKernels } from '../src/engine/wasm/registerWasmKernels.js';
import { clustersCommand } from '../src/cli/clustersCommand.js';
import { reportCommand } from '../src/report/index.js';
import type { PolcaEvent } from '../src/stream/events.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfig } from './arithmetic/configs.js';
import { datapointMeta, makeSplits, type ArithmeticBatch } from './arithmetic/data.js';
import { arithmeticLoss, createArithmeticLayersModel, layersData } from './arithmetic/layers.js';
import { AdamW } from './arithmetic/adamw.js';

/** What the demo runs: a model configuration and polca's schedule. */
export interface DemoPlan {
  config: ArithmeticConfig;
  every: number;
  basisEvery: number;
  maxVectors: number;
  probeSize: number;
  hessianSize: number;
}

/** The demo's two plans. */
export const DEMO_PLANS: Record<'default' | 'quick', DemoPlan> = {
  default: { config: ARITHMETIC_CONFIGS.default, every: 20, basisEvery: 200, maxVectors: 15, probeSize: 500, hessianSize: 256 },
  quick: { config: { ...ARITHMETIC_CONFIGS.quick, steps: 400 }, every: 20, basisEvery: 100, maxVectors: 4, probeSize: 150, hessianSize: 100 },
};

function targetsOf(batch: ArithmeticBatch): tf.Tensor {
  const { ys } = layersData(batch);
  const y = tf.argMax(ys, -1);
  ys.dispose();
  return y;
}

/** Runs the demo; returns the run directory. */
export async function runDemo(o: { quick?: boolean; out?: string; serve?: boolean; grpcPort?: number; metricsPort?: number; keepParams?: boolean; log?: (s: string) => void }): Promise<string> {
  const log = o.log ?? ((s: string) => process.stdout.write(s + '\n'));
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels();
  const plan = DEMO_PLANS[o.quick ? 'quick' : 'default'];
  const cfg = plan.config;
  const out = o.out ?? path.join('runs', `demo-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });

  const splits = makeSplits({ seed: cfg.seed, probeSize: plan.probeSize, hessianSize: plan.hessianSize });
  const model = createArithmeticLayersModel({ ...cfg, seed: cfg.seed + 1, initStd: cfg.initStd });
  const optimizer = new AdamW({
    lr: cfg.lr, beta1: cfg.beta1, beta2: cfg.beta2, weightDecay: cfg.weightDecay,
    warmupSteps: cfg.warmupSteps, schedule: cfg.schedule, totalSteps: cfg.steps, minLrFactor: cfg.minLrFactor,
  });
  model.compile({ optimizer, loss: arithmeticLoss });

  const probe = { x: layersData(splits.probe).xs, y: targetsOf(splits.probe) };
  const sample = { x: layersData(splits.hessian).xs, y: targetsOf(splits.hessian) };
  const meta = datapointMeta(splits.probe);
  const polca = polcaCallback({
    probe,
    hessianSample: sample,
    fromLogits: true,
    every: plan.every,
    basis: { kind: 'hessian', every: plan.basisEvery, k: 1, maxVectors: plan.maxVectors },
    secondOrder: 'paper',
    log: {
      dir: out,
      keepParams: o.keepParams ?? false,
      probeMeta: {
        text: meta.map((m) => m.text),
        target: meta.map((m) => m.target),
        place: Array.from(splits.probe.place),
        carry: meta.map((m) => m.carry),
      },
    },
    serve: o.serve === false ? undefined : { grpc: { port: o.grpcPort ?? 0 }, metrics: { port: o.metricsPort ?? 0 } },
    analysis: { alerts: { signal: 'probe' } },
  });

  const bar = new cliProgress.SingleBar(
    { format: 'training |{bar}| {value}/{total} steps | loss {loss} | basis {basis} | {phase}', hideCursor: true, noTTYOutput: true, notTTYSchedule: 5000 },
    cliProgress.Presets.shades_classic,
  );
  let basis = 0;
  polca.events$.subscribe({
    next: (e: PolcaEvent) => {
      if (e.type === 'run-start') {
        log(`polca: P = ${e.numParams} parameters, N = ${e.numProbe} probe datapoints, backend ${e.backend}, HVP ${e.hvpMode} (${e.hvpReason})`);
        const s = polca.server;
        if (s) log(`live: gRPC 127.0.0.1:${s.grpcPort} (polca.v1.Polca), metrics http://127.0.0.1:${s.metricsPort}/metrics`);
        log(`run directory: ${out}`);
        bar.start(cfg.steps, 0, { loss: '-', basis: 0, phase: '' });
      } else if (e.type === 'step') {
        bar.update(e.step, { loss: e.loss !== undefined ? e.loss.toFixed(3) : '-', basis, phase: '' });
      } else if (e.type === 'basis') {
        basis = e.id + 1;
      } else if (e.type === 'alert' || e.type === 'transition') {
        bar.update({ phase: e.type === 'alert' ? `alert: ${e.rule}` : `breakthrough at ${e.step}` });
      }
    },
    error: () => bar.stop(),
    complete: () => bar.stop(),
  });

  const batches = tf.data.generator(function* () {
    for (let i = 0; i < cfg.steps; i++) {
      const b = splits.train.next(cfg.batchSize);
      const { xs, ys } = layersData(b);
      yield { xs, ys };
    }
  });
  await model.fitDataset(batches, { epochs: 1, batchesPerEpoch: cfg.steps, callbacks: [polca], verbose: 0 });
  await polca.close();
  tf.dispose([probe.x, probe.y, sample.x, sample.y]);
  model.dispose();

  log('');
  const result = await clustersCommand(out, {});
  log(result.text);
  const report = await reportCommand(out, {});
  log(`report: ${report}`);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('demo.ts')) {
  const program = new Command()
    .option('--quick', 'a short run for smoke tests (under 2 minutes)')
    .option('--out <dir>', 'run directory (default: a fresh directory under runs/)')
    .option('--no-serve', 'do not start the gRPC and metrics servers')
    .option('--grpc <port>', 'gRPC port (default: any free port)', (v) => Number(v))
    .option('--metrics <port>', 'Prometheus metrics port (default: any free port)', (v) => Number(v))
    .option('--keep-params', 'keep θ of every checkpoint for `polca backfill` (4·P bytes per checkpoint)')
    .parse();
  const opts = program.opts<{ quick?: boolean; out?: string; serve: boolean; keepParams?: boolean; grpc?: number; metrics?: number }>();
  runDemo({ ...opts, grpcPort: opts.grpc, metricsPort: opts.metrics }).catch((e: unknown) => {
    process.stderr.write(`demo: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
