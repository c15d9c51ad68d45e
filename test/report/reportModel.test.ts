import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { from } from 'rxjs';
import { readRun } from '../../src/sinks/arrow/readRun.js';
import { decodeEvents } from '../../src/sinks/arrow/decodeEvents.js';
import { writeRun } from '../../src/sinks/arrow/RunWriter.js';
import { RunFormatError } from '../../src/sinks/arrow/RunFormatError.js';
import type { AlertEvent, ClustersEvent, PolcaEvent, TransitionEvent } from '../../src/stream/events.js';
import { reportModel, type ReportModel } from '../../src/report/reportModel.js';
import { bandChart, compositionChart, eigenvalueChart, lineChart, type BandRow } from '../../src/report/charts.js';
import { buildReport, renderCharts } from '../../src/report/buildReport.js';
import { reportCommand } from '../../src/report/reportCommand.js';
import { makeTrackerRun } from './trackerRun.js';
import { arithmeticReportLabels } from '../../examples/arithmetic/evaluation.js';
import { labelColumn } from '../../src/analysis/labels.js';
import { band, breakStep, exactLoss, projectedLoss } from './independent.js';

// The arithmetic task's labels, as its example passes them: place × carry compositions and the carry quality table.
const OPTS = { minClusterSize: 5, minSamples: 3, labels: arithmeticReportLabels };
let tmp: string;
let dir: string;
let events: PolcaEvent[];
let probeMeta: Record<string, unknown[]>;
let model: ReportModel;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-report-'));
  dir = path.join(tmp, 'run');
  ({ probeMeta } = await makeTrackerRun(dir));
  events = [...decodeEvents(await readRun(dir))];
  model = reportModel(events, (await readRun(dir)).manifest.probeMeta, OPTS);
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Data rows of a single-view or layered spec. */
function rowsOf(spec: unknown): Record<string, unknown>[] {
  return (spec as { data: { values: Record<string, unknown>[] } }).data.values;
}

function expectBandRows(rows: BandRow[], label: string, members: ArrayLike<number>, traj: { steps: number[]; rows: number[][] }, steps?: number[]) {
  const mine = rows.filter((r) => r.cluster === label);
  expect(mine.map((r) => r.step)).toEqual(steps ?? traj.steps);
  for (const r of mine) {
    const t = traj.steps.indexOf(r.step);
    const want = band(Array.from(members, (x) => traj.rows[x][t]));
    for (const key of ['median', 'q25', 'q75'] as const) {
      expect(Math.abs(r[key] - want[key]), `${label} ${key} at step ${r.step}`).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(want[key])));
    }
  }
}

/**
 * The POLCA quality row recomputed from the raw events for the model's
 * clusters: per-cluster break times (also checked against the model's),
 * hidden count by eq. (7), top-3 eligible carry homogeneity.
 */
function independentPolcaRow(evs: PolcaEvent[], m: ReportModel, meta: Record<string, unknown[]>, delta = m.breaks!.delta, tau = m.breaks!.tau) {
  const cps = evs.filter((e) => e.type === 'checkpoint');
  const d = delta / (cps[1].step - cps[0].step);
  const eligible: { h: number; expected: number }[] = [];
  // Each place's carry rate over the whole probe: what a cluster's places alone predict.
  const rate = new Map<unknown, number>();
  for (const pl of new Set(meta.place)) {
    const all = meta.place.map((q, x) => (q === pl ? x : -1)).filter((x) => x >= 0);
    rate.set(pl, all.filter((x) => meta.carry[x]).length / all.length);
  }
  let clusters = 0;
  let hidden = 0;
  for (const p of m.panels) {
    const traj = projectedLoss(evs, p.basisId);
    const steps = traj.steps.slice(0, p.clusteredCheckpoints);
    for (const c of p.clusters) {
      const breaks = Array.from(c.members, (x) => breakStep(traj.rows[x].slice(0, steps.length), steps, d));
      const mean = breaks.reduce((a, b) => a + b, 0) / breaks.length;
      expect(c.meanBreak).toBeCloseTo(mean, 9);
      expect(c.hidden).toBe(mean > tau);
      const median = Array.from({ length: steps.length }, (_, t) => band(Array.from(c.members, (x) => traj.rows[x][t])).median);
      expect(c.medianBreak).toBe(breakStep(median, steps, d));
      clusters++;
      if (mean > tau) hidden++;
      const carry = Array.from(c.members).filter((x) => meta.carry[x]);
      const tensHundreds = carry.filter((x) => meta.place[x] === '10s' || meta.place[x] === '100s').length;
      const expected = Array.from(c.members).reduce((a, x) => a + rate.get(meta.place[x])!, 0) / c.size;
      if (carry.length > 0 && tensHundreds / carry.length > 0.85) eligible.push({ h: carry.length / c.size, expected });
    }
  }
  eligible.sort((a, b) => b.h - a.h);
  const best = eligible.filter((e) => e.h === eligible[0]?.h).map((e) => e.expected.toFixed(3));
  return { clusters, hidden, top: eligible.slice(0, 3).map((e) => e.h), bestExpected: best };
}

