import type { SecondOrder } from '../stream/events.js';

/** What one basis vector contributes to the POLCA of one checkpoint interval [t, t+1]. */
export interface IntervalTerms {
  /** ⟨b, Δθ_t⟩. */
  projection: number;
  /** ⟨b, ∇ℓ_x(θ_t)⟩ for every datapoint. */
  derivativeFrom: Float32Array;
  /** ⟨b, ∇ℓ_x(θ_{t+1})⟩ for every datapoint (needed by `paper` and `secant`). */
  derivativeTo: Float32Array;
  /** d²/dε² ℓ_x(θ_t + εb) for every datapoint (needed by `directional`). */
  curvatureFrom?: Float32Array;
  /** λ_t(X,b) = bᵀH_t(X)b of the probe set's mean loss (needed by `paper`). */
  aggregateCurvature?: number;
}

/**
 * POLCA of every datapoint along one basis vector over one interval:
 * first order (METHOD.md eq. 2) and second order (eq. 3) with the chosen
 * per-datapoint curvature estimator λ̂(x):
 * - `none`: λ̂ = 0;
 * - `paper` (eq. 4): λ̂(x) = λ(X,b) · (d_{t+1}(x) − d_t(x)) / mean_x(d_{t+1} − d_t),
 *   and λ̂ = λ(X,b) for every x when that mean is exactly 0;
 * - `secant`: λ̂(x) = (d_{t+1}(x) − d_t(x)) / ⟨b,Δθ⟩ — the trapezoid rule;
 * - `directional`: λ̂(x) = the exact second directional derivative at θ_t.
 * with d_t(x) = ⟨b, ∇ℓ_x(θ_t)⟩. Datapoints with a non-finite input get NaN.
 *
 * @example
 * ```ts
 * const { values } = polcaIncrements({ projection: 0.1, derivativeFrom, derivativeTo }, 'secant');
 * ```
 */
export function polcaIncrements(terms: IntervalTerms, secondOrder: SecondOrder): { values: Float32Array; firstOrder: Float32Array } {
  const { projection: p, derivativeFrom: d0, derivativeTo: d1 } = terms;
  const n = d0.length;
  const first = new Float32Array(n);
  for (let x = 0; x < n; x++) first[x] = d0[x] * p;
  if (secondOrder === 'none') return { values: first.slice(), firstOrder: first };

  const values = new Float32Array(n);
  const half = 0.5 * p * p;
  switch (secondOrder) {
    case 'secant':
      for (let x = 0; x < n; x++) values[x] = 0.5 * p * (d0[x] + d1[x]);
      break;
    case 'directional': {
      const c = terms.curvatureFrom;
      if (!c) throw new Error("polcaIncrements: secondOrder 'directional' needs 'curvatureFrom'");
      for (let x = 0; x < n; x++) values[x] = d0[x] * p + half * c[x];
      break;
    }
    case 'paper': {
      const lambda = terms.aggregateCurvature;
      if (lambda === undefined) throw new Error("polcaIncrements: secondOrder 'paper' needs 'aggregateCurvature'");
      let sum = 0;
      let count = 0;
      for (let x = 0; x < n; x++) {
        const g = d1[x] - d0[x];
        if (Number.isFinite(g)) {
          sum += g;
          count++;
        }
      }
      const mean = count > 0 ? sum / count : 0;
      for (let x = 0; x < n; x++) {
        const ratio = mean === 0 ? 1 : (d1[x] - d0[x]) / mean;
        values[x] = d0[x] * p + half * lambda * ratio;
      }
      break;
    }
    default:
      throw new Error(`polcaIncrements: unknown secondOrder ${JSON.stringify(secondOrder)}`);
  }
  return { values, firstOrder: first };
}

/** r(x) = ℓ_x(after) − ℓ_x(before) − Σ_b POLCA(x,b), summed in double precision. */
export function completenessResidual(before: Float32Array, after: Float32Array, values: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(before.length);
  for (let x = 0; x < before.length; x++) {
    let s = after[x] - before[x];
    for (const v of values) s -= v[x];
    out[x] = s;
  }
  return out;
}
