/**
 * In-memory projected-loss trajectories L_b(x, t) (METHOD.md eq. 5), built
 * from the polca events of a run.
 *
 * @packageDocumentation
 */
import { ProjectedLoss } from '../analysis/projectedLoss.js';
import { positiveInt } from '../errors/validate.js';
import type { PolcaIncrementEvent } from '../stream/events.js';

interface BasisTrajectories {
  /** Steps of the stored columns. */
  steps: number[];
  /** L_b(x, steps[j]) for every x; `null` stands for the all-zero start column. */
  columns: (Float32Array | null)[];
  truncated: boolean;
}

/** Curves of some datapoints along one basis vector. */
export interface TrajectorySelection {
  basisId: number;
  steps: number[];
  /** values[i][j] = L_b(datapoints[i], steps[j]). */
  values: Float32Array[];
  /** Early columns were dropped to respect the memory bound. */
  truncated: boolean;
}

/**
 * Cumulative per-datapoint POLCA along each basis vector: after the intervals
 * i₁ … i_m seen for vector b, L_b(x) = Σ POLCA(x, b, i). A vector's curve
 * starts at 0 at the `fromStep` of the first interval that carries it;
 * filled-in earlier intervals (full-length trajectories) extend it
 * backwards. The running sums and the interval-order rule are the
 * analysis's {@link ProjectedLoss}, the same accumulation the
 * `TrajectoryBuilder` uses; this store adds the bounded history of columns
 * that `GetTrajectories` serves.
 *
 * Memory is bounded by `maxValues` stored float32 values (4 bytes each) over
 * all vectors; beyond it the oldest column of the vector with most columns
 * is dropped (its curves are then `truncated`, the remaining values stay
 * cumulative from the start). The running sums (8 bytes per datapoint per
 * vector) are always kept.
 *
 * @example
 * ```ts
 * const store = new TrajectoryStore({ maxValues: 1 << 24 });
 * store.add(polcaEvent);
 * store.select(0, [3, 7]); // { steps: [0, 20], values: [Float32Array [0, …], …] }
 * ```
 */
export class TrajectoryStore {
  private readonly bases = new Map<number, BasisTrajectories>();
  private sums: ProjectedLoss | undefined;
  /** Running first-order L_b(x) per vector (cumulative `firstOrder`), for the polca-first cluster series. */
  private firstOrder: ProjectedLoss | undefined;
  private stored = 0;
  private n = -1;
  private readonly maxValues: number;

  constructor(options: { maxValues: number }) {
    this.maxValues = positiveInt('TrajectoryStore', 'maxValues', options?.maxValues);
  }

  /** Number of datapoints N (−1 before the first polca event). */
  get numDatapoints(): number {
    return this.n;
  }

  /** Ids of the basis vectors seen, ascending. */
  basisIds(): number[] {
    return [...this.bases.keys()].sort((a, b) => a - b);
  }

  /** Stored float32 values over all vectors. */
  get storedValues(): number {
    return this.stored;
  }

  /** Number of stored points of a vector's curves (0 for an unknown vector). */
  length(basisId: number): number {
    return this.bases.get(basisId)?.columns.length ?? 0;
  }

  /** Adds the increments of one checkpoint interval. */
  add(event: PolcaIncrementEvent): void {
    for (let k = 0; k < event.basisIds.length; k++) {
      const values = event.values[k];
      if (this.n < 0) this.n = values.length;
      if (values.length !== this.n) {
        throw new RangeError(
          `TrajectoryStore.add: values[${k}] of basis ${event.basisIds[k]} has length ${values.length}, expected ${this.n} datapoints`,
        );
      }
    }
    if (this.n < 1) return;
    const sums = (this.sums ??= new ProjectedLoss(this.n));
    const firstOrder = (this.firstOrder ??= new ProjectedLoss(this.n));
    for (let k = 0; k < event.basisIds.length; k++) {
      const first = event.firstOrder[k];
      const id = event.basisIds[k];
      const span = firstOrder.span(id);
      // First-order terms may be absent; their curve then just lacks the interval.
      if (first && first.length === this.n && (!span || span.lastStep === event.fromStep || (event.filled && span.firstStep === event.toStep))) {
        firstOrder.add(id, event, first);
      }
    }
    for (let k = 0; k < event.basisIds.length; k++) {
      const id = event.basisIds[k];
      const values = event.values[k];
      const placement = sums.add(id, event, values);
      const running = sums.current(id)!;
      let b = this.bases.get(id);
      if (placement === 'start' || !b) {
        b = { steps: [event.fromStep], columns: [null], truncated: false };
        this.bases.set(id, b);
      }
      if (placement === 'prepend') {
        // Every later value moves by the filled interval's increments; the curve grows backwards unless its start was dropped.
        for (const c of b.columns) if (c) for (let i = 0; i < this.n; i++) c[i] += values[i];
        if (b.truncated) continue;
        b.columns[0] = Float32Array.from(values);
        b.columns.unshift(null);
        b.steps.unshift(event.fromStep);
        this.stored += this.n;
        continue;
      }
      b.steps.push(event.toStep);
      b.columns.push(Float32Array.from(running));
      this.stored += this.n;
    }
    while (this.stored > this.maxValues && this.dropOldest()) {
      /* keep dropping */
    }
  }

  private dropOldest(): boolean {
    let victim: BasisTrajectories | undefined;
    for (const b of this.bases.values()) if (b.columns.length > 1 && (!victim || b.columns.length > victim.columns.length)) victim = b;
    if (!victim) return false;
    const col = victim.columns.shift();
    victim.steps.shift();
    victim.truncated = true;
    if (col) this.stored -= col.length;
    return true;
  }

  /** The current L_b(x) for every x (after the last interval), or undefined for an unknown vector. */
  current(basisId: number): Float64Array | undefined {
    return this.sums?.current(basisId);
  }

  /** The current first-order L_b(x) (cumulative first-order POLCA) for every x, or undefined for an unknown vector. */
  currentFirstOrder(basisId: number): Float64Array | undefined {
    return this.firstOrder?.current(basisId);
  }

  /**
   * Curves of the given datapoints along a basis vector; undefined when the
   * vector is unknown. Indices must lie in [0, N). `from`/`to` select the
   * datapoints `datapoints[from … to)` (default: all), so a large read can be
   * served in pages.
   */
  select(basisId: number, datapoints: ArrayLike<number>, from = 0, to = datapoints.length): TrajectorySelection | undefined {
    const b = this.bases.get(basisId);
    if (!b) return undefined;
    const values: Float32Array[] = [];
    for (let k = from; k < to; k++) {
      const x = datapoints[k];
      if (!(Number.isInteger(x) && x >= 0 && x < this.n)) {
        throw new RangeError(`TrajectoryStore.select: datapoint index must be an integer in [0, ${this.n}), got ${x}`);
      }
      const curve = new Float32Array(b.columns.length);
      for (let j = 0; j < b.columns.length; j++) curve[j] = b.columns[j]?.[x] ?? 0;
      values.push(curve);
    }
    return { basisId, steps: b.steps.slice(), values, truncated: b.truncated };
  }
}