describe('reportModel on a real tracker run (clusters computed)', () => {
  it('the run has the shape the tests rely on', () => {
    expect(model.header.numProbe).toBe(60);
    expect(model.header.checkpoints).toBe(21);
    expect(model.panels.length).toBeGreaterThanOrEqual(2);
    expect(model.panels.every((p) => p.source === 'computed' && p.clusters.length >= 2)).toBe(true);
  });

  it('projected-loss band chart data are the median and quartiles of the members\u2019 cumulative POLCA', () => {
    for (const p of model.panels) {
      const traj = projectedLoss(events, p.basisId);
      const rows = rowsOf(bandChart(p.projected, { title: 't', yTitle: 'y' })) as unknown as BandRow[];
      expect(rows).toHaveLength(p.clusters.length * traj.steps.length);
      for (const c of p.clusters) expectBandRows(rows, c.label, c.members, traj);
    }
  });

  it('exact-loss band chart data are the median and quartiles of the members\u2019 checkpoint losses', () => {
    const traj = exactLoss(events);
    for (const p of model.panels) {
      const rows = rowsOf(bandChart(p.exact, { title: 't', yTitle: 'y' })) as unknown as BandRow[];
      for (const c of p.clusters) expectBandRows(rows, c.label, c.members, traj);
    }
  });

  it('clusters are disjoint datapoints that kept a falling projected loss', () => {
    for (const p of model.panels) {
      const traj = projectedLoss(events, p.basisId);
      const seen = new Set<number>();
      for (const c of p.clusters) {
        expect(c.size).toBe(c.members.length);
        expect(c.size).toBeGreaterThanOrEqual(OPTS.minClusterSize);
        expect(Array.from(c.members)).toContain(c.medoid);
        for (const x of c.members) {
          expect(seen.has(x)).toBe(false);
          seen.add(x);
          const row = traj.rows[x];
          expect(row[row.length - 1]).toBeLessThanOrEqual(row[0]);
        }
      }
      expect(seen.size + p.dropped + p.outliers).toBe(60);
    }
  });

  it('composition bars count members by place \u00d7 carry from probeMeta', () => {
    for (const p of model.panels) {
      const comp = p.compositions.find((c) => c.column === 'place \u00d7 carry')!;
      const rows = rowsOf(compositionChart(comp, { title: 't' }));
      const got = new Map(rows.map((r) => [`${r.short}|${r.category}`, r.count]));
      const want = new Map<string, number>();
      for (const c of p.clusters) {
        for (const x of c.members) {
          const key = `c${c.id}|${probeMeta.place[x]} ${probeMeta.carry[x] ? 'carry' : 'no carry'}`;
          want.set(key, (want.get(key) ?? 0) + 1);
        }
      }
      expect(got).toEqual(want);
    }
  });

  it('line charts hold the training loss of every step and the mean probe loss of every checkpoint', () => {
    const steps = events.filter((e) => e.type === 'step' && e.loss !== undefined) as { step: number; loss: number }[];
    expect(rowsOf(lineChart(model.trainingLoss, 'loss', { title: 't', yTitle: 'y' }))).toEqual(steps.map((s) => ({ step: s.step, loss: s.loss })));
    const cps = events.filter((e) => e.type === 'checkpoint') as { step: number; losses: Float32Array }[];
    const probe = rowsOf(lineChart(model.probeLoss, 'meanLoss', { title: 't', yTitle: 'y' }));
    expect(probe.map((r) => r.step)).toEqual(cps.map((c) => c.step));
    probe.forEach((r, k) => {
      const mean = Array.from(cps[k].losses).reduce((a, b) => a + b, 0) / cps[k].losses.length;
      expect(Math.abs((r.meanLoss as number) - mean)).toBeLessThan(1e-12 * (1 + mean));
    });
    const basis = events.filter((e) => e.type === 'basis') as { id: number; step: number; eigenvalue: number }[];
    expect(rowsOf(eigenvalueChart(model.eigenvalues, { title: 't' })).map((r) => [r.basisId, r.step, r.eigenvalue])).toEqual(
      basis.map((b) => [b.id, b.step, b.eigenvalue]),
    );
  });

  it('Δ and τ defaults, shared with polca clusters and the live detector: 5 checkpoint intervals, and the first step after which the mean probe loss stays within 5% of its drop', () => {
    const cps = events.filter((e) => e.type === 'checkpoint') as { step: number; meanLoss: number }[];
    const vals = cps.map((c) => c.meanLoss);
    const last = vals[vals.length - 1];
    const tol = 0.05 * (Math.max(...vals) - last);
    let k = vals.length - 1;
    while (k > 0 && Math.abs(vals[k - 1] - last) <= tol) k--;
    expect(model.breaks).toEqual({ delta: 5 * (cps[1].step - cps[0].step), tau: cps[k].step, tauSource: 'mean probe loss' });
  });

  it('per-cluster break times and the quality table\u2019s POLCA row match eq. (6)/(7) and carry homogeneity computed from the events', () => {
    const want = independentPolcaRow(events, model, probeMeta);
    const row = model.quality!.rows.find((r) => r.kind === 'polca')!;
    expect([row.clusters, row.hiddenClusters, row.topHomogeneity]).toEqual([want.clusters, want.hidden, want.top]);
    expect(row.topHomogeneity.length).toBeGreaterThan(0);
    expect(model.quality!.rows.map((r) => r.kind)).toEqual(['loss', 'loss-change', 'fisher', 'polca-first', 'polca']);
  });

  it('reports progress: one step per clustering, then per rendered panel', async () => {
    const seen: string[] = [];
    const onProgress = (p: { phase: string; done: number; total: number }) => seen.push(`${p.phase} ${p.done}/${p.total}`);
    const m = reportModel(events, probeMeta as never, { ...OPTS, onProgress });
    const K = new Set(events.flatMap((e) => (e.type === 'polca' ? e.basisIds : []))).size;
    // One clustering per kind and basis vector, shared by the figures and the table: polca, polca-first and fisher per vector, loss and loss-change once.
    const total = 3 * K + 2;
    expect(seen).toEqual(Array.from({ length: total }, (_, k) => `cluster ${k + 1}/${total}`));
    seen.length = 0;
    await renderCharts(m, onProgress);
    const panels = m.panels.length + m.kindPanels.length;
    expect(m.kindPanels.length).toBeGreaterThan(0);
    expect(seen).toEqual(Array.from({ length: panels }, (_, k) => `render ${k + 1}/${panels}`));
  });

  it('curves are sampled to maxPoints, ends kept, values still exact', () => {
    const small = reportModel(events, probeMeta as never, { ...OPTS, maxPoints: 5 });
    const p = small.panels[0];
    const traj = projectedLoss(events, p.basisId);
    const T = traj.steps.length;
    const want = [0, 5, 10, 15, 20].map((t) => traj.steps[Math.round((t * (T - 1)) / 20)]);
    const rows = rowsOf(bandChart(p.projected, { title: 't', yTitle: 'y' })) as unknown as BandRow[];
    for (const c of p.clusters) expectBandRows(rows, c.label, c.members, traj, want);
    expect(small.trainingLoss.map((r) => r.step)).toEqual([1, 11, 21, 30, 40]);
  });
});

