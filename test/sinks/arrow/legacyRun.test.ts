/**
 * Run directories written before the `.arrows` tables, timestamp time
 * columns and the labels table (fixture `legacy-run/`, made by
 * `fixtures/makeLegacyRun.ts` with the old writer) still read: every reader
 * gives back the events, labels and θ that the old writer was given.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { decodeEvents } from '../../../src/sinks/arrow/decodeEvents.js';
import { readManifest } from '../../../src/sinks/arrow/manifest.js';
import { readParams, readRun } from '../../../src/sinks/arrow/readRun.js';
import { replay } from '../../../src/sinks/arrow/replay.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';
import { bitDiff } from './bitEqual.js';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'legacy-run');
// The options makeLegacyRun.ts gave the old writer.
const events = syntheticEvents({ numProbe: 5, numParams: 6, checkpoints: 4 });
const probeMeta = { token: ['a', 'b', 'c', 'd', 'e'], label: [0, 1, 1, 0, 2], carry: [true, false, true, false, true] };

describe('a run directory of the previous layout', () => {
  it('names .ipc tables in run.json, and readRun follows them', async () => {
    const run = await readRun(dir, { strict: true });
    expect(run.manifest.tables.polca).toBe('polca.ipc');
    expect(run.complete).toBe(true);
    expect(bitDiff([...decodeEvents(run)], events)).toBeNull();
  });

  it('replays the same events', async () => {
    expect(bitDiff(await lastValueFrom(replay(dir).pipe(toArray())), events)).toBeNull();
  });

  it('gives its probe labels from run.json', async () => {
    expect((await readManifest(dir)).probeMeta).toEqual(probeMeta);
    expect((await readRun(dir)).manifest.probeMeta).toEqual(probeMeta);
  });

  it('reads its θ', async () => {
    const { params } = await readParams(dir);
    let c = 0;
    const want = events.filter((e) => e.type === 'checkpoint').map((e) => ({ step: e.step, theta: Float32Array.from({ length: 6 }, (_, i) => i + c++ / 8) }));
    expect(bitDiff(params, want)).toBeNull();
  });
});
