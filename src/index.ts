/**
 * polca — hidden breakthroughs inside a TensorFlow.js model's training.
 *
 * Engine (METHOD.md §1–2), tracker and event types. Sinks, analysis and
 * serving are exported from their own modules as they are added.
 *
 * @packageDocumentation
 */
export { createPolca, type PolcaTracker } from './tracker/createPolca.js';
export type { PolcaOptions, GrownBasisOptions, FixedBasisOptions } from './tracker/options.js';
export { hessianVectorProduct, type HvpOptions, type LossClosure } from './engine/hvp.js';
export { HessianOperator, type HvpCheck, type HvpModeOption, type HessianOperatorOptions } from './engine/hessianOperator.js';
export { topEigenpairs, type TopEigenpairsOptions, type Eigenpairs, type Matvec } from './engine/lanczos.js';
export { NonConvergenceError } from './engine/tridiagonalEigen.js';
export { directionalDerivatives, type ProbeClosure } from './engine/directional.js';
export { polcaIncrements, completenessResidual, type IntervalTerms } from './engine/polcaIncrements.js';
export { ParamSpace, type ParamSnapshot } from './engine/paramSpace.js';
export { withSecondOrderGradients, installSecondOrderGradients, SECOND_ORDER_KERNELS } from './engine/gradients/secondOrderGradients.js';
export * from './stream/events.js';
export { POLCA_VERSION } from './version.js';
export { registerWasmKernels, type WasmKernelsStatus, type RegisterWasmKernelsOptions } from './engine/wasm/registerWasmKernels.js';
export { polcaCallback, PolcaCallback, type PolcaCallbackOptions, type LabelledSet } from './tracker/polcaCallback.js';
export { sparseCrossEntropy, type DatapointLoss } from './tracker/datapointLoss.js';
export * from './serve/index.js';
export * from './sinks/arrow/index.js';
export { replay, type ReplayOptions } from './sinks/arrow/replay.js';
export * from './analysis/index.js';
export { analyze, type AnalyzeOptions } from './run/analyze.js';
export { attachSinks, type RunSinks, type RunSinksOptions } from './run/attachSinks.js';
export { resolveLiveAnalysis, readLiveAnalysis, LIVE_CLUSTER_KINDS, LIVE_CLUSTER_BUDGET, type LiveAnalysisRecord, type LiveAnalysisOptions, type ResolvedAnalysis } from './run/liveAnalysis.js';
export { recordRun, type RecordRunOptions, type RecordableRun } from './run/recordRun.js';
export { backfill, type BackfillOptions, type BackfillResult } from './run/backfill.js';
export * from './report/index.js';
