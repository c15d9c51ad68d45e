// Original file: proto/polca/v1/polca.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Summary of the per-datapoint probe losses at a POLCA checkpoint.
 */
export interface Checkpoint {
  'step'?: (number | string | Long);
  /**
   * Number of probe datapoints N.
   */
  'numDatapoints'?: (number);
  /**
   * Mean of the finite losses.
   */
  'meanLoss'?: (number | string);
  /**
   * Number of non-finite losses.
   */
  'nonFinite'?: (number);
  /**
   * Seconds polca spent at this checkpoint.
   */
  'seconds'?: (number | string);
  /**
   * Minimum, median and maximum of the finite losses (NaN when none is finite).
   */
  'minLoss'?: (number | string);
  'medianLoss'?: (number | string);
  'maxLoss'?: (number | string);
  /**
   * Every datapoint's loss (length N); only when the subscriber asked for datapoints.
   */
  'losses'?: (number | string)[];
}

/**
 * Summary of the per-datapoint probe losses at a POLCA checkpoint.
 */
export interface Checkpoint__Output {
  'step': (number);
  /**
   * Number of probe datapoints N.
   */
  'numDatapoints': (number);
  /**
   * Mean of the finite losses.
   */
  'meanLoss': (number);
  /**
   * Number of non-finite losses.
   */
  'nonFinite': (number);
  /**
   * Seconds polca spent at this checkpoint.
   */
  'seconds': (number);
  /**
   * Minimum, median and maximum of the finite losses (NaN when none is finite).
   */
  'minLoss': (number);
  'medianLoss': (number);
  'maxLoss': (number);
  /**
   * Every datapoint's loss (length N); only when the subscriber asked for datapoints.
   */
  'losses': (number)[];
}
