// Original file: proto/polca/v1/polca.proto


export interface GetRunRequest {
}

export interface GetRunRequest__Output {
}
