// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Last event of every run.
 */
export interface RunEnd {
  'step'?: (number | string | Long);
  /**
   * "closed" or "error".
   */
  'reason'?: (string);
  'error'?: (string);
}

/**
 * Last event of every run.
 */
export interface RunEnd__Output {
  'step': (number);
  /**
   * "closed" or "error".
   */
  'reason': (string);
  'error': (string);
}
