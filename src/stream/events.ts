/**
 * The typed events polca emits, shared by the tracker (producer), the sinks
 * (Arrow, gRPC, Prometheus) and the analysis (clusters, breakthroughs).
 *
 * Events hold numbers and typed arrays only — never tensors — so they can be
 * logged, replayed and sent over the wire unchanged. Every event carries
 * `type` (the discriminant) and `time` (milliseconds since the Unix epoch at
 * which it was produced).
 *
 * @packageDocumentation
 */

/** Schema version of the event stream and of the Arrow run directory. */
export const EVENT_SCHEMA_VERSION = 1;

/** How Hessian-vector products are computed. */
export type HvpMode = 'exact' | 'finite-difference';

/** How the per-datapoint curvature of the second-order POLCA term is estimated (METHOD.md §2). */
export type SecondOrder = 'none' | 'paper' | 'secant' | 'directional';

/** Every {@link SecondOrder}, for validating options and listing choices. */
export const SECOND_ORDERS: readonly SecondOrder[] = ['none', 'paper', 'secant', 'directional'];

/** Which rule produced the basis vectors. */
export type BasisKind = 'hessian' | 'random' | 'shuffled' | 'axis' | 'movement' | 'step-covariance' | 'gradient-covariance' | 'fixed';

/** Every {@link BasisKind}, for validating options and listing choices. */
export const BASIS_KINDS: readonly BasisKind[] = ['hessian', 'shuffled', 'random', 'axis', 'movement', 'step-covariance', 'gradient-covariance', 'fixed'];

/**
 * The tracker's settings as recorded in `run-start` and in run.json. Fields
 * are optional because other producers (replayed or synthetic runs) may
 * record fewer; any other JSON value a producer adds is kept as it is.
 */
export interface RunConfig {
  /** {@link EVENT_SCHEMA_VERSION} of the producer. */
  schemaVersion?: number;
  /** Steps between POLCA checkpoints. */
  every?: number;
  /** How the basis grew: its rule and schedule, or the number of fixed vectors. */
  basis?: { kind: Exclude<BasisKind, 'fixed'>; every: number; k: number; maxVectors: number } | { kind: 'fixed'; vectors: number };
  secondOrder?: SecondOrder;
  derivatives?: 'fast' | 'exact';
  derivativeCheckEvery?: number;
  hvp?: 'auto' | HvpMode;
  hvpTolerance?: number;
  lanczos?: { tol: number; maxIter: number };
  seed?: number;
  emitVectors?: boolean;
  emitParams?: boolean;
  /** Whether a Hessian loss was given. */
  hessianLoss?: boolean;
  [key: string]: unknown;
}

/** First event of every run. */
export interface RunStartEvent {
  type: 'run-start';
  time: number;
  /** The tracker options, reduced to JSON-safe values. */
  config: RunConfig;
  /** Number of trainable parameters P. */
  numParams: number;
  /** Number of probe datapoints N. */
  numProbe: number;
  /** Name of the tfjs backend in use (`cpu`, `wasm`, `tensorflow`, …). */
  backend: string;
  /** Hessian-vector product mode chosen at start-up. */
  hvpMode: HvpMode;
  /** Why that mode was chosen (the start-up check's measured error). */
  hvpReason: string;
  /** Shapes and names of the parameters, in the order of the flattened θ. */
  params: { name: string; shape: number[] }[];
  /** Free-form model description (for example a layers-model summary). */
  model?: string;
  /** polca and tfjs-core versions that produced the run. */
  versions: { polca: string; tfjs: string };
}

/** One optimiser step seen by the tracker. */
export interface StepEvent {
  type: 'step';
  time: number;
  step: number;
  /** Training loss of the step, when the caller reported it. */
  loss?: number;
  /** Learning rate of the step, when known. */
  lr?: number;
}

/** Per-datapoint probe losses at a POLCA checkpoint. */
export interface CheckpointEvent {
  type: 'checkpoint';
  time: number;
  step: number;
  /** ℓ_x(θ_step) for every probe datapoint x (length N). Non-finite values are kept as they are. */
  losses: Float32Array;
  /** Mean of the finite losses, summed in double precision. */
  meanLoss: number;
  /** How many losses were not finite (excluded from the mean). */
  nonFinite: number;
  /** Seconds spent by polca at this checkpoint (losses, derivatives, POLCA, basis growth). */
  seconds: number;
  /** θ at this step (length P), when the tracker was asked to emit parameters (option `emitParams`). Not logged in `events`; a log with `keepParams` stores it in its params table. */
  theta?: Float32Array;
}

/** A basis vector was added. */
export interface BasisEvent {
  type: 'basis';
  time: number;
  /** Index of the vector in the basis, 0 for the first one found. */
  id: number;
  /** Training step at which it was found. */
  step: number;
  kind: BasisKind;
  /** Ritz value (eigenvalue of Π⊥HΠ⊥) for Hessian bases, of Π⊥GᵀGΠ⊥ for `gradient-covariance`, of Π⊥(Σ d_t d_tᵀ)Π⊥ for `step-covariance`; bᵀHb is not computed for others (NaN). */
  eigenvalue: number;
  /** ‖Π⊥HΠ⊥ b − λ b‖ for Hessian bases (Π⊥GᵀGΠ⊥ for `gradient-covariance`, Π⊥(Σ d_t d_tᵀ)Π⊥ for `step-covariance`), NaN otherwise. */
  residual: number;
  /** Hessian-vector products (GᵀG products for `gradient-covariance`) spent to find it (shared across vectors found together). */
  hvps: number;
  /** The vector itself (length P), when the tracker was asked to emit vectors. */
  vector?: Float32Array;
}

