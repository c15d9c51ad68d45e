/**
 * `polca/run` — the wiring of a run in Node.js: attach the Arrow log, the
 * gRPC and Prometheus servers, webhooks and the live analysis to a tracker;
 * complete the trajectories of a logged run post hoc.
 *
 * @packageDocumentation
 */
export { attachSinks, type RunSinks, type RunSinksOptions, type RunSinksReport, type SinkFailure } from './attachSinks.js';
export { recordRun, type RecordRunOptions, type RecordableRun, type RunSource } from './recordRun.js';
export { analyze, type AnalyzeOptions } from './analyze.js';
export { resolveLiveAnalysis, readLiveAnalysis, LIVE_CLUSTER_KINDS, LIVE_CLUSTER_BUDGET, type LiveAnalysisRecord, type LiveAnalysisOptions, type ResolvedAnalysis } from './liveAnalysis.js';
export { backfill, replayCheckpoints, type BackfillOptions, type BackfillResult, type CheckpointSource, type ReplayOptions } from './backfill.js';
export { polcaCallback, PolcaCallback, type PolcaCallbackOptions, type PolcaCallbackReport } from './polcaCallback.js';
