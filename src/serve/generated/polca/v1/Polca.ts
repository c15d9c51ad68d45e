// Original file: proto/polca/v1/polca.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { Event as _polca_v1_Event, Event__Output as _polca_v1_Event__Output } from '../../polca/v1/Event.js';
import type { GetRunRequest as _polca_v1_GetRunRequest, GetRunRequest__Output as _polca_v1_GetRunRequest__Output } from '../../polca/v1/GetRunRequest.js';
import type { GetTrajectoriesRequest as _polca_v1_GetTrajectoriesRequest, GetTrajectoriesRequest__Output as _polca_v1_GetTrajectoriesRequest__Output } from '../../polca/v1/GetTrajectoriesRequest.js';
import type { ListClustersRequest as _polca_v1_ListClustersRequest, ListClustersRequest__Output as _polca_v1_ListClustersRequest__Output } from '../../polca/v1/ListClustersRequest.js';
import type { ListClustersResponse as _polca_v1_ListClustersResponse, ListClustersResponse__Output as _polca_v1_ListClustersResponse__Output } from '../../polca/v1/ListClustersResponse.js';
import type { Run as _polca_v1_Run, Run__Output as _polca_v1_Run__Output } from '../../polca/v1/Run.js';
import type { SubscribeRequest as _polca_v1_SubscribeRequest, SubscribeRequest__Output as _polca_v1_SubscribeRequest__Output } from '../../polca/v1/SubscribeRequest.js';
import type { Trajectories as _polca_v1_Trajectories, Trajectories__Output as _polca_v1_Trajectories__Output } from '../../polca/v1/Trajectories.js';

/**
 * Live view of a polca training run.
 */
