/**
 * Incremental re-clustering while training runs, with cluster ids kept stable
 * across re-clusterings.
 *
 * @packageDocumentation
 */
import { fail, positiveInt } from '../errors/validate.js';
import type { OperatorFunction } from 'rxjs';
import { pushOperator } from './pushOperator.js';
import type { ClustersEvent, PolcaEvent, TrajectoryKind } from '../stream/events.js';
import { clusterTrajectories, type ClusterProcedureOptions } from './clusterProcedure.js';
import { TrajectoryBuilder } from './trajectories.js';
import { isBasisFree } from '../stream/trajectoryKinds.js';

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
  /**
   * When to re-cluster. A number M: after every M live POLCA intervals
   * (filled-in earlier intervals of late vectors do not count). `'auto'`: at
   * a live interval whenever the seconds spent clustering so far are at most
   * `budget` of the seconds since the tracker's first event, so that
   * clustering stays that fraction of the run's time whatever N, the number
   * of vectors and the machine (see {@link ClusterTrackerStats}); the rounds
   * then depend on the machine's speed, so analysing a replay at full speed
   * wants a number. Required.
   */
  every: number | 'auto';
  /** With `every: 'auto'`: the largest fraction of the run's wall time spent clustering. Default 0.05. */
  budget?: number;
  /** With `every: 'auto'`: live intervals between two rounds at least. Default 1. */
  minEvery?: number;
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
  /** Clock in milliseconds measuring the time spent clustering (and, with `every: 'auto'`, the run's). Default `performance.now`. */
  clock?: () => number;
  /** Extra kinds for the internal {@link TrajectoryBuilder} to keep (for example `loss` for the detector). */
  extraKinds?: readonly TrajectoryKind[];
  /**
   * Basis vectors clustered per pushed event. HDBSCAN costs O(N²T) per
   * vector (seconds at N = 5000), so a round over many vectors can be spread
   * over the following events instead of stalling the one that triggered it;
   * with a number `every`, a new round replaces what is left of the previous
   * one (with `'auto'`, no round starts before the last one is done), and
   * `run-end` finishes it. Default Infinity (the whole round at once).
   */
  maxPerPush?: number;
}

/** What a {@link ClusterTracker} has spent, for checking that clustering stays a small part of a run. */
export interface ClusterTrackerStats {
  /** Rounds started (the final one at run end included). */
  rounds: number;
  /** (kind, basis vector) clusterings computed. */
  clusterings: number;
  /** Seconds spent clustering. */
  seconds: number;
  /** Seconds from the first event to the last one pushed. */
  elapsed: number;
  /** The longest single clustering, in seconds (how long one event was held up). */
  longest: number;
}

