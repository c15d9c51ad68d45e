/**
 * `polca backfill <demo-run> --model examples/arithmetic/backfillModel.ts`:
 * rebuilds the demo's model and probe set for a run directory.
 *
 * The model's shape comes from the run's `demo.json` (written by the demo
 * with every override applied). Runs made before the demo wrote it are
 * recognised by their parameter and probe counts among the demo's plans,
 * the MLP-256 model included. The probe set is rebuilt from the run's own
 * labels (each problem's text), so it is the run's whatever seed trained it,
 * and is checked against the labels' places and carries.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { RunManifest } from '../../src/sinks/arrow/index.js';
import { sparseCrossEntropy } from '../../src/index.js';
import { DEMO_PLANS, DEMO_RECORD_FILE, type DemoRecord } from '../demo.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfig } from './configs.js';
import { datapointMeta, inputLength, makeBatch, VOCAB_SIZE, type ArithmeticBatch, type TaskFormat } from './data.js';
import { createArithmeticLayersModel, layersData } from './layers.js';

/** The model configurations a run may have been made with, the recorded one alone when there is one. */
function candidateConfigs(dir: string | undefined): { configs: ArithmeticConfig[]; source: string } {
  const file = dir === undefined ? undefined : path.join(dir, DEMO_RECORD_FILE);
  if (file !== undefined && fs.existsSync(file)) {
    let record: DemoRecord;
    try {
      record = JSON.parse(fs.readFileSync(file, 'utf8')) as DemoRecord;
    } catch (e) {
      throw new Error(`backfillModel: ${file} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof record?.config?.dModel !== 'number') throw new Error(`backfillModel: ${file} has no model configuration (config.dModel)`);
    return { configs: [record.config], source: file };
  }
  const plans = [...Object.values(DEMO_PLANS), { ...DEMO_PLANS.default, config: ARITHMETIC_CONFIGS.default }];
  return { configs: plans.map((p) => p.config), source: `the demo's plans (no ${DEMO_RECORD_FILE} in the run directory)` };
}

/**
 * The probe problems of a run, from its labels: datapoint 4i + k is output
 * token k of problem i, whose text `a+b=s` each of its four rows holds.
 */
export function probeFromLabels(manifest: RunManifest, format: TaskFormat = 'sequence'): ArithmeticBatch {
  const { text, place, carry } = manifest.probeMeta as Record<string, unknown[] | undefined>;
  if (!text || text.length !== manifest.numProbe || manifest.numProbe % 4 !== 0) {
    throw new Error(`backfillModel: the run's labels need a 'text' column of ${manifest.numProbe} rows (4 per problem), got ${text?.length ?? 'none'}`);
  }
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < text.length; i += 4) {
    const m = /^(\d+)\+(\d+)=\d+$/.exec(String(text[i]));
    if (!m) throw new Error(`backfillModel: label text ${JSON.stringify(text[i])} of datapoint ${i} is not an addition problem`);
    a.push(Number(m[1]));
    b.push(Number(m[2]));
  }
  const batch = makeBatch(a, b, format);
  const rebuilt = datapointMeta(batch);
  rebuilt.forEach((d, j) => {
    const same = d.text === text[j] && (place === undefined || Number(place[j]) === batch.place[j]) && (carry === undefined || Boolean(carry[j]) === d.carry);
    if (!same) throw new Error(`backfillModel: datapoint ${j} of the run's labels (${JSON.stringify(text[j])}) is not output token ${j % 4} of its problem`);
  });
  return batch;
}

export default async function backfillModel(manifest: RunManifest, dir?: string) {
  await tf.setBackend(manifest.backend === 'wasm' ? 'wasm' : 'cpu');
  const { configs, source } = candidateConfigs(dir);
  for (const cfg of configs) {
    const model = createArithmeticLayersModel({ ...cfg, seed: cfg.seed + 1, initStd: cfg.initStd });
    model.build([null, inputLength(cfg.format ?? 'sequence'), VOCAB_SIZE]);
    const params = model.trainableWeights.map((w) => w.read() as tf.Variable);
    if (params.reduce((s, p) => s + p.size, 0) !== manifest.numParams) {
      model.dispose();
      continue;
    }
    let probe: ArithmeticBatch;
    try {
      // Built for the matching configuration only: its format decides the inputs.
      probe = probeFromLabels(manifest, cfg.format);
    } catch (e) {
      model.dispose();
      throw e;
    }
    const { xs, ys } = layersData(probe);
    const y = tf.argMax(ys, -1);
    ys.dispose();
    const ce = sparseCrossEntropy(true);
    return { params, probe: () => tf.tidy(() => tf.reshape(ce(y, model.apply(xs) as tf.Tensor), [-1]) as tf.Tensor1D) };
  }
  throw new Error(`backfillModel: no model from ${source} has P = ${manifest.numParams} parameters`);
}
