/**
 * `polca report`: a run directory in, one self-contained HTML file out.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import path from 'node:path';
import { formatQualityTable, type QualityRow } from '../analysis/quality.js';
import { defaultClusterParams } from '../analysis/clusterProcedure.js';
import { readLiveAnalysis } from '../run/liveAnalysis.js';
import { decodeEvents } from '../sinks/arrow/decodeEvents.js';
import { readRun } from '../sinks/arrow/readRun.js';
import { nonNegativeInt } from '../errors/validate.js';
import type { PolcaEvent } from '../stream/events.js';
import { bandChart, compositionChart, eigenvalueChart, lineChart } from './charts.js';
import { renderSvg } from './renderSvg.js';
import { reportHtml, type ReportCharts } from './reportHtml.js';
import { reportModel, type BasisPanel, type ReportModel, type ReportOptions } from './reportModel.js';

/**
 * Names of a panel's charts: `b3` for POLCA (the titles the report always
 * had), `polca-first b3`, `fisher b3`, `loss clusters`… for the other kinds.
 *
 * @example
 * ```ts
 * panelTitles({ kind: 'fisher', basisId: 2 } as BasisPanel).title; // 'fisher b2: projected Fisher ⟨b, ∇ℓ_x⟩²'
 * ```
 */
export function panelTitles(p: Pick<BasisPanel, 'kind' | 'basisId'>): { name: string; title: string; yTitle: string } {
  const b = `b${p.basisId}`;
  switch (p.kind) {
    case 'polca':
      return { name: b, title: `${b}: projected loss L_b(x, t)`, yTitle: 'L_b(x, t)' };
    case 'polca-first':
      return { name: `polca-first ${b}`, title: `polca-first ${b}: first-order projected loss`, yTitle: 'L_b(x, t), first order' };
    case 'lca':
      return { name: `lca ${b}`, title: `lca ${b}: projected loss along an axis`, yTitle: 'L_b(x, t)' };
    case 'fisher':
      return { name: `fisher ${b}`, title: `fisher ${b}: projected Fisher ⟨b, ∇ℓ_x⟩²`, yTitle: '⟨b, ∇ℓ_x⟩²' };
    case 'loss':
      return { name: 'exact-loss clusters', title: 'exact-loss clusters: exact loss ℓ_x(θ_t)', yTitle: 'ℓ_x(θ_t)' };
    case 'loss-change':
      return { name: 'loss-change clusters', title: 'loss-change clusters: ℓ_x(θ_t) − ℓ_x(θ_t−1)', yTitle: 'Δℓ_x' };
  }
}

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
  /**
   * Use only the run's first `limit` events: the intact prefix of a damaged
   * run, as `polca report --allow-partial` finds it. Default: every event.
   */
  limit?: number;
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
  const charts: ReportCharts = { panels: [], kindPanels: [] };
  const total = model.panels.length + model.kindPanels.length;
  if (model.trainingLoss.length > 0) {
    charts.trainingLoss = await renderSvg(lineChart(model.trainingLoss, 'loss', { title: 'training loss', yTitle: 'loss' }));
  }
  if (model.probeLoss.length > 0) {
    charts.probeLoss = await renderSvg(lineChart(model.probeLoss, 'meanLoss', { title: 'mean probe loss', yTitle: 'mean ℓ_x(θ_t)' }));
  }
  if (model.eigenvalues.length > 0) {
    charts.eigenvalues = await renderSvg(eigenvalueChart(model.eigenvalues, { title: 'basis eigenvalues' }));
  }
  const render = async (p: BasisPanel) => {
    const { name, title, yTitle } = panelTitles(p);
    const projected = await renderSvg(bandChart(p.projected, { title, yTitle }));
    const exact = p.exact.length > 0 ? await renderSvg(bandChart(p.exact, { title: `${name}: exact loss ℓ_x(θ_t)`, yTitle: 'ℓ_x(θ_t)' })) : undefined;
    const compositions: string[] = [];
    for (const c of p.compositions) compositions.push(await renderSvg(compositionChart(c, { title: `${name}: composition by ${c.column}` })));
    return { projected, exact, compositions };
  };
  for (const p of model.panels) {
    charts.panels.push(await render(p));
    onProgress?.({ phase: 'render', done: charts.panels.length, total });
  }
  for (const p of model.kindPanels) {
    charts.kindPanels.push(await render(p));
    onProgress?.({ phase: 'render', done: charts.panels.length + charts.kindPanels.length, total });
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
 * The report's options with the run's live analysis filled in where they are
 * not given: its Δ (so the live detector, `polca clusters` and the report
 * agree on a run) and its HDBSCAN sizes. Asking for other sizes than the
 * live clustering used makes the report recompute the clusters rather than
 * show the recorded ones.
 */
function withLiveParameters(dir: string, n: number, options: BuildReportOptions): BuildReportOptions {
  const live = readLiveAnalysis(dir);
  if (!live) return options;
  const defaults = defaultClusterParams(n);
  const liveSize = live.minClusterSize ?? defaults.minClusterSize;
  const liveSamples = live.minSamples ?? defaults.minSamples;
  const otherSizes = (options.minClusterSize ?? liveSize) !== liveSize || (options.minSamples ?? liveSamples) !== liveSamples;
  return {
    ...options,
    delta: options.delta ?? live.delta ?? undefined,
    minClusterSize: options.minClusterSize ?? live.minClusterSize ?? undefined,
    minSamples: options.minSamples ?? live.minSamples ?? undefined,
    recluster: options.recluster || otherSizes,
  };
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
  const { limit, ...rest } = options;
  if (limit !== undefined) nonNegativeInt('buildReport', 'limit', limit);
  const run = await readRun(dir);
  // Only the first `limit` events are decoded: what lies beyond an intact prefix is never read.
  const events: PolcaEvent[] = [];
  for (const e of decodeEvents(run)) {
    if (limit !== undefined && events.length >= limit) break;
    events.push(e);
  }
  const model = reportModel(events, run.manifest.probeMeta ?? {}, withLiveParameters(dir, run.manifest.numProbe, rest));
  if (limit !== undefined) model.notes.unshift(`The run directory is damaged: the report shows its intact first ${limit} events.`);
  else if (!run.complete) model.notes.unshift('The run directory is incomplete (its writer did not close): the report shows the events recovered from it.');
  if (rest.compare && rest.compare.length > 0) model.basisQuality = await compareBases(dir, model, rest);
  const charts = await renderCharts(model, rest.onProgress);
  const title = rest.title ?? `polca report — ${path.basename(path.resolve(dir))}`;
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
