// Original file: proto/polca/v1/polca.proto


/**
 * POLCA of one checkpoint interval along one basis vector.
 */
export interface BasisIncrement {
  'basisId'?: (number);
  /**
   * <b, Δθ>.
   */
  'projection'?: (number | string);
  /**
   * Sum and mean over the finite datapoints of POLCA(x, b) (eq. 3).
   */
  'sum'?: (number | string);
  'mean'?: (number | string);
  /**
   * Mean over the finite datapoints of first-order POLCA (eq. 2).
   */
  'firstOrderMean'?: (number | string);
  /**
   * Clusters of the latest "polca" clustering along this vector when the
   * increment arrived, and the mean POLCA increment of each cluster's members
   * (same order). Empty before the first clustering.
   */
  'clusterIds'?: (number)[];
  'clusterMeans'?: (number | string)[];
  /**
   * Per-datapoint arrays (length N each); only when the subscriber asked for datapoints.
   */
  'values'?: (number | string)[];
  'firstOrder'?: (number | string)[];
  'derivatives'?: (number | string)[];
}

/**
 * POLCA of one checkpoint interval along one basis vector.
 */
export interface BasisIncrement__Output {
  'basisId': (number);
  /**
   * <b, Δθ>.
   */
  'projection': (number);
  /**
   * Sum and mean over the finite datapoints of POLCA(x, b) (eq. 3).
   */
  'sum': (number);
  'mean': (number);
  /**
   * Mean over the finite datapoints of first-order POLCA (eq. 2).
   */
  'firstOrderMean': (number);
  /**
   * Clusters of the latest "polca" clustering along this vector when the
   * increment arrived, and the mean POLCA increment of each cluster's members
   * (same order). Empty before the first clustering.
   */
  'clusterIds': (number)[];
  'clusterMeans': (number)[];
  /**
   * Per-datapoint arrays (length N each); only when the subscriber asked for datapoints.
   */
  'values': (number)[];
  'firstOrder': (number)[];
  'derivatives': (number)[];
}
