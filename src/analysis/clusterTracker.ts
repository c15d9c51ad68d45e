/**
 * Incremental re-clustering while training runs, with cluster ids kept stable
 * across re-clusterings.
 *
 * @packageDocumentation
 */
import { Observable, type OperatorFunction } from 'rxjs';
import type { ClustersEvent, PolcaEvent, TrajectoryKind } from '../stream/events.js';
import { clusterTrajectories, type ClusterProcedureOptions } from './clusterProcedure.js';
import { TrajectoryBuilder, isBasisFree } from './trajectories.js';

/**
 * Jaccard index |A ∩ B| / |A ∪ B| of two sets of datapoint indices (each
 * without duplicates); 0 when both are empty.
 *
 * @example
 * ```ts
 * jaccard([1, 2, 3], [2, 3, 4]); // 0.5
 * ```
 */
export function jaccard(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length === 0 && b.length === 0) return 0;
  const set = new Set<number>();
  for (let i = 0; i < a.length; i++) set.add(a[i]);
  let inter = 0;
  for (let i = 0; i < b.length; i++) if (set.has(b[i])) inter++;
  return inter / (a.length + b.length - inter);
}

/**
 * Assigns ids to a new clustering given the previous one. Pairs (previous,
 * new) with Jaccard ≥ `threshold` are matched greedily in order of decreasing
 * Jaccard (ties: lower previous id, then lower new index); a matched new
 * cluster inherits the previous id, the others get fresh ids from `nextId`
 * upwards. Because clusters of one clustering are disjoint, a cluster can
 * have Jaccard > 0.5 with at most one cluster of the other clustering, so for
 * thresholds above 0.5 the greedy matching is the unique maximal one (and
 * equals the optimal assignment); at exactly 0.5 ties are broken as stated.
 *
 * @returns the id of every new cluster, in input order.
 *
 * @example
 * ```ts
 * matchClusterIds([{ id: 7, members: [1, 2, 3] }], [[9], [1, 2, 3, 4]], 0.5, 8); // [8, 7]
 * ```
 */
export function matchClusterIds(
  previous: readonly { id: number; members: ArrayLike<number> }[],
  next: readonly ArrayLike<number>[],
  threshold: number,
  nextId: number,
): number[] {
  if (!(threshold > 0 && threshold <= 1)) {
    throw new RangeError(`matchClusterIds: threshold must be in (0, 1], got ${threshold}`);
  }
  const pairs: { j: number; p: number; k: number }[] = [];
  for (let p = 0; p < previous.length; p++) {
    for (let k = 0; k < next.length; k++) {
      const j = jaccard(previous[p].members, next[k]);
      if (j >= threshold) pairs.push({ j, p, k });
    }
  }
  pairs.sort((x, y) => y.j - x.j || previous[x.p].id - previous[y.p].id || x.k - y.k);
  const ids = new Array<number>(next.length).fill(NaN);
  const usedPrev = new Set<number>();
  for (const { p, k } of pairs) {
    if (usedPrev.has(p) || !Number.isNaN(ids[k])) continue;
    usedPrev.add(p);
    ids[k] = previous[p].id;
  }
  let fresh = nextId;
  for (let k = 0; k < ids.length; k++) if (Number.isNaN(ids[k])) ids[k] = fresh++;
  return ids;
}

/** Options of {@link ClusterTracker}. */
export interface ClusterTrackerOptions extends Omit<ClusterProcedureOptions, 'kind' | 'basisId' | 'time'> {
  /** Re-cluster after every `every` POLCA intervals (checkpoints). Required, ≥ 1. */
  every: number;
  /** Kinds to cluster. Default `['polca']`. */
  kinds?: readonly TrajectoryKind[];
  /** Do not cluster trajectories shorter than this many checkpoints. Default 3. */
  minCheckpoints?: number;
  /** Jaccard threshold for keeping an id. Default 0.5. */
  jaccardThreshold?: number;
  /** Re-cluster once more when the run ends (`run-end` event). Default true. */
  finalRecluster?: boolean;
  /** Clock for event time stamps. Default `Date.now`. */
  now?: () => number;
  /** Extra kinds for the internal {@link TrajectoryBuilder} to keep (for example `loss` for the detector). */
  extraKinds?: readonly TrajectoryKind[];
  /**
   * Basis vectors clustered per pushed event. HDBSCAN costs O(N²T) per
   * vector (seconds at N = 5000), so a round over many vectors can be spread
   * over the following events instead of stalling the one that triggered it;
   * a new round replaces what is left of the previous one, and `run-end`
   * finishes it. Default Infinity (the whole round at once).
   */
  maxPerPush?: number;
}

/**
 * Feeds events into a {@link TrajectoryBuilder} and, every `every` POLCA
 * intervals, re-clusters every basis vector of every requested kind with
 * {@link clusterTrajectories}, returning `clusters` events whose ids persist
 * where membership mostly persists ({@link matchClusterIds}). Ids are unique
 * per (kind, basis vector) over the whole run.
 *
 * @example
 * ```ts
 * const tracker = new ClusterTracker({ every: 10, minClusterSize: 50 });
 * for (const e of events) for (const c of tracker.push(e)) emit(c);
 * ```
 */
export class ClusterTracker {
  /** The builder holding the trajectories (shared with callers who need them). */
  readonly builder: TrajectoryBuilder;
  private readonly every: number;
  private readonly kinds: TrajectoryKind[];
  private readonly minCheckpoints: number;
  private readonly threshold: number;
  private readonly finalRecluster: boolean;
  private readonly now: () => number;
  private readonly procedure: Omit<ClusterProcedureOptions, 'kind' | 'basisId' | 'time'>;
  private readonly state = new Map<string, { event: ClustersEvent; labels: Int32Array; nextId: number }>();
  private lastClusteredAt = 0;
  private pending: { kind: TrajectoryKind; basisId: number }[] = [];
  private readonly maxPerPush: number;

