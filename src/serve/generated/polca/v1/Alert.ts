// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * An alert raised by a rule on the training signal.
 */
export interface Alert {
  'step'?: (number | string | Long);
  /**
   * "loss-spike", "loss-stalled" or "non-finite".
   */
  'rule'?: (string);
  'message'?: (string);
  'value'?: (number | string);
}

/**
 * An alert raised by a rule on the training signal.
 */
export interface Alert__Output {
  'step': (number);
  /**
   * "loss-spike", "loss-stalled" or "non-finite".
   */
  'rule': (string);
  'message': (string);
  'value': (number);
}