/**
 * Feeds events into a {@link TrajectoryBuilder} and, every `every` live
 * POLCA intervals (or as the time budget allows, `every: 'auto'`),
 * re-clusters every basis vector of every requested kind with
 * {@link clusterTrajectories}, returning `clusters` events whose ids persist
 * where membership mostly persists ({@link matchClusterIds}). Ids are unique
 * per basis vector over the whole run and across kinds (the basis-free kinds
 * share basis −1), so (basis vector, cluster id) names one cluster of one
 * kind: a `transition` on it needs no kind.
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
  private readonly every: number | 'auto';
  private readonly budget: number;
  private readonly minEvery: number;
  private readonly clock: () => number;
  private readonly kinds: TrajectoryKind[];
  private readonly minCheckpoints: number;
  private readonly threshold: number;
  private readonly finalRecluster: boolean;
  private readonly now: () => number;
  private readonly procedure: Omit<ClusterProcedureOptions, 'kind' | 'basisId' | 'time'>;
  private readonly state = new Map<string, { event: ClustersEvent; labels: Int32Array }>();
  private readonly nextIds = new Map<number, number>();
  private lastClusteredAt = 0;
  private liveIntervals = 0;
  private liveAtLastRound = 0;
  private readonly spent = { rounds: 0, clusterings: 0, ms: 0, longest: 0 };
  private firstAt = NaN;
  private lastAt = NaN;
  private pending: { kind: TrajectoryKind; basisId: number }[] = [];
  private readonly maxPerPush: number;

  constructor(options: ClusterTrackerOptions) {
    const fn = 'ClusterTracker';
    const { every, budget, minEvery, clock, kinds, minCheckpoints, jaccardThreshold, finalRecluster, now, extraKinds, maxPerPush, ...procedure } = options;
    this.maxPerPush = maxPerPush ?? Infinity;
    if (!(this.maxPerPush === Infinity || (Number.isInteger(this.maxPerPush) && this.maxPerPush >= 1))) {
      fail(fn, 'maxPerPush', 'a positive integer or Infinity', maxPerPush);
    }
    if (every !== 'auto' && (!Number.isInteger(every) || every < 1)) fail(fn, 'every', "a positive integer or 'auto'", every);
    this.every = every;
    this.budget = budget ?? 0.05;
    if (!(this.budget > 0 && this.budget <= 1)) fail(fn, 'budget', 'a number in (0, 1]', budget);
    this.minEvery = positiveInt(fn, 'minEvery', minEvery ?? 1);
    this.clock = clock ?? (() => performance.now());
    this.kinds = [...(kinds ?? ['polca'])];
    if (this.kinds.length === 0) fail(fn, 'kinds', 'a non-empty list of trajectory kinds', this.kinds);
    this.minCheckpoints = positiveInt(fn, 'minCheckpoints', minCheckpoints ?? 3);
    this.threshold = jaccardThreshold ?? 0.5;
    if (!(this.threshold > 0 && this.threshold <= 1)) fail(fn, 'jaccardThreshold', 'a number in (0, 1]', jaccardThreshold);
    this.finalRecluster = finalRecluster ?? true;
    this.now = now ?? Date.now;
    this.procedure = procedure;
    this.builder = new TrajectoryBuilder({ kinds: [...new Set([...this.kinds, ...(extraKinds ?? [])])] });
  }

  /** Consumes one event and returns the `clusters` events it triggered (often none). */
  push(event: PolcaEvent): ClustersEvent[] {
    const t = this.clock();
    if (Number.isNaN(this.firstAt)) this.firstAt = t;
    this.lastAt = t;
    this.builder.push(event);
    const n = this.builder.intervalCount;
    if (event.type === 'run-end') {
      if (this.finalRecluster && n > this.lastClusteredAt) return this.recluster();
      return this.drain(Infinity);
    }
    if (event.type === 'polca' && !event.filled) {
      this.liveIntervals++;
      if (this.roundDue()) {
        this.lastClusteredAt = n;
        this.liveAtLastRound = this.liveIntervals;
        this.spent.rounds++;
        // A new round replaces what is left of the previous one.
        this.pending = this.targets();
      }
    }
    return this.drain(this.maxPerPush);
  }

  private roundDue(): boolean {
    if (this.every !== 'auto') return this.liveIntervals % this.every === 0;
    if (this.pending.length > 0 || this.liveIntervals - this.liveAtLastRound < this.minEvery) return false;
    return this.spent.ms <= this.budget * (this.lastAt - this.firstAt);
  }

  /** Time and work spent so far. */
  get stats(): ClusterTrackerStats {
    const elapsed = Number.isNaN(this.firstAt) ? 0 : (this.lastAt - this.firstAt) / 1000;
    return { rounds: this.spent.rounds, clusterings: this.spent.clusterings, seconds: this.spent.ms / 1000, elapsed, longest: this.spent.longest / 1000 };
  }

  /** (kind, basis vector) pairs still waiting in the current round when `maxPerPush` spreads it. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Re-clusters everything now (also what a spread-out round still had pending). */
  recluster(): ClustersEvent[] {
    this.lastClusteredAt = this.builder.intervalCount;
    this.liveAtLastRound = this.liveIntervals;
    this.spent.rounds++;
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
    const t0 = this.clock();
    const r = clusterTrajectories(m, { ...this.procedure, kind, basisId, time: this.now() });
    const key = `${kind}:${basisId}`;
    const prev = this.state.get(key);
    const ids = matchClusterIds(
      prev ? prev.event.clusters : [],
      r.event.clusters.map((c) => c.members),
      this.threshold,
      this.nextIds.get(basisId) ?? 0,
    );
    const remap = new Map<number, number>();
    r.event.clusters.forEach((c, k) => {
      remap.set(c.id, ids[k]);
      c.id = ids[k];
    });
    for (let i = 0; i < r.labels.length; i++) if (r.labels[i] >= 0) r.labels[i] = remap.get(r.labels[i])!;
    this.nextIds.set(basisId, Math.max(this.nextIds.get(basisId) ?? 0, ...ids.map((x) => x + 1)));
    this.state.set(key, { event: r.event, labels: r.labels });
    const ms = this.clock() - t0;
    this.spent.ms += ms;
    this.spent.clusterings++;
    this.spent.longest = Math.max(this.spent.longest, ms);
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
  return pushOperator(() => new ClusterTracker(options));
}
