/**
 * Cost of full-length trajectories: seconds per filled-in interval (one
 * earlier interval of a vector found late, computed from the kept θ), in
 * units of one probe forward pass, per curvature estimator — ratios measured
 * in one run.
 *
 *   npx tsx bench/fill.ts [--backend wasm] [--config quick] [--probe 500] [--intervals 20]
 *
 * A filled interval costs the vector's directional derivatives at the kept
 * θ: two forward passes in `fast` mode (central difference), one exact JVP
 * (a forward and two backward passes, the double-backward trick) in `exact`
 * mode; `paper` adds one Hessian-vector product of the probe mean loss,
 * `directional` two more exact JVPs. The θ history costs 4·P bytes of host memory per checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command } from 'commander';
import { createPolca } from '../src/tracker/createPolca.js';
import { evaluateProbe } from '../src/engine/directional.js';
import { registerWasmKernels } from '../src/engine/wasm/registerWasmKernels.js';
import type { PolcaEvent, PolcaIncrementEvent, SecondOrder } from '../src/stream/events.js';
import { createArithmeticTask } from '../examples/arithmetic/task.js';
import type { ArithmeticConfigName } from '../examples/arithmetic/configs.js';

const o = new Command()
  .option('--backend <name>', 'tfjs backend', 'wasm')
  .option('--config <name>', 'arithmetic model configuration', 'quick')
  .option('--probe <problems>', 'probe problems (4 datapoints each)', '500')
  .option('--intervals <m>', 'earlier intervals to fill in', '20')
  .option('--estimators <list>', 'curvature estimators, one row each', 'none,secant,paper,directional')
  .parse()
  .opts();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(secondOrder: SecondOrder, derivatives: 'fast' | 'exact') {
  const task = createArithmeticTask(o.config as ArithmeticConfigName, { probeSize: Number(o.probe), hessianSize: 64 });
  const probe = () => task.probeLosses();
  evaluateProbe(probe);
  const forwards: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    evaluateProbe(probe);
    forwards.push((performance.now() - t0) / 1000);
  }
  const M = Number(o.intervals);
  const stamps: number[] = [];
  // Vector 0 at step 0; vector 1 at step M, whose M earlier intervals are then filled in at once.
  const tracker = createPolca({
    params: task.params,
    probe,
    every: 1,
    basis: { kind: 'random', every: M, k: 1, maxVectors: 2 },
    secondOrder,
    derivatives,
    fullLength: { intervalsPerStep: M },
  });
  tracker.events$.subscribe((e: PolcaEvent) => {
    if (e.type === 'polca' && (e as PolcaIncrementEvent).filled) stamps.push(performance.now());
  });
  for (let s = 0; s <= M; s++) {
    if (s > 0) task.trainStep();
    if (s === M) stamps.push(performance.now());
    await tracker.step(s);
  }
  await tracker.close();
  const P = tracker.basisVectors[0].length;
  task.dispose();
  // The first stamp precedes step M's own checkpoint; the gaps after the first filled event are pure filling.
  const gaps = stamps.slice(2).map((t, i) => (t - stamps[i + 1]) / 1000);
  const forward = median(forwards);
  const perInterval = median(gaps);
  return { secondOrder, derivatives, P, N: Number(o.probe) * 4, forward, perInterval, ratio: perInterval / forward, historyMB: (4 * P * (M + 1)) / 1e6 };
}

await tf.setBackend(o.backend);
await tf.ready();
if (o.backend === 'wasm') registerWasmKernels();
console.log(`polca fill benchmark — backend ${o.backend}, config '${o.config}', tfjs ${tf.version.tfjs}`);
console.log('| estimator | derivatives | P | N | forward pass (s) | filled interval (s) | forward passes per filled interval | θ history for the run (MB) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const est of String(o.estimators).split(',') as SecondOrder[]) {
  for (const derivatives of ['fast', 'exact'] as const) {
    const r = await measure(est, derivatives);
    console.log(`| ${r.secondOrder} | ${r.derivatives} | ${r.P} | ${r.N} | ${r.forward.toFixed(4)} | ${r.perInterval.toFixed(4)} | ${r.ratio.toFixed(2)} | ${r.historyMB.toFixed(1)} |`);
  }
}
