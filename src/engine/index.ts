/**
 * `polca/engine`: the numerics under the tracker, for users who build their
 * own: Hessian-vector products and the Hessian operator, Lanczos
 * eigenpairs (of the Hessian or of recent steps), directional derivatives along basis vectors, the POLCA
 * increments of one interval, the flat parameter space, the second-order
 * gradients tfjs lacks, and the optional wasm kernels.
 *
 * @example
 * ```ts
 * import { HessianOperator, ParamSpace, topEigenpairs } from 'polca/engine';
 * const space = new ParamSpace(model.trainableWeights.map((w) => w.read()));
 * const H = new HessianOperator(space, hessianLoss);
 * const { values } = await topEigenpairs({ dim: space.size, k: 3, matvec: (v) => H.matvec(v) });
 * ```
 *
 * @packageDocumentation
 */
export { hessianVectorProduct, type HvpOptions, type LossClosure } from './hvp.js';
export { HessianOperator, type HvpCheck, type HvpModeOption, type HessianOperatorOptions } from './hessianOperator.js';
export { topEigenpairs, type TopEigenpairsOptions, type Eigenpairs, type Matvec } from './lanczos.js';
export { NonConvergenceError } from './tridiagonalEigen.js';
export { chunkedProbe, directionalDerivatives, type ProbeClosure } from './directional.js';
export { polcaIncrements, completenessResidual, type IntervalTerms } from './polcaIncrements.js';
export { ParamSpace, type ParamSnapshot } from './paramSpace.js';
export { orthonormalizeAgainst } from './basis/orthonormalize.js';
export { stepEigenpairs } from './basis/stepCovarianceBasis.js';
export { withSecondOrderGradients, installSecondOrderGradients, SECOND_ORDER_KERNELS } from './gradients/secondOrderGradients.js';
export { registerWasmKernels, type WasmKernelsStatus, type RegisterWasmKernelsOptions } from './wasm/registerWasmKernels.js';
