/**
 * How much of the probe's loss changes the POLCA terms account for, by step
 * range: per interval and datapoint the actual change Δℓ, the sum of the
 * recorded POLCA terms, of their first-order parts, and of the secant
 * (trapezoid) terms rebuilt from the recorded directional derivatives of two
 * consecutive intervals. Each is given as its energy relative to that of Δℓ,
 * with the energy of what it leaves over (Δℓ minus it): a sound decomposition
 * has a leftover below 1 and a sum not far above it.
 *
 * A curvature estimator whose terms carry far more energy than the loss
 * changes themselves (the paper's eq. 4 once the aggregate gradient is
 * small) shows here as a sum and a leftover both well above 1.
 *
 * `polca budget <dir> [--edges 0,500,1000,2000]` prints it for a run directory.
 *
 * @packageDocumentation
 */
import { mergeIntervals } from './mergeIntervals.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../stream/events.js';

/** Energies of one step range, each divided by Σ Δℓ². */
export interface BudgetRow {
  /** First step of the range (intervals starting at ≥ from and < to). */
  from: number;
  to: number;
  intervals: number;
  /** Most basis vectors in any interval of the range. */
  vectors: number;
  /** Σ (Σ_b POLCA)² — the recorded terms, with their curvature estimator. */
  recorded: number;
  recordedLeftover: number;
  /** The same for the first-order terms. */
  firstOrder: number;
  firstOrderLeftover: number;
  /** The same for the secant terms (NaN when no interval of the range has a successor). */
  secant: number;
  secantLeftover: number;
}

/**
 * The budget of `events`' POLCA intervals over the ranges between `edges`
 * (the last range is open-ended). The secant term of an interval needs the
 * next interval's derivatives, so the last interval counts for the recorded
 * and first-order rows only.
 *
 * @throws RangeError when `edges` is empty or not increasing.
 * @example
 * ```ts
 * const rows = lossBudget(events, [0, 1000]);
 * rows[1].recordedLeftover; // energy of Δℓ − Σ_b POLCA after step 1000, over that of Δℓ
 * ```
 */
export function lossBudget(events: readonly PolcaEvent[], edges: readonly number[]): BudgetRow[] {
  if (edges.length === 0 || edges.some((e, i) => !Number.isFinite(e) || (i > 0 && e <= edges[i - 1]))) {
    throw new RangeError(`lossBudget: edges must be increasing finite steps, got ${JSON.stringify(edges)}`);
  }
  // Filled-in terms of later vectors belong to their interval's budget.
  const polca = mergeIntervals(events);
  return edges.map((from, r) => {
    const to = r + 1 < edges.length ? edges[r + 1] : Infinity;
    const acc = { dd: 0, rec: 0, recL: 0, fo: 0, foL: 0, sec: 0, secL: 0, secDd: 0, n: 0, k: 0 };
    polca.forEach((p, k) => {
      if (p.fromStep < from || p.fromStep >= to) return;
      acc.n++;
      acc.k = Math.max(acc.k, p.basisIds.length);
      const next = polca[k + 1]?.fromStep === p.toStep ? polca[k + 1] : undefined;
      const nextIndex = next ? p.basisIds.map((id) => next.basisIds.indexOf(id)) : [];
      const hasSecant = next !== undefined && nextIndex.every((j) => j >= 0);
      for (let x = 0; x < p.lossAfter.length; x++) {
        const d = p.lossAfter[x] - p.lossBefore[x];
        if (!Number.isFinite(d)) continue;
        let rec = 0;
        let fo = 0;
        let sec = 0;
        for (let j = 0; j < p.basisIds.length; j++) {
          rec += p.values[j][x];
          fo += p.firstOrder[j][x];
          if (hasSecant) sec += 0.5 * p.projections[j] * (p.derivatives[j][x] + next!.derivatives[nextIndex[j]][x]);
        }
        acc.dd += d * d;
        acc.rec += rec * rec;
        acc.recL += (d - rec) ** 2;
        acc.fo += fo * fo;
        acc.foL += (d - fo) ** 2;
        if (hasSecant) {
          acc.secDd += d * d;
          acc.sec += sec * sec;
          acc.secL += (d - sec) ** 2;
        }
      }
    });
    // No loss change at all (an empty range, or a converged model's float32 losses): no ratio.
    const per = (v: number) => (acc.dd > 0 ? v / acc.dd : NaN);
    return {
      from, to, intervals: acc.n, vectors: acc.k,
      recorded: per(acc.rec), recordedLeftover: per(acc.recL),
      firstOrder: per(acc.fo), firstOrderLeftover: per(acc.foL),
      secant: acc.secDd > 0 ? acc.sec / acc.secDd : NaN, secantLeftover: acc.secDd > 0 ? acc.secL / acc.secDd : NaN,
    };
  });
}

/**
 * Markdown table of {@link lossBudget}'s rows.
 *
 * @param estimator - label of the recorded terms' column, e.g. `recorded (paper)`.
 */
export function formatBudget(rows: readonly BudgetRow[], estimator: string): string {
  const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
  return [
    `| steps | intervals | vectors ≤ | ${estimator}: sum / leftover | first order: sum / leftover | secant: sum / leftover |`,
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.from}–${Number.isFinite(r.to) ? r.to : 'end'} | ${r.intervals} | ${r.vectors} | ${f(r.recorded)} / ${f(r.recordedLeftover)} | ${f(r.firstOrder)} / ${f(r.firstOrderLeftover)} | ${f(r.secant)} / ${f(r.secantLeftover)} |`),
  ].join('\n');
}
