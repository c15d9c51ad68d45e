import { Observable, share } from 'rxjs';
import { AlertRules, type AlertRulesOptions } from '../analysis/alertRules.js';
import { ClusterTracker, type ClusterTrackerOptions } from '../analysis/clusterTracker.js';
import { BreakthroughDetector, type BreakthroughDetectorOptions } from '../analysis/onlineDetector.js';
import type { PolcaEvent } from '../stream/events.js';

/** Options of {@link analyze}; each part is off when absent or `false`. */
export interface AnalyzeOptions {
  /** Re-cluster every `every` checkpoints (the paper's procedure per basis vector). */
  clusters?: ClusterTrackerOptions | false;
  /** Online breakthrough detection on cluster medians and named datapoint sets. Needs `clusters` for cluster targets. */
  transitions?: BreakthroughDetectorOptions | false;
  /** Loss spike, stalled loss and non-finite alerts. Default on. */
  alerts?: AlertRulesOptions | false;
}

/**
 * Runs the online analysis beside a run: every event passes through
 * unchanged, and the `clusters`, `transition` and `alert` events it causes
 * follow it directly, in one stream — so sinks (Arrow, gRPC, metrics) see
 * live and replayed runs alike. Analysis runs synchronously on the event that
 * triggers it (clustering is seconds at N = 5000; `clusters.maxPerPush`
 * spreads a round over later events). The result is shared: however many
 * subscribers, the analysis runs once. `hooks.onClusterTracker` receives the
 * {@link ClusterTracker} when it is made (for its time `stats`).
 *
 * @example
 * ```ts
 * const events$ = analyze(tracker.events$, { clusters: { every: 10 }, transitions: { delta: 100 } });
 * events$.subscribe((e) => { if (e.type === 'transition') console.log('breakthrough at', e.step); });
 * ```
 */
export function analyze(
  source: Observable<PolcaEvent>,
  options: AnalyzeOptions = {},
  hooks: { onClusterTracker?: (tracker: ClusterTracker) => void } = {},
): Observable<PolcaEvent> {
  return new Observable<PolcaEvent>((subscriber) => {
    const clusters = options.clusters ? new ClusterTracker(options.clusters) : null;
    if (clusters) hooks.onClusterTracker?.(clusters);
    const detector = options.transitions ? new BreakthroughDetector(options.transitions) : null;
    const alerts = options.alerts === false ? null : new AlertRules(options.alerts ?? {});
    const emit = (e: PolcaEvent) => {
      subscriber.next(e);
      for (const t of detector?.push(e) ?? []) subscriber.next(t);
    };
    return source.subscribe({
      next(e) {
        try {
          const derived: PolcaEvent[] = [...(alerts?.push(e) ?? []), ...(clusters?.push(e) ?? [])];
          if (e.type === 'run-end') {
            // The run's last analysis comes before its end.
            derived.forEach(emit);
            emit(e);
          } else {
            emit(e);
            derived.forEach(emit);
          }
        } catch (err) {
          subscriber.error(err);
        }
      },
      error: (err) => subscriber.error(err),
      complete: () => subscriber.complete(),
    });
  }).pipe(share());
}
