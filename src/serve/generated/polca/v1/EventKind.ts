// Original file: proto/polca/v1/polca.proto

/**
 * The kinds of events of a run, used to filter a subscription and to count
 * lost events.
 */
export const EventKind = {
  EVENT_KIND_UNSPECIFIED: 'EVENT_KIND_UNSPECIFIED',
  EVENT_KIND_RUN_START: 'EVENT_KIND_RUN_START',
  EVENT_KIND_STEP: 'EVENT_KIND_STEP',
  EVENT_KIND_CHECKPOINT: 'EVENT_KIND_CHECKPOINT',
  EVENT_KIND_BASIS: 'EVENT_KIND_BASIS',
  EVENT_KIND_POLCA: 'EVENT_KIND_POLCA',
  EVENT_KIND_RUN_END: 'EVENT_KIND_RUN_END',
  EVENT_KIND_CLUSTERS: 'EVENT_KIND_CLUSTERS',
  EVENT_KIND_TRANSITION: 'EVENT_KIND_TRANSITION',
  EVENT_KIND_ALERT: 'EVENT_KIND_ALERT',
} as const;

/**
 * The kinds of events of a run, used to filter a subscription and to count
 * lost events.
 */
export type EventKind =
  | 'EVENT_KIND_UNSPECIFIED'
  | 0
  | 'EVENT_KIND_RUN_START'
  | 1
  | 'EVENT_KIND_STEP'
  | 2
  | 'EVENT_KIND_CHECKPOINT'
  | 3
  | 'EVENT_KIND_BASIS'
  | 4
  | 'EVENT_KIND_POLCA'
  | 5
  | 'EVENT_KIND_RUN_END'
  | 6
  | 'EVENT_KIND_CLUSTERS'
  | 7
  | 'EVENT_KIND_TRANSITION'
  | 8
  | 'EVENT_KIND_ALERT'
  | 9

/**
 * The kinds of events of a run, used to filter a subscription and to count
 * lost events.
 */
export type EventKind__Output = typeof EventKind[keyof typeof EventKind]
