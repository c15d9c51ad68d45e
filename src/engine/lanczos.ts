import { fail, positiveInt, positiveNumber } from '../errors/validate.js';
import { Random } from './random.js';
import { NonConvergenceError, tridiagonalEigen } from './tridiagonalEigen.js';

/** A symmetric linear operator on R^dim, given by its action on a vector. */
export type Matvec = (v: Float64Array) => ArrayLike<number> | Promise<ArrayLike<number>>;

/** Options of {@link topEigenpairs}. */
export interface TopEigenpairsOptions {
  /** The symmetric operator A (for polca, a Hessian-vector product). */
  matvec: Matvec;
  /** Dimension of the space. */
  dim: number;
  /** Number of eigenpairs wanted (largest algebraic eigenvalues). */
  k: number;
  /**
   * Orthonormal vectors to project out: the eigenpairs are those of Π⊥AΠ⊥
   * with Π⊥ = I − QQᵀ, restricted to the complement of span(Q).
   */
  deflate?: readonly ArrayLike<number>[];
  /** Stop when every wanted Ritz pair has ‖Av − λv‖ ≤ tol · max|λ|. Default 1e-4. */
  tol?: number;
  /** Most matvecs to spend (the Krylov dimension). Default min(dim − |deflate|, 300). */
  maxIter?: number;
  /** Seed of the random start vector. */
  seed?: number;
  /** Start vector instead of a random one. */
  start?: ArrayLike<number>;
  /** Called after every matvec with the iteration count and, when computed, the worst residual so far. */
  onIteration?: (info: { iteration: number; residual?: number }) => void;
}

/** Result of {@link topEigenpairs}. */
export interface Eigenpairs {
  /** Eigenvalues, largest first. */
  values: number[];
  /** Unit eigenvectors, orthogonal to each other and to the deflation set. */
  vectors: Float64Array[];
  /** ‖Av − λv‖ of each pair (the Lanczos estimate |β_m s_m|, exact up to rounding with full reorthogonalisation). */
  residuals: number[];
  /** Number of matvecs spent. */
  matvecs: number;
  /** Whether every pair met the tolerance. */
  converged: boolean;
}

/**
 * Top-k eigenpairs of a symmetric operator by Lanczos with full
 * reorthogonalisation, optionally deflated by a set of orthonormal vectors.
 *
 * Runs until the Ritz residual of every wanted pair is below `tol` relative to
 * the largest Ritz value, or the Krylov space is exhausted (then the result is
 * exact), or `maxIter` matvecs are spent — then it throws a
 * {@link NonConvergenceError} whose `partial` holds the best pairs found.
 *
 * @example
 * ```ts
 * const A = [[2, 1], [1, 2]];
 * const { values } = await topEigenpairs({
 *   dim: 2, k: 1,
 *   matvec: (v) => A.map((row) => row[0] * v[0] + row[1] * v[1]),
 * });
 * // values ≈ [3]
 * ```
 */
