import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { encodeFrame, playFrames, readFrames, readTheta, writeTheta, type ThetaFrame } from '../../examples/thetaFeed.js';

async function* chunks(bytes: Buffer, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function collect(it: AsyncIterable<ThetaFrame>): Promise<ThetaFrame[]> {
  const out: ThetaFrame[] = [];
  for await (const f of it) out.push(f);
  return out;
}

describe('the θ feed', () => {
  const frames: ThetaFrame[] = [
    { step: 0, theta: Float32Array.from([1.5, -2, Math.PI, 1e-30]) },
    { step: 1, loss: 0.25 },
    { step: 2, loss: 0.125, theta: Float32Array.from([0, -0, 3e38, -7]) },
    { step: 3 },
  ];
  const bytes = Buffer.concat(frames.map(encodeFrame));

  it('decodes what it encodes, bit for bit, however the stream is cut', async () => {
    expect(bytes.length).toBe(4 * 16 + 2 * 16);
    for (const sizes of [[bytes.length], [1], [3, 7, 5], [17, 2]]) {
      const got = await collect(readFrames(chunks(bytes, sizes)));
      expect(got.map((f) => f.step)).toEqual([0, 1, 2, 3]);
      expect(got.map((f) => f.loss)).toEqual([undefined, 0.25, 0.125, undefined]);
      expect(Array.from(got[0].theta!)).toEqual(Array.from(frames[0].theta!));
      expect(Object.is(got[2].theta![1], -0)).toBe(true);
      expect(Array.from(got[2].theta!)).toEqual(Array.from(frames[2].theta!));
      expect(got[1].theta).toBeUndefined();
    }
  });

  it('says when the stream ends inside a frame', async () => {
    await expect(collect(readFrames(chunks(bytes.subarray(0, 40), [9])))).rejects.toThrow(/ended inside a frame \(8 bytes/);
  });

  it('plays frames into callbacks as fit would, with θ set at the checkpoints, and refuses a gap', async () => {
    await tf.setBackend('cpu');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [3] })] });
    const theta0 = readTheta(model);
    expect(theta0).toHaveLength(4);
    const seen: { at: string; theta: number[]; loss?: number }[] = [];
    const probe = new (class extends tf.Callback {
      override async onTrainBegin() {
        seen.push({ at: 'begin', theta: Array.from(readTheta(this.model as tf.LayersModel)) });
      }
      override async onBatchEnd(batch: number, logs?: tf.Logs) {
        seen.push({ at: `batch ${batch}`, theta: Array.from(readTheta(this.model as tf.LayersModel)), loss: logs?.loss as number | undefined });
      }
      override async onTrainEnd() {
        seen.push({ at: 'end', theta: [] });
      }
    })();
    const before = tf.memory().numTensors;
    const last = await playFrames(model, [probe], readFrames(chunks(bytes, [bytes.length])));
    expect(tf.memory().numTensors).toBe(before);
    expect(last).toBe(3);
    const t0 = Array.from(frames[0].theta!);
    const t2 = Array.from(frames[2].theta!);
    expect(seen).toEqual([
      { at: 'begin', theta: t0 },
      { at: 'batch 0', theta: t0, loss: 0.25 },
      { at: 'batch 1', theta: t2, loss: 0.125 },
      { at: 'batch 2', theta: t2, loss: undefined },
      { at: 'end', theta: [] },
    ]);
    const gap = Buffer.concat([encodeFrame(frames[0]), encodeFrame(frames[2])]);
    await expect(playFrames(model, [probe], readFrames(chunks(gap, [gap.length])))).rejects.toThrow(/frame for step 2 after step 0/);
    expect(seen.at(-1)!.at).toBe('end');
    expect(() => writeTheta(model, new Float32Array(5))).toThrow(/vector 'theta' must have length P = 4, got 5/);
    model.dispose();
  });
});
