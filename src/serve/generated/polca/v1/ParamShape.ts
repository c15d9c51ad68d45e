// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Shape and name of one trainable parameter tensor.
 */
export interface ParamShape {
  'name'?: (string);
  'shape'?: (number | string | Long)[];
}

/**
 * Shape and name of one trainable parameter tensor.
 */
export interface ParamShape__Output {
  'name': (string);
  'shape': (number)[];
}