  constructor(options: ClusterTrackerOptions) {
    const fn = 'ClusterTracker';
    const { every, kinds, minCheckpoints, jaccardThreshold, finalRecluster, now, extraKinds, maxPerPush, ...procedure } = options;
    this.maxPerPush = maxPerPush ?? Infinity;
    if (!(this.maxPerPush === Infinity || (Number.isInteger(this.maxPerPush) && this.maxPerPush >= 1))) {
      throw new RangeError(`${fn}: options.maxPerPush must be a positive integer or Infinity, got ${maxPerPush}`);
    }
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`${fn}: options.every must be a positive integer, got ${every}`);
    this.every = every;
    this.kinds = [...(kinds ?? ['polca'])];
    if (this.kinds.length === 0) throw new RangeError(`${fn}: options.kinds must not be empty`);
    this.minCheckpoints = minCheckpoints ?? 3;
    if (!Number.isInteger(this.minCheckpoints) || this.minCheckpoints < 1) {
      throw new RangeError(`${fn}: options.minCheckpoints must be a positive integer, got ${minCheckpoints}`);
    }
    this.threshold = jaccardThreshold ?? 0.5;
    if (!(this.threshold > 0 && this.threshold <= 1)) {
      throw new RangeError(`${fn}: options.jaccardThreshold must be in (0, 1], got ${jaccardThreshold}`);
    }
    this.finalRecluster = finalRecluster ?? true;
    this.now = now ?? Date.now;
    this.procedure = procedure;
    this.builder = new TrajectoryBuilder({ kinds: [...new Set([...this.kinds, ...(extraKinds ?? [])])] });
  }

  /** Consumes one event and returns the `clusters` events it triggered (often none). */
  push(event: PolcaEvent): ClustersEvent[] {
    this.builder.push(event);
    const n = this.builder.intervalCount;
    if (event.type === 'run-end') {
      if (this.finalRecluster && n > this.lastClusteredAt) return this.recluster();
      return this.drain(Infinity);
    }
    if (event.type === 'polca' && n % this.every === 0) {
      // A new round replaces what is left of the previous one.
      this.lastClusteredAt = n;
      this.pending = this.targets();
    }
    return this.drain(this.maxPerPush);
  }

  /** (kind, basis vector) pairs still waiting in the current round when `maxPerPush` spreads it. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Re-clusters everything now (also what a spread-out round still had pending). */
  recluster(): ClustersEvent[] {
    this.lastClusteredAt = this.builder.intervalCount;
    this.pending = this.targets();
    return this.drain(Infinity);
  }

  private targets(): { kind: TrajectoryKind; basisId: number }[] {
    return this.kinds.flatMap((kind) => this.builder.basisIds(kind).map((basisId) => ({ kind, basisId })));
  }

  private drain(limit: number): ClustersEvent[] {
    const out: ClustersEvent[] = [];
    while (this.pending.length > 0 && out.length < limit) {
      const { kind, basisId } = this.pending.shift()!;
      const e = this.clusterOne(kind, basisId);
      if (e) out.push(e);
    }
    return out;
  }

  private clusterOne(kind: TrajectoryKind, basisId: number): ClustersEvent | undefined {
    const m = this.builder.matrix(kind, basisId);
    if (!m || m.length < this.minCheckpoints) return undefined;
    const r = clusterTrajectories(m, { ...this.procedure, kind, basisId, time: this.now() });
    const key = `${kind}:${basisId}`;
    const prev = this.state.get(key);
    const ids = matchClusterIds(
      prev ? prev.event.clusters : [],
      r.event.clusters.map((c) => c.members),
      this.threshold,
      prev ? prev.nextId : 0,
    );
    const remap = new Map<number, number>();
    r.event.clusters.forEach((c, k) => {
      remap.set(c.id, ids[k]);
      c.id = ids[k];
    });
    for (let i = 0; i < r.labels.length; i++) if (r.labels[i] >= 0) r.labels[i] = remap.get(r.labels[i])!;
    const nextId = Math.max(prev ? prev.nextId : 0, ...ids.map((x) => x + 1));
    this.state.set(key, { event: r.event, labels: r.labels, nextId });
    return r.event;
  }

  /** Latest `clusters` event of (kind, basis vector), if any. */
  current(kind: TrajectoryKind, basisId = -1): ClustersEvent | undefined {
    return this.state.get(`${kind}:${isBasisFree(kind) ? -1 : basisId}`)?.event;
  }

  /** Latest per-datapoint labels (cluster id, −1 outlier, −2 dropped) of (kind, basis vector). */
  labels(kind: TrajectoryKind, basisId = -1): Int32Array | undefined {
    return this.state.get(`${kind}:${isBasisFree(kind) ? -1 : basisId}`)?.labels;
  }
}

/**
 * RxJS operator: the `clusters` events a {@link ClusterTracker} produces from
 * a stream of polca events. Errors from the procedure end the stream with
 * that error.
 *
 * @example
 * ```ts
 * tracker.events$.pipe(clusterEvents({ every: 10 })).subscribe((c) => console.log(c.clusters.length));
 * ```
 */
export function clusterEvents(options: ClusterTrackerOptions): OperatorFunction<PolcaEvent, ClustersEvent> {
  return (source) =>
    new Observable<ClustersEvent>((subscriber) => {
      const tracker = new ClusterTracker(options);
      return source.subscribe({
        next(e) {
          let out: ClustersEvent[];
          try {
            out = tracker.push(e);
          } catch (err) {
            subscriber.error(err);
            return;
          }
          for (const c of out) subscriber.next(c);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
