/**
 * Named configurations of the addition example: model size, optimiser and
 * run length. `paper` reproduces the paper's setup (for GPU users);
 * `default`, `quick` and `tiny` are sized for a 2-core CPU with the wasm
 * backend (see NOTES.md for how they were chosen and what they cost).
 *
 * @packageDocumentation
 */
import type { TransformerShape } from './model.js';

/** Everything that defines one training run of the addition task. */
export interface ArithmeticConfig extends TransformerShape {
  /** Name, for logs and manifests. */
  name: string;
  /** Problems per training step. */
  batchSize: number;
  /** Planned number of training steps (also the end of a cosine schedule). */
  steps: number;
  /** Peak learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  /** Decoupled weight decay (applied to matrices only). */
  weightDecay: number;
  warmupSteps: number;
  /** `constant` after warm-up, or `cosine` decay to `minLrFactor·lr` at `steps`. */
  schedule: 'constant' | 'cosine';
  /** Final learning rate of the cosine schedule, as a fraction of `lr`. */
  minLrFactor: number;
  /** Standard deviation of the initial weight matrices. */
  initStd: number;
  /** Seed of data and initialisation. */
  seed: number;
  /** Problems in the probe set (×4 datapoints). */
  probeSize: number;
  /** Problems in the Hessian sample. */
  hessianSize: number;
}

const common = {
  beta1: 0.9,
  beta2: 0.95,
  weightDecay: 0.1,
  initStd: 0.02,
  minLrFactor: 0.1,
  seed: 0,
  probeSize: 1250,
  hessianSize: 1250,
} as const;

/**
 * The configurations by name.
 *
 * @example
 * ```ts
 * const config = { ...ARITHMETIC_CONFIGS.quick, seed: 3 };
 * ```
 */
export const ARITHMETIC_CONFIGS = {
  /** The paper: 3 layers, d = 512, 4 heads, MLP 2048, AdamW lr 1e-5, 10,000 steps of 64. */
  paper: {
    ...common, name: 'paper', layers: 3, dModel: 512, heads: 4, dMlp: 2048,
    batchSize: 64, steps: 10_000, lr: 1e-5, warmupSteps: 100, schedule: 'constant',
  },
  /**
   * The CPU default: 2 layers, d = 64, 4 heads, MLP 256 (102k parameters);
   * ≥ 95 % probe token accuracy near step 1000, ≥ 99.9 % by 3000, carry
   * tokens of the 10s and 100s places a few hundred steps behind the others.
   */
  default: {
    ...common, name: 'default', layers: 2, dModel: 64, heads: 4, dMlp: 256,
    batchSize: 64, steps: 3000, lr: 1e-3, warmupSteps: 100, schedule: 'cosine',
  },
  /**
   * For the demo's `--quick`: 2 layers, d = 32 (26,604 parameters), ≈ 95 %
   * probe token accuracy in 400 steps; a smaller probe (500 problems = 2000
   * datapoints) and Hessian sample (256) keep polca's per-checkpoint cost low.
   */
  quick: {
    ...common, name: 'quick', layers: 2, dModel: 32, heads: 4, dMlp: 128,
    batchSize: 64, steps: 400, lr: 6e-3, warmupSteps: 30, schedule: 'cosine', probeSize: 500, hessianSize: 256,
  },
  /** For tests: a few hundred parameters' worth of model, seconds to train. */
  tiny: {
    ...common, name: 'tiny', layers: 1, dModel: 16, heads: 2, dMlp: 32,
    batchSize: 32, steps: 100, lr: 1e-2, warmupSteps: 5, schedule: 'constant', probeSize: 64, hessianSize: 64,
  },
} as const satisfies Record<string, ArithmeticConfig>;

/** Names of the built-in configurations. */
export type ArithmeticConfigName = keyof typeof ARITHMETIC_CONFIGS;
