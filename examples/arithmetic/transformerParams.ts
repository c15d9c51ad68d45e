/**
 * The parameter layout and initialisation shared by the examples'
 * decoder-only transformers (addition here, the English LM in
 * `examples/english`): names and shapes in the order of the flattened θ, and
 * GPT-2-style initial values from a seeded generator.
 *
 * @packageDocumentation
 */
import { mulberry32, normalArray } from './prng.js';

/** One named parameter: its name and shape, in the order of the flattened θ. */
export interface ParamSpec {
  name: string;
  shape: number[];
  /** How it is initialised. */
  init: 'normal' | 'residual' | 'zeros' | 'ones';
}

/** What fixes the parameter shapes. */
export interface TransformerDims {
  vocabSize: number;
  seqLen: number;
  layers: number;
  dModel: number;
  dMlp: number;
}

/**
 * Token and position embeddings, per block layer norms, fused QKV attention
 * and a two-layer MLP, final layer norm, untied unembedding with bias.
 *
 * @example
 * ```ts
 * transformerParamSpecs({ vocabSize: 12, seqLen: 11, layers: 1, dModel: 8, dMlp: 16 })[0];
 * // { name: 'tok_emb', shape: [12, 8], init: 'normal' }
 * ```
 */
export function transformerParamSpecs(dims: TransformerDims): ParamSpec[] {
  const { vocabSize: V, seqLen: T, layers, dModel: d, dMlp: m } = dims;
  const specs: ParamSpec[] = [
    { name: 'tok_emb', shape: [V, d], init: 'normal' },
    { name: 'pos_emb', shape: [T, d], init: 'normal' },
  ];
  for (let l = 0; l < layers; l++) {
    specs.push(
      { name: `l${l}.ln1.g`, shape: [d], init: 'ones' },
      { name: `l${l}.ln1.b`, shape: [d], init: 'zeros' },
      { name: `l${l}.attn.wqkv`, shape: [d, 3 * d], init: 'normal' },
      { name: `l${l}.attn.bqkv`, shape: [3 * d], init: 'zeros' },
      { name: `l${l}.attn.wo`, shape: [d, d], init: 'residual' },
      { name: `l${l}.attn.bo`, shape: [d], init: 'zeros' },
      { name: `l${l}.ln2.g`, shape: [d], init: 'ones' },
      { name: `l${l}.ln2.b`, shape: [d], init: 'zeros' },
      { name: `l${l}.mlp.w1`, shape: [d, m], init: 'normal' },
      { name: `l${l}.mlp.b1`, shape: [m], init: 'zeros' },
      { name: `l${l}.mlp.w2`, shape: [m, d], init: 'residual' },
      { name: `l${l}.mlp.b2`, shape: [d], init: 'zeros' },
    );
  }
  specs.push(
    { name: 'lnf.g', shape: [d], init: 'ones' },
    { name: 'lnf.b', shape: [d], init: 'zeros' },
    { name: 'unembed', shape: [d, V], init: 'normal' },
    { name: 'unembed.b', shape: [V], init: 'zeros' },
  );
  return specs;
}

/**
 * Initial values of `specs` (GPT-2 style: N(0, initStd²) matrices, residual
 * outputs scaled by 1/√(2·layers), zero biases, unit gains), drawn in spec
 * order from a seeded generator so every backend starts from the same θ₀.
 *
 * @example
 * ```ts
 * const values = initialParamValues(transformerParamSpecs(dims), dims.layers, 0, 0.02);
 * ```
 */
export function initialParamValues(specs: readonly ParamSpec[], layers: number, seed: number, initStd: number): Float32Array[] {
  const rng = mulberry32(seed);
  const residualStd = initStd / Math.sqrt(2 * layers);
  return specs.map((spec) => {
    const size = spec.shape.reduce((p, n) => p * n, 1);
    switch (spec.init) {
      case 'normal': return normalArray(rng, size, initStd);
      case 'residual': return normalArray(rng, size, residualStd);
      case 'zeros': return new Float32Array(size);
      case 'ones': return new Float32Array(size).fill(1);
    }
  });
}
