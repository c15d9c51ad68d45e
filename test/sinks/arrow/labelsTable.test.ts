/**
 * Probe labels are a table (`labels.arrows`): one row per datapoint, its
 * index and the user's columns. polars reads it on its own; polca's readers
 * give the columns back as `manifest.probeMeta`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../../src/sinks/arrow/manifest.js';
import { readRun } from '../../../src/sinks/arrow/readRun.js';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-labels-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const events = syntheticEvents({ numProbe: 6, numParams: 4, checkpoints: 2 });

async function write(dir: string, probeMeta?: Record<string, readonly unknown[]>): Promise<void> {
  const w = new RunWriter(dir, { probeMeta: probeMeta as never });
  for (const e of events) w.write(e);
  await w.close();
}

describe('the labels table', () => {
  const probeMeta = {
    token: ['1', '+', '2', '=', 'é', ''],
    place: [0, 1, 2, 3, 0, -7],
    carry: [true, false, false, true, true, false],
    score: [0.5, -1e-300, NaN, Infinity, 3, 1 / 3],
  };

  it('holds one row per datapoint, read by polars column by column', async () => {
    const dir = path.join(root, 'full');
    await write(dir, probeMeta);
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8'));
    expect(json.labels).toBe('labels.arrows');
    expect(json.probeMeta).toBeUndefined();
    const df = pl.readIPCStream(fs.readFileSync(path.join(dir, 'labels.arrows')));
    expect(df.columns).toEqual(['datapoint', 'token', 'place', 'carry', 'score']);
    expect(df.dtypes.map((t) => t.variant)).toEqual(['Int32', 'String', 'Int32', 'Bool', 'Float64']);
    expect(df.getColumn('datapoint').toArray()).toEqual([0, 1, 2, 3, 4, 5]);
    for (const [name, values] of Object.entries(probeMeta)) {
      const got = df.getColumn(name).toArray();
      values.forEach((v, i) => expect(Object.is(got[i], v), `${name}[${i}]`).toBe(true));
    }
  });

  it('comes back as manifest.probeMeta from readManifest and readRun', async () => {
    const dir = path.join(root, 'full');
    expect((await readManifest(dir)).probeMeta).toEqual(probeMeta);
    const run = await readRun(dir);
    expect(run.manifest.probeMeta).toEqual(probeMeta);
    expect(Object.is(run.manifest.probeMeta.score[2], NaN)).toBe(true);
  });

  it('has only the index when the run has no labels', async () => {
    const dir = path.join(root, 'none');
    await write(dir);
    expect((await readManifest(dir)).probeMeta).toEqual({});
    const df = pl.readIPCStream(fs.readFileSync(path.join(dir, 'labels.arrows')));
    expect([df.columns, df.height]).toEqual([['datapoint'], 6]);
  });

  it('refuses columns it cannot hold, by name, before writing anything', () => {
    const mixed = path.join(root, 'mixed');
    const w = new RunWriter(mixed, { probeMeta: { tag: ['a', 'b', 3, 'd', 'e', 'f'] as never } });
    expect(() => w.write(events[0])).toThrow('RunWriter: options.probeMeta.tag must hold only strings, only numbers or only booleans, got a string at 0 and a number at 2');
    const clash = new RunWriter(path.join(root, 'clash'), { probeMeta: { datapoint: [0, 1, 2, 3, 4, 5] } });
    expect(() => clash.write(events[0])).toThrow("RunWriter: options.probeMeta has a column named 'datapoint', the labels table's index column; rename it");
    expect(fs.existsSync(mixed)).toBe(false);
  });

  it('a damaged labels table is an error naming the file', async () => {
    const dir = path.join(root, 'cut');
    await write(dir, probeMeta);
    const file = path.join(dir, 'labels.arrows');
    fs.truncateSync(file, fs.statSync(file).size - 20);
    await expect(readManifest(dir)).rejects.toThrow(/readManifest: labels table ".*labels\.arrows" is damaged/);
    fs.rmSync(file);
    await write(path.join(root, 'n'), probeMeta);
    const manifestFile = path.join(root, 'n', 'run.json');
    fs.writeFileSync(manifestFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(manifestFile, 'utf8')), numProbe: 7 }));
    await expect(readManifest(path.join(root, 'n'))).rejects.toThrow(/readManifest: labels table ".*labels\.arrows" has 6 rows, expected numProbe = 7/);
    await expect(readRun(dir)).rejects.toThrow(/readRun: labels table ".*labels\.arrows" is missing/);
  });
});
