// Original file: proto/polca/v1/polca.proto

import type { RunStart as _polca_v1_RunStart, RunStart__Output as _polca_v1_RunStart__Output } from '../../polca/v1/RunStart.js';
import type { Step as _polca_v1_Step, Step__Output as _polca_v1_Step__Output } from '../../polca/v1/Step.js';
import type { Checkpoint as _polca_v1_Checkpoint, Checkpoint__Output as _polca_v1_Checkpoint__Output } from '../../polca/v1/Checkpoint.js';
import type { Basis as _polca_v1_Basis, Basis__Output as _polca_v1_Basis__Output } from '../../polca/v1/Basis.js';
import type { PolcaIncrement as _polca_v1_PolcaIncrement, PolcaIncrement__Output as _polca_v1_PolcaIncrement__Output } from '../../polca/v1/PolcaIncrement.js';
import type { RunEnd as _polca_v1_RunEnd, RunEnd__Output as _polca_v1_RunEnd__Output } from '../../polca/v1/RunEnd.js';
import type { Clusters as _polca_v1_Clusters, Clusters__Output as _polca_v1_Clusters__Output } from '../../polca/v1/Clusters.js';
import type { Transition as _polca_v1_Transition, Transition__Output as _polca_v1_Transition__Output } from '../../polca/v1/Transition.js';
import type { Alert as _polca_v1_Alert, Alert__Output as _polca_v1_Alert__Output } from '../../polca/v1/Alert.js';
import type { Lost as _polca_v1_Lost, Lost__Output as _polca_v1_Lost__Output } from '../../polca/v1/Lost.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One message of a subscription: an event of the run, or a lost notice.
 */
export interface Event {
  /**
   * Position of the event in the run's stream, from 0, without gaps on the
   * server side (a subscriber sees gaps where filters or losses apply).
   * For a lost notice: the seq from which delivery resumes (the first seq
   * after the gap; filtered events may still be skipped).
   */
  'seq'?: (number | string | Long);
  /**
   * When the event was produced (ms since the Unix epoch).
   */
  'timeMs'?: (number | string);
  'runStart'?: (_polca_v1_RunStart | null);
  'step'?: (_polca_v1_Step | null);
  'checkpoint'?: (_polca_v1_Checkpoint | null);
  'basis'?: (_polca_v1_Basis | null);
  'polca'?: (_polca_v1_PolcaIncrement | null);
  'runEnd'?: (_polca_v1_RunEnd | null);
  'clusters'?: (_polca_v1_Clusters | null);
  'transition'?: (_polca_v1_Transition | null);
  'alert'?: (_polca_v1_Alert | null);
  'lost'?: (_polca_v1_Lost | null);
  'payload'?: "runStart"|"step"|"checkpoint"|"basis"|"polca"|"runEnd"|"clusters"|"transition"|"alert"|"lost";
}

/**
 * One message of a subscription: an event of the run, or a lost notice.
 */
export interface Event__Output {
  /**
   * Position of the event in the run's stream, from 0, without gaps on the
   * server side (a subscriber sees gaps where filters or losses apply).
   * For a lost notice: the seq from which delivery resumes (the first seq
   * after the gap; filtered events may still be skipped).
   */
  'seq': (number);
  /**
   * When the event was produced (ms since the Unix epoch).
   */
  'timeMs': (number);
  'runStart'?: (_polca_v1_RunStart__Output | null);
  'step'?: (_polca_v1_Step__Output | null);
  'checkpoint'?: (_polca_v1_Checkpoint__Output | null);
  'basis'?: (_polca_v1_Basis__Output | null);
  'polca'?: (_polca_v1_PolcaIncrement__Output | null);
  'runEnd'?: (_polca_v1_RunEnd__Output | null);
  'clusters'?: (_polca_v1_Clusters__Output | null);
  'transition'?: (_polca_v1_Transition__Output | null);
  'alert'?: (_polca_v1_Alert__Output | null);
  'lost'?: (_polca_v1_Lost__Output | null);
  'payload'?: "runStart"|"step"|"checkpoint"|"basis"|"polca"|"runEnd"|"clusters"|"transition"|"alert"|"lost";
}
