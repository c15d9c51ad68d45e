/**
 * A small real run directory for the report tests: polca's tracker watches a
 * tiny tanh MLP trained with Adam, and `writeRun` records the events with
 * arithmetic-style probe labels (place, carry) and a text column.
 */
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import { writeRun } from '../../src/sinks/arrow/RunWriter.js';
import { tinyMlp } from '../reference/tinyModels.js';

export const PLACE_NAMES = ['1s', '10s', '100s', '1000s'];

/** Options of {@link makeTrackerRun}. */
export interface TrackerRunOptions {
  numData?: number;
  steps?: number;
  every?: number;
  /** Basis rule. Default `hessian`. */
  basisKind?: 'hessian' | 'random';
}

/**
 * Trains for `steps` steps with a POLCA checkpoint every `every` steps and a
 * basis (Hessian by default) grown by 2 vectors every 10 steps (at most 4), writing the
 * run to `dir`. Labels: carry = the datapoint's class is 0; place = 10s/100s alternating
 * for carry datapoints, i mod 4 for the others.
 */
export async function makeTrackerRun(dir: string, options: TrackerRunOptions = {}): Promise<{ probeMeta: Record<string, unknown[]> }> {
  const { numData = 60, steps = 40, every = 2, basisKind = 'hessian' } = options;
  await tf.setBackend('cpu');
  const m = tinyMlp({ activation: 'tanh', head: 'softmaxLog', hidden: 8, numData, seed: 7 });
  const classes = Array.from(await (m.data.y as tf.Tensor2D).argMax(1).data());
  const probeMeta = {
    // As in the arithmetic task, carries land in the 10s and 100s places (so clusters can be eligible for the table).
    place: classes.map((c, i) => (c === 0 ? PLACE_NAMES[1 + (i % 2)] : PLACE_NAMES[i % 4])),
    carry: classes.map((c) => c === 0),
    text: Array.from({ length: numData }, (_, i) => `x${i} <class ${classes[i]}>`),
  };
  const tracker = createPolca({
    params: m.params,
    probe: () => m.perDatapointLossTf(),
    hessianLoss: () => m.lossTf(),
    every,
    basis: { kind: basisKind, every: 10, k: 2, maxVectors: 4 },
    secondOrder: 'paper',
    model: 'tiny tanh MLP, 3 → 8 → 3',
  });
  const writer = writeRun(tracker.events$, dir, { probeMeta });
  const opt = tf.train.adam(0.05);
  await tracker.step(0);
  for (let s = 1; s <= steps; s++) {
    const loss = opt.minimize(() => m.lossTf(), true, m.params)!;
    const value = (await loss.data())[0];
    loss.dispose();
    await tracker.step(s, { loss: value, lr: 0.05 });
  }
  await tracker.close();
  await writer.closed;
  opt.dispose();
  m.dispose();
  return { probeMeta };
}
