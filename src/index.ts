/**
 * polca — hidden breakthroughs inside a TensorFlow.js model's training.
 *
 * This entry point holds what runs beside training, anywhere TensorFlow.js
 * runs (browsers included): the tracker for custom loops, the callback for
 * `model.fit`, and the events they emit. Node.js parts live behind subpaths:
 * `polca/run` (sinks, backfill), `polca/arrow` (the run directory),
 * `polca/serve` (gRPC and Prometheus), `polca/analysis` (clusters,
 * breakthroughs), `polca/report`, and `polca/engine` (Hessian-vector
 * products, Lanczos, directional derivatives).
 *
 * @packageDocumentation
 */
export { createPolca, type PolcaTracker } from './tracker/createPolca.js';
export type { PolcaOptions, GrownBasisOptions, FixedBasisOptions } from './tracker/options.js';
export { polcaCallback, PolcaCallback, type PolcaCallbackOptions, type PolcaCallbackReport } from './run/polcaCallback.js';
export type { RunSinksOptions, RunSinksReport, SinkFailure } from './run/attachSinks.js';
export { chunkedProbe, type ProbeClosure } from './engine/directional.js';
export { sparseCrossEntropy, type DatapointLoss, type LabelledSet } from './tracker/datapointLoss.js';
export * from './stream/events.js';
export { OptionError } from './errors/validate.js';
export { POLCA_VERSION } from './version.js';
