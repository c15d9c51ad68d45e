// Original file: proto/polca/v1/polca.proto

import type { Trajectory as _polca_v1_Trajectory, Trajectory__Output as _polca_v1_Trajectory__Output } from '../../polca/v1/Trajectory.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Projected-loss curves L_b(x, t) = sum of POLCA(x, b, i) over the intervals
 * i before t (METHOD.md eq. 5), kept by the server from the polca events.
 */
export interface Trajectories {
  'basisId'?: (number);
  /**
   * Steps of the curve points. The first is the start of the first interval
   * the server holds for this basis vector, where L_b counts from 0 when the
   * vector was found in that interval.
   */
  'steps'?: (number | string | Long)[];
  'trajectories'?: (_polca_v1_Trajectory)[];
  /**
   * True when early points were dropped to respect the memory bound; the
   * values stay cumulative from the vector's first interval.
   */
  'truncated'?: (boolean);
}

/**
 * Projected-loss curves L_b(x, t) = sum of POLCA(x, b, i) over the intervals
 * i before t (METHOD.md eq. 5), kept by the server from the polca events.
 */
export interface Trajectories__Output {
  'basisId': (number);
  /**
   * Steps of the curve points. The first is the start of the first interval
   * the server holds for this basis vector, where L_b counts from 0 when the
   * vector was found in that interval.
   */
  'steps': (number)[];
  'trajectories': (_polca_v1_Trajectory__Output)[];
  /**
   * True when early points were dropped to respect the memory bound; the
   * values stay cumulative from the vector's first interval.
   */
  'truncated': (boolean);
}
