// Original file: proto/polca/v1/polca.proto


export interface ListClustersRequest {
  /**
   * Only this basis vector when has_basis_id; all otherwise.
   */
  'basisId'?: (number);
  'hasBasisId'?: (boolean);
  /**
   * Trajectory kind; empty for "polca".
   */
  'kind'?: (string);
}

export interface ListClustersRequest__Output {
  /**
   * Only this basis vector when has_basis_id; all otherwise.
   */
  'basisId': (number);
  'hasBasisId': (boolean);
  /**
   * Trajectory kind; empty for "polca".
   */
  'kind': (string);
}