describe('reportModel with a task\u2019s own labels (no arithmetic)', () => {
  it('draws the given columns first, then the probe-metadata columns they were not made from, and tables homogeneity in the given category', () => {
    const parity = labelColumn('parity', Array.from({ length: 60 }, (_, x) => (x % 2 === 0 ? 'even' : 'odd')), ['even', 'odd']);
    const carry = labelColumn('carry', probeMeta.carry);
    const m = reportModel(events, probeMeta as never, { ...OPTS, labels: { compositions: [parity], quality: { column: carry, category: 'true' } } });
    for (const p of m.panels) {
      expect(p.compositions.map((c) => c.column)).toEqual(['parity', 'place', 'carry']);
      const got = new Map(p.compositions[0].rows.map((r) => [`${r.clusterId}|${r.category}`, r.count]));
      const want = new Map<string, number>();
      for (const c of p.clusters) for (const x of c.members) want.set(`${c.id}|${x % 2 === 0 ? 'even' : 'odd'}`, (want.get(`${c.id}|${x % 2 === 0 ? 'even' : 'odd'}`) ?? 0) + 1);
      expect(got).toEqual(want);
    }
    // Without an eligibility rule every cluster of every POLCA panel competes for the top three.
    const shares = m.panels.flatMap((p) => p.clusters.map((c) => Array.from(c.members).filter((x) => probeMeta.carry[x]).length / c.size));
    const row = m.quality!.rows.find((r) => r.kind === 'polca')!;
    expect(row.target).toBe('carry=true');
    expect(row.topHomogeneity).toEqual(shares.sort((a, b) => b - a).slice(0, 3));
    expect(m.quality!.markdown.split('\n')[0]).toBe('| trajectories | max carry=true homogeneity (top 3) | clusters with hidden breakthroughs |');
  });
});

