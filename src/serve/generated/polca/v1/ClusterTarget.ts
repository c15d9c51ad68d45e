// Original file: proto/polca/v1/polca.proto


/**
 * A cluster along a basis vector. Live clustering gives cluster ids unique
 * per basis vector across trajectory kinds (basis -1: the exact-loss kinds),
 * so the pair names one cluster; ListClusters by kind finds it.
 */
export interface ClusterTarget {
  'basisId'?: (number);
  'clusterId'?: (number);
}

/**
 * A cluster along a basis vector. Live clustering gives cluster ids unique
 * per basis vector across trajectory kinds (basis -1: the exact-loss kinds),
 * so the pair names one cluster; ListClusters by kind finds it.
 */
export interface ClusterTarget__Output {
  'basisId': (number);
  'clusterId': (number);
}
