/**
 * Bounds on the work one gRPC request may ask of the server.
 *
 * @packageDocumentation
 */
import { positiveInt } from '../errors/validate.js';

/** Limits of one request; see {@link addToServer}. */
export interface RequestLimits {
  /**
   * Most datapoint indices a `GetTrajectories` / `StreamTrajectories`
   * request may name, repeated ones included (RESOURCE_EXHAUSTED beyond).
   * Requests whose bytes could only hold more are refused before they are
   * decoded. Default 65 536.
   */
  maxIndices?: number;
  /** Most entries of a `Subscribe` kinds filter (RESOURCE_EXHAUSTED beyond). Default 64. */
  maxKinds?: number;
  /** Most entries of a `Subscribe` basis-id filter (RESOURCE_EXHAUSTED beyond). Default 4096. */
  maxBasisIds?: number;
  /**
   * Most bytes of a `GetTrajectories` answer (RESOURCE_EXHAUSTED beyond,
   * pointing at `StreamTrajectories`) and of one `StreamTrajectories` page.
   * Default 4 MiB − 64 KiB, under grpc's default receive limit of 4 MiB.
   */
  maxResponseBytes?: number;
}

/** {@link RequestLimits} with every default filled in. */
export type ResolvedLimits = Required<RequestLimits>;

/**
 * Validates `limits` and fills in the defaults.
 *
 * @example
 * ```ts
 * resolveLimits('addToServer', { maxIndices: 1000 }).maxResponseBytes; // 4128768
 * ```
 */
export function resolveLimits(fn: string, limits: RequestLimits = {}): ResolvedLimits {
  return {
    maxIndices: positiveInt(fn, 'limits.maxIndices', limits.maxIndices ?? 65_536),
    maxKinds: positiveInt(fn, 'limits.maxKinds', limits.maxKinds ?? 64),
    maxBasisIds: positiveInt(fn, 'limits.maxBasisIds', limits.maxBasisIds ?? 4096),
    maxResponseBytes: positiveInt(fn, 'limits.maxResponseBytes', limits.maxResponseBytes ?? 4 * 2 ** 20 - 64 * 2 ** 10, 1024),
  };
}

/** Characters of a client's value an error detail quotes. */
export const DETAIL_QUOTE_CHARS = 64;

/**
 * A client's value for an error detail: JSON-quoted, cut to
 * {@link DETAIL_QUOTE_CHARS} characters with the full length said, so that a
 * huge field never comes back in the status (whose metadata a client would
 * refuse as too large).
 *
 * @example
 * ```ts
 * quote('x'.repeat(1e6)); // '"xxxx…" (1000000 characters)'
 * ```
 */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= DETAIL_QUOTE_CHARS) return JSON.stringify(text);
  return `${JSON.stringify(text.slice(0, DETAIL_QUOTE_CHARS))}… (${text.length} characters)`;
}

/**
 * The distinct values of `values` in the order they first appear.
 *
 * @example
 * ```ts
 * unique([7, 7, 3, 7]); // [7, 3]
 * ```
 */
export function unique(values: readonly number[]): number[] {
  return [...new Set(values)];
}
