import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { readParams } from '../../../src/sinks/arrow/index.js';
import { ParamSpace } from '../../../src/engine/index.js';
import { centredCovariance, formatCovariance, lossClusterTargets } from '../../../examples/arithmetic/centredCovariance.js';
import backfillModel from '../../../examples/arithmetic/backfillModel.js';
import { jacobiEigen } from '../../helpers/jacobi.js';

describe('centredCovariance on a quick run', () => {
  it('finds, uncentred, the live basis’s Ritz values; centred, no larger a top one; and clusters the backfill', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-centred-')), 'run');
    const demo = spawnSync(
      'npm',
      // Not the quick plan's seed or MLP: backfillModel must take both from the run (its labels and demo.json).
      ['run', '-s', 'demo', '--', '--quick', '--out', dir, '--keep-params', '--bases', 'inline', '--compare', 'gradient-covariance', '--no-serve', '--seed', '1', '--mlp', '96'],
      { encoding: 'utf8', timeout: 400_000, maxBuffer: 64 * 1024 * 1024 },
    );
    expect(demo.status).toBe(0);
    // The live gradient-covariance basis of the same training: its steps and Ritz values.
    const live = await readRun(path.join(dir, 'bases', 'gradient-covariance'));
    const basis = live.tables.basis!.toArray().map((r) => ({ step: Number(r.step), value: Number(r.eigenvalue) }));
    expect(basis.length).toBe(4);
    const steps = basis.map((b) => b.step);
    const sizes: [number, number][] = [[12, 3]];
    const plain = await centredCovariance(dir, { centred: false, steps, k: 1, sizes });
    plain.values.forEach((v, i) => {
      expect(v.step).toBe(basis[i].step);
      expect(Math.abs(v.value - basis[i].value)).toBeLessThan(2e-3 * basis[i].value);
    });
    const centred = await centredCovariance(dir, { centred: true, steps, k: 1, sizes });
    // Gᵀ(I − 11ᵀ/n)G ⪯ GᵀG: at the first step (nothing deflated yet) the centred top eigenvalue is no larger.
    expect(centred.values[0].value).toBeLessThanOrEqual(plain.values[0].value * (1 + 1e-4));
    expect(centred.values[0].value).toBeGreaterThan(0);
    for (const r of [plain, centred]) {
      // One exact-loss row and a row per direction for each POLCA kind; the exact loss is the same training's either way.
      expect(r.rows.filter((x) => x.kind === 'loss')).toHaveLength(1);
      expect(r.rows.filter((x) => x.kind === 'polca')).toHaveLength(4);
      expect(r.rows.filter((x) => x.kind === 'polca-first')).toHaveLength(4);
      expect(formatCovariance(r.rows)).toMatch(/^\| 12\/3 \| /m);
    }
    const lossOf = (r: typeof plain) => r.rows.find((x) => x.kind === 'loss')!;
    expect(lossOf(centred).best).toEqual(lossOf(plain).best);
    // The demo's own table clustered the exact loss at the same sizes.
    const shown = /^\| loss \| ([\d.]+|-)/m.exec(demo.stdout)?.[1];
    expect(shown).toBeDefined();
    if (shown !== '-') expect(lossOf(plain).best.toFixed(3)).toBe(shown);

    // --within: per exact-loss cluster, the centred covariance of its members' gradients only.
    const kept = (await readParams(dir)).params;
    const targets = await lossClusterTargets(dir, 12, 3, kept.map((p) => p.step));
    expect(targets.length).toBeGreaterThan(0);
    const seen = new Set<number>();
    for (const t of targets) {
      expect(kept.some((p) => p.step === t.step)).toBe(true);
      expect(t.members!.length).toBeGreaterThanOrEqual(12);
      for (const x of t.members!) {
        expect(seen.has(x)).toBe(false); // HDBSCAN clusters are disjoint
        seen.add(x);
      }
    }
    const within = await centredCovariance(dir, { centred: true, steps: [], k: 1, sizes, within: [12, 3] });
    expect(within.values.map((v) => v.step)).toEqual(targets.map((t) => t.step));
    expect(within.values.map((v) => v.members)).toEqual(targets.map((t) => t.members!.length));
    expect(within.rows.filter((x) => x.kind === 'polca')).toHaveLength(targets.length);
    expect(lossOf(within).best).toEqual(lossOf(plain).best);
    // Brute force for the first target (nothing deflated yet): each member's gradient by its own
    // backward pass, the centred m × m Gram matrix in float64; its top eigenvalue is the top one of
    // G_Sᵀ(I − 11ᵀ/m)G_S.
    const { members, step } = targets[0];
    const model = await backfillModel((await readRun(dir)).manifest, dir);
    const space = new ParamSpace(model.params);
    space.assignHost(Float32Array.from(kept.find((p) => p.step === step)!.theta));
    const rows = members!.map((x) => {
      const { grads } = tf.variableGrads(() => tf.tidy(() => tf.sum(tf.gather(model.probe(), [x]))) as tf.Scalar, model.params);
      const flat = space.flattenLike(model.params.map((p) => grads[p.name]));
      const host = Float64Array.from(flat.dataSync());
      [flat, ...Object.values(grads)].forEach((g) => g.dispose());
      return host;
    });
    const m = rows.length;
    const mean = new Float64Array(space.size);
    for (const r of rows) for (let i = 0; i < space.size; i++) mean[i] += r[i] / m;
    const centredRows = rows.map((r) => r.map((g, i) => g - mean[i]));
    const gram = centredRows.map((a) => centredRows.map((b) => a.reduce((acc, g, i) => acc + g * b[i], 0)));
    const top = Math.max(...jacobiEigen(gram).values);
    expect(Math.abs(within.values[0].value - top)).toBeLessThan(2e-3 * top);
  }, 600_000);
});
