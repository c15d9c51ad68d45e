// Original file: proto/polca/v1/polca.proto

import type { DatapointList as _polca_v1_DatapointList, DatapointList__Output as _polca_v1_DatapointList__Output } from '../../polca/v1/DatapointList.js';

export interface GetTrajectoriesRequest {
  'basisId'?: (number);
  /**
   * Members of this cluster of the latest "polca" clustering along basis_id.
   */
  'clusterId'?: (number);
  /**
   * These datapoint indices.
   */
  'datapoints'?: (_polca_v1_DatapointList | null);
  'select'?: "clusterId"|"datapoints";
}

export interface GetTrajectoriesRequest__Output {
  'basisId': (number);
  /**
   * Members of this cluster of the latest "polca" clustering along basis_id.
   */
  'clusterId'?: (number);
  /**
   * These datapoint indices.
   */
  'datapoints'?: (_polca_v1_DatapointList__Output | null);
  'select'?: "clusterId"|"datapoints";
}
