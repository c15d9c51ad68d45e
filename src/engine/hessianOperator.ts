import * as tf from '@tensorflow/tfjs-core';
import type { HvpMode } from '../stream/events.js';
import { oneOf } from '../errors/validate.js';
import { exactHvp, finiteDifferenceHvp, defaultHvpEpsilon, type LossClosure } from './hvp.js';
import { ParamSpace } from './paramSpace.js';
import { Random } from './random.js';

/** How the operator picks its Hessian-vector product. */
export type HvpModeOption = 'auto' | HvpMode;

/** Outcome of comparing the exact HVP with the central difference on one random vector. */
export interface HvpCheck {
  /** Mode in use after the check. */
  mode: HvpMode;
  /** Human-readable reason, with the measured errors. */
  reason: string;
  /** ‖Hv_exact − Hv_fd‖ / ‖Hv_fd‖, NaN when the exact product failed. */
  relativeError: number;
  /** Noise of the central difference itself: ‖Hv_fd(ε) − Hv_fd(2ε)‖ / ‖Hv_fd(ε)‖. */
  finiteDifferenceNoise: number;
}

/** Options of {@link HessianOperator}. */
export interface HessianOperatorOptions {
  /** `auto` (default) checks the exact product against the central difference and falls back when they disagree or the exact one fails. */
  mode?: HvpModeOption;
  /** Relative disagreement above which `auto` falls back. Default 1e-2 (a wrong second derivative is typically off by 10–60%). */
  tolerance?: number;
  /** Central-difference step; default {@link defaultHvpEpsilon}. */
  epsilon?: number;
}

/**
 * The Hessian of a scalar loss as a linear operator on R^P, with automatic
 * choice between the exact product and the central difference.
 *
 * @example
 * ```ts
 * const H = new HessianOperator(new ParamSpace(model.trainableWeights.map(w => w.read())), hessianLoss);
 * const check = H.check();              // { mode: 'exact', reason: 'exact HVP agrees …' }
 * const hv = await H.matvec(v);          // Float32Array, for Lanczos
 * ```
 */
export class HessianOperator {
  private modeInUse: HvpMode;
  /** Hessian-vector products computed so far (the check's included). */
  products = 0;
  private readonly requested: HvpModeOption;
  private readonly tolerance: number;
  private lastCheck: HvpCheck | null = null;

  constructor(
    readonly space: ParamSpace,
    readonly loss: LossClosure,
    private readonly options: HessianOperatorOptions = {},
  ) {
    this.requested = oneOf('HessianOperator', 'mode', options.mode ?? 'auto', ['auto', 'exact', 'finite-difference'] as const);
    this.tolerance = options.tolerance ?? 1e-2;
    this.modeInUse = this.requested === 'finite-difference' ? 'finite-difference' : 'exact';
  }

  /** Mode currently in use. */
  get mode(): HvpMode {
    return this.modeInUse;
  }

  /** The latest check, if any. */
  get checked(): HvpCheck | null {
    return this.lastCheck;
  }

  /** Hv on the device with the mode in use. */
  apply(v: tf.Tensor1D): tf.Tensor1D {
    this.products++;
    return this.modeInUse === 'exact' ? exactHvp(this.space, this.loss, v) : finiteDifferenceHvp(this.space, this.loss, v, this.options.epsilon);
  }

  /** Hv for a host vector (Lanczos's matvec). */
  matvec = (v: ArrayLike<number>): Float32Array => {
    const vt = this.space.toDevice(Float32Array.from(v));
    try {
      const out = this.apply(vt);
      try {
        return out.dataSync() as Float32Array;
      } finally {
        out.dispose();
      }
    } finally {
      vt.dispose();
    }
  };

  /**
   * Compares the exact product with the central difference on one seeded
   * random unit vector and, in `auto` mode, switches to the central
   * difference when they disagree by more than the tolerance (or than ten
   * times the central difference's own noise) or when the exact product
   * throws. When the central difference is itself noisier than the tolerance
   * (a loss with kinks, such as a ReLU network, whose gradient jumps), the
   * check is inconclusive and the exact product is kept. In a fixed mode it
   * only reports.
   */
  check(seed = 1): HvpCheck {
    const rng = new Random(seed);
    const host = rng.normalVector(this.space.size);
    let n = 0;
    for (const x of host) n += x * x;
    n = Math.sqrt(n);
    const v = this.space.toDevice(Float32Array.from(host, (x) => x / n));
    const eps = this.options.epsilon ?? defaultHvpEpsilon(this.space, v);
    const fd = finiteDifferenceHvp(this.space, this.loss, v, eps);
    const fd2 = finiteDifferenceHvp(this.space, this.loss, v, 2 * eps);
    this.products += 2;
    const noise = relativeDifference(fd2, fd);
    let exact: tf.Tensor1D | null = null;
    let failure: string | null = null;
    try {
      exact = exactHvp(this.space, this.loss, v);
      this.products++;
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    const err = exact ? relativeDifference(exact, fd) : NaN;
    [v, fd, fd2, exact].forEach((t) => t?.dispose());

    const threshold = Math.max(this.tolerance, 10 * noise);
    let mode: HvpMode;
    let reason: string;
    if (failure !== null) {
      mode = 'finite-difference';
      reason = `exact HVP failed (${failure}); central differences in use`;
    } else if (!(noise <= this.tolerance)) {
      // Central differences disagree with themselves (ε against 2ε): the loss is not smooth along v
      // (ReLU kinks, max, clipping), so they cannot judge the exact product, nor replace it.
      mode = 'exact';
      reason =
        `check inconclusive: central differences are too noisy to verify the exact HVP (ε vs 2ε differ by ${fmt(noise)}, ` +
        `exact vs central ${fmt(err)}), as for a loss with kinks such as ReLU; exact HVP kept`;
    } else if (!(err <= threshold)) {
      mode = 'finite-difference';
      reason =
        `exact HVP disagrees with the central difference by ${fmt(err)} (threshold ${fmt(threshold)}): ` +
        'the model uses an op whose tfjs second derivative is wrong; central differences in use';
    } else {
      mode = 'exact';
      reason = `exact HVP agrees with the central difference to ${fmt(err)} (central-difference noise ${fmt(noise)})`;
    }
    if (this.requested !== 'auto') {
      reason = `mode '${this.requested}' requested; check: ${reason}`;
      mode = this.requested;
    }
    this.modeInUse = mode;
    this.lastCheck = { mode, reason, relativeError: err, finiteDifferenceNoise: noise };
    return this.lastCheck;
  }
}

function relativeDifference(a: tf.Tensor1D, b: tf.Tensor1D): number {
  const [num, den] = tf.tidy(() => [tf.norm(tf.sub(a, b)), tf.norm(b)]).map((t) => {
    const x = t.dataSync()[0];
    t.dispose();
    return x;
  });
  return num / Math.max(den, 1e-30);
}

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toExponential(2) : String(x);
}
