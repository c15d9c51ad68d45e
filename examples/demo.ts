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
import { formatQualityTable } from '../src/analysis/quality.js';
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
  /**
   * Bases POLCA is also computed along, each by its own tracker watching the
   * same training (same schedule and vector count), for METHOD.md §5's
   * basis table; each writes a run directory `<out>/bases/<kind>`.
   */
  compare: readonly ComparedBasis[];
}

/** Bases the demo can compare with the Hessian eigenbasis (`axis` is the LCA baseline). */
export type ComparedBasis = 'random' | 'shuffled' | 'axis';

/** The demo's two plans. */
export const DEMO_PLANS: Record<'default' | 'quick', DemoPlan> = {
  default: { config: ARITHMETIC_CONFIGS.default, every: 20, basisEvery: 200, maxVectors: 15, probeSize: 500, hessianSize: 256, compare: ['random', 'shuffled', 'axis'] },
  quick: { config: { ...ARITHMETIC_CONFIGS.quick, steps: 400 }, every: 20, basisEvery: 100, maxVectors: 4, probeSize: 150, hessianSize: 100, compare: ['random'] },
};

function targetsOf(batch: ArithmeticBatch): tf.Tensor {
  const { ys } = layersData(batch);
  const y = tf.argMax(ys, -1);
  ys.dispose();
  return y;
}

/** Runs the demo; returns the run directory. */
export async function runDemo(o: { quick?: boolean; out?: string; serve?: boolean; grpcPort?: number; metricsPort?: number; keepParams?: boolean; log?: (s: string) => void; tty?: boolean }): Promise<string> {
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
  const probeMeta = {
    text: meta.map((m) => m.text),
    target: meta.map((m) => m.target),
    place: Array.from(splits.probe.place),
    carry: meta.map((m) => m.carry),
  };
  const common = { probe, hessianSample: sample, fromLogits: true, every: plan.every, secondOrder: 'paper' } as const;
  const polca = polcaCallback({
    ...common,
    basis: { kind: 'hessian', every: plan.basisEvery, k: 1, maxVectors: plan.maxVectors },
    log: { dir: out, keepParams: o.keepParams ?? false, probeMeta },
    serve: o.serve === false ? undefined : { grpc: { port: o.grpcPort ?? 0 }, metrics: { port: o.metricsPort ?? 0 } },
    analysis: { alerts: { signal: 'probe' } },
  });
  // The other bases watch the same training from their own trackers: the
  // same θ at every checkpoint, so their rows of the basis table differ only
  // by the basis.
  const compared = plan.compare.map((kind) => ({
    kind,
    dir: path.join(out, 'bases', kind),
    callback: polcaCallback({
      ...common,
      basis: { kind, every: plan.basisEvery, k: 1, maxVectors: plan.maxVectors },
      log: { dir: path.join(out, 'bases', kind), probeMeta },
    }),
  }));

  const bar = progress(cfg.steps, o.tty ?? process.stdout.isTTY === true, log);
  let basis = 0;
  polca.events$.subscribe({
    next: (e: PolcaEvent) => {
      if (e.type === 'run-start') {
        log(`polca: P = ${e.numParams} parameters, N = ${e.numProbe} probe datapoints, backend ${e.backend}, HVP ${e.hvpMode} (${e.hvpReason})`);
        const s = polca.server;
        if (s) log(`live: gRPC 127.0.0.1:${s.grpcPort} (polca.v1.Polca), metrics http://127.0.0.1:${s.metricsPort}/metrics`);
        log(`run directory: ${out}`);
        if (compared.length > 0) log(`also along: ${compared.map((c) => `${c.kind} basis (${c.dir})`).join(', ')}`);
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

  const batches = tf.data.generator(function* () {
    for (let i = 0; i < cfg.steps; i++) {
      const b = splits.train.next(cfg.batchSize);
      const { xs, ys } = layersData(b);
      yield { xs, ys };
    }
  });
  await model.fitDataset(batches, { epochs: 1, batchesPerEpoch: cfg.steps, callbacks: [polca, ...compared.map((c) => c.callback)], verbose: 0 });
  await polca.close();
  for (const c of compared) await c.callback.close();
  tf.dispose([probe.x, probe.y, sample.x, sample.y]);
  model.dispose();

  log('');
  const result = await clustersCommand(out, {});
  log(result.text);
  const rows = result.quality?.filter((r) => r.kind === 'polca').map((r) => ({ ...r, kind: 'hessian (top eigenvectors)' })) ?? [];
  for (const c of compared) {
    // Same Δ and τ as the main run: the same training, so the same flat point.
    const r = await clustersCommand(c.dir, { kinds: ['polca'], delta: result.delta, tau: result.tau });
    const row = r.quality?.find((q) => q.kind === 'polca');
    if (row) rows.push({ ...row, kind: c.kind === 'axis' ? 'axis (LCA, largest parameters)' : c.kind === 'shuffled' ? 'shuffled-checkpoint Hessian' : 'random orthonormal' });
  }
  if (rows.length > 1) log(['', '## POLCA by basis (METHOD.md §5)', formatQualityTable(rows).replace('| trajectories |', '| POLCA basis |')].join('\n'));
  const report = await reportCommand(out, { compare: compared.map((c) => c.dir) });
  log(`report: ${report}`);
  return out;
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
