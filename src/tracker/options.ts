import type * as tf from '@tensorflow/tfjs-core';
import type { ProbeClosure, chunkedProbe } from '../engine/directional.js';
import type { LossClosure } from '../engine/hvp.js';
import type { HvpModeOption } from '../engine/hessianOperator.js';
import { BASIS_KINDS, SECOND_ORDERS, type BasisKind, type SecondOrder } from '../stream/events.js';
import { fail as failOption, positiveInt as checkPositiveInt } from '../errors/validate.js';

/** Basis grown during training by a rule (METHOD.md §1 and the paper's ablations). */
export interface GrownBasisOptions {
  /**
   * `hessian`: Algorithm 1; `shuffled`: Algorithm 1 at a random past checkpoint; `random`: random orthonormal; `axis`: largest-magnitude parameters (LCA);
   * `movement`: θ's displacement since the previous basis checkpoint, off the basis; `step-covariance`: top eigenvectors of Π⊥(Σ d_t d_tᵀ)Π⊥, d_t the steps between the POLCA checkpoints since the previous basis checkpoint; `gradient-covariance`: top eigenvectors of Π⊥GᵀGΠ⊥, G the probe's per-datapoint gradients.
   */
  kind: Exclude<BasisKind, 'fixed'>;
  /** Basis checkpoint interval in steps, a multiple of `every`. Default 10 × `every` (200 at the default `every`). */
  every?: number;
  /** Vectors added per basis checkpoint. Default 1. */
  k?: number;
  /** Most vectors in all. Default 50. */
  maxVectors?: number;
}

/** A basis supplied whole by the user. */
export interface FixedBasisOptions {
  kind: 'fixed';
  /** Orthonormal vectors of length P, in the order of `params`, each parameter flattened row-major. */
  vectors: Float32Array[];
}

/** Options of {@link createPolca}. */
export interface PolcaOptions {
  /** θ: the trainable variables, in a fixed order. */
  params: tf.Variable[];
  /**
   * Per-datapoint losses of the probe set at the current θ: a float32
   * Tensor1D of fixed length N. A probe too large to differentiate through
   * at once (the exact JVP holds its activations twice over) can be given in
   * parts with {@link chunkedProbe}.
   */
  probe: ProbeClosure;
  /** Mean loss of the Hessian sample (a fixed batch of training data) at the current θ. Needed by the `hessian` and `shuffled` bases. */
  hessianLoss?: LossClosure;
  /** POLCA checkpoint interval in steps. Default 20. */
  every?: number;
  /** How the basis is built. Default `{ kind: 'hessian', every: 200, k: 1, maxVectors: 50 }`. */
  basis?: GrownBasisOptions | FixedBasisOptions;
  /** Curvature estimator of the second-order term. Default `paper`. */
  secondOrder?: SecondOrder;
  /**
   * Directional derivatives ⟨b,∇ℓ_x⟩: `fast` (default) by central differences
   * of the probe losses with a step calibrated per direction, one direction
   * per checkpoint checked against the exact JVP (reported in the event);
   * `exact` by the double-backward JVP (about 4× the cost).
   */
  derivatives?: 'fast' | 'exact';
  /**
   * With `derivatives: 'fast'`, check one direction against the exact JVP at
   * every n-th checkpoint (the directions take turns). A check costs about as
   * much as four directions measured the fast way, so a run with few vectors
   * spends a large share of its time on it; a larger n trades how often the
   * fast path is verified for speed. Default 1 (every checkpoint).
   */
  derivativeCheckEvery?: number;
  /** Hessian-vector products: `auto` (default) checks the exact product against central differences at start-up and at every basis checkpoint and falls back. */
  hvp?: HvpModeOption;
  /** Relative disagreement tolerated by the `auto` check. Default 1e-2. */
  hvpTolerance?: number;
  /** Lanczos stopping rule: relative Ritz residual `tol` (default 1e-3) and at most `maxIter` HVPs per basis checkpoint (default 200). */
  lanczos?: { tol?: number; maxIter?: number };
  /** Put each basis vector in its `basis` event. Default false. */
  emitVectors?: boolean;
  /**
   * Put θ (length P, a host copy) in every `checkpoint` event, for sinks that
   * keep parameters (an Arrow log with `keepParams`). Default false.
   */
  emitParams?: boolean;
  /**
   * Full-length trajectories (METHOD.md §2, "Online operation"): when a vector
   * joins the basis at step s, its POLCA terms for every earlier interval are
   * filled in from the θ of every earlier checkpoint, kept on the host (4·P
   * bytes per checkpoint), and emitted as `polca` events with `filled: true`,
   * newest interval first. The work is done in slices between training steps:
   * `intervalsPerStep` intervals per vector group per `step` call (each costs
   * the vector's directional derivatives at the kept θ — two forward passes
   * in `fast` mode, one exact JVP in `exact` mode — plus one probe HVP with
   * `secondOrder: 'paper'` or two exact JVPs with `'directional'`); `close()`
   * finishes what is left.
   * Default `true` (`intervalsPerStep` 1) for grown bases; `false` keeps no
   * θ history and leaves a vector's trajectory starting where it was found.
   */
  fullLength?: boolean | { intervalsPerStep?: number };
  /** Seed of every random choice. Default 1. */
  seed?: number;
  /** Free-form model description recorded in the run-start event. */
  model?: string;
  /** Progress of long work (Lanczos) for progress bars. */
  onProgress?: (info: { step: number; phase: 'lanczos' | 'derivatives'; iteration: number; residual?: number }) => void;
}

