// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A basis vector was added.
 */
export interface Basis {
  /**
   * Index of the vector in the basis, 0 for the first one found.
   */
  'id'?: (number);
  /**
   * Training step at which it was found.
   */
  'step'?: (number | string | Long);
  /**
   * "hessian", "random", "shuffled", "axis" or "fixed".
   */
  'kind'?: (string);
  /**
   * Ritz value for Hessian bases, NaN otherwise.
   */
  'eigenvalue'?: (number | string);
  /**
   * Ritz residual for Hessian bases, NaN otherwise.
   */
  'residual'?: (number | string);
  /**
   * Hessian-vector products spent to find it.
   */
  'hvps'?: (number | string | Long);
  /**
   * Length P of the vector (the vector itself is never streamed).
   */
  'vectorLength'?: (number | string | Long);
}

/**
 * A basis vector was added.
 */
export interface Basis__Output {
  /**
   * Index of the vector in the basis, 0 for the first one found.
   */
  'id': (number);
  /**
   * Training step at which it was found.
   */
  'step': (number);
  /**
   * "hessian", "random", "shuffled", "axis" or "fixed".
   */
  'kind': (string);
  /**
   * Ritz value for Hessian bases, NaN otherwise.
   */
  'eigenvalue': (number);
  /**
   * Ritz residual for Hessian bases, NaN otherwise.
   */
  'residual': (number);
  /**
   * Hessian-vector products spent to find it.
   */
  'hvps': (number);
  /**
   * Length P of the vector (the vector itself is never streamed).
   */
  'vectorLength': (number);
}
