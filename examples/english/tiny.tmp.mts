export {};
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../src/engine/wasm/registerWasmKernels.js';
import { runEnglish } from './experiment.js';
await tf.setBackend('wasm'); await tf.ready(); registerWasmKernels();
const t0 = performance.now();
const r = await runEnglish({ config: 'tiny', overrides: JSON.parse(process.argv[3] ?? '{}'), dir: '/tmp/eng-tiny', every: Number(process.argv[4] ?? 5), basisEvery: 20, maxVectors: 2, lanczosMaxIter: 20, minSamples: Number(process.argv[2] ?? 10), kinds: ['polca', 'loss'], log: console.log });
console.log(r.clusters.text); console.log(r.report.slice(0, 3000)); console.log('s', (performance.now() - t0) / 1000);
