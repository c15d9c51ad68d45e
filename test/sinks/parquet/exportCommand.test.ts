/**
 * `polca export` on a damaged run: refused with the damaged file named, or,
 * with --allow-partial, the intact prefix exported and the drop reported.
 * DuckDB reads what was exported.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../../src/cli/exportCommand.js';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-export-cmd-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('polca export on a damaged run', () => {
  it('refuses naming the file, or exports the intact prefix with --allow-partial', async () => {
    const events = syntheticEvents({ numProbe: 5, numParams: 4, checkpoints: 6 });
    const dir = path.join(root, 'cut');
    const w = new RunWriter(dir);
    for (const e of events) w.write(e);
    await w.close();
    // Cut the polca table in the middle of its last batch.
    const file = path.join(dir, 'polca.arrows');
    fs.truncateSync(file, fs.statSync(file).size - 100);
    const lines: string[] = [];
    const warn = (line: string) => lines.push(line);
    const out = path.join(root, 'dataset');
    await expect(exportCommand([dir], { parquet: true, out, warn })).rejects.toThrow(/polca export: ".*cut" is damaged; nothing was computed:[\s\S]*polca\.arrows/);
    expect(fs.existsSync(out)).toBe(false);

    const r = await exportCommand([dir], { parquet: true, out, warn, allowPartial: true });
    const dropped = lines.find((l) => l.includes('--allow-partial: using the first'));
    expect(dropped).toBeDefined();
    const kept = Number(/using the first (\d+) of/.exec(dropped!)![1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(events.length);
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    const q = async (sql: string) => (await c.runAndReadAll(sql)).getRowObjects();
    expect(await q(`SELECT count(*)::INTEGER AS n, max(seq) AS last FROM read_parquet('${out}/events/*/*.parquet')`)).toEqual([{ n: kept, last: kept - 1 }]);
    // No row of any table belongs to a dropped event, and the runs table says how many were kept.
    for (const t of ['polca', 'residuals', 'losses', 'steps']) {
      expect((await q(`SELECT count(*)::INTEGER AS n FROM read_parquet('${out}/${t}/*/*.parquet') WHERE seq >= ${kept}`))[0].n, t).toBe(0);
    }
    expect(await q(`SELECT events FROM read_parquet('${out}/runs/*/*.parquet')`)).toEqual([{ events: kept }]);
    expect(r.text).toMatch(/^exported 1 run \(\d+ rows, \d+ files, [\d.]+ MB\) to /);
    c.closeSync();
  });
});