/** Options with defaults filled in and checked. */
export interface ResolvedOptions {
  every: number;
  basis: Required<GrownBasisOptions> | FixedBasisOptions;
  secondOrder: SecondOrder;
  derivatives: 'fast' | 'exact';
  derivativeCheckEvery: number;
  hvp: HvpModeOption;
  hvpTolerance: number;
  lanczos: { tol: number; maxIter: number };
  emitVectors: boolean;
  emitParams: boolean;
  seed: number;
  /** Filling-in of earlier intervals; `intervalsPerStep` 0 when off. */
  fullLength: { enabled: boolean; intervalsPerStep: number };
}

/** Fills defaults and validates everything that can be checked before training starts. */
export function resolveOptions(o: PolcaOptions, fnName = 'createPolca'): ResolvedOptions {
  const fail = (option: string, want: string, got: unknown): never => failOption(fnName, option, want, got);
  const positiveInt = (option: string, x: unknown) => checkPositiveInt(fnName, option, x);
  if (!o || typeof o !== 'object') fail('options', 'an object', o);
  if (typeof o.probe !== 'function') fail('probe', 'a function returning a Tensor1D of per-datapoint losses', o.probe);
  if (o.hessianLoss !== undefined && typeof o.hessianLoss !== 'function') fail('hessianLoss', 'a function returning a tf.Scalar', o.hessianLoss);
  const every = positiveInt('every', o.every ?? 20);
  const secondOrder = o.secondOrder ?? 'paper';
  if (!SECOND_ORDERS.includes(secondOrder)) fail('secondOrder', "'none', 'paper', 'secant' or 'directional'", secondOrder);
  const derivatives = o.derivatives ?? 'fast';
  if (derivatives !== 'fast' && derivatives !== 'exact') fail('derivatives', "'fast' or 'exact'", derivatives);
  const derivativeCheckEvery = positiveInt('derivativeCheckEvery', o.derivativeCheckEvery ?? 1);
  const hvp = o.hvp ?? 'auto';
  if (!['auto', 'exact', 'finite-difference'].includes(hvp)) fail('hvp', "'auto', 'exact' or 'finite-difference'", hvp);
  const hvpTolerance = o.hvpTolerance ?? 1e-2;
  if (!(hvpTolerance > 0)) fail('hvpTolerance', 'a positive number', o.hvpTolerance);
  const tol = o.lanczos?.tol ?? 1e-3;
  if (!(tol > 0)) fail('lanczos.tol', 'a positive number', o.lanczos?.tol);
  const maxIter = positiveInt('lanczos.maxIter', o.lanczos?.maxIter ?? 200);

  const b = o.basis ?? { kind: 'hessian' };
  let basis: ResolvedOptions['basis'];
  if (b.kind === 'fixed') {
    basis = b;
  } else if (BASIS_KINDS.includes(b.kind)) {
    const g = b as GrownBasisOptions;
    basis = {
      kind: g.kind,
      // Ten checkpoints per basis checkpoint unless told otherwise (200 at the default every = 20).
      every: positiveInt('basis.every', g.every ?? 10 * every),
      k: positiveInt('basis.k', g.k ?? 1),
      maxVectors: positiveInt('basis.maxVectors', g.maxVectors ?? 50),
    };
    if (basis.every % every !== 0) fail('basis.every', `a multiple of 'every' (${every})`, basis.every);
    if ((g.kind === 'hessian' || g.kind === 'shuffled') && !o.hessianLoss) {
      throw new Error(`${fnName}: option 'hessianLoss' is required when basis.kind is '${g.kind}'`);
    }
  } else {
    return fail('basis.kind', `${BASIS_KINDS.slice(0, -1).map((k) => `'${k}'`).join(', ')} or '${BASIS_KINDS.at(-1)}'`, (b as { kind: unknown }).kind);
  }
  return {
    every,
    basis,
    secondOrder,
    derivatives,
    derivativeCheckEvery,
    hvp,
    hvpTolerance,
    lanczos: { tol, maxIter },
    emitVectors: o.emitVectors ?? false,
    emitParams: o.emitParams ?? false,
    seed: o.seed === undefined ? 1 : Number.isInteger(o.seed) ? o.seed : fail('seed', 'an integer', o.seed),
    fullLength: resolveFullLength(o.fullLength, basis.kind !== 'fixed', fnName),
  };
}

function resolveFullLength(f: PolcaOptions['fullLength'], grown: boolean, fnName: string): ResolvedOptions['fullLength'] {
  const fail = (option: string, want: string, got: unknown): never => failOption(fnName, option, want, got);
  const positiveInt = (option: string, x: unknown) => checkPositiveInt(fnName, option, x);
  if (f === undefined) return { enabled: grown, intervalsPerStep: 1 };
  if (typeof f === 'boolean') return { enabled: f && grown, intervalsPerStep: 1 };
  if (!f || typeof f !== 'object') return fail('fullLength', 'a boolean or { intervalsPerStep }', f);
  return { enabled: grown, intervalsPerStep: positiveInt('fullLength.intervalsPerStep', f.intervalsPerStep ?? 1) };
}
