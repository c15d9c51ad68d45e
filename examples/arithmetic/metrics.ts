/**
 * Per-group loss and accuracy of the probe set: by place, and by place and
 * carry, so a run can show the carry tokens lagging behind.
 *
 * @packageDocumentation
 */
import { PLACE_NAMES, type ArithmeticBatch } from './data.js';

/** Loss and accuracy of one group of datapoints. */
export interface GroupStats {
  /** e.g. `10s`, `10s carry`, `10s no-carry`, `carry`, `all`. */
  name: string;
  count: number;
  meanLoss: number;
  accuracy: number;
}

/** The probe set's statistics at one step. */
export interface ProbeReport {
  all: GroupStats;
  /** Indexed by place name (`1000s`, `100s`, `10s`, `1s`). */
  byPlace: Record<string, GroupStats>;
  /** Keys like `10s carry` and `10s no-carry`; the 1s place has only `1s no-carry`. */
  byPlaceCarry: Record<string, GroupStats>;
  /** All datapoints with a carry coming in, and all without. */
  carry: GroupStats;
  noCarry: GroupStats;
  /** Fraction of problems with all four digits right. */
  exactMatch: number;
}

/**
 * Groups per-datapoint losses and predictions by place and carry.
 *
 * @param losses - per-datapoint losses, aligned with the batch's datapoints.
 * @param predicted - predicted digit per datapoint.
 * @example
 * ```ts
 * const report = summarizeProbe(probe, losses, predictDigits(model, probe));
 * report.byPlaceCarry['10s carry'].accuracy;
 * ```
 */
export function summarizeProbe(batch: ArithmeticBatch, losses: ArrayLike<number>, predicted: ArrayLike<number>): ProbeReport {
  const n = batch.targets.length;
  if (losses.length !== n || predicted.length !== n) {
    throw new Error(`summarizeProbe: losses (${losses.length}) and predicted (${predicted.length}) must have length ${n}`);
  }
  const acc = new Map<string, { count: number; loss: number; right: number }>();
  const add = (name: string, j: number): void => {
    const g = acc.get(name) ?? { count: 0, loss: 0, right: 0 };
    g.count++;
    g.loss += losses[j];
    if (predicted[j] === batch.targets[j]) g.right++;
    acc.set(name, g);
  };
  let problemsRight = 0;
  for (let i = 0; i < batch.size; i++) {
    let right = true;
    for (let k = 0; k < 4; k++) {
      const j = 4 * i + k;
      const place = PLACE_NAMES[batch.place[j]];
      const carry = batch.carry[j] === 1;
      add('all', j);
      add(place, j);
      add(`${place} ${carry ? 'carry' : 'no-carry'}`, j);
      add(carry ? 'carry' : 'no-carry', j);
      if (predicted[j] !== batch.targets[j]) right = false;
    }
    if (right) problemsRight++;
  }
  const stats = (name: string): GroupStats => {
    const g = acc.get(name) ?? { count: 0, loss: NaN, right: NaN };
    return { name, count: g.count, meanLoss: g.loss / g.count, accuracy: g.right / g.count };
  };
  const byPlace: Record<string, GroupStats> = {};
  const byPlaceCarry: Record<string, GroupStats> = {};
  for (const place of [...PLACE_NAMES].reverse()) {
    byPlace[place] = stats(place);
    for (const c of ['carry', 'no-carry']) {
      const name = `${place} ${c}`;
      if (acc.has(name)) byPlaceCarry[name] = stats(name);
    }
  }
  return {
    all: stats('all'), byPlace, byPlaceCarry, carry: stats('carry'), noCarry: stats('no-carry'),
    exactMatch: batch.size > 0 ? problemsRight / batch.size : NaN,
  };
}
