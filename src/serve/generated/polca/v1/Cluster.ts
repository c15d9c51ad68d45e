// Original file: proto/polca/v1/polca.proto


/**
 * One cluster of datapoints along one basis vector.
 */
export interface Cluster {
  'id'?: (number);
  /**
   * Datapoint indices of the members.
   */
  'members'?: (number)[];
  'medoid'?: (number);
  /**
   * Median, 25% and 75% quantile of the members' trajectories at each step.
   */
  'median'?: (number | string)[];
  'q25'?: (number | string)[];
  'q75'?: (number | string)[];
}

/**
 * One cluster of datapoints along one basis vector.
 */
export interface Cluster__Output {
  'id': (number);
  /**
   * Datapoint indices of the members.
   */
  'members': (number)[];
  'medoid': (number);
  /**
   * Median, 25% and 75% quantile of the members' trajectories at each step.
   */
  'median': (number)[];
  'q25': (number)[];
  'q75': (number)[];
}
