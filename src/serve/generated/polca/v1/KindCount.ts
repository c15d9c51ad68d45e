// Original file: proto/polca/v1/polca.proto

import type { EventKind as _polca_v1_EventKind, EventKind__Output as _polca_v1_EventKind__Output } from '../../polca/v1/EventKind.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Count of lost events of one kind.
 */
export interface KindCount {
  'kind'?: (_polca_v1_EventKind);
  'count'?: (number | string | Long);
}

/**
 * Count of lost events of one kind.
 */
export interface KindCount__Output {
  'kind': (_polca_v1_EventKind__Output);
  'count': (number);
}