/** POLCA increments of every probe datapoint along every basis vector over one checkpoint interval. */
export interface PolcaIncrementEvent {
  type: 'polca';
  time: number;
  fromStep: number;
  toStep: number;
  /** Ids of the basis vectors, in the order of the arrays below. */
  basisIds: number[];
  /** ⟨b, Δθ⟩ per basis vector. */
  projections: number[];
  /** Second-order POLCA (eq. 3) per basis vector, each of length N; equals `firstOrder` when `secondOrder` is `none`. */
  values: Float32Array[];
  /** First-order POLCA (eq. 2) per basis vector, each of length N. */
  firstOrder: Float32Array[];
  /** ⟨b, ∇ℓ_x(θ_fromStep)⟩ per basis vector, each of length N. */
  derivatives: Float32Array[];
  /** ℓ_x(θ_fromStep). */
  lossBefore: Float32Array;
  /** ℓ_x(θ_toStep). */
  lossAfter: Float32Array;
  /** r(x) = ℓ_x(after) − ℓ_x(before) − Σ_b POLCA(x,b): loss change outside span(B) plus Taylor error. */
  residual: Float32Array;
  /** Curvature estimator used for `values`. */
  secondOrder: SecondOrder;
  /** Datapoints excluded because a loss or derivative was not finite (their values are NaN). */
  nonFinite: number;
  /**
   * Accuracy check of the fast directional-derivative path: relative RMS error
   * of one basis vector's finite-difference derivatives against the exact JVP.
   * Absent in exact mode.
   */
  derivativeCheck?: { basisId: number; relativeError: number; step: number };
  /**
   * True when these are the terms of vectors that joined the basis after
   * `toStep`, filled in from the θ history (option `fullLength`). A filled
   * event covers one interval for the vectors found together, arrives after
   * the interval's live event, and a vector's filled intervals arrive newest
   * first. Its `residual` is the loss change minus the terms of its own
   * vectors only. Absent on live intervals.
   */
  filled?: boolean;
}

/** Last event of every run. */
export interface RunEndEvent {
  type: 'run-end';
  time: number;
  /** Last step the tracker saw (−1 when none). */
  step: number;
  reason: 'closed' | 'error';
  /** Message of the error that ended the run, when `reason` is `error`. */
  error?: string;
}

import type { TrajectoryKind } from './trajectoryKinds.js';
export type { TrajectoryKind } from './trajectoryKinds.js';

/** One cluster of datapoints along one basis vector. */
export interface ClusterSummary {
  /** Cluster id, stable across re-clusterings where membership mostly persists. */
  id: number;
  /** Datapoint indices of the members. */
  members: Int32Array;
  /** Datapoint index of the medoid. */
  medoid: number;
  /** Median, 25% and 75% quantile of the members' trajectory at each step of `steps`. */
  median: Float64Array;
  q25: Float64Array;
  q75: Float64Array;
}

/** Result of (re-)clustering the trajectories along one basis vector. */
export interface ClustersEvent {
  type: 'clusters';
  time: number;
  /** Step of the last checkpoint included. */
  step: number;
  kind: TrajectoryKind;
  /** Basis vector id; −1 for kinds that do not depend on a basis vector (loss, loss-change). */
  basisId: number;
  /** Checkpoint steps of the trajectories. */
  steps: Int32Array;
  clusters: ClusterSummary[];
  /** Datapoints left out before clustering (their loss along b rose) and HDBSCAN outliers. */
  dropped: number;
  outliers: number;
}

/** A breakthrough (point of largest acceleration, METHOD.md §4) detected online or post hoc. */
export interface TransitionEvent {
  type: 'transition';
  time: number;
  /** Step at which the breakthrough happened. */
  step: number;
  /** Step at which it was detected. */
  detectedAt: number;
  /** What broke through: a cluster along a basis vector, or a named datapoint set. */
  target: { kind: 'cluster'; basisId: number; clusterId: number } | { kind: 'datapoints'; name: string };
  /** Second difference of the trajectory at the breakthrough (negative: loss accelerates downwards). */
  magnitude: number;
  /** Confidence in [0, 1]. */
  confidence: number;
}

/** Alert rules that are not breakthroughs; `sink-failed` says a log or server stopped on an error while training went on. */
export type AlertRule = 'loss-spike' | 'loss-stalled' | 'non-finite' | 'sink-failed';

/** An alert raised by a rule on the training signal. */
export interface AlertEvent {
  type: 'alert';
  time: number;
  step: number;
  rule: AlertRule;
  message: string;
  value: number;
}

/** Every event polca emits. */
export type PolcaEvent =
  | RunStartEvent
  | StepEvent
  | CheckpointEvent
  | BasisEvent
  | PolcaIncrementEvent
  | RunEndEvent
  | ClustersEvent
  | TransitionEvent
  | AlertEvent;

/** The `type` discriminants of {@link PolcaEvent}. */
export type PolcaEventType = PolcaEvent['type'];
