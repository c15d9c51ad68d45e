// Original file: proto/polca/v1/polca.proto

import type { Cluster as _polca_v1_Cluster, Cluster__Output as _polca_v1_Cluster__Output } from '../../polca/v1/Cluster.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Result of (re-)clustering the trajectories along one basis vector.
 */
export interface Clusters {
  /**
   * Step of the last checkpoint included.
   */
  'step'?: (number | string | Long);
  /**
   * Trajectory kind: "loss", "loss-change", "fisher", "lca", "polca-first" or "polca".
   */
  'kind'?: (string);
  /**
   * Basis vector id, -1 for kinds that do not depend on one.
   */
  'basisId'?: (number);
  /**
   * Checkpoint steps of the trajectories.
   */
  'steps'?: (number | string | Long)[];
  'clusters'?: (_polca_v1_Cluster)[];
  'dropped'?: (number);
  'outliers'?: (number);
}

/**
 * Result of (re-)clustering the trajectories along one basis vector.
 */
export interface Clusters__Output {
  /**
   * Step of the last checkpoint included.
   */
  'step': (number);
  /**
   * Trajectory kind: "loss", "loss-change", "fisher", "lca", "polca-first" or "polca".
   */
  'kind': (string);
  /**
   * Basis vector id, -1 for kinds that do not depend on one.
   */
  'basisId': (number);
  /**
   * Checkpoint steps of the trajectories.
   */
  'steps': (number)[];
  'clusters': (_polca_v1_Cluster__Output)[];
  'dropped': (number);
  'outliers': (number);
}
