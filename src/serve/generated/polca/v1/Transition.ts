// Original file: proto/polca/v1/polca.proto

import type { ClusterTarget as _polca_v1_ClusterTarget, ClusterTarget__Output as _polca_v1_ClusterTarget__Output } from '../../polca/v1/ClusterTarget.js';
import type { Long } from '@grpc/proto-loader';

/**
 * A breakthrough (point of largest acceleration).
 */
export interface Transition {
  'step'?: (number | string | Long);
  'detectedAt'?: (number | string | Long);
  'cluster'?: (_polca_v1_ClusterTarget | null);
  /**
   * Name of a datapoint set.
   */
  'datapoints'?: (string);
  'magnitude'?: (number | string);
  'confidence'?: (number | string);
  'target'?: "cluster"|"datapoints";
}

/**
 * A breakthrough (point of largest acceleration).
 */
export interface Transition__Output {
  'step': (number);
  'detectedAt': (number);
  'cluster'?: (_polca_v1_ClusterTarget__Output | null);
  /**
   * Name of a datapoint set.
   */
  'datapoints'?: (string);
  'magnitude': (number);
  'confidence': (number);
  'target'?: "cluster"|"datapoints";
}
