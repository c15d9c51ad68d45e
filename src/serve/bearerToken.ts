/**
 * Bearer-token check of gRPC call metadata.
 *
 * @packageDocumentation
 */
import { describe } from '../errors/describe.js';
import { timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

/**
 * Validates `token` (option `option` of `fn`: a non-empty string without whitespace, or undefined for
 * no check) and returns the check of a call's metadata: true when no token is
 * set or `authorization` is exactly `Bearer <token>`, compared in constant
 * time.
 *
 * @example
 * ```ts
 * const authorized = bearerCheck('addToServer', process.env.POLCA_TOKEN);
 * if (!authorized(call.metadata)) callback({ code: grpc.status.UNAUTHENTICATED });
 * ```
 */
export function bearerCheck(fn: string, token: string | undefined, option = 'token'): (metadata: Metadata) => boolean {
  if (token === undefined) return () => true;
  if (typeof token !== 'string' || token.length === 0 || /\s/.test(token)) {
    // A secret is not echoed into logs, even a malformed one.
    throw new TypeError(`${fn}: option '${option}' must be a non-empty string without spaces, got ${typeof token === 'string' ? `a string of ${token.length} characters (not shown)` : describe(token)}`);
  }
  const want = Buffer.from(`Bearer ${token}`);
  return (metadata) => {
    const value = metadata.get('authorization')[0];
    if (typeof value !== 'string') return false;
    const got = Buffer.from(value);
    return got.length === want.length && timingSafeEqual(got, want);
  };
}
