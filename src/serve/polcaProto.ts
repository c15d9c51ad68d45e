/**
 * Loads `proto/polca/v1/polca.proto` at run time with @grpc/proto-loader.
 *
 * The typed interfaces in `./generated/` come from the same file through
 * `npm run gen:proto` (proto-loader-gen-types). That generator was chosen
 * because it ships with @grpc/proto-loader, which the server already uses:
 * no protoc binary, no extra runtime, and the generated types describe
 * exactly the objects proto-loader produces with the options below (which
 * must stay in step with the flags of the `gen:proto` script).
 *
 * @packageDocumentation
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType } from './generated/polca.js';

/** proto-loader options matching the `gen:proto` flags (`--longs=Number --enums=String --defaults --oneofs`). */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * Absolute path of `polca.proto`, found by walking up from this module (it
 * sits at `<package>/proto/polca/v1/polca.proto` both in the source tree and
 * in the published package).
 *
 * @example
 * ```ts
 * const file = polcaProtoPath(); // …/proto/polca/v1/polca.proto
 * ```
 */
export function polcaProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'proto', 'polca', 'v1', 'polca.proto');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`polcaProtoPath: proto/polca/v1/polca.proto not found above ${fileURLToPath(import.meta.url)}`);
}

let cached: ProtoGrpcType | undefined;

/**
 * The `polca.v1` package as grpc-js service and message definitions.
 *
 * @example
 * ```ts
 * const { polca } = loadPolcaProto();
 * const client = new polca.v1.Polca('127.0.0.1:50051', grpc.credentials.createInsecure());
 * ```
 */
export function loadPolcaProto(): ProtoGrpcType {
  if (!cached) {
    const definition = protoLoader.loadSync(polcaProtoPath(), PROTO_LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}
