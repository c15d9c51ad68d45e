/**
 * polca in a custom training loop, and the same model under `model.fit` with
 * the callback — the two ways in.
 *
 *   npx tsx examples/custom-loop.ts [--config quick] [--out runs/loop]
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command } from 'commander';
import { createPolca, polcaCallback, type PolcaEvent } from '../src/index.js';
import { attachSinks } from '../src/run/index.js';
import { registerWasmKernels } from '../src/engine/index.js';
import { createArithmeticTask } from './arithmetic/task.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfigName } from './arithmetic/configs.js';
import { makeSplits } from './arithmetic/data.js';
import { arithmeticLoss, createArithmeticLayersModel, layersData } from './arithmetic/layers.js';

/** Custom loop: the tracker is told after every optimiser step. Returns the events. */
export async function customLoop(config: ArithmeticConfigName, steps: number, out?: string): Promise<PolcaEvent[]> {
  const task = createArithmeticTask(config);
  const tracker = createPolca({
    params: task.params,
    probe: () => task.probeLosses(),
    hessianLoss: () => task.hessianLoss(),
    every: 10,
    basis: { kind: 'hessian', every: 50, k: 1, maxVectors: 3 },
    secondOrder: 'paper',
  });
  const events: PolcaEvent[] = [];
  const sinks = await attachSinks(tracker, out ? { log: { dir: out, probeMeta: { text: task.probeMeta.map((m) => m.text) } } } : {});
  sinks.events$.subscribe((e) => events.push(e));
  await tracker.step(0);
  for (let s = 1; s <= steps; s++) {
    const loss = task.trainStep();
    await tracker.step(s, { loss });
  }
  await tracker.close();
  await sinks.closed;
  task.dispose();
  return events;
}

/** The same model trained by `model.fit`, polca as a callback. Returns the events. */
export async function withFit(config: ArithmeticConfigName, steps: number): Promise<PolcaEvent[]> {
  const cfg = ARITHMETIC_CONFIGS[config];
  const { probeSize, hessianSize, seed, batchSize } = cfg;
  const splits = makeSplits({ seed, probeSize, hessianSize });
  const model = createArithmeticLayersModel({ ...cfg, seed: seed + 1 });
  model.compile({ optimizer: tf.train.adam(3e-3), loss: arithmeticLoss });
  const asTargets = (b: typeof splits.probe) => {
    const { xs, ys } = layersData(b);
    return { x: xs, y: tf.argMax(ys, -1) };
  };
  const callback = polcaCallback({
    probe: asTargets(splits.probe),
    hessianSample: asTargets(splits.hessian),
    fromLogits: true,
    every: 10,
    basis: { kind: 'hessian', every: 50, k: 1, maxVectors: 3 },
  });
  const events: PolcaEvent[] = [];
  callback.events$.subscribe((e) => events.push(e));
  const train = layersData(splits.train.next(batchSize * steps));
  await model.fit(train.xs, train.ys, { batchSize, epochs: 1, shuffle: false, callbacks: [callback], verbose: 0 });
  tf.dispose([train.xs, train.ys]);
  model.dispose();
  return events;
}

if (process.argv[1]?.endsWith('custom-loop.ts')) {
  const o = new Command().option('--config <name>', 'arithmetic configuration', 'quick').option('--steps <n>', 'training steps', '200').option('--out <dir>', 'log the custom-loop run here').parse().opts();
  await tf.setBackend('wasm');
  registerWasmKernels();
  for (const [name, run] of [['custom loop', () => customLoop(o.config, Number(o.steps), o.out)], ['model.fit', () => withFit(o.config, Number(o.steps))]] as const) {
    const events = await run();
    const polca = events.filter((e) => e.type === 'polca').length;
    const basis = events.filter((e) => e.type === 'basis').length;
    console.log(`${name}: ${events.length} events, ${polca} POLCA intervals, ${basis} basis vectors`);
  }
}
