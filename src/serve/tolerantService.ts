/**
 * A service definition whose request decoders never fail the call.
 *
 * @packageDocumentation
 */
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';

/** Marks a request whose bytes did not decode, so the handler can answer INVALID_ARGUMENT. */
export interface Malformed {
  readonly malformed: string;
}

/** True for the marker {@link tolerantService}'s decoders return for undecodable bytes. */
export function isMalformed(value: unknown): value is Malformed {
  return typeof value === 'object' && value !== null && 'malformed' in value;
}

/**
 * The service definition with request decoders that report undecodable
 * bytes to the handler (INVALID_ARGUMENT) instead of failing the call with
 * INTERNAL, and response encoders that pass pre-encoded Buffers through (so
 * an event is encoded once, not once per subscriber).
 *
 * @example
 * ```ts
 * server.addService(tolerantService(proto.polca.v1.Polca.service), handlers);
 * ```
 */
export function tolerantService(def: ServiceDefinition): ServiceDefinition {
  const out: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(def)) {
    const decode = method.requestDeserialize;
    const encode = method.responseSerialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          return { malformed: `request does not decode: ${message.length > 200 ? `${message.slice(0, 200)}…` : message}` } satisfies Malformed;
        }
      },
      responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)),
    };
  }
  return out;
}
