// Original file: proto/polca/v1/polca.proto

import type { StartAt as _polca_v1_StartAt, StartAt__Output as _polca_v1_StartAt__Output } from '../../polca/v1/StartAt.js';
import type { EventKind as _polca_v1_EventKind, EventKind__Output as _polca_v1_EventKind__Output } from '../../polca/v1/EventKind.js';
import type { Long } from '@grpc/proto-loader';

export interface SubscribeRequest {
  'start'?: (_polca_v1_StartAt);
  /**
   * First step, when start is START_AT_STEP; must be >= 0.
   */
  'fromStep'?: (number | string | Long);
  /**
   * Event kinds to receive; empty for all. Lost notices are always sent.
   */
  'kinds'?: (_polca_v1_EventKind)[];
  /**
   * Basis vectors to receive (basis, polca entries, clusters, cluster
   * transitions); empty for all. Ids must be >= 0.
   */
  'basisIds'?: (number)[];
  /**
   * Include per-datapoint arrays (checkpoint losses, POLCA values).
   */
  'datapoints'?: (boolean);
}

export interface SubscribeRequest__Output {
  'start': (_polca_v1_StartAt__Output);
  /**
   * First step, when start is START_AT_STEP; must be >= 0.
   */
  'fromStep': (number);
  /**
   * Event kinds to receive; empty for all. Lost notices are always sent.
   */
  'kinds': (_polca_v1_EventKind__Output)[];
  /**
   * Basis vectors to receive (basis, polca entries, clusters, cluster
   * transitions); empty for all. Ids must be >= 0.
   */
  'basisIds': (number)[];
  /**
   * Include per-datapoint arrays (checkpoint losses, POLCA values).
   */
  'datapoints': (boolean);
}
