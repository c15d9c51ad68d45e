// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Accuracy check of the fast directional-derivative path.
 */
export interface DerivativeCheck {
  'basisId'?: (number);
  'relativeError'?: (number | string);
  'step'?: (number | string | Long);
}

/**
 * Accuracy check of the fast directional-derivative path.
 */
export interface DerivativeCheck__Output {
  'basisId': (number);
  'relativeError': (number);
  'step': (number);
}
