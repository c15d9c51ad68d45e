import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import { backfill, type BackfillResult } from '../run/backfill.js';
import { readManifest, type RunManifest } from '../sinks/arrow/manifest.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';
import type { ProbeClosure } from '../engine/directional.js';

/** What a `--model` module's default export returns. */
export interface BackfillModel {
  params: tf.Variable[];
  probe: ProbeClosure;
}

/**
 * `polca backfill <dir> --model <module>`: the module's default export
 * receives the run's manifest and the run directory (for any file the
 * training script left there) and rebuilds the model (same architecture,
 * any weights) and the probe set. The run (θ table included) is verified
 * first: damage fails the command, naming the files, unless `allowPartial`
 * (then backfill uses the intact prefix of the events only, and the drop is reported).
 */
export async function backfillCommand(dir: string, o: { model: string; out?: string; overwrite?: boolean; allowPartial?: boolean }): Promise<BackfillResult> {
  const { limit } = await requireIntactRun(dir, 'polca backfill', { allowPartial: o.allowPartial });
  const manifest: RunManifest = await readManifest(dir, 'polca backfill');
  const mod = (await import(pathToFileURL(path.resolve(o.model)).href)) as { default?: (m: RunManifest, dir: string) => BackfillModel | Promise<BackfillModel> };
  if (typeof mod.default !== 'function') {
    throw new Error(`polca backfill: --model ${o.model} must default-export a function (manifest, dir) => { params, probe }`);
  }
  const model = await mod.default(manifest, dir);
  let last = -1;
  return backfill(dir, {
    ...model,
    out: o.out,
    overwrite: o.overwrite,
    limit,
    onProgress: (done, total) => {
      const pct = Math.floor((100 * done) / total);
      if (pct !== last && process.stderr.isTTY) process.stderr.write(`\rbackfill ${done}/${total} checkpoints`);
      last = pct;
    },
  });
}
