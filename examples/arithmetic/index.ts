/**
 * The 3-digit addition example: data, a small causal transformer (custom
 * loop and tfjs-layers variants), AdamW and a task object for polca.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import '@tensorflow/tfjs-backend-wasm';
 * import { createArithmeticTask } from './examples/arithmetic/index.js';
 * await tf.setBackend('wasm');
 * const task = createArithmeticTask('quick');
 * for (let i = 0; i < task.config.steps; i++) task.trainStep();
 * console.log(task.evaluate().byPlaceCarry['10s carry'].accuracy);
 * task.dispose();
 * ```
 *
 * @packageDocumentation
 */
export * from './data.js';
export * from './prng.js';
export * from './nn.js';
export * from './model.js';
export * from './adamw.js';
export * from './configs.js';
export * from './metrics.js';
export * from './task.js';
export * from './layers.js';
export * from './evaluation.js';
