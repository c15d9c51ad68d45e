// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One optimiser step.
 */
export interface Step {
  'step'?: (number | string | Long);
  /**
   * Training loss of the step; meaningful only when has_loss.
   */
  'loss'?: (number | string);
  'hasLoss'?: (boolean);
  /**
   * Learning rate; meaningful only when has_lr.
   */
  'lr'?: (number | string);
  'hasLr'?: (boolean);
}

/**
 * One optimiser step.
 */
export interface Step__Output {
  'step': (number);
  /**
   * Training loss of the step; meaningful only when has_loss.
   */
  'loss': (number);
  'hasLoss': (boolean);
  /**
   * Learning rate; meaningful only when has_lr.
   */
  'lr': (number);
  'hasLr': (boolean);
}
