/**
 * Analysis of the event stream: trajectories, the paper's clustering
 * procedure, breakthroughs (post hoc and online), alert rules, a webhook
 * sink, and cluster quality / POS labels. Nothing here touches tensors.
 *
 * @packageDocumentation
 */
export * from './breakthrough.js';
export * from './trajectoryMatrix.js';
export * from './trajectories.js';
export * from './clusterProcedure.js';
export * from './clusterTracker.js';
export * from './clusterBreaks.js';
export * from './onlineDetector.js';
export * from './alertRules.js';
export * from './webhook.js';
export * from './quality.js';
export * from './posLabels.js';
export * from './lossBudget.js';
export * from './breakParameters.js';
