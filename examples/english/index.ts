/**
 * The English example: the Brown corpus with gold part-of-speech tags, a
 * word-level vocabulary, a small causal transformer language model, a task
 * object for polca, and the experiment that trains with polca, clusters the
 * run and labels the clusters by part of speech.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { runEnglish } from './examples/english/index.js';
 * await tf.setBackend('wasm');
 * const r = await runEnglish({ config: 'quick', dir: 'runs/english-quick' });
 * console.log(r.report);
 * ```
 *
 * @packageDocumentation
 */
export * from './corpus.js';
export * from './tokenizer.js';
export * from './data.js';
export * from './model.js';
export * from './configs.js';
export * from './task.js';
export * from './experiment.js';
export * from './posLabels.js';
