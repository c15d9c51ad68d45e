/**
 * `polca/serve`: serve a run live over gRPC and Prometheus.
 *
 * Two ways in:
 * - {@link startServer} does everything in one call: it follows the run's
 *   events, serves `polca.v1.Polca` and `grpc.health.v1.Health` on a gRPC
 *   server of its own and `/metrics` over HTTP, from a worker thread so that
 *   a busy training thread does not hold up clients (its failure is
 *   reported on `failed`, never thrown at training).
 * - The parts, to mount polca on servers you already run: a {@link RunView}
 *   follows the events; {@link addToServer} installs the polca service on
 *   your `grpc.Server`; a {@link MetricsSink} keeps the Prometheus metrics
 *   (register them in your registry or serve them with `listen`).
 *
 * @example
 * ```ts
 * import * as grpc from '@grpc/grpc-js';
 * import { RunView, addToServer, MetricsSink } from 'polca/serve';
 *
 * const view = new RunView({ run: 'mnist' });
 * const sink = new MetricsSink(view);
 * const polca = addToServer(myServer, view, { token: process.env.POLCA_TOKEN, metrics: sink.metrics.serve });
 * view.follow(tracker.events$);
 * ```
 *
 * @packageDocumentation
 */
export { startServer, type ServeOptions, type PolcaServer } from './startServer.js';
export { RunView, type RunViewOptions, type RunViewListener, type SourceEnd } from './runView.js';
export { addToServer, POLCA_SERVICE_NAME, type PolcaService, type PolcaServiceOptions } from './polcaService.js';
export type { RequestLimits } from './requestLimits.js';
export { MetricsSink, type MetricsSinkOptions } from './metricsSink.js';
export { serverCredentials, bindAddress, isLoopback, type ServeTlsOptions } from './serverCredentials.js';
export { createPolcaMetrics, type PolcaMetrics, type PolcaMetricsOptions, type ClusterMetric } from './polcaMetrics.js';
export { startMetricsServer, type MetricsServer } from './metricsServer.js';
export { loadPolcaProto, polcaProtoPath, PROTO_LOADER_OPTIONS } from './polcaProto.js';
export { TrajectoryStore, type TrajectorySelection } from './trajectoryStore.js';
export type { ProtoGrpcType } from './generated/polca.js';