export async function topEigenpairs(options: TopEigenpairsOptions): Promise<Eigenpairs> {
  const { matvec, dim, k } = options;
  const fn = 'topEigenpairs';
  if (typeof matvec !== 'function') fail(fn, 'matvec', 'a function', matvec);
  positiveInt(fn, 'dim', dim);
  const deflate = (options.deflate ?? []).map((q, i) => {
    if (q.length !== dim) fail(fn, `deflate[${i}]`, `a vector of length dim = ${dim}`, q);
    return Float64Array.from(q);
  });
  const free = dim - deflate.length;
  if (!Number.isInteger(k) || k < 1 || k > free) fail(fn, 'k', `an integer in [1, dim − deflate.length = ${free}]`, k);
  const tol = positiveNumber(fn, 'tol', options.tol ?? 1e-4);
  const maxIter = positiveInt(fn, 'maxIter', options.maxIter ?? Math.min(free, 300), k);
  const rng = new Random(options.seed ?? 12345);

  const basis: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = []; // betas[j] couples basis[j] and basis[j + 1]
  let matvecs = 0;
  let normEstimate = 0;

  const orthogonalise = (w: Float64Array) => {
    // Twice is enough (Kahan–Parlett): one pass loses orthogonality in float64 at these sizes.
    for (let pass = 0; pass < 2; pass++) {
      for (const q of deflate) axpy(-dot(q, w), q, w);
      for (const q of basis) axpy(-dot(q, w), q, w);
    }
  };
  const freshStart = (given?: ArrayLike<number>): Float64Array | null => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const v = given && attempt === 0 ? Float64Array.from(given) : rng.normalVector(dim);
      orthogonalise(v);
      const nv = norm(v);
      if (nv > 1e-8) return scale(v, 1 / nv);
    }
    return null;
  };

  if (options.start && options.start.length !== dim) fail(fn, 'start', `a vector of length dim = ${dim}`, options.start);
  let q = freshStart(options.start);
  if (!q) throw new Error('topEigenpairs: could not find a start vector outside span(deflate)');
  let best: Eigenpairs | null = null;

  while (q) {
    basis.push(q);
    const raw = await matvec(q);
    matvecs++;
    if (raw.length !== dim) throw new Error(`topEigenpairs: 'matvec' returned length ${raw.length}, expected dim = ${dim}`);
    const w = Float64Array.from(raw);
    for (let i = 0; i < dim; i++) {
      if (!Number.isFinite(w[i])) throw new Error(`topEigenpairs: 'matvec' returned a non-finite value at index ${i} (${w[i]})`);
    }
    const j = basis.length - 1;
    const alpha = dot(q, w);
    alphas.push(alpha);
    orthogonalise(w);
    const beta = norm(w);
    normEstimate = Math.max(normEstimate, Math.abs(alpha) + beta + (j > 0 ? betas[j - 1] : 0));

    const exhausted = basis.length === free;
    const breakdown = beta <= 1e-10 * Math.max(normEstimate, 1e-300);
    const m = basis.length;
    const check = m >= k && (m <= 30 || m % 5 === 0 || m === maxIter || exhausted || breakdown);
    if (check) {
      best = ritzPairs(alphas, betas, basis, k, beta);
      const worst = Math.max(...best.residuals);
      best.matvecs = matvecs;
      const scaleRef = Math.max(Math.abs(best.values[0]), ...best.values.map(Math.abs), 1e-300);
      best.converged = exhausted || worst <= tol * scaleRef;
      options.onIteration?.({ iteration: matvecs, residual: worst });
      if (best.converged) return best;
    } else {
      options.onIteration?.({ iteration: matvecs });
    }
    if (m >= maxIter) break;
    if (breakdown) {
      // An invariant subspace: continue from a new direction orthogonal to it; T splits into blocks.
      betas.push(0);
      q = freshStart();
    } else {
      betas.push(beta);
      q = scale(w, 1 / beta);
    }
  }
  const partial = best ?? ritzPairs(alphas, betas, basis, Math.min(k, basis.length), 0);
  partial.matvecs = matvecs;
  partial.converged = false;
  throw new NonConvergenceError(
    `topEigenpairs: no convergence to tol = ${tol} within maxIter = ${maxIter} matvecs ` +
      `(worst residual ${Math.max(...partial.residuals).toExponential(3)}, top eigenvalue ${partial.values[0]})`,
    partial,
  );
}

function ritzPairs(alphas: number[], betas: number[], basis: Float64Array[], k: number, lastBeta: number): Eigenpairs {
  const m = alphas.length;
  const { values, vectors } = tridiagonalEigen(alphas, betas.slice(0, m - 1));
  const dim = basis[0].length;
  const out: Eigenpairs = { values: [], vectors: [], residuals: [], matvecs: 0, converged: false };
  for (let r = 0; r < k; r++) {
    const idx = m - 1 - r;
    const s = vectors[idx];
    const y = new Float64Array(dim);
    for (let i = 0; i < m; i++) axpy(s[i], basis[i], y);
    scale(y, 1 / norm(y));
    out.values.push(values[idx]);
    out.vectors.push(y);
    out.residuals.push(Math.abs(lastBeta * s[m - 1]));
  }
  return out;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function axpy(alpha: number, x: ArrayLike<number>, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] += alpha * x[i];
}

function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

function scale(a: Float64Array, s: number): Float64Array {
  for (let i = 0; i < a.length; i++) a[i] *= s;
  return a;
}