describe('reportModel with recorded clusters', () => {
  it('shows the recorded members of a basis vector and computes the vectors without a record', async () => {
    const traj = projectedLoss(events, 0);
    const members = Int32Array.from({ length: 20 }, (_, k) => 3 * k);
    const recordedEvent: ClustersEvent = {
      type: 'clusters', time: 1, step: traj.steps[traj.steps.length - 1], kind: 'polca', basisId: 0,
      steps: Int32Array.from(traj.steps),
      clusters: [{ id: 7, members, medoid: 3, median: new Float64Array(traj.steps.length), q25: new Float64Array(traj.steps.length), q75: new Float64Array(traj.steps.length) }],
      dropped: 40, outliers: 0,
    };
    const transition: TransitionEvent = {
      type: 'transition', time: 2, step: 12, detectedAt: 20, target: { kind: 'cluster', basisId: 0, clusterId: 7 }, magnitude: -0.25, confidence: 0.5,
    };
    const alert: AlertEvent = { type: 'alert', time: 3, step: 30, rule: 'loss-stalled', message: 'loss <stalled> & flat', value: 0.125 };
    const withClusters = [...events.slice(0, -1), recordedEvent, transition, alert, events[events.length - 1]];
    const dir2 = path.join(tmp, 'recorded');
    const writer = writeRun(from(withClusters), dir2, { probeMeta: probeMeta as never });
    await writer.closed;
    const run = await readRun(dir2);
    const m = reportModel([...decodeEvents(run)], run.manifest.probeMeta, OPTS);
    const p0 = m.panels.find((p) => p.basisId === 0)!;
    expect(p0.source).toBe('recorded');
    expect(p0.clusters.map((c) => [c.id, c.label, Array.from(c.members)])).toEqual([[7, 'cluster 7 (n=20)', Array.from(members)]]);
    expectBandRows(rowsOf(bandChart(p0.projected, { title: 't', yTitle: 'y' })) as unknown as BandRow[], 'cluster 7 (n=20)', members, traj);
    expect(m.panels.filter((p) => p.basisId !== 0).every((p) => p.source === 'computed')).toBe(true);
    const html = await buildReport(dir2, OPTS);
    const tau = m.breaks!.tau;
    expect(html).toContain(`<tr><td>12</td><td>20</td><td>basis 0, cluster 7</td><td>-0.2500</td><td>0.500</td><td>${12 > tau ? 'yes' : 'no'}</td></tr>`);
    expect(html).toContain('<tr><td>30</td><td>loss-stalled</td><td>loss &lt;stalled&gt; &amp; flat</td><td>0.1250</td></tr>');
    // recluster ignores the record.
    const re = reportModel([...decodeEvents(run)], run.manifest.probeMeta, { ...OPTS, recluster: true });
    expect(re.panels.find((p) => p.basisId === 0)?.source ?? 'computed').toBe('computed');
  });
});

describe('buildReport compare: POLCA by basis', () => {
  it('adds a row per compared run (random basis), each equal to the independent computation with this run\u2019s Δ and τ', async () => {
    const dirR = path.join(tmp, 'random');
    const { probeMeta: metaR } = await makeTrackerRun(dirR, { basisKind: 'random' });
    const html = await buildReport(dir, { ...OPTS, compare: [dirR] });
    const runR = await readRun(dirR);
    const eventsR = [...decodeEvents(runR)];
    const { delta, tau } = model.breaks!;
    const modelR = reportModel(eventsR, runR.manifest.probeMeta, { ...OPTS, tableKinds: ['polca'], delta, tau });
    expect(modelR.header.basisKinds).toEqual(['random']);
    const want = [independentPolcaRow(events, model, probeMeta), independentPolcaRow(eventsR, modelR, metaR, delta, tau)];
    const section = html.slice(html.indexOf('<h3>POLCA by basis</h3>'));
    const cells = [...section.slice(0, section.indexOf('</table>')).matchAll(/<tr><td>([^<]*)<\/td><td>([^<]*)<\/td><td>[^<]*<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)];
    expect(cells.map((c) => c[1])).toEqual(['polca, hessian basis (run)', 'polca, random basis (random)']);
    cells.forEach((c, k) => {
      expect(c[2]).toBe(want[k].top.length ? want[k].top.map((v) => v.toFixed(3)).join(' / ') : '\u2013');
      if (want[k].top.length) expect(want[k].bestExpected).toContain(c[3].split(' / ')[0]);
      else expect(c[3]).toBe('\u2013');
      expect(c[4]).toBe(`${(want[k].hidden / want[k].clusters).toFixed(3)} (${want[k].hidden}/${want[k].clusters})`);
    });
  });
});

