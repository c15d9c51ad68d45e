/**
 * The online analysis a run gets by default when it has a sink (a log or a
 * server), and the record of it in the run directory that the post-hoc
 * commands read back, so that the live detector, `polca clusters` and
 * `polca report` use one Δ and the same HDBSCAN sizes on a run.
 *
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ClusterTrackerOptions } from '../analysis/clusterTracker.js';
import type { BreakthroughDetectorOptions } from '../analysis/onlineDetector.js';
import type { AlertRulesOptions } from '../analysis/alertRules.js';
import type { TrajectoryKind } from '../stream/events.js';

/**
 * Kinds clustered live by default: POLCA (the paper's), its first-order part,
 * and the exact loss (the baseline; one clustering, basis −1).
 *
 * @example
 * ```ts
 * attachSinks(tracker, { log: { dir }, analysis: { clusters: { kinds: LIVE_CLUSTER_KINDS.slice(0, 1) } } }); // POLCA only
 * ```
 */
export const LIVE_CLUSTER_KINDS: readonly TrajectoryKind[] = ['polca', 'polca-first', 'loss'];

/**
 * Default share of the run's wall time spent re-clustering live
 * (`clusters: { every: 'auto', budget }`).
 *
 * @example
 * ```ts
 * resolveLiveAnalysis(undefined).clusters; // { every: 'auto', budget: LIVE_CLUSTER_BUDGET, … }
 * ```
 */
export const LIVE_CLUSTER_BUDGET = 0.05;

/**
 * The `analysis` option of a run with sinks (`attachSinks`, the callback):
 * each part merged over its default, so `clusters` needs no `every`.
 */
export interface LiveAnalysisOptions {
  /** Live clustering; merged over `{ every: 'auto', budget: 0.05, kinds: LIVE_CLUSTER_KINDS, maxPerPush: 1 }`. */
  clusters?: Partial<ClusterTrackerOptions> | false;
  /** Transition detection; merged over `{ clusterKinds: <the kinds clustered> }` (Δ: the shared default). */
  transitions?: BreakthroughDetectorOptions | false;
  /** Alert rules. */
  alerts?: AlertRulesOptions | false;
}

/** The analysis a run gets: every part on or off, each given part merged over its default. */
export interface ResolvedAnalysis {
  clusters: ClusterTrackerOptions | false;
  transitions: BreakthroughDetectorOptions | false;
  alerts: AlertRulesOptions | false;
}

/**
 * Merges a run's `analysis` option over the defaults of a run with sinks
 * (`options.sinks`, default true; without sinks absent parts stay off but
 * the alert rules):
 * re-clustering of {@link LIVE_CLUSTER_KINDS} within a time budget of
 * {@link LIVE_CLUSTER_BUDGET} (one (kind, vector) clustering per event, so
 * that no single step waits for a whole round), transition detection on
 * those clusters with the shared default Δ, and the alert rules. A part set
 * to `false` stays off; a part given as options is merged over its default
 * (`{ clusters: { kinds: ['polca'] } }` keeps the budget; the detector then
 * watches the kinds clustered).
 *
 * @example
 * ```ts
 * resolveLiveAnalysis({ transitions: { delta: 60 } }).clusters; // the default live clustering
 * resolveLiveAnalysis({ clusters: false }).clusters;             // false
 * ```
 */
export function resolveLiveAnalysis(given: LiveAnalysisOptions | undefined, options: { sinks?: boolean } = {}): ResolvedAnalysis {
  const g = given ?? {};
  // Without sinks only what is asked for runs (and the alert rules).
  const on = options.sinks ?? true;
  const clusters: ClusterTrackerOptions | false =
    g.clusters === false || (!on && g.clusters === undefined)
      ? false
      : { every: 'auto', budget: LIVE_CLUSTER_BUDGET, kinds: LIVE_CLUSTER_KINDS, maxPerPush: 1, ...(g.clusters ?? {}) };
  const kinds = clusters ? (clusters.kinds ?? ['polca']) : LIVE_CLUSTER_KINDS;
  const transitions: BreakthroughDetectorOptions | false =
    g.transitions === false || (!on && g.transitions === undefined)
      ? false
      : { ...(g.transitions?.clusterKind ? {} : { clusterKinds: kinds }), ...(g.transitions ?? {}) };
  const alerts: AlertRulesOptions | false = g.alerts === false ? false : { ...(g.alerts ?? {}) };
  return { clusters, transitions, alerts };
}

/** File of a run directory recording its live analysis, relative to the directory. */
export const LIVE_ANALYSIS_FILE = path.join('analysis', 'live.json');

/** What `analysis/live.json` holds: the parameters the post-hoc commands take over. */
export interface LiveAnalysisRecord {
  /** Δ of the live detector in steps, or null when it used the default rule (5 checkpoint intervals). */
  delta: number | null;
  /** HDBSCAN sizes of the live clustering, null for the defaults scaled to N. */
  minClusterSize: number | null;
  minSamples: number | null;
  /** Kinds clustered live (empty when clustering was off). */
  kinds: TrajectoryKind[];
  /** Re-clustering cadence: live intervals, or `auto` with its time budget. */
  every: number | 'auto' | null;
  budget: number | null;
}

/**
 * The record of a resolved analysis.
 *
 * @example
 * ```ts
 * liveAnalysisRecord(resolveLiveAnalysis({ transitions: { delta: 60 } })).delta; // 60
 * ```
 */
export function liveAnalysisRecord(a: ResolvedAnalysis): LiveAnalysisRecord {
  const c = a.clusters || undefined;
  return {
    delta: a.transitions ? (a.transitions.delta ?? null) : null,
    minClusterSize: c?.minClusterSize ?? null,
    minSamples: c?.minSamples ?? null,
    kinds: c ? [...(c.kinds ?? ['polca'])] : [],
    every: c?.every ?? null,
    budget: c && c.every === 'auto' ? (c.budget ?? LIVE_CLUSTER_BUDGET) : null,
  };
}

/**
 * Writes `analysis/live.json` into a run directory.
 *
 * @example
 * ```ts
 * writeLiveAnalysis('runs/a', liveAnalysisRecord(resolveLiveAnalysis(undefined)));
 * ```
 */
export function writeLiveAnalysis(dir: string, record: LiveAnalysisRecord): void {
  const file = path.join(dir, LIVE_ANALYSIS_FILE);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(record, null, 2) + '\n');
}

/**
 * Reads `analysis/live.json` of a run directory; undefined when the run
 * recorded none (no live analysis, or an older run) or the file is unreadable.
 *
 * @example
 * ```ts
 * const delta = options.delta ?? readLiveAnalysis(dir)?.delta ?? undefined;
 * ```
 */
export function readLiveAnalysis(dir: string): LiveAnalysisRecord | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(dir, LIVE_ANALYSIS_FILE), 'utf8')) as Partial<LiveAnalysisRecord>;
    const posOrNull = (v: unknown) => (typeof v === 'number' && v > 0 && Number.isFinite(v) ? v : null);
    return {
      delta: posOrNull(r.delta),
      minClusterSize: posOrNull(r.minClusterSize),
      minSamples: posOrNull(r.minSamples),
      kinds: Array.isArray(r.kinds) ? r.kinds : [],
      every: r.every === 'auto' ? 'auto' : posOrNull(r.every),
      budget: posOrNull(r.budget),
    };
  } catch {
    return undefined;
  }
}
