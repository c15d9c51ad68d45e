// Original file: proto/polca/v1/polca.proto

import type { Clusters as _polca_v1_Clusters, Clusters__Output as _polca_v1_Clusters__Output } from '../../polca/v1/Clusters.js';

export interface ListClustersResponse {
  /**
   * The latest clustering per basis vector, ascending basis id.
   */
  'clusterings'?: (_polca_v1_Clusters)[];
}

export interface ListClustersResponse__Output {
  /**
   * The latest clustering per basis vector, ascending basis id.
   */
  'clusterings': (_polca_v1_Clusters__Output)[];
}
