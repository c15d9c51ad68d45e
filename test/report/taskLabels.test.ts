import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { loadTaskLabels } from '../../src/report/taskLabels.js';
import { OptionError } from '../../src/errors/validate.js';
import { clustersCommand } from '../../src/report/clustersCommand.js';
import { arithmeticTarget } from '../../examples/arithmetic/evaluation.js';
import { makeTrackerRun } from './trackerRun.js';

const ROOT = path.resolve(__dirname, '../..');
let tmp: string;
let dir: string;
let probeMeta: Record<string, unknown[]>;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-labels-'));
  dir = path.join(tmp, 'run');
  ({ probeMeta } = await makeTrackerRun(dir));
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a task\u2019s labels from a module', () => {
  it('loads the addition example\u2019s quality target and report labels', async () => {
    const task = await loadTaskLabels(path.join(ROOT, 'examples/arithmetic/evaluation.ts'));
    const target = task.quality!(probeMeta as never, 60)!;
    expect(target.name).toBe('carry');
    expect(target.column.values).toEqual(probeMeta.carry.map((c) => (c ? 'carry' : 'no carry')));
    expect(task.reportLabels!(probeMeta as never, 60)!.compositions!.map((c) => c.name)).toEqual(['place × carry']);
    // A run without place and carry gets no table.
    expect(task.quality!({ text: probeMeta.text } as never, 60)).toBeUndefined();
  });

  it('refuses a module that exports neither function, naming the option', async () => {
    const empty = path.join(tmp, 'empty.mjs');
    fs.writeFileSync(empty, 'export const x = 1;\n');
    await expect(loadTaskLabels(empty)).rejects.toThrow(OptionError);
    await expect(loadTaskLabels(empty)).rejects.toThrow(/^loadTaskLabels: option 'labels' must be a module exporting 'quality' and\/or 'reportLabels'/);
    const bad = path.join(tmp, 'bad.mjs');
    fs.writeFileSync(bad, 'export const quality = 3;\n');
    await expect(loadTaskLabels(bad)).rejects.toThrow(/'quality' export is a function of \(probeMeta, numProbe\), got 3/);
  });

  it('polca clusters --labels prints the same quality table as clustersCommand given the target', async () => {
    const opts = { kinds: ['polca' as const], minClusterSize: 5, minSamples: 3, write: false };
    const want = await clustersCommand(dir, { ...opts, quality: arithmeticTarget });
    expect(want.quality!.length).toBe(1);
    const table = want.text.slice(want.text.indexOf('## Quality'));
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'clusters', dir, '--kinds', 'polca', '--min-cluster-size', '5', '--min-samples', '3', '--no-write', '--labels', 'examples/arithmetic/evaluation.ts'],
      { encoding: 'utf8', cwd: ROOT },
    );
    expect(out).toContain(table.split('\n').slice(0, 4).join('\n'));
    expect(table).toMatch(/\| trajectories \| max carry homogeneity \(top 3\) \| clusters with hidden breakthroughs \|/);
    // Without the module there is no table.
    expect((await clustersCommand(dir, opts)).quality).toBeNull();
  });
});
