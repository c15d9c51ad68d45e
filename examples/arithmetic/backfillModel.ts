/**
 * `polca backfill <demo-run> --model examples/arithmetic/backfillModel.ts`:
 * rebuilds the demo's model and probe set for a run directory, recognising
 * the demo plan by the run's parameter and probe counts. Runs of the demo
 * before its MLP widened (`dMlp` 256, 102,348 parameters) are recognised too.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { RunManifest } from '../../src/sinks/arrow/index.js';
import { sparseCrossEntropy } from '../../src/index.js';
import { DEMO_PLANS } from '../demo.js';
import { ARITHMETIC_CONFIGS } from './configs.js';
import { makeSplits } from './data.js';
import { createArithmeticLayersModel, layersData } from './layers.js';

export default async function backfillModel(manifest: RunManifest) {
  await tf.setBackend(manifest.backend === 'wasm' ? 'wasm' : 'cpu');
  const plans = [...Object.values(DEMO_PLANS), { ...DEMO_PLANS.default, config: ARITHMETIC_CONFIGS.default }];
  for (const plan of plans) {
    const cfg = plan.config;
    if (plan.probeSize * 4 !== manifest.numProbe) continue;
    const model = createArithmeticLayersModel({ ...cfg, seed: cfg.seed + 1, initStd: cfg.initStd });
    model.build([null, 11, 12]);
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    if (params.reduce((s, p) => s + p.size, 0) !== manifest.numParams) {
      model.dispose();
      continue;
    }
    const probe = makeSplits({ seed: cfg.seed, probeSize: plan.probeSize, hessianSize: plan.hessianSize }).probe;
    const { xs, ys } = layersData(probe);
    const y = tf.argMax(ys, -1);
    ys.dispose();
    const ce = sparseCrossEntropy(true);
    return { params, probe: () => tf.tidy(() => tf.reshape(ce(y, model.apply(xs) as tf.Tensor), [-1]) as tf.Tensor1D) };
  }
  throw new Error(`backfillModel: no demo plan has N = ${manifest.numProbe} and P = ${manifest.numParams}`);
}
