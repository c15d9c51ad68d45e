// Original file: proto/polca/v1/polca.proto

import type { RunStart as _polca_v1_RunStart, RunStart__Output as _polca_v1_RunStart__Output } from '../../polca/v1/RunStart.js';
import type { RunEnd as _polca_v1_RunEnd, RunEnd__Output as _polca_v1_RunEnd__Output } from '../../polca/v1/RunEnd.js';
import type { Basis as _polca_v1_Basis, Basis__Output as _polca_v1_Basis__Output } from '../../polca/v1/Basis.js';
import type { Long } from '@grpc/proto-loader';

/**
 * What the server knows about the run so far.
 */
export interface Run {
  /**
   * Present once the run-start event arrived.
   */
  'start'?: (_polca_v1_RunStart | null);
  'started'?: (boolean);
  'ended'?: (boolean);
  'end'?: (_polca_v1_RunEnd | null);
  /**
   * Last training step seen, -1 when none.
   */
  'lastStep'?: (number | string | Long);
  /**
   * Last training loss reported, NaN when none.
   */
  'lastLoss'?: (number | string);
  'checkpoints'?: (number | string | Long);
  'basis'?: (_polca_v1_Basis)[];
  /**
   * Events received so far, and the seq range still held in history.
   */
  'events'?: (number | string | Long);
  'historyFirstSeq'?: (number | string | Long);
  'historyEndSeq'?: (number | string | Long);
  'transitions'?: (number | string | Long);
  'alerts'?: (number | string | Long);
  /**
   * The run's name (the `run` label of its Prometheus series).
   */
  'name'?: (string);
}

/**
 * What the server knows about the run so far.
 */
export interface Run__Output {
  /**
   * Present once the run-start event arrived.
   */
  'start': (_polca_v1_RunStart__Output | null);
  'started': (boolean);
  'ended': (boolean);
  'end': (_polca_v1_RunEnd__Output | null);
  /**
   * Last training step seen, -1 when none.
   */
  'lastStep': (number);
  /**
   * Last training loss reported, NaN when none.
   */
  'lastLoss': (number);
  'checkpoints': (number);
  'basis': (_polca_v1_Basis__Output)[];
  /**
   * Events received so far, and the seq range still held in history.
   */
  'events': (number);
  'historyFirstSeq': (number);
  'historyEndSeq': (number);
  'transitions': (number);
  'alerts': (number);
  /**
   * The run's name (the `run` label of its Prometheus series).
   */
  'name': (string);
}
