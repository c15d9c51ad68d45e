/**
 * Snapshots of a training run of the addition task, for runs longer than
 * one sitting (the paper's 9.5M-parameter model trains at about 1 s per
 * step on wasm) and for post-hoc POLCA from saved θ, as the paper computes it.
 *
 * A snapshot directory holds:
 * - `theta-<step>.f32`: θ at that step, the parameters in `paramNames` order,
 *   flat little-endian float32 (4·P bytes each, all kept);
 * - `resume.f32`: Adam's first then second moments at the latest snapshot
 *   (only the latest is kept);
 * - `snapshots.json`: the configuration, the parameter names and shapes, the
 *   steps kept, and the step `resume.f32` belongs to.
 *
 * Every file is written to a temporary name and renamed, and the manifest
 * last, so a run killed mid-write resumes from the previous snapshot.
 *
 * @packageDocumentation
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { ArithmeticConfig } from './configs.js';
import type { ArithmeticTask } from './task.js';
import { ParamSpace } from '../../src/engine/index.js';

/** `snapshots.json`. */
export interface SnapshotManifest {
  config: ArithmeticConfig;
  paramNames: string[];
  shapes: number[][];
  /** Steps whose θ is kept, ascending. */
  steps: number[];
  /** The step of the latest snapshot, which `resume.f32` and the optimiser's iteration count belong to. */
  resumeStep: number;
}

const MANIFEST = 'snapshots.json';

/** File name of θ at `step`. */
export function thetaFile(step: number): string {
  return `theta-${String(step).padStart(6, '0')}.f32`;
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
}

function concat(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Reads `snapshots.json` of `dir`, or null when there is none. */
export function readSnapshotManifest(dir: string): SnapshotManifest | null {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')) as SnapshotManifest;
}

/** θ kept at `step` in `dir`, flat, in `paramNames` order. */
export function readTheta(dir: string, step: number): Float32Array {
  const buf = readFileSync(path.join(dir, thetaFile(step)));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

/**
 * Saves θ of `task` at its current step, and the optimiser state it resumes from.
 *
 * @param dir - the snapshot directory (created when missing).
 * @param task - the task to save.
 */
export async function saveSnapshot(dir: string, task: ArithmeticTask): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const previous = readSnapshotManifest(dir);
  const theta = new ParamSpace(task.params).read();
  writeAtomic(path.join(dir, thetaFile(task.step)), bytes(theta));
  const weights = await task.optimizer.getWeights();
  // The first entry is the iteration count, which the manifest's resumeStep holds.
  const moments = concat(weights.slice(1).map((w) => w.tensor.dataSync() as Float32Array));
  writeAtomic(path.join(dir, 'resume.f32'), bytes(moments));
  const steps = [...new Set([...(previous?.steps ?? []), task.step])].sort((a, b) => a - b);
  const manifest: SnapshotManifest = {
    config: task.config,
    paramNames: task.paramNames,
    shapes: task.params.map((p) => p.shape),
    steps,
    resumeStep: task.step,
  };
  writeAtomic(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 1));
}

/**
 * Restores a fresh task to the latest snapshot in `dir`: θ, Adam's moments
 * and iteration count, and the position of the training stream.
 *
 * @returns the step restored to.
 * @throws if the snapshot's configuration or parameter shapes differ from the task's.
 */
export async function restoreSnapshot(dir: string, task: ArithmeticTask): Promise<number> {
  const m = readSnapshotManifest(dir);
  if (m === null) throw new Error(`restoreSnapshot: no ${MANIFEST} in ${JSON.stringify(dir)}`);
  // A constant schedule does not depend on the planned length, so such a run may be extended.
  const key = (c: ArithmeticConfig): string => JSON.stringify(c.schedule === 'constant' ? { ...c, steps: undefined } : c);
  const want = JSON.stringify(task.config);
  if (key(m.config) !== key(task.config)) {
    throw new Error(`restoreSnapshot: the snapshot in ${JSON.stringify(dir)} was taken with config ${JSON.stringify(m.config)}, the task has ${want}`);
  }
  const shapes = task.params.map((p) => p.shape);
  if (JSON.stringify(m.shapes) !== JSON.stringify(shapes)) {
    throw new Error(`restoreSnapshot: parameter shapes ${JSON.stringify(m.shapes)} in ${JSON.stringify(dir)} differ from the task's ${JSON.stringify(shapes)}`);
  }
  const theta = readTheta(dir, m.resumeStep);
  const space = new ParamSpace(task.params);
  const total = space.size;
  if (theta.length !== total) throw new Error(`restoreSnapshot: ${thetaFile(m.resumeStep)} holds ${theta.length} values, the model has ${total}`);
  space.assignHost(theta);
  const buf = readFileSync(path.join(dir, 'resume.f32'));
  const moments = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  if (moments.length !== 0 && moments.length !== 2 * total) {
    throw new Error(`restoreSnapshot: resume.f32 holds ${moments.length} values, expected 0 or ${2 * total}`);
  }
  const named: Parameters<ArithmeticTask['optimizer']['setWeights']>[0] = [{ name: 'iter', tensor: tf.scalar(m.resumeStep, 'int32') }];
  if (moments.length > 0) {
    let at = 0;
    for (const which of ['m', 'v']) {
      task.params.forEach((p) => {
        named.push({ name: `${p.name}/${which}`, tensor: tf.tensor(moments.subarray(at, at + p.size), p.shape, 'float32') });
        at += p.size;
      });
    }
  }
  // setWeights copies each tensor into a new variable, so ours are freed here.
  await task.optimizer.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  // setWeights sets β^(t+1) with pow; training reaches it by t float32
  // products, which differ in the last bits. The products, so that a resumed
  // run continues exactly as one that never stopped.
  const adam = task.optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  for (const [acc, beta] of [[adam.accBeta1, task.config.beta1], [adam.accBeta2, task.config.beta2]] as const) {
    let power = Math.fround(beta);
    for (let i = 0; i < m.resumeStep; i++) power = Math.fround(power * Math.fround(beta));
    tf.tidy(() => acc.assign(tf.scalar(power)));
  }
  task.fastForward(m.resumeStep);
  return m.resumeStep;
}
