/**
 * Builds per-datapoint trajectory matrices of every {@link TrajectoryKind}
 * from the tracker's events (METHOD.md §3).
 *
 * @packageDocumentation
 */
import { oneOf, positiveInt } from '../errors/validate.js';
import type { BasisKind, PolcaEvent, PolcaIncrementEvent, TrajectoryKind } from '../stream/events.js';
import { TRAJECTORY_KINDS, isBasisFree, isProjectedLoss } from '../stream/trajectoryKinds.js';
import { ProjectedLoss } from './projectedLoss.js';
import { TrajectoryMatrix } from './trajectoryMatrix.js';

export { TRAJECTORY_KINDS, isBasisFree, isProjectedLoss } from '../stream/trajectoryKinds.js';

/** Options of {@link TrajectoryBuilder}. */
export interface TrajectoryBuilderOptions {
  /**
   * Kinds to keep. Each basis-dependent kind costs N × T float32 per basis
   * vector, so only what is asked for is stored. `loss-change` is derived from
   * `loss` on demand (asking for it keeps `loss`). Default `['loss', 'polca']`.
   */
  kinds?: readonly TrajectoryKind[];
  /** Initial number of checkpoints per matrix (grows by doubling). Default 16. */
  initialCapacity?: number;
}

/**
 * Accumulates trajectory matrices from {@link PolcaEvent}s.
 *
 * - `loss`: ℓ_x(θ_t) at every checkpoint step, from `checkpoint` events or,
 *   for steps no checkpoint event covered, from `lossBefore`/`lossAfter` of
 *   `polca` events (the first source to report a step wins).
 * - `loss-change`: ℓ_x(θ_t) − ℓ_x(θ_{t−1}) at every checkpoint but the first
 *   (derived from `loss` by {@link TrajectoryBuilder.matrix}).
 * - `fisher`: the projected Fisher ⟨b, ∇ℓ_x(θ_t)⟩² at each interval's `fromStep`.
 * - `polca`, `polca-first`: L_b(x, t) = Σ_{i<t} POLCA(x, b, i) (eq. 5), the
 *   cumulative sum of `values` (second order) or `firstOrder`, sampled at the
 *   first `fromStep` where b appears (value 0) and every later `toStep`.
 * - `lca`: the same cumulative sum of `values`, kept only for basis vectors
 *   that are axis-aligned (basis events of kind `axis`; vectors with no basis
 *   event are trusted). LCA is POLCA on an axis-aligned basis, a separate run.
 *
 * A basis vector's trajectories start when it first appears in a `polca`
 * event. Filled-in intervals (`filled: true`, full-length trajectories)
 * extend them backwards: a filled interval ending where the trajectory
 * starts is prepended, which adds its increments to every later value. An
 * interval missing in the middle is an error because the cumulative sum
 * would silently be wrong.
 *
 * @example
 * ```ts
 * const b = new TrajectoryBuilder({ kinds: ['loss', 'polca'] });
 * for (const e of events) b.push(e);
 * const L = b.matrix('polca', 0)!; // N × T projected loss along basis vector 0
 * L.row(17);                       // trajectory of datapoint 17
 * ```
 */
export class TrajectoryBuilder {
  private readonly kinds: Set<TrajectoryKind>;
  private readonly capacity: number;
  private nProbe = -1;
  private loss: TrajectoryMatrix | undefined;
  private readonly perBasis = new Map<TrajectoryKind, Map<number, TrajectoryMatrix>>();
  /** Per projected-loss kind: the running L_b(x) of every vector (created with the first interval, once N is known). */
  private readonly sums = new Map<TrajectoryKind, ProjectedLoss>();
  private readonly basisKinds = new Map<number, BasisKind>();
  /** Per projected-loss kind and vector: the interval increments, kept to re-sum when an earlier interval is filled in. */
  private readonly increments = new Map<TrajectoryKind, Map<number, { steps: number[]; incs: ArrayLike<number>[] }>>();
  private intervals = 0;

  constructor(options: TrajectoryBuilderOptions = {}) {
    const kinds = options.kinds ?? ['loss', 'polca'];
    for (const k of kinds) oneOf('TrajectoryBuilder', 'kinds', k, TRAJECTORY_KINDS);
    this.kinds = new Set(kinds);
    if (this.kinds.has('loss-change')) this.kinds.add('loss');
    this.capacity = positiveInt('TrajectoryBuilder', 'initialCapacity', options.initialCapacity ?? 16);
    for (const k of this.kinds) {
      if (!isBasisFree(k)) {
        this.perBasis.set(k, new Map());
        if (isProjectedLoss(k)) this.increments.set(k, new Map());
      }
    }
  }

  /** Number of probe datapoints N (−1 before the first event that carries per-datapoint values). */
  get n(): number {
    return this.nProbe;
  }

  /** Number of `polca` intervals consumed. */
  get intervalCount(): number {
    return this.intervals;
  }

  /** Kinds this builder keeps. */
  get keptKinds(): TrajectoryKind[] {
    return TRAJECTORY_KINDS.filter((k) => this.kinds.has(k));
  }

  /** Consumes one event; events of other types are ignored. */
  push(event: PolcaEvent): void {
    switch (event.type) {
      case 'run-start':
        this.setN(event.numProbe);
        break;
      case 'basis':
        this.basisKinds.set(event.id, event.kind);
        break;
      case 'checkpoint':
        this.setN(event.losses.length);
        this.addLoss(event.step, event.losses);
        break;
      case 'polca':
        this.addPolca(event);
        break;
      default:
        break;
    }
  }

