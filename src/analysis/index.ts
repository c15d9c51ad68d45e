/**
 * `polca/analysis`: analysis of the event stream. Trajectories, the paper's
 * clustering procedure, breakthroughs (post hoc and online), alert rules, a
 * webhook sink, and cluster quality with respect to any datapoint label.
 * Nothing here touches tensors.
 *
 * @example
 * ```ts
 * import { TrajectoryBuilder, clusterAllBasisVectors, qualityTable, labelColumn } from 'polca/analysis';
 * const builder = new TrajectoryBuilder({ kinds: ['polca'] });
 * for (const e of events) builder.push(e);
 * const clusterings = clusterAllBasisVectors(builder, 'polca');
 * const target = { column: labelColumn('pos', tags), category: 'NOUN' };
 * qualityTable([{ kind: 'polca', clusterings }], target, { delta: 100, tau: 1000 });
 * ```
 *
 * @packageDocumentation
 */
export { TRAJECTORY_KINDS, isBasisFree, isProjectedLoss } from '../stream/trajectoryKinds.js';
export { TrajectoryBuilder, type TrajectoryBuilderOptions } from './trajectories.js';
export { TrajectoryMatrix } from './trajectoryMatrix.js';
export { mergeIntervals } from './mergeIntervals.js';
export {
  clusterTrajectories,
  clusterAllBasisVectors,
  defaultClusterParams,
  isOscillatory,
  OUTLIER,
  DROPPED,
  type BasisClustering,
  type ClusterProcedureOptions,
  type Clusterer,
} from './clusterProcedure.js';
export { hdbscan, type HdbscanOptions, type HdbscanResult } from './hdbscan.js';
export { adjustedRandIndex } from './adjustedRand.js';
export { ClusterTracker, clusterEvents, type ClusterTrackerOptions, type ClusterTrackerStats } from './clusterTracker.js';
export {
  accelerationAt,
  acceleration,
  breakPoint,
  breakTime,
  meanBreakTime,
  hidden,
  hasBreakWindow,
  checkpointSpacing,
  deltaToOffset,
  type BreakPoint,
  type DeltaOptions,
} from './breakthrough.js';
export { DEFAULT_DELTA_INTERVALS, DEFAULT_FLAT_FRACTION, defaultDelta, defaultDeltaForSteps, flatAfter } from './breakParameters.js';
export { clusterBreaks, type ClusterBreak, type ClusterBreaksOptions } from './clusterBreaks.js';
export {
  findBreakthroughs,
  BreakthroughDetector,
  transitions,
  type Breakthrough,
  type BreakthroughDetectorOptions,
  type DatapointSet,
  type PeakOptions,
} from './onlineDetector.js';
export { AlertRules, alerts, type AlertRulesOptions, type SpikeOptions, type StallOptions } from './alertRules.js';
export { WebhookSink, type WebhookOptions, type WebhookStats } from './webhook.js';
export { pushOperator, type EventPusher } from './pushOperator.js';
export { labelColumn, crossLabels, composition, type LabelColumn, type Composition } from './labels.js';
export {
  clusterQuality,
  evaluateClusters,
  topClusters,
  qualityTable,
  formatQualityTable,
  formatStratumTable,
  targetName,
  targetTotal,
  type QualityTarget,
  type ClusterQuality,
  type KindClusterings,
  type QualityRow,
  type QualityTableOptions,
} from './quality.js';
export { nearestToMedoid } from './nearestToMedoid.js';
export { lossBudget, formatBudget, type BudgetRow } from './lossBudget.js';