export interface PolcaClient extends grpc.Client {
  /**
   * Summary of the run so far.
   */
  GetRun(argument: _polca_v1_GetRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _polca_v1_GetRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _polca_v1_GetRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  GetRun(argument: _polca_v1_GetRunRequest, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  /**
   * Summary of the run so far.
   */
  getRun(argument: _polca_v1_GetRunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  getRun(argument: _polca_v1_GetRunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  getRun(argument: _polca_v1_GetRunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  getRun(argument: _polca_v1_GetRunRequest, callback: grpc.requestCallback<_polca_v1_Run__Output>): grpc.ClientUnaryCall;
  
  /**
   * Projected-loss curves of a cluster's members or of chosen datapoints.
   * 
   * Limits (see addToServer's `limits` option): a request may name at most
   * `maxIndices` datapoints (RESOURCE_EXHAUSTED beyond); repeated indices
   * are answered once, in the order they first appear; the response may
   * hold at most `maxResponseBytes` (RESOURCE_EXHAUSTED beyond, naming the
   * limit): read larger selections with StreamTrajectories.
   */
  GetTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  GetTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  GetTrajectories(argument: _polca_v1_GetTrajectoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  GetTrajectories(argument: _polca_v1_GetTrajectoriesRequest, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  /**
   * Projected-loss curves of a cluster's members or of chosen datapoints.
   * 
   * Limits (see addToServer's `limits` option): a request may name at most
   * `maxIndices` datapoints (RESOURCE_EXHAUSTED beyond); repeated indices
   * are answered once, in the order they first appear; the response may
   * hold at most `maxResponseBytes` (RESOURCE_EXHAUSTED beyond, naming the
   * limit): read larger selections with StreamTrajectories.
   */
  getTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  getTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  getTrajectories(argument: _polca_v1_GetTrajectoriesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  getTrajectories(argument: _polca_v1_GetTrajectoriesRequest, callback: grpc.requestCallback<_polca_v1_Trajectories__Output>): grpc.ClientUnaryCall;
  
  /**
   * The latest clusterings.
   */
  ListClusters(argument: _polca_v1_ListClustersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _polca_v1_ListClustersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _polca_v1_ListClustersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  ListClusters(argument: _polca_v1_ListClustersRequest, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The latest clusterings.
   */
  listClusters(argument: _polca_v1_ListClustersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _polca_v1_ListClustersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _polca_v1_ListClustersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  listClusters(argument: _polca_v1_ListClustersRequest, callback: grpc.requestCallback<_polca_v1_ListClustersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The same curves in pages: each message holds the steps and the curves
   * of consecutive datapoints of the selection, within `maxResponseBytes`;
   * the pages together hold every selected datapoint once, in order. The
   * server writes a page when the client has read the previous one, so a
   * large read neither buffers in the server nor holds up other calls.
   */
  StreamTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Trajectories__Output>;
  StreamTrajectories(argument: _polca_v1_GetTrajectoriesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Trajectories__Output>;
  /**
   * The same curves in pages: each message holds the steps and the curves
   * of consecutive datapoints of the selection, within `maxResponseBytes`;
   * the pages together hold every selected datapoint once, in order. The
   * server writes a page when the client has read the previous one, so a
   * large read neither buffers in the server nor holds up other calls.
   */
  streamTrajectories(argument: _polca_v1_GetTrajectoriesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Trajectories__Output>;
  streamTrajectories(argument: _polca_v1_GetTrajectoriesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Trajectories__Output>;
  
  /**
   * The run's events, from the start, from a step, or live only.
   * 
   * History: the server keeps the most recent events of the run (bounded in
   * count and bytes, see startServer's `history` option); events that left it
   * are reported by a Lost notice (reason "history-evicted").
   * Slow clients: a subscriber may fall at most `subscriberMaxLag` events
   * behind the live head (history it asked to replay not counted); beyond
   * that the oldest pending events are dropped and a Lost notice (reason
   * "slow-client") precedes the next event delivered. Other subscribers are
   * never held back. The stream ends with OK after the run-end event.
   * Errors: UNAUTHENTICATED without the bearer token when one is set,
   * INVALID_ARGUMENT for undecodable or inconsistent requests (the detail
   * quotes at most the first 64 characters of a bad value),
   * RESOURCE_EXHAUSTED for more kinds or basis ids than the server's limits.
   */
  Subscribe(argument: _polca_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Event__Output>;
  Subscribe(argument: _polca_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Event__Output>;
  /**
   * The run's events, from the start, from a step, or live only.
   * 
   * History: the server keeps the most recent events of the run (bounded in
   * count and bytes, see startServer's `history` option); events that left it
   * are reported by a Lost notice (reason "history-evicted").
   * Slow clients: a subscriber may fall at most `subscriberMaxLag` events
   * behind the live head (history it asked to replay not counted); beyond
   * that the oldest pending events are dropped and a Lost notice (reason
   * "slow-client") precedes the next event delivered. Other subscribers are
   * never held back. The stream ends with OK after the run-end event.
   * Errors: UNAUTHENTICATED without the bearer token when one is set,
   * INVALID_ARGUMENT for undecodable or inconsistent requests (the detail
   * quotes at most the first 64 characters of a bad value),
   * RESOURCE_EXHAUSTED for more kinds or basis ids than the server's limits.
   */
  subscribe(argument: _polca_v1_SubscribeRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Event__Output>;
  subscribe(argument: _polca_v1_SubscribeRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_polca_v1_Event__Output>;
  
}

/**
 * Live view of a polca training run.
 */
export interface PolcaHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Summary of the run so far.
   */
  GetRun: grpc.handleUnaryCall<_polca_v1_GetRunRequest__Output, _polca_v1_Run>;
  
  /**
   * Projected-loss curves of a cluster's members or of chosen datapoints.
   * 
   * Limits (see addToServer's `limits` option): a request may name at most
   * `maxIndices` datapoints (RESOURCE_EXHAUSTED beyond); repeated indices
   * are answered once, in the order they first appear; the response may
   * hold at most `maxResponseBytes` (RESOURCE_EXHAUSTED beyond, naming the
   * limit): read larger selections with StreamTrajectories.
   */
  GetTrajectories: grpc.handleUnaryCall<_polca_v1_GetTrajectoriesRequest__Output, _polca_v1_Trajectories>;
  
  /**
   * The latest clusterings.
   */
  ListClusters: grpc.handleUnaryCall<_polca_v1_ListClustersRequest__Output, _polca_v1_ListClustersResponse>;
  
  /**
   * The same curves in pages: each message holds the steps and the curves
   * of consecutive datapoints of the selection, within `maxResponseBytes`;
   * the pages together hold every selected datapoint once, in order. The
   * server writes a page when the client has read the previous one, so a
   * large read neither buffers in the server nor holds up other calls.
   */
  StreamTrajectories: grpc.handleServerStreamingCall<_polca_v1_GetTrajectoriesRequest__Output, _polca_v1_Trajectories>;
  
  /**
   * The run's events, from the start, from a step, or live only.
   * 
   * History: the server keeps the most recent events of the run (bounded in
   * count and bytes, see startServer's `history` option); events that left it
   * are reported by a Lost notice (reason "history-evicted").
   * Slow clients: a subscriber may fall at most `subscriberMaxLag` events
   * behind the live head (history it asked to replay not counted); beyond
   * that the oldest pending events are dropped and a Lost notice (reason
   * "slow-client") precedes the next event delivered. Other subscribers are
   * never held back. The stream ends with OK after the run-end event.
   * Errors: UNAUTHENTICATED without the bearer token when one is set,
   * INVALID_ARGUMENT for undecodable or inconsistent requests (the detail
   * quotes at most the first 64 characters of a bad value),
   * RESOURCE_EXHAUSTED for more kinds or basis ids than the server's limits.
   */
  Subscribe: grpc.handleServerStreamingCall<_polca_v1_SubscribeRequest__Output, _polca_v1_Event>;
  
}

export interface PolcaDefinition extends grpc.ServiceDefinition {
  GetRun: MethodDefinition<_polca_v1_GetRunRequest, _polca_v1_Run, _polca_v1_GetRunRequest__Output, _polca_v1_Run__Output>
  GetTrajectories: MethodDefinition<_polca_v1_GetTrajectoriesRequest, _polca_v1_Trajectories, _polca_v1_GetTrajectoriesRequest__Output, _polca_v1_Trajectories__Output>
  ListClusters: MethodDefinition<_polca_v1_ListClustersRequest, _polca_v1_ListClustersResponse, _polca_v1_ListClustersRequest__Output, _polca_v1_ListClustersResponse__Output>
  StreamTrajectories: MethodDefinition<_polca_v1_GetTrajectoriesRequest, _polca_v1_Trajectories, _polca_v1_GetTrajectoriesRequest__Output, _polca_v1_Trajectories__Output>
  Subscribe: MethodDefinition<_polca_v1_SubscribeRequest, _polca_v1_Event, _polca_v1_SubscribeRequest__Output, _polca_v1_Event__Output>
}
