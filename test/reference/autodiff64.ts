/**
 * A tiny float64 forward-over-reverse scalar autodiff, used as an independent
 * reference for tfjs gradients, Hessian-vector products and Hessians.
 *
 * Every node carries a value and a *tangent* (its directional derivative along
 * a fixed direction v of the inputs). Every edge carries the local partial
 * derivative, also as value + tangent. A reverse sweep with these dual-number
 * adjoints gives, at the inputs, the gradient (value parts) and the
 * Hessian-vector product H·v (tangent parts), both exact up to float64
 * rounding — no finite-difference step to tune.
 *
 * Operations are recorded on a tape that exists only inside
 * {@link evaluate64}; build expressions from the `Var`s it hands you.
 *
 * Conventions follow tfjs where they matter for derivatives: max/clip pass the
 * gradient to the selected/in-range entry (clip bounds inclusive; tied maxima
 * differ — tfjs feeds every tied entry, this feeds the first — so keep
 * fixtures tie-free), pow(a, b) uses ln a := 0 for a ≤ 0 in ∂/∂b.
 */

/**
 * One recorded scalar: value `v`, tangent `t`, and edges to its parents.
 * Create Vars only through the operations below, inside {@link evaluate64}.
 *
 * @example
 * ```ts
 * evaluate64((t) => add(t[0], 1), [2]).value; // 3
 * ```
 */
export class Var {
  /** Adjoint (∂out/∂this), value part. */
  adjV = 0;
  /** Adjoint, tangent part (its directional derivative along v). */
  adjT = 0;
  constructor(
    readonly v: number,
    readonly t: number,
    readonly parents: readonly Var[],
    /** ∂this/∂parent[i]: value parts. */
    readonly pv: readonly number[],
    /** ∂this/∂parent[i]: tangent parts. */
    readonly pt: readonly number[],
  ) {
    if (tape === null) throw new Error('autodiff64: Var created outside evaluate64');
    tape.push(this);
  }
}

let tape: Var[] | null = null;

/** A Var or a constant (constants get no gradient). */
export type Num = Var | number;

const isVar = (x: Num): x is Var => x instanceof Var;
const val = (x: Num): number => (isVar(x) ? x.v : x);
const tan = (x: Num): number => (isVar(x) ? x.t : 0);

/** Records y = f(parents) given y's value/tangent and the dual partials. */
function node(v: number, t: number, parents: Num[], pv: number[], pt: number[]): Var {
  const ps: Var[] = [];
  const qv: number[] = [];
  const qt: number[] = [];
  parents.forEach((p, i) => {
    if (isVar(p)) {
      ps.push(p);
      qv.push(pv[i]);
      qt.push(pt[i]);
    }
  });
  return new Var(v, t, ps, qv, qt);
}

/** y = f(x) from f(x), f′(x), f″(x): the tangent of the partial is f″·ẋ. */
function unary(x: Num, f0: number, f1: number, f2: number): Var {
  const xt = tan(x);
  return node(f0, f1 * xt, [x], [f1], [f2 * xt]);
}

