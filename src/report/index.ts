/**
 * The HTML report of a run directory (`polca report`): the paper's cluster
 * figures drawn with Vega-Lite, rendered to SVG in Node, in one file.
 *
 * @packageDocumentation
 */
export * from './buildReport.js';
export * from './reportCommand.js';
export * from './reportModel.js';
export * from './reportHtml.js';
export * from './charts.js';
export * from './renderSvg.js';
export * from './memberBands.js';
export * from './probeLabels.js';
export * from './downsample.js';
