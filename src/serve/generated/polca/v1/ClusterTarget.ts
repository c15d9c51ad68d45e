// Original file: proto/polca/v1/polca.proto


/**
 * A cluster along a basis vector.
 */
export interface ClusterTarget {
  'basisId'?: (number);
  'clusterId'?: (number);
}

/**
 * A cluster along a basis vector.
 */
export interface ClusterTarget__Output {
  'basisId': (number);
  'clusterId': (number);
}