describe('a run without POLCA intervals', () => {
  it('gets a header, loss curves and notes, and no panels', async () => {
    const start = events[0];
    const plain: PolcaEvent[] = [start];
    for (let s = 0; s <= 6; s++) {
      plain.push({ type: 'step', time: 10 + s, step: s, loss: 1 / (s + 1) });
      if (s % 3 === 0) {
        const losses = Float32Array.from({ length: 60 }, (_, x) => (x + 1) / (s + 1));
        plain.push({ type: 'checkpoint', time: 20 + s, step: s, losses, meanLoss: 30.5 / (s + 1), nonFinite: 0, seconds: 0 });
      }
    }
    const dir3 = path.join(tmp, 'plain');
    await writeRun(from(plain), dir3).closed;
    const html = await buildReport(dir3, { title: 'plain <run>' });
    expect(html).toContain('<title>plain &lt;run&gt;</title>');
    expect(html).toContain('<tr><th>ended</th><td>incomplete</td></tr>');
    expect(html).toContain('The run has no POLCA intervals');
    expect(html).toContain('<p>No basis vector has clusters.</p>');
    // Two curves, no POLCA panel; the exact-loss kinds' clusters, when they have any, get their own figures.
    expect(html).not.toMatch(/id="basis-\d+"/);
    const kindCharts = html.slice(html.indexOf('Clusters of the other trajectory kinds')).match(/<svg/g)?.length ?? 0;
    expect(html.match(/<svg/g)).toHaveLength(2 + kindCharts);
    // With limit (the intact prefix of a damaged run), only the first events count: here the first two checkpoints.
    const prefix = plain.findIndex((e) => e.type === 'checkpoint' && e.step === 3) + 1;
    const partial = await buildReport(dir3, { limit: prefix });
    expect(partial).toContain(`The run directory is damaged: the report shows its intact first ${prefix} events.`);
    expect(partial).toContain('<tr><th>checkpoints / POLCA intervals</th><td>2 / 0</td></tr>');
    expect(html).toContain('<tr><th>checkpoints / POLCA intervals</th><td>3 / 0</td></tr>');
    await expect(buildReport(dir3, { limit: 1.5 })).rejects.toThrow("buildReport: option 'limit' must be a non-negative integer, got 1.5");
  });
});

describe('report options and errors', () => {
  it('rejects bad options naming the function, the option and the value', () => {
    expect(() => reportModel(events, {}, { maxPoints: 1 })).toThrow("reportModel: option 'maxPoints' must be an integer ≥ 2, got 1");
    expect(() => reportModel(events, {}, { minClusterSize: 2.5 })).toThrow("reportModel: option 'minClusterSize' must be a positive integer, got 2.5");
    expect(() => reportModel(events, {}, { delta: -1 })).toThrow("reportModel: option 'delta' must be a positive number, got -1");
    expect(() => reportModel(events, {}, { tableKinds: ['nope' as never] })).toThrow(`reportModel: option 'tableKinds' must be 'loss', 'loss-change', 'fisher', 'lca', 'polca-first' or 'polca', got "nope"`);
    expect(() => reportModel(events.slice(1), {})).toThrow('reportModel: the events hold no run-start event');
  });

  it('without labels there is no quality table and a note says why; text columns are not categories', () => {
    const m = reportModel(events, { text: probeMeta.text as string[] }, OPTS);
    expect(m.quality).toBeUndefined();
    expect(m.notes.some((n) => n.includes('arithmetic labels'))).toBe(true);
    expect(m.panels[0].compositions).toEqual([]);
  });

  it('buildReport and reportCommand fail on a directory that is not a run', async () => {
    await expect(buildReport(path.join(tmp, 'missing'))).rejects.toThrow(RunFormatError);
    await expect(reportCommand('')).rejects.toThrow('reportCommand: dir must be a non-empty string, got ""');
    await expect(reportCommand(dir, { out: '' })).rejects.toThrow('reportCommand: opts.out must be a non-empty string, got ""');
  });
});
