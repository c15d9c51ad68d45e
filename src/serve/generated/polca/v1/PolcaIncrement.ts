// Original file: proto/polca/v1/polca.proto

import type { BasisIncrement as _polca_v1_BasisIncrement, BasisIncrement__Output as _polca_v1_BasisIncrement__Output } from '../../polca/v1/BasisIncrement.js';
import type { DerivativeCheck as _polca_v1_DerivativeCheck, DerivativeCheck__Output as _polca_v1_DerivativeCheck__Output } from '../../polca/v1/DerivativeCheck.js';
import type { Long } from '@grpc/proto-loader';

/**
 * POLCA summary of one checkpoint interval, per basis vector and per cluster.
 */
export interface PolcaIncrement {
  'fromStep'?: (number | string | Long);
  'toStep'?: (number | string | Long);
  /**
   * Curvature estimator: "none", "paper", "secant" or "directional".
   */
  'secondOrder'?: (string);
  /**
   * Datapoints with a non-finite loss or derivative.
   */
  'nonFinite'?: (number);
  /**
   * Mean over finite datapoints of the loss change and of the residual r(x).
   */
  'meanLossChange'?: (number | string);
  'meanResidual'?: (number | string);
  /**
   * One entry per basis vector (after the subscriber's basis filter).
   */
  'bases'?: (_polca_v1_BasisIncrement)[];
  /**
   * Present when has_derivative_check.
   */
  'derivativeCheck'?: (_polca_v1_DerivativeCheck | null);
  'hasDerivativeCheck'?: (boolean);
  /**
   * Per-datapoint arrays (length N); only when the subscriber asked for datapoints.
   */
  'lossBefore'?: (number | string)[];
  'lossAfter'?: (number | string)[];
  'residual'?: (number | string)[];
  /**
   * True for the terms of vectors found after to_step, filled in from the θ
   * history (full-length trajectories); such an interval also has a live
   * event. residual is then the loss change minus these vectors' terms only.
   */
  'filled'?: (boolean);
}

/**
 * POLCA summary of one checkpoint interval, per basis vector and per cluster.
 */
export interface PolcaIncrement__Output {
  'fromStep': (number);
  'toStep': (number);
  /**
   * Curvature estimator: "none", "paper", "secant" or "directional".
   */
  'secondOrder': (string);
  /**
   * Datapoints with a non-finite loss or derivative.
   */
  'nonFinite': (number);
  /**
   * Mean over finite datapoints of the loss change and of the residual r(x).
   */
  'meanLossChange': (number);
  'meanResidual': (number);
  /**
   * One entry per basis vector (after the subscriber's basis filter).
   */
  'bases': (_polca_v1_BasisIncrement__Output)[];
  /**
   * Present when has_derivative_check.
   */
  'derivativeCheck': (_polca_v1_DerivativeCheck__Output | null);
  'hasDerivativeCheck': (boolean);
  /**
   * Per-datapoint arrays (length N); only when the subscriber asked for datapoints.
   */
  'lossBefore': (number)[];
  'lossAfter': (number)[];
  'residual': (number)[];
  /**
   * True for the terms of vectors found after to_step, filled in from the θ
   * history (full-length trajectories); such an interval also has a live
   * event. residual is then the loss change minus these vectors' terms only.
   */
  'filled': (boolean);
}