/** a + b. */
export function add(a: Num, b: Num): Var {
  return node(val(a) + val(b), tan(a) + tan(b), [a, b], [1, 1], [0, 0]);
}
/** a − b. */
export function sub(a: Num, b: Num): Var {
  return node(val(a) - val(b), tan(a) - tan(b), [a, b], [1, -1], [0, 0]);
}
/** a · b. */
export function mul(a: Num, b: Num): Var {
  const [av, at, bv, bt] = [val(a), tan(a), val(b), tan(b)];
  return node(av * bv, at * bv + av * bt, [a, b], [bv, av], [bt, at]);
}
/** a / b. */
export function div(a: Num, b: Num): Var {
  const [av, at, bv, bt] = [val(a), tan(a), val(b), tan(b)];
  const y = av / bv;
  const yt = (at - y * bt) / bv;
  // ∂y/∂a = 1/b, ∂y/∂b = −y/b
  return node(y, yt, [a, b], [1 / bv, -y / bv], [-bt / (bv * bv), -(yt * bv - y * bt) / (bv * bv)]);
}
/** −x. */
export function neg(x: Num): Var {
  return unary(x, -val(x), -1, 0);
}
/** x². */
export function square(x: Num): Var {
  const v = val(x);
  return unary(x, v * v, 2 * v, 2);
}
/** eˣ. */
export function exp(x: Num): Var {
  const e = Math.exp(val(x));
  return unary(x, e, e, e);
}
/** ln x. */
export function log(x: Num): Var {
  const v = val(x);
  return unary(x, Math.log(v), 1 / v, -1 / (v * v));
}
/** tanh x. */
export function tanh(x: Num): Var {
  const y = Math.tanh(val(x));
  const d1 = 1 - y * y;
  return unary(x, y, d1, -2 * y * d1);
}
/** σ(x) = 1 / (1 + e⁻ˣ). */
export function sigmoid(x: Num): Var {
  const y = 1 / (1 + Math.exp(-val(x)));
  const d1 = y * (1 - y);
  return unary(x, y, d1, d1 * (1 - 2 * y));
}
/** softplus(x) = ln(1 + eˣ), evaluated stably. */
export function softplus(x: Num): Var {
  const v = val(x);
  const s = 1 / (1 + Math.exp(-v));
  return unary(x, Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v))), s, s * (1 - s));
}
/** ELU with α = 1 (tfjs `tf.elu`): x for x > 0, eˣ − 1 otherwise. */
export function elu(x: Num): Var {
  const v = val(x);
  if (v > 0) return unary(x, v, 1, 0);
  const e = Math.exp(v);
  return unary(x, e - 1, e, e);
}
/** clip(x, lo, hi) with gradient 1 on the closed interval [lo, hi] (tfjs). */
export function clip(x: Num, lo: number, hi: number): Var {
  const v = val(x);
  const inside = v >= lo && v <= hi;
  return unary(x, Math.min(hi, Math.max(lo, v)), inside ? 1 : 0, 0);
}
/** a^b for Var or constant base and exponent, with ln a := 0 for a ≤ 0 in ∂/∂b. */
export function pow(a: Num, b: Num): Var {
  const [av, at, bv, bt] = [val(a), tan(a), val(b), tan(b)];
  const lnA = av > 0 ? Math.log(av) : 0;
  const y = Math.pow(av, bv);
  const ym1 = Math.pow(av, bv - 1);
  const pa = bv * ym1; // ∂y/∂a
  const pb = y * lnA; // ∂y/∂b
  const paa = bv * (bv - 1) * Math.pow(av, bv - 2);
  const pab = ym1 * (1 + bv * lnA);
  const pbb = y * lnA * lnA;
  return node(y, pa * at + pb * bt, [a, b], [pa, pb], [paa * at + pab * bt, pab * at + pbb * bt]);
}
/** Sum of a list. */
export function sum(xs: readonly Num[]): Var {
  return node(
    xs.reduce<number>((s, x) => s + val(x), 0),
    xs.reduce<number>((s, x) => s + tan(x), 0),
    [...xs],
    xs.map(() => 1),
    xs.map(() => 0),
  );
}
/** Mean of a list. */
export function mean(xs: readonly Num[]): Var {
  const n = xs.length;
  return node(
    xs.reduce<number>((s, x) => s + val(x), 0) / n,
    xs.reduce<number>((s, x) => s + tan(x), 0) / n,
    [...xs],
    xs.map(() => 1 / n),
    xs.map(() => 0),
  );
}
/** Σ aᵢ·bᵢ. */
export function dot(a: readonly Num[], b: readonly Num[]): Var {
  if (a.length !== b.length) throw new Error(`autodiff64.dot: lengths ${a.length} and ${b.length} differ`);
  return sum(a.map((ai, i) => mul(ai, b[i])));
}
/** max of a list; the gradient goes to the first maximal entry. */
export function max(xs: readonly Num[]): Var {
  let k = 0;
  for (let i = 1; i < xs.length; i++) if (val(xs[i]) > val(xs[k])) k = i;
  return node(val(xs[k]), tan(xs[k]), [xs[k]], [1], [0]);
}
/** log Σ exp(xᵢ), shifted by the max like `tf.logSumExp`. */
export function logSumExp(xs: readonly Num[]): Var {
  const m = max(xs);
  return add(m, log(sum(xs.map((x) => exp(sub(x, m))))));
}
/** log-softmax of a list. */
export function logSoftmax(xs: readonly Num[]): Var[] {
  const lse = logSumExp(xs);
  return xs.map((x) => sub(x, lse));
}
/** softmax of a list, exp(x − max) / Σ exp(x − max) like `tf.softmax`. */
export function softmax(xs: readonly Num[]): Var[] {
  const m = max(xs);
  const e = xs.map((x) => exp(sub(x, m)));
  const s = sum(e);
  return e.map((ei) => div(ei, s));
}
/** Row-vector times matrix: x [n] · W [n×m, row-major, flat] → [m]. */
export function vecMat(x: readonly Num[], w: readonly Num[], m: number): Var[] {
  const n = x.length;
  if (w.length !== n * m) throw new Error(`autodiff64.vecMat: W has ${w.length} entries, expected ${n}×${m}`);
  return Array.from({ length: m }, (_, j) => sum(x.map((xi, i) => mul(xi, w[i * m + j]))));
}

