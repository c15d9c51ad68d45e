/**
 * One training step (forward + backward + Adam) of a small causal transformer
 * — token embedding via tf.gather, 3 pre-norm blocks (4-head attention, 4×
 * MLP, layernorm), d = 128 — timed in one run on:
 *   cpu with tfjs-core's BatchMatMul gradient and with polca's (the same ops
 *   there, so it must not be slower and the losses must be bitwise equal);
 *   then wasm stock (plus polca's UnsortedSegmentSum, without which the
 *   embedding's gradient throws), with polca's BatchMatMul gradient only,
 *   with the XNNPACK BatchMatMul kernel only, with everything but the
 *   buffer-sharing Identity, and with everything registerWasmKernels()
 *   installs (kernel, gradient, slice-copying GatherV2, buffer-sharing
 *   Identity; what the last saves in memory: bench/jvpHeap.ts).
 * Variants of a backend are interleaved step by step, so load from other
 * processes hits them alike; the median step time is reported (and the
 * minimum, the better estimate on a busy machine); ratios use medians.
 *
 *   npx tsx bench/wasm.ts [--steps 7] [--cpu-steps 3]
 *
 * Every variant starts from the same weights and batch; the first-step losses
 * are printed so a wrong kernel would show.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulGradConfig } from '../src/engine/wasm/batchMatMulGrad.js';
import { createFastBatchMatMulConfig } from '../src/engine/wasm/fastMatMul.js';
import { registerWasmKernels } from '../src/engine/wasm/registerWasmKernels.js';
import { unsortedSegmentSumWasmConfig } from '../src/engine/wasm/unsortedSegmentSum.js';

const VOCAB = 64;
const T = 64;
const BATCH = 8;
const D = 128;
const HEADS = 4;
const LAYERS = 3;
const DH = D / HEADS;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const STEPS = arg('--steps', 7);
const CPU_STEPS = arg('--cpu-steps', 3);

// Seeded normal draws, so that every backend starts from the same numbers.
function normals(n: number, scale: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

interface Spec { name: string; shape: number[]; init: 'normal' | 'ones' | 'zeros'; scale?: number }
const specs: Spec[] = [
  { name: 'tok', shape: [VOCAB, D], init: 'normal', scale: 0.1 },
  { name: 'pos', shape: [T, D], init: 'normal', scale: 0.1 },
];
for (let l = 0; l < LAYERS; l++) {
  specs.push(
    { name: `ln1g${l}`, shape: [D], init: 'ones' }, { name: `ln1b${l}`, shape: [D], init: 'zeros' },
    { name: `wqkv${l}`, shape: [D, 3 * D], init: 'normal', scale: 1 / Math.sqrt(D) },
    { name: `wo${l}`, shape: [D, D], init: 'normal', scale: 1 / Math.sqrt(D) },
    { name: `ln2g${l}`, shape: [D], init: 'ones' }, { name: `ln2b${l}`, shape: [D], init: 'zeros' },
    { name: `w1${l}`, shape: [D, 4 * D], init: 'normal', scale: 1 / Math.sqrt(D) },
    { name: `b1${l}`, shape: [4 * D], init: 'zeros' },
    { name: `w2${l}`, shape: [4 * D, D], init: 'normal', scale: 1 / Math.sqrt(4 * D) },
  );
}
specs.push({ name: 'lnfg', shape: [D], init: 'ones' }, { name: 'lnfb', shape: [D], init: 'zeros' });
specs.push({ name: 'wout', shape: [D, VOCAB], init: 'normal', scale: 1 / Math.sqrt(D) });
const initial = specs.map((s, i) => {
  const n = s.shape.reduce((p, d) => p * d, 1);
  return s.init === 'normal' ? normals(n, s.scale ?? 1, 1000 + i) : new Float32Array(n).fill(s.init === 'ones' ? 1 : 0);
});
const tokens = Int32Array.from({ length: BATCH * (T + 1) }, (_, i) => (i * 7 + ((i * i) % 13)) % VOCAB);

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b) as tf.Tensor2D;
}

function splitHeads(x: tf.Tensor2D): tf.Tensor3D {
  // [B·T, D] → [B·H, T, DH]
  return tf.reshape(tf.transpose(tf.reshape(x, [BATCH, T, HEADS, DH]), [0, 2, 1, 3]), [BATCH * HEADS, T, DH]);
}

function mergeHeads(x: tf.Tensor3D): tf.Tensor2D {
  return tf.reshape(tf.transpose(tf.reshape(x, [BATCH, HEADS, T, DH]), [0, 2, 1, 3]), [BATCH * T, D]);
}

interface Model { vars: Map<string, tf.Variable>; inputs: tf.Tensor1D; labels: tf.Tensor2D; mask: tf.Tensor2D }

function buildModel(): Model {
  const vars = new Map<string, tf.Variable>();
  specs.forEach((s, i) => vars.set(s.name, tf.variable(tf.tensor(initial[i], s.shape), true, `${s.name}_${Math.random()}`)));
  const inp = new Int32Array(BATCH * T);
  const lab = new Int32Array(BATCH * T);
  for (let b = 0; b < BATCH; b++) {
    for (let t = 0; t < T; t++) {
      inp[b * T + t] = tokens[b * (T + 1) + t];
      lab[b * T + t] = tokens[b * (T + 1) + t + 1];
    }
  }
  const maskValues = new Float32Array(T * T);
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) maskValues[i * T + j] = -1e9;
  return {
    vars,
    inputs: tf.tensor1d(inp, 'int32'),
    labels: tf.tidy(() => tf.oneHot(tf.tensor1d(lab, 'int32'), VOCAB).toFloat() as tf.Tensor2D),
    mask: tf.tensor2d(maskValues, [T, T]),
  };
}

function loss(m: Model): tf.Scalar {
  const v = (name: string) => m.vars.get(name)!;
  const posIds = tf.tensor1d(Array.from({ length: BATCH * T }, (_, i) => i % T), 'int32');
  let x = tf.add(tf.gather(v('tok'), m.inputs), tf.gather(v('pos'), posIds)) as tf.Tensor2D;
  for (let l = 0; l < LAYERS; l++) {
    const h = layerNorm(x, v(`ln1g${l}`), v(`ln1b${l}`));
    const qkv = tf.matMul(h, v(`wqkv${l}`));
    const [q, k, val] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const scores = tf.add(tf.mul(tf.matMul(splitHeads(q), splitHeads(k), false, true), 1 / Math.sqrt(DH)), m.mask);
    const att = mergeHeads(tf.matMul(tf.softmax(scores), splitHeads(val)) as tf.Tensor3D);
    x = tf.add(x, tf.matMul(att, v(`wo${l}`)));
    const h2 = layerNorm(x, v(`ln2g${l}`), v(`ln2b${l}`));
    const ff = tf.relu(tf.add(tf.matMul(h2, v(`w1${l}`)), v(`b1${l}`))) as tf.Tensor2D;
    x = tf.add(x, tf.matMul(ff, v(`w2${l}`)));
  }
  const logits = tf.matMul(layerNorm(x, v('lnfg'), v('lnfb')), v('wout'));
  return tf.losses.softmaxCrossEntropy(m.labels, logits) as tf.Scalar;
}

interface Variant {
  label: string;
  /** Puts the kernel/gradient registry in this variant's state. */
  setup: () => void;
  times: number[];
  losses: number[];
}

