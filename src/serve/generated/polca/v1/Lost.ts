// Original file: proto/polca/v1/polca.proto

import type { KindCount as _polca_v1_KindCount, KindCount__Output as _polca_v1_KindCount__Output } from '../../polca/v1/KindCount.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Events of the subscription were skipped. Sent just before the next event
 * delivered after the gap.
 */
export interface Lost {
  /**
   * Why: "slow-client" (the subscriber fell more than the server's lag bound
   * behind the live head; the oldest pending events were dropped),
   * "history-evicted" (the events left the server's bounded history before
   * they could be sent) or "server-behind" (the server's thread fell behind
   * the training thread, which dropped the events before the server received
   * them; such a gap holds one seq, first_seq = last_seq, whatever its count).
   */
  'reason'?: (string);
  /**
   * Number of lost events matching the subscription's kind filter.
   */
  'events'?: (number | string | Long);
  /**
   * Sequence numbers of the first and last event skipped (inclusive).
   */
  'firstSeq'?: (number | string | Long);
  'lastSeq'?: (number | string | Long);
  /**
   * Lost events per kind (kinds with a zero count are left out).
   */
  'byKind'?: (_polca_v1_KindCount)[];
}

/**
 * Events of the subscription were skipped. Sent just before the next event
 * delivered after the gap.
 */
export interface Lost__Output {
  /**
   * Why: "slow-client" (the subscriber fell more than the server's lag bound
   * behind the live head; the oldest pending events were dropped),
   * "history-evicted" (the events left the server's bounded history before
   * they could be sent) or "server-behind" (the server's thread fell behind
   * the training thread, which dropped the events before the server received
   * them; such a gap holds one seq, first_seq = last_seq, whatever its count).
   */
  'reason': (string);
  /**
   * Number of lost events matching the subscription's kind filter.
   */
  'events': (number);
  /**
   * Sequence numbers of the first and last event skipped (inclusive).
   */
  'firstSeq': (number);
  'lastSeq': (number);
  /**
   * Lost events per kind (kinds with a zero count are left out).
   */
  'byKind': (_polca_v1_KindCount__Output)[];
}
