// Original file: proto/polca/v1/polca.proto


export interface DatapointList {
  'indices'?: (number)[];
}

export interface DatapointList__Output {
  'indices': (number)[];
}
