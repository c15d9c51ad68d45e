// Original file: proto/polca/v1/polca.proto


export interface Trajectory {
  'datapoint'?: (number);
  /**
   * L_b(x, t) at each step of Trajectories.steps.
   */
  'values'?: (number | string)[];
}

export interface Trajectory__Output {
  'datapoint': (number);
  /**
   * L_b(x, t) at each step of Trajectories.steps.
   */
  'values': (number)[];
}