/** What {@link evaluate64} returns. */
export interface Evaluation64 {
  value: number;
  /** ∇f(θ). */
  grad: Float64Array;
  /** H(θ)·v (zeros if no v was given). */
  hv: Float64Array;
}

/**
 * Evaluates f at θ with exact gradient and Hessian-vector product.
 *
 * @param f - builds the scalar from the parameter Vars (θ flattened).
 * @param theta - parameter values.
 * @param v - direction for H·v (default: zero, then only value and gradient).
 * @example
 * ```ts
 * const { grad, hv } = evaluate64((t) => mul(t[0], square(t[1])), Float64Array.of(2, 3), Float64Array.of(0, 1));
 * // grad = [9, 12], hv = [6, 4]
 * ```
 */
export function evaluate64(f: (theta: Var[]) => Var, theta: ArrayLike<number>, v?: ArrayLike<number>): Evaluation64 {
  if (tape !== null) throw new Error('autodiff64.evaluate64: nested evaluation is not supported');
  if (v !== undefined && v.length !== theta.length) {
    throw new Error(`autodiff64.evaluate64: v has length ${v.length}, theta has ${theta.length}`);
  }
  tape = [];
  try {
    const inputs = Array.from(theta, (x, i) => new Var(x, v === undefined ? 0 : v[i], [], [], []));
    const out = f(inputs);
    out.adjV = 1;
    for (let i = tape.length - 1; i >= 0; i--) {
      const y = tape[i];
      if (y.adjV === 0 && y.adjT === 0) continue;
      for (let k = 0; k < y.parents.length; k++) {
        const p = y.parents[k];
        p.adjV += y.adjV * y.pv[k];
        p.adjT += y.adjT * y.pv[k] + y.adjV * y.pt[k];
      }
    }
    return {
      value: out.v,
      grad: Float64Array.from(inputs, (x) => x.adjV),
      hv: Float64Array.from(inputs, (x) => x.adjT),
    };
  } finally {
    tape = null;
  }
}

/**
 * Dense Hessian of f at θ, column by column (column j = H·eⱼ), exact up to
 * float64 rounding. Cost: P forward-over-reverse passes.
 *
 * @example
 * ```ts
 * const H = hessian64((t) => mul(t[0], square(t[1])), Float64Array.of(2, 3));
 * // H[0] = [0, 6], H[1] = [6, 4]
 * ```
 */
export function hessian64(f: (theta: Var[]) => Var, theta: ArrayLike<number>): Float64Array[] {
  const p = theta.length;
  const e = new Float64Array(p);
  const columns: Float64Array[] = [];
  for (let j = 0; j < p; j++) {
    e.fill(0);
    e[j] = 1;
    columns.push(evaluate64(f, theta, e).hv);
  }
  return columns;
}

/** H·v from the columns of a dense Hessian. */
export function matVec64(columns: readonly Float64Array[], v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(columns.length === 0 ? 0 : columns[0].length);
  columns.forEach((col, j) => {
    const vj = v[j];
    if (vj !== 0) for (let i = 0; i < out.length; i++) out[i] += col[i] * vj;
  });
  return out;
}