function variant(label: string, setup: () => void): Variant {
  return { label, setup, times: [], losses: [] };
}

/**
 * Trains one model per variant on `backend`, round-robin: step s of every
 * variant runs before step s + 1 of any, so load from other processes on the
 * machine hits all variants alike. Reports the median step time.
 */
async function phase(backend: string, variants: Variant[], steps: number): Promise<void> {
  await tf.setBackend(backend);
  await tf.ready();
  const states = variants.map(() => {
    const m = buildModel();
    return { m, opt: tf.train.adam(1e-3), vars: [...m.vars.values()] };
  });
  const step = (i: number): number => {
    const { m, opt, vars } = states[i];
    variants[i].setup();
    const t0 = performance.now();
    const l = opt.minimize(() => loss(m), true, vars)!;
    const value = l.dataSync()[0];
    variants[i].times.push(performance.now() - t0);
    variants[i].losses.push(value);
    l.dispose();
    return value;
  };
  for (let i = 0; i < variants.length; i++) step(i); // warm-up, not timed
  variants.forEach((v) => v.times.splice(0));
  const before = tf.memory().numTensors;
  for (let s = 0; s < steps; s++) for (let i = 0; i < variants.length; i++) step(i);
  const leaked = tf.memory().numTensors - before;
  for (const { m, opt, vars } of states) {
    opt.dispose();
    vars.forEach((v) => v.dispose());
    [m.inputs, m.labels, m.mask].forEach((t) => t.dispose());
  }
  for (const v of variants) {
    const l = v.losses;
    console.log(
      `${v.label.padEnd(42)} ${median(v.times).toFixed(1).padStart(8)} ms/step (min ${Math.min(...v.times).toFixed(1)})   loss ${l[0].toFixed(6)} → ${l[l.length - 1].toFixed(6)}`,
    );
  }
  if (leaked !== 0) console.log(`  (${leaked} tensors left over by ${steps} rounds)`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const coreGrad = tf.getGradient(tf.BatchMatMul)!;
const stockMatMul = tf.getKernel(tf.BatchMatMul, 'wasm')!;
const stockGather = tf.getKernel(tf.GatherV2, 'wasm')!;
const fastMatMul = createFastBatchMatMulConfig(stockMatMul);
const stockIdentity = tf.getKernel(tf.Identity, 'wasm')!;
function install(matMul: tf.KernelConfig, gather: tf.KernelConfig, grad: tf.GradConfig, identity: tf.KernelConfig = stockIdentity): void {
  if (tf.getKernel(tf.Identity, 'wasm') !== identity) {
    tf.unregisterKernel(tf.Identity, 'wasm');
    tf.registerKernel(identity);
  }
  if (tf.getKernel(tf.BatchMatMul, 'wasm') !== matMul) {
    tf.unregisterKernel(tf.BatchMatMul, 'wasm');
    tf.registerKernel(matMul);
  }
  if (tf.getKernel(tf.GatherV2, 'wasm') !== gather) {
    tf.unregisterKernel(tf.GatherV2, 'wasm');
    tf.registerKernel(gather);
  }
  if (tf.getGradient(tf.BatchMatMul) !== grad) tf.registerGradient(grad);
}

// What registerWasmKernels() installs, captured once and then swapped in per step.
tf.registerKernel(unsortedSegmentSumWasmConfig);
const status = registerWasmKernels();
if (!status.fastBatchMatMul || !status.batchMatMulGradient || !status.fastGather || !status.unsortedSegmentSum || !status.sharedIdentity) {
  throw new Error(`bench: registerWasmKernels gave ${JSON.stringify(status)}`);
}
const all = {
  matMul: tf.getKernel(tf.BatchMatMul, 'wasm')!, gather: tf.getKernel(tf.GatherV2, 'wasm')!, grad: tf.getGradient(tf.BatchMatMul)!, identity: tf.getKernel(tf.Identity, 'wasm')!,
};

console.log(
  `causal transformer: vocab ${VOCAB}, T ${T}, batch ${BATCH}, d ${D}, ${HEADS} heads, ${LAYERS} layers; ` +
    `median of ${STEPS} steps (cpu ${CPU_STEPS}) after 1 warm-up, variants interleaved step by step`,
);
const cpuStock = variant('cpu, tfjs-core gradient', () => install(stockMatMul, stockGather, coreGrad));
const cpuPolca = variant('cpu, polca gradient', () => install(stockMatMul, stockGather, batchMatMulGradConfig));
await phase('cpu', [cpuStock, cpuPolca], CPU_STEPS);
const wasmStock = variant('wasm stock (+ UnsortedSegmentSum)', () => install(stockMatMul, stockGather, coreGrad));
const wasmGrad = variant('wasm + BatchMatMul gradient only', () => install(stockMatMul, stockGather, batchMatMulGradConfig));
const wasmFast = variant('wasm + XNNPACK BatchMatMul kernel only', () => install(fastMatMul, stockGather, coreGrad));
const wasmCopying = variant('wasm + all but the buffer-sharing Identity', () => install(all.matMul, all.gather, all.grad));
const wasmAll = variant('wasm + registerWasmKernels() (all)', () => install(all.matMul, all.gather, all.grad, all.identity));
await phase('wasm', [wasmStock, wasmGrad, wasmFast, wasmCopying, wasmAll], STEPS);
install(stockMatMul, stockGather, coreGrad);

const ms = (v: Variant) => median(v.times);
const r = (x: Variant, y: Variant) => (ms(x) / ms(y)).toFixed(2);
console.log('');
console.log(`speed-up over wasm stock: gradient only ${r(wasmStock, wasmGrad)}×, kernel only ${r(wasmStock, wasmFast)}×, all ${r(wasmStock, wasmAll)}×`);
console.log(`buffer-sharing Identity: all with it / all without it ${r(wasmAll, wasmCopying)} (losses bitwise equal: ${wasmAll.losses.every((l, i) => l === wasmCopying.losses[i])})`);
console.log(`cpu stock / wasm all: ${r(cpuStock, wasmAll)}×`);
console.log(`cpu with polca gradient / cpu stock: ${r(cpuPolca, cpuStock)} (same ops; losses bitwise equal: ${cpuPolca.losses.every((l, i) => l === cpuStock.losses[i])})`);
const first = [cpuStock, cpuPolca, wasmStock, wasmGrad, wasmFast, wasmCopying, wasmAll].map((v) => v.losses[0]);
console.log(`first-step losses agree to ${Math.max(...first.map((x) => Math.abs(x - first[0]))).toExponential(1)}`);
