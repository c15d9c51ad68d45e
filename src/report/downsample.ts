/**
 * Evenly spaced sample indices, so that long curves stay small in the report.
 *
 * @packageDocumentation
 */
import { nonNegativeInt, positiveInt } from '../errors/validate.js';

/**
 * At most `max` indices into an array of `length` items, evenly spaced,
 * always including the first and the last (all indices when `length ≤ max`).
 *
 * @throws OptionError when `length` is negative or `max` is below 2.
 * @example
 * ```ts
 * evenIndices(5, 300);  // [0, 1, 2, 3, 4]
 * evenIndices(10, 4);   // [0, 3, 6, 9]
 * ```
 */
export function evenIndices(length: number, max: number): number[] {
  nonNegativeInt('evenIndices', 'length', length);
  positiveInt('evenIndices', 'max', max, 2);
  if (length <= max) return Array.from({ length }, (_, i) => i);
  const out: number[] = [];
  for (let k = 0; k < max; k++) {
    const i = Math.round((k * (length - 1)) / (max - 1));
    // Rounding can repeat an index only when length is close to max; keep each once.
    if (out.length === 0 || out[out.length - 1] !== i) out.push(i);
  }
  return out;
}
