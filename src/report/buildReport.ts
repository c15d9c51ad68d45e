/**
 * `polca report`: a run directory in, one self-contained HTML file out.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatQualityTable, type QualityRow } from '../analysis/quality.js';
import { decodeEvents } from '../sinks/arrow/decodeEvents.js';
import { readRun } from '../sinks/arrow/readRun.js';
import { bandChart, compositionChart, eigenvalueChart, lineChart } from './charts.js';
import { renderSvg } from './renderSvg.js';
import { reportHtml, type ReportCharts } from './reportHtml.js';
import { reportModel, type ReportModel, type ReportOptions } from './reportModel.js';

/** Options of {@link buildReport}. */
export interface BuildReportOptions extends ReportOptions {
  /** Page title. Default `polca report — <directory name>`. */
  title?: string;
  /**
   * Other run directories of the same task with another basis (random,
   * shuffled, …): their POLCA rows join this run's in a second quality table
   * (the paper's basis comparison), with this run's Δ and τ.
   */
  compare?: readonly string[];
}

/**
 * Renders every chart of a report model to SVG.
 *
 * @example
 * ```ts
 * const charts = await renderCharts(reportModel(events, probeMeta));
 * charts.panels[0].projected.startsWith('<svg'); // true
 * ```
 */
export async function renderCharts(model: ReportModel, onProgress?: ReportOptions['onProgress']): Promise<ReportCharts> {
  const charts: ReportCharts = { panels: [] };
  const total = model.panels.length;
  if (model.trainingLoss.length > 0) {
    charts.trainingLoss = await renderSvg(lineChart(model.trainingLoss, 'loss', { title: 'training loss', yTitle: 'loss' }));
  }
  if (model.probeLoss.length > 0) {
    charts.probeLoss = await renderSvg(lineChart(model.probeLoss, 'meanLoss', { title: 'mean probe loss', yTitle: 'mean ℓ_x(θ_t)' }));
  }
  if (model.eigenvalues.length > 0) {
    charts.eigenvalues = await renderSvg(eigenvalueChart(model.eigenvalues, { title: 'basis eigenvalues' }));
  }
  for (const p of model.panels) {
    const projected = await renderSvg(bandChart(p.projected, { title: `b${p.basisId}: projected loss L_b(x, t)`, yTitle: 'L_b(x, t)' }));
    const exact = p.exact.length > 0 ? await renderSvg(bandChart(p.exact, { title: `b${p.basisId}: exact loss ℓ_x(θ_t)`, yTitle: 'ℓ_x(θ_t)' })) : undefined;
    const compositions: string[] = [];
    for (const c of p.compositions) compositions.push(await renderSvg(compositionChart(c, { title: `b${p.basisId}: composition by ${c.column}` })));
    charts.panels.push({ projected, exact, compositions });
    onProgress?.({ phase: 'render', done: charts.panels.length, total });
  }
  return charts;
}

function rowLabel(dir: string, kinds: readonly string[]): string {
  return `polca, ${kinds.join(' + ') || 'no'} basis (${path.basename(path.resolve(dir))})`;
}

/** POLCA quality rows of this run and of every run in `options.compare`, with this run's Δ and τ. */
async function compareBases(dir: string, model: ReportModel, options: BuildReportOptions): Promise<ReportModel['basisQuality']> {
  const rows: QualityRow[] = [];
  const own = model.quality?.rows.find((r) => r.kind === 'polca');
  if (own) rows.push({ ...own, kind: rowLabel(dir, model.header.basisKinds) });
  for (const other of options.compare ?? []) {
    const run = await readRun(other);
    const m = reportModel([...decodeEvents(run)], run.manifest.probeMeta ?? {}, {
      ...options,
      tableKinds: ['polca'],
      delta: options.delta ?? model.breaks?.delta,
      tau: options.tau ?? model.breaks?.tau,
    });
    const row = m.quality?.rows.find((r) => r.kind === 'polca');
    if (row) rows.push({ ...row, kind: rowLabel(other, m.header.basisKinds) });
    else model.notes.push(`Compared run ${JSON.stringify(other)} has no POLCA quality row: ${m.notes.join(' ')}`);
  }
  return rows.length > 0 ? { rows, markdown: formatQualityTable(rows) } : undefined;
}

/**
 * Reads a run directory and returns the report as one HTML document with
 * inline SVG charts (no script, no external reference): run header, training
 * and probe loss, basis eigenvalues, the quality table when the probe has
 * arithmetic labels, and per basis vector the clusters' projected-loss and
 * exact-loss bands, compositions and break times. Clusters are the run's
 * recorded `clusters` events, or computed (see {@link ReportOptions}).
 *
 * @throws RunFormatError when `dir` is not a readable run directory; RangeError for a bad option.
 * @example
 * ```ts
 * const html = await buildReport('runs/arith', { minClusterSize: 100 });
 * ```
 */
export async function buildReport(dir: string, options: BuildReportOptions = {}): Promise<string> {
  const run = await readRun(dir);
  const events = [...decodeEvents(run)];
  const model = reportModel(events, run.manifest.probeMeta ?? {}, options);
  if (!run.complete) model.notes.unshift('The run directory is incomplete (its writer did not close): the report shows the events recovered from it.');
  if (options.compare && options.compare.length > 0) model.basisQuality = await compareBases(dir, model, options);
  const charts = await renderCharts(model, options.onProgress);
  const title = options.title ?? `polca report — ${path.basename(path.resolve(dir))}`;
  return reportHtml(model, charts, { title });
}

/**
 * Writes {@link buildReport}'s HTML to `out` (default `<dir>/report.html`)
 * and returns the path written.
 *
 * @example
 * ```ts
 * await writeReport('runs/arith'); // 'runs/arith/report.html'
 * ```
 */
export async function writeReport(dir: string, out?: string, options: BuildReportOptions = {}): Promise<string> {
  const html = await buildReport(dir, options);
  const file = out ?? path.join(dir, 'report.html');
  await fs.promises.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await fs.promises.writeFile(file, html);
  return file;
}
