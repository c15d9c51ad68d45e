/**
 * The live-serving layer: gRPC stream and queries, Prometheus metrics.
 *
 * @example
 * ```ts
 * import { startServer } from './serve/index.js';
 * const server = await startServer({ events$, grpc: { port: 50051 }, metrics: { port: 9464 } });
 * ```
 *
 * @packageDocumentation
 */
export { startServer, type ServeOptions, type ServeTlsOptions, type PolcaServer } from './startServer.js';
export { createPolcaMetrics, type PolcaMetrics, type PolcaMetricsOptions } from './polcaMetrics.js';
export { startMetricsServer, type MetricsServer } from './metricsServer.js';
export { loadPolcaProto, polcaProtoPath, PROTO_LOADER_OPTIONS } from './polcaProto.js';
export { TrajectoryStore, type TrajectorySelection } from './trajectoryStore.js';
export type { ProtoGrpcType } from './generated/polca.js';
