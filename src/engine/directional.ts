import * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../errors/validate.js';
import { describe } from '../errors/describe.js';
import { ParamSpace, type ParamSnapshot } from './paramSpace.js';
import { releaseLeakedTape } from './tape.js';

/** A closure computing the per-datapoint losses ℓ_x(θ) of the probe set, a Tensor1D of length N. */
export type ProbeClosure = () => tf.Tensor1D;

/**
 * Evaluates the probe and copies its losses to the host, checking the shape.
 * @param expected - required length N, or undefined on the first call.
 */
export function evaluateProbe(probe: ProbeClosure, expected?: number): Float32Array {
  const t = tf.tidy(() => probeTensor(probe, expected));
  try {
    return Float32Array.from(t.dataSync() as Float32Array);
  } finally {
    t.dispose();
  }
}

/** The probe's losses as a tensor, shape and dtype checked (for use inside a tidy or a gradient). */
export function probeTensor(probe: ProbeClosure, expected?: number): tf.Tensor1D {
  const y = probe();
  if (!(y instanceof tf.Tensor) || y.rank !== 1) {
    throw new Error(`option 'probe' must return a Tensor1D of per-datapoint losses, got ${describe(y)}`);
  }
  if (y.dtype !== 'float32') throw new Error(`option 'probe' must return float32 losses, got dtype '${y.dtype}'`);
  if (expected !== undefined && y.size !== expected) {
    throw new Error(`option 'probe' returned ${y.size} losses, but earlier calls returned N = ${expected}; the probe set must not change`);
  }
  return y as tf.Tensor1D;
}

/**
 * ⟨b, ∇ℓ_x(θ)⟩ for every probe datapoint x at once, exactly, by the
 * double-backward trick: with dummy weights u = 1,
 * ∇_u ⟨∇_θ Σ_x u_x ℓ_x, b⟩ = (⟨b, ∇ℓ_x⟩)_x — one forward and two backward
 * passes, never a per-datapoint gradient. Only first derivatives of the
 * model's ops are differentiated through (with respect to u), so tfjs's wrong
 * second derivatives do not affect it.
 *
 * @param bParts - the direction b split like the parameters ({@link ParamSpace.split}).
 */
export function exactDirectionalDerivatives(space: ParamSpace, probe: ProbeClosure, bParts: readonly tf.Tensor[], n: number): Float32Array {
  let out: tf.Tensor;
  try {
    out = tf.tidy(() => {
      const u = tf.ones([n]);
      const xs = [...space.params];
      const { grads } = tf.engine().gradients(
        () => {
          const inner = tf.engine().gradients(() => tf.sum(tf.mul(u, probeTensor(probe, n))), xs, undefined, true).grads;
          let acc: tf.Scalar = tf.mul(tf.sum(u), 0);
          inner.forEach((g, i) => {
            if (g) acc = tf.add(acc, tf.sum(tf.mul(g, bParts[i])));
          });
          return acc;
        },
        [u],
        undefined,
        true,
      );
      return grads[0] ?? tf.zeros([n]);
    });
  } catch (e) {
    releaseLeakedTape();
    throw e;
  }
  try {
    return Float32Array.from(out.dataSync() as Float32Array);
  } finally {
    out.dispose();
  }
}

/**
 * Evaluates `f` at θ₀ + hb and at θ₀ − hb (θ₀ the snapshot), restoring θ
 * from the snapshot afterwards, bit for bit.
 */
export function atOffsets<T>(space: ParamSpace, snap: ParamSnapshot, bParts: readonly tf.Tensor[], h: number, f: () => T): { plus: T; minus: T } {
  try {
    space.assignAxpy(snap, h, bParts);
    const plus = f();
    space.assignAxpy(snap, -h, bParts);
    const minus = f();
    return { plus, minus };
  } finally {
    space.restore(snap);
  }
}

/** Probe losses at θ₀ ± εb: two forward passes. */
export function probeAtOffsets(
  space: ParamSpace,
  probe: ProbeClosure,
  snap: ParamSnapshot,
  bParts: readonly tf.Tensor[],
  epsilon: number,
  n: number,
): { plus: Float32Array; minus: Float32Array } {
  return atOffsets(space, snap, bParts, epsilon, () => evaluateProbe(probe, n));
}

/** Central difference (ℓ(+) − ℓ(−)) / 2ε per datapoint, in double precision. */
export function centralDifference(plus: Float32Array, minus: Float32Array, epsilon: number): Float32Array {
  const out = new Float32Array(plus.length);
  for (let i = 0; i < plus.length; i++) out[i] = (plus[i] - minus[i]) / (2 * epsilon);
  return out;
}

/** Exact ⟨b, ∇ℓ_x⟩ at θ₀ ± hb, for per-datapoint curvature by a difference of exact JVPs. */
export function exactDirectionalAtOffsets(
  space: ParamSpace,
  probe: ProbeClosure,
  snap: ParamSnapshot,
  bParts: readonly tf.Tensor[],
  h: number,
  n: number,
): { plus: Float32Array; minus: Float32Array } {
  return atOffsets(space, snap, bParts, h, () => exactDirectionalDerivatives(space, probe, bParts, n));
}

/**
 * ⟨b, ∇ℓ_x(θ)⟩ for every probe datapoint, for users outside the tracker.
 *
 * @example
 * ```ts
 * const d = directionalDerivatives(() => model.perTokenLoss(batch), params, b);
 * ```
 */
export function directionalDerivatives(
  probe: ProbeClosure,
  params: readonly tf.Variable[],
  b: ArrayLike<number>,
  options: { mode?: 'exact' | 'finite-difference'; epsilon?: number } = {},
): Float32Array {
  const space = new ParamSpace(params, 'directionalDerivatives');
  const bt = space.toDevice(b, 'b');
  const parts = space.split(bt);
  bt.dispose();
  try {
    const n = evaluateProbe(probe).length;
    if ((options.mode ?? 'exact') === 'exact') return exactDirectionalDerivatives(space, probe, parts, n);
    const eps = positiveNumber('directionalDerivatives', 'epsilon', options.epsilon ?? 1e-2);
    const snap = space.snapshot();
    try {
      const { plus, minus } = probeAtOffsets(space, probe, snap, parts, eps, n);
      return centralDifference(plus, minus, eps);
    } finally {
      snap.dispose();
    }
  } finally {
    parts.forEach((t) => t.dispose());
  }
}
