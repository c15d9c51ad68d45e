/**
 * What the second-order-correct gradients cost training, measured in one run.
 *
 *   npx tsx bench/second-order.ts [--backends cpu,wasm] [--rounds 7] [--steps 20]
 *
 * Times the first-order gradient (loss + backward, one training step without
 * the optimizer update) of a small MLP — 64 → 128 tanh → 128 sigmoid → 10,
 * softmax cross-entropy, batch 64 — with tfjs's stock gradients and with the
 * corrected ones installed globally (`installSecondOrderGradients`). Rounds
 * alternate stock / installed; the median per-step time of each is reported
 * with their ratio. Also reports the cost of entering and leaving a
 * `withSecondOrderGradients` scope (the registry swap) and, for scale, one
 * scoped Hessian-vector product of the same MLP.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Command } from 'commander';
import {
  installSecondOrderGradients,
  withSecondOrderGradients,
} from '../src/engine/gradients/secondOrderGradients.js';

const program = new Command()
  .option('--backends <list>', 'backends to measure, comma-separated', 'cpu,wasm')
  .option('--rounds <n>', 'alternating rounds per variant', '7')
  .option('--steps <n>', 'gradient steps per round', '20')
  .parse();
const opts = program.opts<{ backends: string; rounds: string; steps: string }>();
const rounds = Number(opts.rounds);
const steps = Number(opts.steps);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function mlp() {
  const sizes = [64, 128, 128, 10];
  const params: tf.Variable[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    params.push(tf.variable(tf.randomNormal([sizes[i], sizes[i + 1]], 0, 1 / Math.sqrt(sizes[i]), 'float32', 7 + i)));
    params.push(tf.variable(tf.zeros([sizes[i + 1]])));
  }
  const x = tf.randomNormal([64, 64], 0, 1, 'float32', 3);
  const y = tf.oneHot(tf.randomUniform([64], 0, 10, 'int32', 5), 10);
  const loss = (ps: tf.Tensor[]) => {
    const h1 = tf.tanh(tf.add(tf.matMul(x, ps[0]), ps[1]));
    const h2 = tf.sigmoid(tf.add(tf.matMul(h1, ps[2]), ps[3]));
    const z = tf.add(tf.matMul(h2, ps[4]), ps[5]);
    return tf.losses.softmaxCrossEntropy(y, z) as tf.Scalar;
  };
  const dispose = () => [...params, x, y].forEach((t) => t.dispose());
  return { params, loss, dispose };
}

function timeSteps(step: () => void): number {
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  return (performance.now() - t0) / steps;
}

for (const backend of opts.backends.split(',')) {
  await tf.setBackend(backend);
  await tf.ready();
  const m = mlp();
  const gradStep = () =>
    tf.tidy(() => {
      const gs = tf.grads((...ps: tf.Tensor[]) => m.loss(ps))(m.params);
      gs[gs.length - 1].dataSync();
    });
  const v = m.params.map((p) => tf.randomNormal(p.shape, 0, 1, 'float32', 11));
  const hvpStep = () =>
    withSecondOrderGradients(() =>
      tf.tidy(() => {
        const hv = tf.grads((...ps: tf.Tensor[]) => {
          const gs = tf.grads((...qs: tf.Tensor[]) => m.loss(qs))(ps);
          return tf.addN(gs.map((g, i) => tf.sum(tf.mul(g, v[i])))) as tf.Scalar;
        })(m.params);
        hv[hv.length - 1].dataSync();
      }),
    );

  // warm up both variants (kernel caches, wasm compilation)
  timeSteps(gradStep);
  const warm = installSecondOrderGradients();
  timeSteps(gradStep);
  warm();

  const stock: number[] = [];
  const installed: number[] = [];
  for (let r = 0; r < rounds; r++) {
    stock.push(timeSteps(gradStep));
    const uninstall = installSecondOrderGradients();
    try {
      installed.push(timeSteps(gradStep));
    } finally {
      uninstall();
    }
  }
  const t0 = performance.now();
  const scopes = 10_000;
  for (let i = 0; i < scopes; i++) withSecondOrderGradients(() => 0);
  const scopeUs = ((performance.now() - t0) / scopes) * 1000;
  hvpStep();
  const hvpMs = median(Array.from({ length: 5 }, () => timeSteps(hvpStep)));

  const s = median(stock);
  const g = median(installed);
  console.log(`[${backend}] MLP 64-128-128-10, batch 64, first-order gradient per step:`);
  console.log(`  stock gradients          ${s.toFixed(2)} ms`);
  console.log(`  installed globally       ${g.toFixed(2)} ms   ratio installed/stock = ${(g / s).toFixed(3)}`);
  console.log(`  scope enter+exit         ${scopeUs.toFixed(2)} µs   (= ${((scopeUs / 1000 / s) * 100).toFixed(3)}% of a stock step)`);
  console.log(`  scoped HVP               ${hvpMs.toFixed(2)} ms   ratio HVP/stock gradient = ${(hvpMs / s).toFixed(2)}`);
  v.forEach((t) => t.dispose());
  m.dispose();
}
