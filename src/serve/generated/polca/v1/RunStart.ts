// Original file: proto/polca/v1/polca.proto

import type { ParamShape as _polca_v1_ParamShape, ParamShape__Output as _polca_v1_ParamShape__Output } from '../../polca/v1/ParamShape.js';
import type { Long } from '@grpc/proto-loader';

/**
 * First event of every run.
 */
export interface RunStart {
  /**
   * The tracker options, JSON-encoded.
   */
  'configJson'?: (string);
  /**
   * Number of trainable parameters P.
   */
  'numParams'?: (number | string | Long);
  /**
   * Number of probe datapoints N.
   */
  'numProbe'?: (number | string | Long);
  /**
   * tfjs backend name (cpu, wasm, tensorflow, ...).
   */
  'backend'?: (string);
  /**
   * Hessian-vector product mode: "exact" or "finite-difference".
   */
  'hvpMode'?: (string);
  /**
   * Why that mode was chosen.
   */
  'hvpReason'?: (string);
  /**
   * Parameter tensors in the order of the flattened parameter vector.
   */
  'params'?: (_polca_v1_ParamShape)[];
  /**
   * Free-form model description; empty when absent.
   */
  'model'?: (string);
  'polcaVersion'?: (string);
  'tfjsVersion'?: (string);
}

/**
 * First event of every run.
 */
export interface RunStart__Output {
  /**
   * The tracker options, JSON-encoded.
   */
  'configJson': (string);
  /**
   * Number of trainable parameters P.
   */
  'numParams': (number);
  /**
   * Number of probe datapoints N.
   */
  'numProbe': (number);
  /**
   * tfjs backend name (cpu, wasm, tensorflow, ...).
   */
  'backend': (string);
  /**
   * Hessian-vector product mode: "exact" or "finite-difference".
   */
  'hvpMode': (string);
  /**
   * Why that mode was chosen.
   */
  'hvpReason': (string);
  /**
   * Parameter tensors in the order of the flattened parameter vector.
   */
  'params': (_polca_v1_ParamShape__Output)[];
  /**
   * Free-form model description; empty when absent.
   */
  'model': (string);
  'polcaVersion': (string);
  'tfjsVersion': (string);
}
