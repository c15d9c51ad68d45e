/**
 * AdamW (Loshchilov & Hutter) on top of tfjs's Adam, with a learning-rate
 * schedule. Works for custom loops (`minimize`/`applyGradients`) and for
 * `LayersModel.fit`, which calls `applyGradients` on whatever optimizer it
 * is given.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link AdamW}. */
export interface AdamWOptions {
  /** Peak learning rate. */
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay λ: θ ← θ·(1 − lr·λ) before the Adam step, as PyTorch's AdamW does. */
  weightDecay?: number;
  /** Linear warm-up over this many steps: factor min((step + 1)/warmupSteps, 1). */
  warmupSteps?: number;
  /** After warm-up, `constant` keeps the peak rate; `cosine` decays it to `minLrFactor·lr` at `totalSteps`. */
  schedule?: 'constant' | 'cosine';
  totalSteps?: number;
  minLrFactor?: number;
}

/**
 * Adam with decoupled weight decay and warm-up. Weight decay applies to
 * parameters of rank ≥ 2 (matrices and embeddings) only, the usual GPT
 * convention; biases and layer-norm gains are not decayed.
 *
 * @example
 * ```ts
 * const opt = new AdamW({ lr: 1e-3, weightDecay: 0.1, warmupSteps: 100 });
 * opt.minimize(() => loss(), false, params);
 * ```
 */
export class AdamW extends tf.AdamOptimizer {
  readonly options: Required<AdamWOptions>;

  constructor(options: AdamWOptions) {
    const o: Required<AdamWOptions> = {
      beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0, warmupSteps: 0,
      schedule: 'constant', totalSteps: 0, minLrFactor: 0, ...options,
    };
    for (const key of ['lr', 'epsilon'] as const) {
      if (!(o[key] > 0)) throw new Error(`AdamW: option ${key} must be positive, got ${o[key]}`);
    }
    for (const key of ['beta1', 'beta2'] as const) {
      if (!(o[key] >= 0 && o[key] < 1)) throw new Error(`AdamW: option ${key} must be in [0, 1), got ${o[key]}`);
    }
    if (!(o.weightDecay >= 0)) throw new Error(`AdamW: option weightDecay must be ≥ 0, got ${o.weightDecay}`);
    if (!(Number.isInteger(o.warmupSteps) && o.warmupSteps >= 0)) {
      throw new Error(`AdamW: option warmupSteps must be a non-negative integer, got ${o.warmupSteps}`);
    }
    if (o.schedule === 'cosine' && !(o.totalSteps > o.warmupSteps)) {
      throw new Error(`AdamW: option totalSteps must exceed warmupSteps for the cosine schedule, got ${o.totalSteps}`);
    }
    super(o.lr, o.beta1, o.beta2, o.epsilon);
    this.options = o;
  }

  /** The learning rate used for update number `step` (0-based). */
  lrAt(step: number): number {
    const { lr, warmupSteps, schedule, totalSteps, minLrFactor } = this.options;
    const warm = warmupSteps > 0 ? Math.min((step + 1) / warmupSteps, 1) : 1;
    if (schedule === 'constant' || step < warmupSteps) return lr * warm;
    const progress = Math.min((step - warmupSteps) / (totalSteps - warmupSteps), 1);
    return lr * (minLrFactor + (1 - minLrFactor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
  }

  /** The learning rate of the next update. */
  get currentLr(): number {
    return this.lrAt(this.iterations);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const lr = this.lrAt(this.iterations);
    this.learningRate = lr;
    const decay = 1 - lr * this.options.weightDecay;
    if (decay !== 1) {
      const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
      tf.tidy(() => {
        for (const name of names) {
          const v = tf.engine().registeredVariables[name];
          if (v !== undefined && v.rank >= 2) v.assign(tf.mul(v, decay));
        }
      });
    }
    super.applyGradients(variableGradients);
  }
}
