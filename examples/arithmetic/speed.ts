/**
 * Speed of the addition task on one backend: ms per training step, per probe
 * forward (per-token losses of the whole probe set) and per gradient of the
 * Hessian-sample loss (medians of single timings), for each configuration named on the command line.
 * On wasm it measures tfjs's stock kernels first, then installs polca's wasm
 * kernels and measures again in the same process, printing the ratio.
 *
 *     npx tsx examples/arithmetic/speed.ts --backend wasm quick default
 *
 * The machine is shared; numbers vary with its load (printed alongside).
 *
 * @packageDocumentation
 */
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ARITHMETIC_CONFIGS, type ArithmeticConfigName } from './configs.js';
import { countParams } from './model.js';
import { createArithmeticTask } from './task.js';
import { registerWasmKernels } from '../../src/engine/index.js';

const args = process.argv.slice(2);
const bIdx = args.indexOf('--backend');
const backend = bIdx >= 0 ? args[bIdx + 1] : 'wasm';
const sIdx = args.indexOf('--steps');
const steps = sIdx >= 0 ? Number(args[sIdx + 1]) : 30;
const names = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) as ArithmeticConfigName[];

interface Timing { step: number; probe: number; grad: number }

function measure(name: ArithmeticConfigName): Timing {
  const task = createArithmeticTask(name);
  // Median of single timings: robust to the load spikes of a shared machine.
  const time = (reps: number, fn: () => void): number => {
    fn(); // warm-up (also creates the optimizer's slots)
    const ms: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t0 = performance.now();
      fn();
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return ms[Math.floor(reps / 2)];
  };
  const step = time(steps, () => { task.trainStep(); });
  const probe = time(9, () => { const l = task.probeLosses(); l.dataSync(); l.dispose(); });
  const grad = time(5, () => {
    const g = tf.variableGrads(() => task.hessianLoss(), task.params);
    g.value.dataSync();
    tf.dispose([g.value, ...Object.values(g.grads)]);
  });
  task.dispose();
  return { step, probe, grad };
}

async function main(): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  const fmt = (t: Timing): string => `step ${t.step.toFixed(1)} ms, probe forward ${t.probe.toFixed(1)} ms, Hessian-sample gradient ${t.grad.toFixed(1)} ms`;
  const stock = new Map<string, Timing>();
  for (const name of names) {
    const cfg = ARITHMETIC_CONFIGS[name];
    const t = measure(name);
    stock.set(name, t);
    console.log(`${name} (${countParams(cfg)} params, probe ${cfg.probeSize * 4} tokens, Hessian sample ${cfg.hessianSize * 4} tokens) on ${backend}, stock kernels: ${fmt(t)}  [load ${loadavg()[0].toFixed(1)}]`);
  }
  if (backend !== 'wasm') return;
  registerWasmKernels();
  for (const name of names) {
    const t = measure(name);
    const s = stock.get(name)!;
    console.log(`${name} on wasm, polca kernels: ${fmt(t)}; speed-up step ×${(s.step / t.step).toFixed(2)}, probe ×${(s.probe / t.probe).toFixed(2)}, gradient ×${(s.grad / t.grad).toFixed(2)}  [load ${loadavg()[0].toFixed(1)}]`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
