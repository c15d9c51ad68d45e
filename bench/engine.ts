/**
 * Engine benchmark: cost of a POLCA checkpoint in units of probe forward
 * passes, and Hessian-vector products per basis vector, on the arithmetic
 * transformer, for the cpu and wasm backends — all ratios measured in one run.
 *
 *   npx tsx bench/engine.ts [--backends wasm,cpu] [--config quick] [--vectors 10]
 *
 * The floor for the fast path is 2 forward passes per basis vector (the
 * central difference), plus one pass for the losses and one exact JVP check
 * per checkpoint, shared by all K vectors.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command } from 'commander';
import { createPolca } from '../src/tracker/createPolca.js';
import { evaluateProbe } from '../src/engine/directional.js';
import { registerWasmKernels } from '../src/engine/wasm/registerWasmKernels.js';
import type { BasisEvent, CheckpointEvent, PolcaEvent, PolcaIncrementEvent } from '../src/stream/events.js';
import { createArithmeticTask } from '../examples/arithmetic/task.js';
import type { ArithmeticConfigName } from '../examples/arithmetic/configs.js';

const program = new Command()
  .option('--backends <list>', 'backends to measure, comma-separated', 'wasm,cpu')
  .option('--config <name>', 'arithmetic model configuration', 'quick')
  .option('--vectors <k>', 'basis vectors K', '10')
  .option('--checkpoints <m>', 'POLCA checkpoints measured after the basis is grown', '3')
  .option('--probe <problems>', 'probe problems (4 datapoints each)', '1250')
  .option('--warmup <steps>', 'training steps before measuring', '100')
  .option('--cpu-probe <problems>', 'probe problems on the cpu backend (it is 20-30x slower)', '100')
  .option('--cpu-vectors <k>', 'basis vectors K on the cpu backend', '2')
  .option('--check-every <list>', "fast path: exact-JVP check at every n-th checkpoint, one row per n (derivativeCheckEvery)", '1,5')
  .parse();
const o = program.opts();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(f: () => void, reps = 5): number {
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    ts.push((performance.now() - t0) / 1000);
  }
  return median(ts);
}

interface Row {
  backend: string;
  derivatives: string;
  P: number;
  N: number;
  K: number;
  forward: number;
  trainStep: number;
  checkpoint: number;
  ratio: number;
  hvpsPerVector: number;
  basisSeconds: number;
  check: number;
}

async function measure(backend: string, derivatives: 'fast' | 'exact', checkEvery = 1): Promise<Row> {
  await tf.setBackend(backend);
  await tf.ready();
  const K = Number(backend === 'cpu' ? o.cpuVectors : o.vectors);
  const probeSize = Number(backend === 'cpu' ? o.cpuProbe : o.probe);
  const task = createArithmeticTask(o.config as ArithmeticConfigName, { probeSize, hessianSize: probeSize });
  for (let i = 0; i < Number(o.warmup); i++) task.trainStep();
  const probe = () => task.probeLosses();
  evaluateProbe(probe);
  const forward = time(() => evaluateProbe(probe));
  const trainStep = time(() => task.trainStep());
  const events: PolcaEvent[] = [];
  const tracker = createPolca({
    params: task.params,
    probe,
    hessianLoss: () => task.hessianLoss(),
    every: 1,
    basis: { kind: 'hessian', every: 1, k: 1, maxVectors: K },
    secondOrder: 'paper',
    derivatives,
    derivativeCheckEvery: checkEvery,
  });
  tracker.events$.subscribe((e) => events.push(e));
  // With a check every n-th checkpoint, measure whole cycles of n and average them.
  const M = checkEvery === 1 ? Number(o.checkpoints) : checkEvery * Math.max(1, Math.round(Number(o.checkpoints) / checkEvery));
  for (let s = 0; s < K + M; s++) {
    if (s > 0) task.trainStep();
    await tracker.step(s);
    process.stderr.write(`\r${backend}/${derivatives}/${checkEvery}: checkpoint ${s + 1}/${K + M}   `);
  }
  await tracker.close();
  process.stderr.write('\n');
  const cps = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
  const plain = cps.slice(K).map((c) => c.seconds);
  const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
  const growth = cps.slice(0, K).map((c) => c.seconds);
  const checks = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca').map((p) => p.derivativeCheck?.relativeError ?? NaN);
  const checkpoint = checkEvery === 1 ? median(plain) : plain.reduce((a, b) => a + b, 0) / plain.length;
  const row: Row = {
    backend,
    derivatives: derivatives === 'fast' && checkEvery > 1 ? `fast, check every ${checkEvery}` : derivatives,
    P: tracker.basisVectors[0]?.length ?? 0,
    N: cps[0].losses.length,
    K,
    forward,
    trainStep,
    checkpoint,
    ratio: checkpoint / (K * forward),
    hvpsPerVector: basis.reduce((a, b) => a + b.hvps, 0) / basis.length,
    basisSeconds: median(growth),
    check: median(checks.filter(Number.isFinite)),
  };
  task.dispose();
  return row;
}

const status = registerWasmKernels();
console.log(`polca engine benchmark — config '${o.config}', tfjs ${tf.version.tfjs}, wasm kernels ${JSON.stringify(status)}`);
console.log('| backend | derivatives | P | N | K | forward (s) | train step (s) | checkpoint (s) | checkpoint / (K × forward) | HVPs per basis vector | basis checkpoint (s) | FD check error |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
// Rows are printed as they are measured: a long cpu run keeps what it has.
for (const backend of String(o.backends).split(',')) {
  const variants = [...String(o.checkEvery).split(',').map((n) => ['fast', Number(n)] as const), ['exact', 1] as const];
  for (const [derivatives, checkEvery] of variants) {
    if (!Number.isInteger(checkEvery) || checkEvery < 1) throw new Error(`bench/engine: --check-every must list positive integers, got ${JSON.stringify(o.checkEvery)}`);
    const r = await measure(backend, derivatives, checkEvery);
    console.log(
      `| ${r.backend} | ${r.derivatives} | ${r.P} | ${r.N} | ${r.K} | ${r.forward.toFixed(4)} | ${r.trainStep.toFixed(4)} | ${r.checkpoint.toFixed(3)} | ${r.ratio.toFixed(2)} | ${r.hvpsPerVector.toFixed(1)} | ${r.basisSeconds.toFixed(2)} | ${Number.isFinite(r.check) ? r.check.toExponential(1) : '—'} |`,
    );
  }
}
