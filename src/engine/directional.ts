import * as tf from '@tensorflow/tfjs-core';
import { positiveNumber } from '../errors/validate.js';
import { describe } from '../errors/describe.js';
import { ParamSpace, type ParamSnapshot } from './paramSpace.js';
import { releaseLeakedTape } from './tape.js';

/** A closure computing the per-datapoint losses ℓ_x(θ) of the probe set, a Tensor1D of length N. */
export type ProbeClosure = () => tf.Tensor1D;

const CHUNKS = Symbol('polca.probeChunks');
type ChunkedProbe = ProbeClosure & { [CHUNKS]: { parts: readonly ProbeClosure[]; sizes: number[] | null } };

/**
 * One probe made of parts, whose losses are the parts' losses in order. A
 * forward pass holds one part's activations at a time; the exact JVP and
 * the gradient covariance, which differentiate twice and once through the
 * probe and keep its activations for that, take one part at a time too. On
 * wasm, whose heap stops at 4 GB, this is what lets a large model have a
 * large probe.
 *
 * @param parts - closures returning each part's per-datapoint losses (Tensor1D, float32).
 * @returns a {@link ProbeClosure} to pass as the tracker's `probe`.
 * @throws Error when `parts` is empty or holds something other than functions.
 */
export function chunkedProbe(parts: readonly ProbeClosure[]): ProbeClosure {
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new Error(`chunkedProbe: option 'parts' must be a non-empty array of functions, got ${describe(parts)}`);
  }
  const bad = parts.findIndex((c) => typeof c !== 'function');
  if (bad >= 0) throw new Error(`chunkedProbe: option 'parts' must hold functions, got ${describe(parts[bad])} at index ${bad}`);
  // Each part in its own tidy: a forward pass holds one part's intermediates at a time.
  const probe = (() => tf.tidy(() => (parts.length === 1 ? parts[0]() : tf.concat(parts.map((c) => tf.tidy(() => c())))))) as ChunkedProbe;
  probe[CHUNKS] = { parts: parts.slice(), sizes: null };
  return probe;
}

/**
 * The parts of a {@link chunkedProbe} with their lengths (measured by one
 * forward pass the first time), or the probe alone as one part of length n.
 */
export function probeParts(probe: ProbeClosure, n: number): { part: ProbeClosure; size: number; offset: number }[] {
  const c = (probe as Partial<ChunkedProbe>)[CHUNKS];
  if (c === undefined) return [{ part: probe, size: n, offset: 0 }];
  c.sizes ??= c.parts.map((part, i) => {
    const y = tf.tidy(() => part());
    try {
      if (!(y instanceof tf.Tensor) || y.rank !== 1) throw new Error(`chunkedProbe: part ${i} must return a Tensor1D of per-datapoint losses, got ${describe(y)}`);
      return y.size;
    } finally {
      y.dispose();
    }
  });
  const total = c.sizes.reduce((a, b) => a + b, 0);
  if (total !== n) throw new Error(`option 'probe' returned ${n} losses, but its parts hold ${total} (${c.sizes.join(' + ')})`);
  let offset = 0;
  return c.parts.map((part, i) => {
    const r = { part, size: c.sizes![i], offset };
    offset += r.size;
    return r;
  });
}

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
  const parts = probeParts(probe, n);
  if (parts.length === 1) return partDirectionalDerivatives(space, probe, bParts, n);
  const out = new Float32Array(n);
  for (const { part, size, offset } of parts) out.set(partDirectionalDerivatives(space, part, bParts, size), offset);
  return out;
}

function partDirectionalDerivatives(space: ParamSpace, probe: ProbeClosure, bParts: readonly tf.Tensor[], n: number): Float32Array {
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
