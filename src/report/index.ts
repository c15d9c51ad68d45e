/**
 * `polca/report`: reports of a run directory. `reportCommand` writes the
 * HTML report (the paper's cluster figures drawn with Vega-Lite, rendered to
 * SVG in Node, in one file); `clustersCommand` clusters every trajectory kind
 * and prints the breakthroughs and, given a quality target, the paper's
 * quality table. A task passes its own datapoint labels (`labels`,
 * `quality`); the report knows no task.
 *
 * @example
 * ```ts
 * import { reportCommand } from 'polca/report';
 * import { labelColumn } from 'polca/analysis';
 * const pos = labelColumn('pos', tags);
 * await reportCommand('runs/english', { labels: { compositions: [pos], quality: { column: pos, category: 'NOUN' } } });
 * ```
 *
 * @packageDocumentation
 */
export { reportCommand, type ReportCommandOptions } from './reportCommand.js';
export { buildReport, writeReport, renderCharts, type BuildReportOptions } from './buildReport.js';
export {
  reportModel,
  type ReportModel,
  type ReportOptions,
  type ReportLabels,
  type ReportProgress,
  type ReportHeader,
  type ReportCluster,
  type BasisPanel,
  type ClusterBand,
  type Composition,
} from './reportModel.js';
export type { ReportCharts } from './reportHtml.js';
export { clustersCommand, type ClustersCommandOptions, type ClustersResult } from './clustersCommand.js';
export { categoricalColumns, type CategoricalColumn } from './probeLabels.js';
export { loadTaskLabels, type TaskLabels } from './taskLabels.js';
