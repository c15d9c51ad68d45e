import * as tf from '@tensorflow/tfjs-core';
import { describe } from '../errors/describe.js';

/** A copy of θ kept on the device, restorable bit for bit. */
export interface ParamSnapshot {
  /** One kept clone per parameter, in the order of {@link ParamSpace.params}. */
  readonly values: readonly tf.Tensor[];
  /** Releases the clones. Idempotent. */
  dispose(): void;
}

/**
 * A view of a list of `tf.Variable`s as one vector θ ∈ R^P, flattened in the
 * order of the list, each variable row-major.
 *
 * Vectors of R^P live on the device as `tf.Tensor1D`; nothing here copies θ to
 * the host unless asked to ({@link ParamSpace.read}). Perturbations are always
 * written as `snapshot + α·v` and undone by assigning the snapshot back, never
 * by adding and subtracting: in float32, θ + εv − εv ≠ θ.
 *
 * @example
 * ```ts
 * const space = new ParamSpace([w, b]);
 * const snap = space.snapshot();
 * space.assignAxpy(snap, 1e-2, direction); // θ = θ₀ + 0.01·v
 * // … evaluate something …
 * space.restore(snap);                      // θ = θ₀ exactly
 * snap.dispose();
 * ```
 */
export class ParamSpace {
  /** The parameters, in order. */
  readonly params: readonly tf.Variable[];
  /** Total number of scalars P. */
  readonly size: number;
  /** Start of each parameter in the flattened vector. */
  readonly offsets: readonly number[];
  /** Number of scalars of each parameter. */
  readonly sizes: readonly number[];

  constructor(params: readonly tf.Variable[], owner = 'ParamSpace') {
    if (!Array.isArray(params) || params.length === 0) {
      throw new Error(`${owner}: option 'params' must be a non-empty array of tf.Variable, got ${describe(params)}`);
    }
    const offsets: number[] = [];
    const sizes: number[] = [];
    let size = 0;
    params.forEach((p, i) => {
      if (!(p instanceof tf.Variable)) {
        throw new Error(`${owner}: option 'params[${i}]' must be a tf.Variable, got ${describe(p)}`);
      }
      if (p.dtype !== 'float32') {
        throw new Error(`${owner}: option 'params[${i}]' (${p.name}) must be float32, got dtype '${p.dtype}'`);
      }
      if (p.isDisposed) {
        throw new Error(`${owner}: option 'params[${i}]' (${p.name}) is disposed`);
      }
      // The same variable twice would count its scalars twice in θ (P doubles silently).
      const first = params.indexOf(p);
      if (first !== i) throw new Error(`${owner}: option 'params[${i}]' (${p.name}) is the same variable as 'params[${first}]'`);
      offsets.push(size);
      sizes.push(p.size);
      size += p.size;
    });
    if (size === 0) {
      throw new Error(`${owner}: option 'params' holds no scalars (all ${params.length} variables are empty)`);
    }
    this.params = params.slice();
    this.offsets = offsets;
    this.sizes = sizes;
    this.size = size;
  }

  /** θ as one new Tensor1D of length P (caller disposes). */
  flatten(): tf.Tensor1D {
    return tf.tidy(() => flattenParts(this.params));
  }

  /** θ copied to the host. */
  read(): Float32Array {
    const flat = this.flatten();
    try {
      return flat.dataSync() as Float32Array;
    } finally {
      flat.dispose();
    }
  }

  /** Flattens a list of tensors shaped like the parameters (for example gradients) into one Tensor1D; `null` entries count as zeros. */
  flattenLike(parts: readonly (tf.Tensor | null | undefined)[]): tf.Tensor1D {
    return tf.tidy(() => flattenParts(parts.map((t, i) => t ?? tf.zeros(this.params[i].shape))));
  }

  /** Splits a Tensor1D of length P into tensors shaped like the parameters (caller disposes them). */
  split(v: tf.Tensor1D): tf.Tensor[] {
    this.checkVector(v, 'split');
    return tf.tidy(() => {
      const parts = this.params.length === 1 ? [v] : tf.split(v, this.sizes as number[]);
      return parts.map((part, i) => tf.reshape(part, this.params[i].shape));
    });
  }

  /** Moves a host vector of length P to the device. */
  toDevice(v: ArrayLike<number>, name = 'v'): tf.Tensor1D {
    if (v.length !== this.size) {
      throw new Error(`ParamSpace: vector '${name}' must have length P = ${this.size}, got ${v.length}`);
    }
    return tf.tensor1d(v instanceof Float32Array ? v : Float32Array.from(v), 'float32');
  }

  /** Keeps a device copy of θ. */
  snapshot(): ParamSnapshot {
    const values = this.params.map((p) => tf.keep(p.clone()));
    let disposed = false;
    return {
      values,
      dispose() {
        if (disposed) return;
        disposed = true;
        values.forEach((t) => t.dispose());
      },
    };
  }

  /** Writes a host vector of length P (for example a θ kept from an earlier checkpoint) into the variables, bit for bit. */
  assignHost(theta: Float32Array): void {
    const flat = this.toDevice(theta, 'theta');
    const parts = this.split(flat);
    flat.dispose();
    this.params.forEach((p, i) => p.assign(parts[i]));
    parts.forEach((t) => t.dispose());
  }

  /** Writes the snapshot back into the variables, bit for bit. */
  restore(snap: ParamSnapshot): void {
    this.params.forEach((p, i) => p.assign(snap.values[i]));
  }

  /**
   * Sets θ = snapshot + α·v, for a direction given as parts shaped like the
   * parameters (see {@link ParamSpace.split}).
   */
  assignAxpy(snap: ParamSnapshot, alpha: number, vParts: readonly tf.Tensor[]): void {
    tf.tidy(() => {
      const a = tf.scalar(alpha);
      this.params.forEach((p, i) => p.assign(tf.add(snap.values[i], tf.mul(a, vParts[i]))));
    });
  }

  /** Asserts a device vector has length P. */
  checkVector(v: tf.Tensor, name: string): void {
    if (v.rank !== 1 || v.size !== this.size) {
      throw new Error(`ParamSpace.${name}: vector must be a Tensor1D of length P = ${this.size}, got shape [${v.shape}]`);
    }
  }
}

function flattenParts(parts: readonly tf.Tensor[]): tf.Tensor1D {
  const flat = parts.map((t) => tf.reshape(t, [-1]));
  return (flat.length === 1 ? flat[0] : tf.concat(flat)) as tf.Tensor1D;
}
