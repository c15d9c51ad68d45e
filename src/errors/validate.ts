import { describe } from './describe.js';

/**
 * Option checks in one message style: `fn: option 'name' must be <want>, got <value>`.
 * Every public function and constructor validates through these, so a user
 * reads the function, their option's name and the value they gave.
 */

/** An error about one option of one function, in the house message style. */
export class OptionError extends TypeError {
  constructor(
    readonly fn: string,
    readonly option: string,
    readonly want: string,
    readonly got: unknown,
  ) {
    super(`${fn}: option '${option}' must be ${want}, got ${describe(got)}`);
    this.name = 'OptionError';
  }
}

/** Throws an {@link OptionError}. */
export function fail(fn: string, option: string, want: string, got: unknown): never {
  throw new OptionError(fn, option, want, got);
}

/** An integer ≥ `min` (default 1). */
export function positiveInt(fn: string, option: string, value: unknown, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(fn, option, min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`, value);
  }
  return value;
}

/** A non-negative integer. */
export function nonNegativeInt(fn: string, option: string, value: unknown): number {
  return positiveInt(fn, option, value, 0);
}

/** Any integer. */
export function integer(fn: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(fn, option, 'an integer', value);
  return value;
}

/** A finite number > 0. */
export function positiveNumber(fn: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(fn, option, 'a positive number', value);
  return value;
}

/** A finite number ≥ 0. */
export function nonNegativeNumber(fn: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) fail(fn, option, 'a non-negative number', value);
  return value;
}

/** A finite number in [lo, hi]. */
export function numberIn(fn: string, option: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) fail(fn, option, `a number in [${lo}, ${hi}]`, value);
  return value;
}

/** A TCP port, 0 (any free port) to 65535. */
export function port(fn: string, option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) fail(fn, option, 'a port number from 0 to 65535', value);
  return value;
}

/** One of a fixed list of strings; the message lists them. */
export function oneOf<T extends string>(fn: string, option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(fn, option, listOf(allowed), value);
  return value as T;
}

/** A non-empty string. */
export function nonEmptyString(fn: string, option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) fail(fn, option, 'a non-empty string', value);
  return value;
}

/** `'a', 'b' or 'c'`. */
export function listOf(allowed: readonly string[]): string {
  const q = allowed.map((a) => `'${a}'`);
  return q.length <= 1 ? (q[0] ?? 'nothing') : `${q.slice(0, -1).join(', ')} or ${q.at(-1)}`;
}
