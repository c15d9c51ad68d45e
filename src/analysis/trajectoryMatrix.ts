/**
 * A growing N × T matrix of per-datapoint trajectories.
 *
 * @packageDocumentation
 */
import { positiveInt } from '../errors/validate.js';

/**
 * N per-datapoint trajectories sampled at the same checkpoint steps, stored
 * row-major in one Float32Array (N × capacity) so that each row is a
 * zero-copy view that can be handed to clustering as a point. Columns are
 * appended as checkpoints arrive; capacity doubles when full, so appending
 * costs amortised O(N).
 *
 * @example
 * ```ts
 * const m = new TrajectoryMatrix(2);
 * m.append(0, [1, 2]);
 * m.append(20, [0.5, 1]);
 * m.row(1); // Float32Array [2, 1]
 * m.steps;  // [0, 20]
 * ```
 */
export class TrajectoryMatrix {
  /** Number of datapoints N. */
  readonly n: number;
  private data: Float32Array;
  private capacity: number;
  private readonly stepList: number[] = [];

  constructor(n: number, initialCapacity = 16) {
    positiveInt('TrajectoryMatrix', 'n', n);
    positiveInt('TrajectoryMatrix', 'initialCapacity', initialCapacity);
    this.n = n;
    this.capacity = initialCapacity;
    this.data = new Float32Array(n * initialCapacity);
  }

  /** Number of checkpoints T. */
  get length(): number {
    return this.stepList.length;
  }

  /** The checkpoint steps (a copy). */
  get steps(): number[] {
    return this.stepList.slice();
  }

  /** Last step appended, or −Infinity when empty. */
  get lastStep(): number {
    return this.stepList.length === 0 ? -Infinity : this.stepList[this.stepList.length - 1];
  }

  /**
   * Appends a column: the value of every datapoint at `step`.
   *
   * @throws RangeError when `values` does not have N entries or `step` does not increase.
   */
  append(step: number, values: ArrayLike<number>): void {
    if (values.length !== this.n) {
      throw new RangeError(`TrajectoryMatrix.append: expected ${this.n} values, got ${values.length}`);
    }
    if (!(step > this.lastStep)) {
      throw new RangeError(`TrajectoryMatrix.append: step must increase, got ${step} after ${this.lastStep}`);
    }
    const t = this.stepList.length;
    if (t === this.capacity) this.grow();
    const c = this.capacity;
    const data = this.data;
    for (let i = 0; i < this.n; i++) data[i * c + t] = values[i];
    this.stepList.push(step);
  }

  /** Trajectory of datapoint i (a view, valid until the next append). */
  row(i: number): Float32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) {
      throw new RangeError(`TrajectoryMatrix.row: index must be an integer in [0, ${this.n}), got ${i}`);
    }
    const start = i * this.capacity;
    return this.data.subarray(start, start + this.stepList.length);
  }

  /** Value of datapoint i at checkpoint index t. */
  get(i: number, t: number): number {
    return this.data[i * this.capacity + t];
  }

  /** Values of all datapoints at checkpoint index t (a copy). */
  column(t: number): Float32Array {
    if (!Number.isInteger(t) || t < 0 || t >= this.stepList.length) {
      throw new RangeError(`TrajectoryMatrix.column: index must be an integer in [0, ${this.stepList.length}), got ${t}`);
    }
    const out = new Float32Array(this.n);
    for (let i = 0; i < this.n; i++) out[i] = this.data[i * this.capacity + t];
    return out;
  }

  /** Row views for every datapoint, or for the given indices. */
  rows(indices?: ArrayLike<number>): Float32Array[] {
    if (indices === undefined) return Array.from({ length: this.n }, (_, i) => this.row(i));
    return Array.from({ length: indices.length }, (_, k) => this.row(indices[k]));
  }

  /** Mean over the given datapoints (or all) at each checkpoint, in double precision. */
  meanCurve(indices?: ArrayLike<number>): Float64Array {
    const T = this.stepList.length;
    const out = new Float64Array(T);
    const m = indices === undefined ? this.n : indices.length;
    for (let k = 0; k < m; k++) {
      const start = (indices === undefined ? k : indices[k]) * this.capacity;
      for (let t = 0; t < T; t++) out[t] += this.data[start + t];
    }
    for (let t = 0; t < T; t++) out[t] /= m;
    return out;
  }

  /** Step of the first column (Infinity when empty). */
  get firstStep(): number {
    return this.stepList.length === 0 ? Infinity : this.stepList[0];
  }

  /**
   * Inserts a column before the first one and, when `shift` is given, adds
   * `shift[i]` to every existing value of row i. This is how a cumulative
   * trajectory grows backwards: prepending the interval (s₀, s₁] with
   * increments c puts 0 at s₀ and adds c to every later column.
   *
   * @throws RangeError if `step` is not below the first step or a length is wrong.
   */
  prepend(step: number, values: ArrayLike<number>, shift?: ArrayLike<number>): void {
    if (values.length !== this.n) throw new RangeError(`TrajectoryMatrix.prepend: expected ${this.n} values, got ${values.length}`);
    if (shift && shift.length !== this.n) throw new RangeError(`TrajectoryMatrix.prepend: expected ${this.n} shifts, got ${shift.length}`);
    if (!(step < this.firstStep)) throw new RangeError(`TrajectoryMatrix.prepend: step must be below ${this.firstStep}, got ${step}`);
    const T = this.stepList.length;
    if (T === this.capacity) this.grow();
    const c = this.capacity;
    const data = this.data;
    for (let i = 0; i < this.n; i++) {
      const start = i * c;
      const add = shift ? shift[i] : 0;
      for (let t = T; t > 0; t--) data[start + t] = data[start + t - 1] + add;
      data[start] = values[i];
    }
    this.stepList.unshift(step);
  }

  private grow(): void {
    const oldC = this.capacity;
    const newC = oldC * 2;
    const next = new Float32Array(this.n * newC);
    const T = this.stepList.length;
    for (let i = 0; i < this.n; i++) next.set(this.data.subarray(i * oldC, i * oldC + T), i * newC);
    this.data = next;
    this.capacity = newC;
  }
}
