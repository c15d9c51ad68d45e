import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { centredCovariance, formatCovariance } from '../../../examples/arithmetic/centredCovariance.js';

describe('centredCovariance on a quick run', () => {
  it('finds, uncentred, the live basis’s Ritz values; centred, no larger a top one; and clusters the backfill', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-centred-')), 'run');
    const demo = spawnSync(
      'npm',
      ['run', '-s', 'demo', '--', '--quick', '--out', dir, '--keep-params', '--bases', 'inline', '--compare', 'gradient-covariance', '--no-serve'],
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
  }, 600_000);
});
