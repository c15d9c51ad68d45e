import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunManifest } from '../../../src/sinks/arrow/index.js';
import backfillModel, { probeFromLabels } from '../../../examples/arithmetic/backfillModel.js';
import { ARITHMETIC_CONFIGS } from '../../../examples/arithmetic/configs.js';
import { datapointMeta, makeBatch, makeSplits } from '../../../examples/arithmetic/data.js';
import { createModel, paramSpecs, perTokenLoss } from '../../../examples/arithmetic/model.js';
import { DEMO_RECORD_FILE } from '../../../examples/demo.js';

/** A manifest carrying the labels the demo writes for the probe of seed `seed`. */
function manifestFor(seed: number, numParams: number) {
  const probe = makeSplits({ seed, probeSize: 12, hessianSize: 8 }).probe;
  const meta = datapointMeta(probe);
  const manifest = {
    numProbe: probe.size * 4,
    numParams,
    backend: 'cpu',
    probeMeta: { text: meta.map((m) => m.text), target: meta.map((m) => m.target), place: Array.from(probe.place), carry: meta.map((m) => m.carry) },
  } as unknown as RunManifest;
  return { probe, manifest };
}

describe('backfillModel', () => {
  it('rebuilds the probe of any seed from the run’s labels, and refuses labels that are not the problems’ tokens', () => {
    for (const seed of [0, 3]) {
      const { probe, manifest } = manifestFor(seed, 0);
      const batch = probeFromLabels(manifest);
      expect(Array.from(batch.a)).toEqual(Array.from(probe.a));
      expect(Array.from(batch.b)).toEqual(Array.from(probe.b));
      expect(Array.from(batch.inputs)).toEqual(Array.from(probe.inputs));
      expect(Array.from(batch.targets)).toEqual(Array.from(probe.targets));
    }
    const { manifest } = manifestFor(3, 0);
    const text = [...(manifest.probeMeta.text as string[])];
    text[5] = text[9];
    expect(() => probeFromLabels({ ...manifest, probeMeta: { ...manifest.probeMeta, text } })).toThrow(/datapoint 5 of the run's labels/);
    const { text: _dropped, ...noText } = manifest.probeMeta;
    expect(() => probeFromLabels({ ...manifest, probeMeta: noText })).toThrow(/'text' column of 48 rows/);
  });

  it('takes the model’s shape from demo.json, and names the parameter count when nothing matches', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-backfill-model-'));
    const config = { ...ARITHMETIC_CONFIGS.quick, layers: 1, dMlp: 40, seed: 3 };
    fs.writeFileSync(path.join(dir, DEMO_RECORD_FILE), JSON.stringify({ config, probeSize: 12, hessianSize: 8 }));
    // The parameter count from the functional model's own list of parameters, not from the layers model.
    const P = paramSpecs(config).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    const { manifest } = manifestFor(3, P);
    const model = await backfillModel(manifest, dir);
    expect(model.params.reduce((s, p) => s + p.size, 0)).toBe(P);
    const losses = model.probe();
    expect(losses.shape).toEqual([48]);
    // Near-uniform logits at initialisation: each token's loss is close to ln 12.
    const mean = losses.mean().dataSync()[0];
    expect(Math.abs(mean - Math.log(12))).toBeLessThan(0.5);
    losses.dispose();
    model.params.forEach((p) => p.dispose());

    // No record: the demo's plans are tried, and none has this P.
    await expect(backfillModel(manifest, fs.mkdtempSync(path.join(os.tmpdir(), 'polca-backfill-model-')))).rejects.toThrow(
      new RegExp(`no model from the demo's plans \\(no ${DEMO_RECORD_FILE}.*P = ${P} parameters`),
    );
    fs.writeFileSync(path.join(dir, DEMO_RECORD_FILE), '{');
    await expect(backfillModel(manifest, dir)).rejects.toThrow(/demo\.json is not valid JSON/);
  });

  it('rebuilds a query-format run: the same losses as the custom-loop model reading one input per place', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-backfill-model-'));
    const config = { ...ARITHMETIC_CONFIGS.quick, layers: 1, dMlp: 40, seed: 3, format: 'query' as const };
    fs.writeFileSync(path.join(dir, DEMO_RECORD_FILE), JSON.stringify({ config, probeSize: 12, hessianSize: 8 }));
    const P = paramSpecs(config).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0);
    const { probe, manifest } = manifestFor(3, P);
    const model = await backfillModel(manifest, dir);
    const got = model.probe();
    const core = createModel(config, { seed: config.seed + 1, initStd: config.initStd });
    const want = perTokenLoss(core, makeBatch(probe.a, probe.b, 'query'));
    expect(got.shape).toEqual([48]);
    const g = got.dataSync();
    const w = want.dataSync();
    for (let j = 0; j < 48; j++) expect(g[j]).toBeCloseTo(w[j], 5);
    tf.dispose([got, want]);
    core.dispose();
    model.params.forEach((p) => p.dispose());
  });
});
