/**
 * An independent Arrow implementation (polars, Rust) reads every table the
 * writer produces; its values must equal rows derived here directly from the
 * events, row by row, without any polca reading code.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, describe, expect, it } from 'vitest';
import { RunWriter } from '../../../src/sinks/arrow/RunWriter.js';
import { EVENT_TABLES, TABLE_NAMES, type TableName } from '../../../src/sinks/arrow/schemas.js';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { syntheticEvents } from '../../helpers/syntheticEvents.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-polars-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

type Row = Record<string, unknown>;
const list = (a: ArrayLike<number> | undefined) => (a === undefined ? null : Array.from(a));

/** The rows each table should hold, written out the slow obvious way. */
function expectedRows(events: PolcaEvent[]): Record<TableName, Row[]> {
  const t = Object.fromEntries(TABLE_NAMES.map((n) => [n, [] as Row[]])) as Record<TableName, Row[]>;
  events.forEach((e, seq) => {
    let step: number | null = null;
    let json: string | null = null;
    switch (e.type) {
      case 'run-start':
        json = JSON.stringify(e);
        break;
      case 'run-end':
        step = e.step;
        json = JSON.stringify(e);
        break;
      case 'step':
        step = e.step;
        t.steps.push({ seq, time: e.time, step: e.step, loss: e.loss ?? null, lr: e.lr ?? null });
        break;
      case 'checkpoint':
        step = e.step;
        t.checkpoints.push({ seq, time: e.time, step: e.step, meanLoss: e.meanLoss, nonFinite: e.nonFinite, seconds: e.seconds });
        e.losses.forEach((loss, datapoint) => t.losses.push({ seq, step: e.step, datapoint, loss }));
        break;
      case 'basis':
        step = e.step;
        t.basis.push({ seq, time: e.time, id: e.id, step: e.step, kind: e.kind, eigenvalue: e.eigenvalue, residual: e.residual, hvps: e.hvps, vector: list(e.vector) });
        break;
      case 'polca': {
        step = e.toStep;
        const { fromStep, toStep } = e;
        const c = e.derivativeCheck;
        t.intervals.push({
          seq, time: e.time, fromStep, toStep, numBasis: e.basisIds.length, secondOrder: e.secondOrder, nonFinite: e.nonFinite,
          checkBasisId: c?.basisId ?? null, checkRelativeError: c?.relativeError ?? null, checkStep: c?.step ?? null, source: e.filled ? 'filled' : 'live',
        });
        e.basisIds.forEach((basisId, k) => {
          t.projections.push({ seq, fromStep, toStep, basisId, projection: e.projections[k] });
          for (let datapoint = 0; datapoint < e.lossBefore.length; datapoint++) {
            t.polca.push({ seq, fromStep, toStep, basisId, datapoint, value: e.values[k][datapoint], firstOrder: e.firstOrder[k][datapoint], derivative: e.derivatives[k][datapoint] });
          }
        });
        for (let datapoint = 0; datapoint < e.lossBefore.length; datapoint++) {
          t.residuals.push({ seq, fromStep, toStep, datapoint, lossBefore: e.lossBefore[datapoint], lossAfter: e.lossAfter[datapoint], residual: e.residual[datapoint] });
        }
        break;
      }
      case 'clusters':
        step = e.step;
        json = JSON.stringify({ kind: e.kind, basisId: e.basisId, steps: Array.from(e.steps), dropped: e.dropped, outliers: e.outliers });
        for (const c of e.clusters) {
          t.clusters.push({
            seq, step: e.step, kind: e.kind, basisId: e.basisId, clusterId: c.id, medoid: c.medoid, size: c.members.length,
            members: list(c.members), median: list(c.median), q25: list(c.q25), q75: list(c.q75),
          });
        }
        break;
      case 'transition': {
        step = e.step;
        const g = e.target;
        t.transitions.push({
          seq, time: e.time, step: e.step, detectedAt: e.detectedAt, targetKind: g.kind,
          basisId: g.kind === 'cluster' ? g.basisId : null, clusterId: g.kind === 'cluster' ? g.clusterId : null, name: g.kind === 'datapoints' ? g.name : null,
          magnitude: e.magnitude, confidence: e.confidence,
        });
        break;
      }
      case 'alert':
        step = e.step;
        t.alerts.push({ seq, time: e.time, step: e.step, rule: e.rule, message: e.message, value: e.value });
        break;
    }
    t.events.push({ seq, time: e.time, type: e.type, step, json });
  });
  return t;
}

/**
 * Same value: numbers by Object.is (NaN = NaN, −0 ≠ 0), arrays element-wise;
 * a timestamp in nanoseconds against an event time in milliseconds exactly
 * (the synthetic clock ticks in 1/16 ms, 62 500 ns).
 */
function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' && typeof b === 'number') return Number.isInteger(b * 16) && a === BigInt(b * 16) * 62_500n;
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return a === b;
}

function polarsColumn(df: pl.DataFrame, name: string): unknown[] {
  const series = df.getColumn(name);
  // Timestamps come back as JS Dates (whole milliseconds) and Int64 as doubles; their nanoseconds are compared exactly, via text.
  if (series.dtype.variant === 'Datetime') return series.cast(pl.Int64).cast(pl.Utf8).toArray().map((v: unknown) => BigInt(v as string));
  return series.toArray().map((v: unknown) => (v !== null && typeof v === 'object' && 'length' in (v as object) ? Array.from(v as ArrayLike<unknown>) : v));
}

describe('Arrow tables read by nodejs-polars', () => {
  const events = syntheticEvents({ numProbe: 11, numParams: 6, checkpoints: 9 });
  const expected = expectedRows(events);

  it('every table of a closed run, read from its file, equals the events row by row', async () => {
    const dir = path.join(root, 'closed');
    const w = new RunWriter(dir);
    for (const e of events) w.write(e);
    await w.close();
    for (const name of TABLE_NAMES) {
      // nodejs-polars takes a string as a path only when it ends in `.ipc`; `.arrows` files are passed as bytes.
      const df = pl.readIPCStream(fs.readFileSync(path.join(dir, `${name}.arrows`)));
      const columns = EVENT_TABLES[name].map((f) => f.name);
      expect(df.columns).toEqual(columns);
      const want = expected[name];
      expect(want.length, `fixture rows of ${name}`).toBeGreaterThan(0);
      expect(df.height, name).toBe(want.length);
      for (const col of columns) {
        const got = polarsColumn(df, col);
        for (let r = 0; r < want.length; r++) {
          if (!same(got[r], want[r][col])) throw new Error(`${name}.${col} row ${r}: polars ${String(got[r])}, event ${String(want[r][col])}`);
        }
      }
    }
  });

  it('reads a killed run (no end-of-stream marker) from a Buffer', async () => {
    const dir = path.join(root, 'killed');
    const w = new RunWriter(dir);
    const cut = events.findIndex((e, i) => i > 30 && e.type === 'polca');
    for (const e of events.slice(0, cut + 1)) w.write(e);
    w.abort(new Error('kill'));
    await w.closed.catch(() => undefined);
    const df = pl.readIPCStream(fs.readFileSync(path.join(dir, 'polca.arrows')));
    const want = expectedRows(events.slice(0, cut + 1)).polca;
    expect(df.height).toBe(want.length);
    const values = polarsColumn(df, 'value');
    want.forEach((row, r) => expect(same(values[r], row.value)).toBe(true));
  });
});
