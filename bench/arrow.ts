/**
 * Throughput of the Arrow run writer and reader at the paper's arithmetic
 * scale: N = 5000 probe datapoints, K = 50 basis vectors, so one POLCA
 * checkpoint writes N·K = 250 000 `polca` rows (plus N `losses` and N
 * `residuals` rows). Prints rows/s and the ratio of write time to a
 * checkpoint's compute time (a few seconds), measured in this run.
 *
 * Run: npm run bench:arrow
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RunWriter } from '../src/sinks/arrow/RunWriter.js';
import { readRun } from '../src/sinks/arrow/readRun.js';
import { decodeEvents } from '../src/sinks/arrow/decodeEvents.js';
import { openEventStream } from '../src/sinks/arrow/openEventStream.js';
import type { CheckpointEvent, PolcaIncrementEvent, RunStartEvent, StepEvent } from '../src/stream/events.js';

const N = 5000;
const K = 50;
const CHECKPOINTS = 12;
const P = 1_000_000;
const COMPUTE_SECONDS = 2; // lower end of "a few seconds" of polca compute per checkpoint at this scale

const rand = (() => {
  let a = 12345;
  return () => ((a = (Math.imul(a, 1103515245) + 12345) >>> 0) / 2 ** 32);
})();
const floats = (n: number) => Float32Array.from({ length: n }, () => rand() - 0.5);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-bench-arrow-'));
const start: RunStartEvent = {
  type: 'run-start', time: Date.now(), config: {}, numParams: P, numProbe: N, backend: 'cpu', hvpMode: 'exact', hvpReason: 'bench',
  params: [{ name: 'theta', shape: [P] }], versions: { polca: '0.1.0', tfjs: '4.22.0' },
};
// Pre-build the events so that only writing is timed.
const polcaEvents: PolcaIncrementEvent[] = [];
const checkpoints: CheckpointEvent[] = [];
for (let c = 0; c < CHECKPOINTS; c++) {
  checkpoints.push({ type: 'checkpoint', time: Date.now(), step: c * 20, losses: floats(N), meanLoss: 1, nonFinite: 0, seconds: 1 });
  polcaEvents.push({
    type: 'polca', time: Date.now(), fromStep: c * 20, toStep: (c + 1) * 20, basisIds: Array.from({ length: K }, (_, i) => i),
    projections: Array.from({ length: K }, () => rand()), values: Array.from({ length: K }, () => floats(N)),
    firstOrder: Array.from({ length: K }, () => floats(N)), derivatives: Array.from({ length: K }, () => floats(N)),
    lossBefore: floats(N), lossAfter: floats(N), residual: floats(N), secondOrder: 'secant', nonFinite: 0,
  });
}
const theta = floats(P);

const writer = new RunWriter(path.join(dir, 'run'), { keepParams: true });
writer.write(start);
const polcaMs: number[] = [];
const checkpointMs: number[] = [];
const stepMs: number[] = [];
const paramsMs: number[] = [];
for (let c = 0; c < CHECKPOINTS; c++) {
  // 20 optimiser steps between checkpoints, flushed one by one to time the per-batch overhead.
  for (let s = 0; s < 20; s++) {
    const e: StepEvent = { type: 'step', time: Date.now(), step: c * 20 + s, loss: 1, lr: 0.01 };
    const t = performance.now();
    writer.write(e);
    writer.flush();
    stepMs.push(performance.now() - t);
  }
  let t = performance.now();
  writer.write(checkpoints[c]);
  checkpointMs.push(performance.now() - t);
  t = performance.now();
  writer.write(polcaEvents[c]);
  polcaMs.push(performance.now() - t);
  t = performance.now();
  writer.writeParams({ step: c * 20, theta });
  paramsMs.push(performance.now() - t);
}
await writer.close();

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const polcaFile = path.join(dir, 'run', 'polca.arrows');
const bytesPerPolca = fs.statSync(polcaFile).size / CHECKPOINTS;

let t = performance.now();
const run = await readRun(path.join(dir, 'run'));
const readMs = performance.now() - t;
t = performance.now();
let decoded = 0;
for (const e of decodeEvents(run)) if (e.type === 'polca') decoded += 1;
const decodeMs = performance.now() - t;
t = performance.now();
let streamed = 0;
for (const e of (await openEventStream(path.join(dir, 'run'))).events) if (e.type === 'polca') streamed += 1;
const streamMs = performance.now() - t;

const perCheckpointWrite = median(polcaMs) + median(checkpointMs);
const rows = N * K;
const lines = [
  ['polca rows per checkpoint (N·K)', `${rows}`],
  ['write polca event (median ms)', median(polcaMs).toFixed(1)],
  ['polca rows/s written', `${(rows / (median(polcaMs) / 1000) / 1e6).toFixed(1)} M`],
  ['polca.arrows bytes per checkpoint', `${(bytesPerPolca / 1e6).toFixed(2)} MB (${(bytesPerPolca / rows).toFixed(1)} B/row)`],
  ['write checkpoint event, N losses (median ms)', median(checkpointMs).toFixed(2)],
  ['one-row flush of a step event (median ms)', median(stepMs).toFixed(3)],
  ['writeParams, P = 1e6 (median ms)', `${median(paramsMs).toFixed(1)} (4·P = ${(4 * P / 1e6).toFixed(1)} MB per checkpoint)`],
  ['write time / checkpoint compute (2 s)', `${((perCheckpointWrite / 1000 / COMPUTE_SECONDS) * 100).toFixed(2)} %`],
  ['readRun, whole run (ms)', `${readMs.toFixed(0)} for ${((CHECKPOINTS * rows) / 1e6).toFixed(1)} M polca rows`],
  ['decode polca events after readRun (rows/s)', `${((decoded * rows) / (decodeMs / 1000) / 1e6).toFixed(1)} M`],
  ['replay batch by batch, read + decode (rows/s)', `${((streamed * rows) / (streamMs / 1000) / 1e6).toFixed(1)} M`],
];
const width = Math.max(...lines.map(([k]) => k.length));
console.log(`Arrow run writer, N = ${N}, K = ${K}, ${CHECKPOINTS} checkpoints (${os.cpus()[0]?.model ?? 'cpu'})`);
for (const [k, v] of lines) console.log(`  ${k.padEnd(width)}  ${v}`);
fs.rmSync(dir, { recursive: true, force: true });
