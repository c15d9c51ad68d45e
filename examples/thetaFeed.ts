/**
 * The training's θ, sent from the demo's main process to the process that
 * watches it along the compared bases.
 *
 * Trackers read θ only at their checkpoints, so a process that receives θ at
 * every checkpoint (and each step's loss) can run them without training a
 * second copy of the model. One frame per step, on a byte stream (the
 * child's stdin):
 *
 *   u32 step · f64 loss (NaN: none) · u32 count · count × f32 θ   (little-endian)
 *
 * with count = 0 between checkpoints.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs';
import { ParamSpace } from '../src/engine/index.js';

/** One training step as the feed carries it. */
export interface ThetaFrame {
  step: number;
  /** The step's training loss, when training reported one. */
  loss?: number;
  /** θ after the step, flattened in the order of the model's trainable weights; only at checkpoints. */
  theta?: Float32Array;
}

const HEADER = 16;

/** Encodes one frame. */
export function encodeFrame(frame: ThetaFrame): Buffer {
  const count = frame.theta?.length ?? 0;
  const out = Buffer.allocUnsafe(HEADER + 4 * count);
  out.writeUInt32LE(frame.step, 0);
  out.writeDoubleLE(frame.loss ?? Number.NaN, 4);
  out.writeUInt32LE(count, 12);
  if (frame.theta) Buffer.from(frame.theta.buffer, frame.theta.byteOffset, 4 * count).copy(out, HEADER);
  return out;
}

/**
 * Decodes frames from a byte stream, whatever its chunking. A stream that
 * ends inside a frame is an error; one that ends between frames just ends.
 */
export async function* readFrames(input: AsyncIterable<Uint8Array>): AsyncGenerator<ThetaFrame> {
  let buf = Buffer.alloc(0);
  for await (const chunk of input) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    while (buf.length >= HEADER) {
      const count = buf.readUInt32LE(12);
      const size = HEADER + 4 * count;
      if (buf.length < size) break;
      const loss = buf.readDoubleLE(4);
      // A copy: the chunk's offset need not be 4-byte aligned for a Float32Array view.
      const theta = count > 0 ? new Float32Array(new Uint8Array(buf.subarray(HEADER, size)).buffer) : undefined;
      yield { step: buf.readUInt32LE(0), loss: Number.isNaN(loss) ? undefined : loss, theta };
      buf = buf.subarray(size);
    }
  }
  if (buf.length > 0) throw new Error(`thetaFeed: the stream ended inside a frame (${buf.length} bytes of it arrived)`);
}

/** The parameter space of a layers model's trainable weights, in their order. */
function spaceOf(model: tf.LayersModel): ParamSpace {
  return new ParamSpace(model.trainableWeights.map((w) => w.read() as tf.Variable), 'thetaFeed');
}

/** θ of a layers model, flattened in the order of its trainable weights. */
export function readTheta(model: tf.LayersModel): Float32Array {
  return spaceOf(model).read();
}

/** Sets a layers model's trainable weights from a flattened θ, bit for bit. */
export function writeTheta(model: tf.LayersModel, theta: Float32Array): void {
  spaceOf(model).assignHost(theta);
}

/**
 * A `model.fit` callback that sends each step's frame to `write`: the loss,
 * and θ at step 0 and at every `every`-th step. It never waits on the
 * receiver, so a slow watcher cannot slow the training down; frames it has
 * not read yet wait in memory (a checkpoint's θ is 4·P bytes).
 */
export class ThetaFeedCallback extends tf.Callback {
  private step = 0;

  constructor(private readonly every: number, private readonly write: (frame: Buffer) => void) {
    super();
    if (!(Number.isInteger(every) && every >= 1)) throw new Error(`ThetaFeedCallback: option 'every' must be a positive integer, got ${String(every)}`);
  }

  override async onTrainBegin(): Promise<void> {
    this.write(encodeFrame({ step: 0, theta: readTheta(this.model as tf.LayersModel) }));
  }

  override async onBatchEnd(_batch: number, logs?: tf.Logs): Promise<void> {
    this.step++;
    const raw = logs?.loss as number | tf.Scalar | undefined;
    const loss = raw === undefined ? undefined : typeof raw === 'number' ? raw : (await raw.data())[0];
    const theta = this.step % this.every === 0 ? readTheta(this.model as tf.LayersModel) : undefined;
    this.write(encodeFrame({ step: this.step, loss, theta }));
  }
}

/**
 * Plays fed frames into `callbacks` as `model.fit` would call them, with the
 * model's θ set from each frame that has one: what the callbacks see is the
 * sending process's training. The first frame must be step 0 with θ, and
 * steps must follow one by one. Resolves with the last step played (short of
 * the training's end when the sender stopped early); the callbacks' training
 * ends either way.
 */
export async function playFrames(model: tf.LayersModel, callbacks: readonly tf.Callback[], frames: AsyncIterable<ThetaFrame>): Promise<number> {
  let last = -1;
  let begun = false;
  try {
    for await (const f of frames) {
      if (f.step !== last + 1) throw new Error(`thetaFeed: frame for step ${f.step} after step ${last}; steps must follow one by one from 0`);
      if (f.theta) writeTheta(model, f.theta);
      if (f.step === 0) {
        if (!f.theta) throw new Error('thetaFeed: the frame of step 0 carries no θ');
        for (const c of callbacks) c.setModel(model);
        begun = true;
        for (const c of callbacks) await c.onTrainBegin();
      } else {
        const logs: tf.Logs = f.loss === undefined ? {} : { loss: f.loss };
        for (const c of callbacks) await c.onBatchEnd(f.step - 1, logs);
      }
      last = f.step;
    }
  } finally {
    if (begun) for (const c of callbacks) await c.onTrainEnd();
  }
  return last;
}
