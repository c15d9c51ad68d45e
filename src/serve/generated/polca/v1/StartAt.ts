// Original file: proto/polca/v1/polca.proto

/**
 * Where a subscription starts.
 */
export const StartAt = {
  /**
   * Same as START_AT_BEGINNING.
   */
  START_AT_UNSPECIFIED: 'START_AT_UNSPECIFIED',
  /**
   * Every event the server still holds, from the first.
   */
  START_AT_BEGINNING: 'START_AT_BEGINNING',
  /**
   * Events with a training step >= from_step (events without a step, such
   * as run-start, are included), then the live stream.
   */
  START_AT_STEP: 'START_AT_STEP',
  /**
   * Only events that arrive after the subscription.
   */
  START_AT_LIVE: 'START_AT_LIVE',
} as const;

/**
 * Where a subscription starts.
 */
export type StartAt =
  /**
   * Same as START_AT_BEGINNING.
   */
  | 'START_AT_UNSPECIFIED'
  | 0
  /**
   * Every event the server still holds, from the first.
   */
  | 'START_AT_BEGINNING'
  | 1
  /**
   * Events with a training step >= from_step (events without a step, such
   * as run-start, are included), then the live stream.
   */
  | 'START_AT_STEP'
  | 2
  /**
   * Only events that arrive after the subscription.
   */
  | 'START_AT_LIVE'
  | 3

/**
 * Where a subscription starts.
 */
export type StartAt__Output = typeof StartAt[keyof typeof StartAt]