  /** Basis vector ids that have a matrix of `kind` (sorted); `[-1]` for basis-free kinds with data. */
  basisIds(kind: TrajectoryKind): number[] {
    if (isBasisFree(kind)) return this.loss && this.kinds.has(kind) ? [-1] : [];
    const m = this.perBasis.get(kind);
    return m ? [...m.keys()].sort((a, b) => a - b) : [];
  }

  /**
   * The trajectory matrix of `kind` along basis vector `basisId` (ignored for
   * `loss` / `loss-change`), or `undefined` when there is none yet.
   * `loss-change` is computed afresh on each call.
   *
   * @throws RangeError when `kind` was not requested at construction.
   */
  matrix(kind: TrajectoryKind, basisId = -1): TrajectoryMatrix | undefined {
    if (!this.kinds.has(kind)) {
      throw new RangeError(
        `TrajectoryBuilder.matrix: kind ${JSON.stringify(kind)} was not requested (options.kinds = ${JSON.stringify(this.keptKinds)})`,
      );
    }
    if (kind === 'loss') return this.loss;
    if (kind === 'loss-change') return this.loss ? lossChange(this.loss, this.capacity) : undefined;
    return this.perBasis.get(kind)!.get(basisId);
  }

  private setN(n: number): void {
    if (this.nProbe === -1) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`TrajectoryBuilder.push: probe size must be a positive integer, got ${n}`);
      this.nProbe = n;
    } else if (n !== this.nProbe) {
      throw new RangeError(`TrajectoryBuilder.push: event has ${n} datapoints but the run has ${this.nProbe}`);
    }
  }

  private addLoss(step: number, losses: ArrayLike<number>): void {
    if (!this.kinds.has('loss')) return;
    if (!this.loss) this.loss = new TrajectoryMatrix(this.nProbe, this.capacity);
    if (step > this.loss.lastStep) this.loss.append(step, losses);
  }

  private addPolca(e: PolcaIncrementEvent): void {
    this.setN(e.lossBefore.length);
    this.addLoss(e.fromStep, e.lossBefore);
    this.addLoss(e.toStep, e.lossAfter);
    this.intervals++;
    for (let k = 0; k < e.basisIds.length; k++) {
      const id = e.basisIds[k];
      for (const [kind, mats] of this.perBasis) {
        if (kind === 'lca') {
          const bk = this.basisKinds.get(id);
          if (bk !== undefined && bk !== 'axis') continue;
        }
        if (kind === 'fisher') {
          const der = e.derivatives[k];
          let m = mats.get(id);
          if (!m) mats.set(id, (m = new TrajectoryMatrix(this.nProbe, this.capacity)));
          if (e.fromStep > m.lastStep || e.fromStep < m.firstStep) {
            const sq = new Float32Array(der.length);
            for (let i = 0; i < der.length; i++) sq[i] = der[i] * der[i];
            if (e.fromStep > m.lastStep) m.append(e.fromStep, sq);
            else m.prepend(e.fromStep, sq);
          }
          continue;
        }
        const inc = kind === 'polca-first' ? e.firstOrder[k] : e.values[k];
        if (inc.length !== this.nProbe) {
          throw new RangeError(`TrajectoryBuilder.push: basis ${id} has ${inc.length} values, expected ${this.nProbe}`);
        }
        const span = mats.get(id);
        if (span && !(e.filled && span.firstStep === e.toStep) && span.lastStep !== e.fromStep) {
          throw new RangeError(
            `TrajectoryBuilder.push: polca event for basis ${id} starts at step ${e.fromStep} ` +
              `but its ${kind} trajectory ends at step ${span.lastStep} (missing or repeated interval)`,
          );
        }
        let L = this.sums.get(kind);
        if (!L) this.sums.set(kind, (L = new ProjectedLoss(this.nProbe)));
        const placement = L.add(id, e, inc);
        let h = this.increments.get(kind)!.get(id);
        if (!h) this.increments.get(kind)!.set(id, (h = { steps: [e.fromStep], incs: [] }));
        if (placement === 'prepend') {
          // Summed again from the new first interval, in double precision, so the values do not depend on the order the intervals arrived in.
          h.steps.unshift(e.fromStep);
          h.incs.unshift(inc);
          const rebuilt = new TrajectoryMatrix(this.nProbe, Math.max(this.capacity, h.steps.length));
          const running = L.current(id)!.fill(0);
          rebuilt.append(h.steps[0], running);
          h.incs.forEach((c, t) => {
            for (let i = 0; i < c.length; i++) running[i] += c[i];
            rebuilt.append(h.steps[t + 1], running);
          });
          mats.set(id, rebuilt);
          continue;
        }
        let m = mats.get(id);
        if (placement === 'start') {
          m = new TrajectoryMatrix(this.nProbe, this.capacity);
          mats.set(id, m);
          m.append(e.fromStep, new Float64Array(this.nProbe));
        }
        m!.append(e.toStep, L.current(id)!);
        h.steps.push(e.toStep);
        h.incs.push(inc);
      }
    }
  }
}

function lossChange(loss: TrajectoryMatrix, capacity: number): TrajectoryMatrix {
  const out = new TrajectoryMatrix(loss.n, Math.max(capacity, loss.length));
  const steps = loss.steps;
  const col = new Float32Array(loss.n);
  for (let t = 1; t < steps.length; t++) {
    for (let i = 0; i < loss.n; i++) col[i] = loss.get(i, t) - loss.get(i, t - 1);
    out.append(steps[t], col);
  }
  return out;
}
