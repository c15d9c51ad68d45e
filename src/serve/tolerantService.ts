/**
 * A service definition whose request decoders never fail the call.
 *
 * @packageDocumentation
 */
import { status, type MethodDefinition, type ServiceDefinition } from '@grpc/grpc-js';

/**
 * Marks a request that was not decoded, so the handler can answer with
 * `code` (INVALID_ARGUMENT for bytes that do not decode, RESOURCE_EXHAUSTED
 * for requests larger than the method accepts) and the detail `malformed`.
 */
export interface Malformed {
  readonly malformed: string;
  readonly code: status;
}

/** True for the marker {@link tolerantService}'s decoders return for undecodable bytes. */
export function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && 'malformed' in value;
}

/**
 * The service definition with request decoders that report undecodable
 * bytes to the handler (INVALID_ARGUMENT) instead of failing the call with
 * INTERNAL, that refuse requests above `maxRequestBytes[method]` (keyed by
 * the method's name as in the definition) without decoding them, and response encoders that pass pre-encoded Buffers through (so
 * an event is encoded once, not once per subscriber).
 *
 * @example
 * ```ts
 * server.addService(tolerantService(proto.polca.v1.Polca.service), handlers);
 * ```
 */
export function tolerantService(def: ServiceDefinition, maxRequestBytes: Record<string, { bytes: number; why: string }> = {}): ServiceDefinition {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    const decode = method.requestDeserialize;
    const encode = method.responseSerialize;
    const cap = maxRequestBytes[name];
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        // Refused before decoding: decoding alone would cost memory and time in proportion.
        if (cap && bytes.length > cap.bytes) {
          return { malformed: `the request has ${bytes.length} bytes, more than ${cap.why}`, code: status.RESOURCE_EXHAUSTED } satisfies Malformed;
        }
        try {
          return decode(bytes);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          const detail = message.length > 200 ? `${message.slice(0, 200)}…` : message;
          return { malformed: `request does not decode: ${detail}`, code: status.INVALID_ARGUMENT } satisfies Malformed;
        }
      },
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)),
    };
  }
  return out;
}
