/**
 * One `polca` event per checkpoint interval, holding every basis vector's
 * terms: a live interval joined with the filled-in terms of the vectors
 * found after it (full-length trajectories).
 *
 * @packageDocumentation
 */
import { completenessResidual } from '../engine/polcaIncrements.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../stream/events.js';

/**
 * Joins the `polca` events of each interval (the live one and any `filled`
 * ones) into one, vectors in ascending id, with the residual recomputed over
 * all of them; returns the intervals in step order. Events of other types are
 * ignored.
 *
 * @example
 * ```ts
 * const intervals = mergeIntervals(events); // intervals[0].basisIds: every vector, full-length
 * ```
 */
export function mergeIntervals(events: Iterable<PolcaEvent>): PolcaIncrementEvent[] {
  const byInterval = new Map<string, PolcaIncrementEvent[]>();
  for (const e of events) {
    if (e.type !== 'polca') continue;
    const key = `${e.fromStep}:${e.toStep}`;
    const list = byInterval.get(key);
    if (list) list.push(e);
    else byInterval.set(key, [e]);
  }
  const out: PolcaIncrementEvent[] = [];
  for (const parts of byInterval.values()) {
    if (parts.length === 1 && !parts[0].filled) {
      out.push(parts[0]);
      continue;
    }
    const live = parts.find((p) => !p.filled) ?? parts[0];
    const order = parts.flatMap((p) => p.basisIds.map((id, k) => ({ id, p, k }))).sort((a, b) => a.id - b.id);
    const values = order.map(({ p, k }) => p.values[k]);
    out.push({
      ...live,
      basisIds: order.map((o) => o.id),
      projections: order.map(({ p, k }) => p.projections[k]),
      values,
      firstOrder: order.map(({ p, k }) => p.firstOrder[k]),
      derivatives: order.map(({ p, k }) => p.derivatives[k]),
      residual: completenessResidual(live.lossBefore, live.lossAfter, values),
      nonFinite: Math.max(...parts.map((p) => p.nonFinite)),
      filled: undefined,
    });
    delete out[out.length - 1].filled;
  }
  return out.sort((a, b) => a.fromStep - b.fromStep);
}
