/**
 * What the buffer-sharing wasm `Identity` kernel (registerWasmKernels'
 * `sharedIdentity`) saves: the wasm heap after one exact JVP of the addition
 * model's per-token probe losses (polca's exactDirectionalDerivatives, the
 * double backward pass the tracker runs to calibrate and check its fast
 * derivatives), with the stock copying kernel and with the sharing one.
 *
 * The wasm heap only grows, so each kernel runs in its own child process and
 * reports the heap size afterwards: the high-water mark of that JVP. The
 * children use the same initial weights, probe and direction, so their
 * derivatives must agree bit for bit. With `--chunk n`, a third child runs
 * the sharing kernel on the probe in parts of n problems (chunkedProbe): the
 * heap then holds one part's double backward at a time, so a probe whose
 * whole JVP runs out of the heap fits; its derivatives are compared with
 * the whole probe's (the same sums over other batch shapes, so equal to
 * float32 rounding, not bit for bit).
 *
 *   npx tsx bench/jvpHeap.ts [--config paper] [--problems 125] [--chunk 50]
 *
 * @packageDocumentation
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { ParamSpace, registerWasmKernels } from '../src/engine/index.js';
import { chunkedProbe, exactDirectionalDerivatives } from '../src/engine/directional.js';
import { ARITHMETIC_CONFIGS, type ArithmeticConfigName } from '../examples/arithmetic/configs.js';
import { makeBatch, makeSplits } from '../examples/arithmetic/data.js';
import { batchTensors, createModel, perTokenLoss } from '../examples/arithmetic/model.js';

interface Measure { heapMB: number; seconds: number; digest: string; n: number; values: string }

async function child(config: ArithmeticConfigName, problems: number, identity: 'stock' | 'shared', chunk: number): Promise<Measure> {
  await tf.setBackend('wasm');
  await tf.ready();
  registerWasmKernels({ sharedIdentity: identity === 'shared' });
  const cfg = ARITHMETIC_CONFIGS[config];
  const model = createModel(cfg, { seed: cfg.seed + 1, initStd: cfg.initStd });
  const space = new ParamSpace(model.params);
  const { probe } = makeSplits({ seed: cfg.seed, probeSize: cfg.probeSize, hessianSize: cfg.hessianSize });
  if (problems > probe.size) throw new Error(`jvpHeap: option '--problems' must be at most ${probe.size}, got ${problems}`);
  const parts: ReturnType<typeof batchTensors>[] = [];
  for (let at = 0; at < problems; at += chunk) {
    const end = Math.min(problems, at + chunk);
    parts.push(batchTensors(makeBatch(Array.from(probe.a.subarray(at, end)), Array.from(probe.b.subarray(at, end)))));
  }
  const closure = parts.length === 1 ? () => perTokenLoss(model, parts[0]) : chunkedProbe(parts.map((t) => () => perTokenLoss(model, t)));
  const b = model.params.map((p, i) => tf.randomNormal(p.shape, 0, 1, 'float32', 17 + i));
  const t0 = performance.now();
  const d = exactDirectionalDerivatives(space, closure, b, problems * 4);
  const seconds = (performance.now() - t0) / 1000;
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;
  const bytes = Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
  return { heapMB: heap / 2 ** 20, seconds, digest: bytes, n: d.length, values: bytes };
}

const program = new Command('jvpHeap')
  .addOption(new Option('--config <name>', 'addition model').choices(Object.keys(ARITHMETIC_CONFIGS)).default('paper'))
  .option('--problems <n>', 'probe problems (4 tokens each)', (v) => Number(v), 125)
  .option('--chunk <n>', 'also measure the probe in parts of n problems (chunkedProbe)', (v) => Number(v))
  .addOption(new Option('--identity <kind>', 'internal: run one measurement').choices(['stock', 'shared']).hideHelp())
  .action(async (o: { config: ArithmeticConfigName; problems: number; chunk?: number; identity?: 'stock' | 'shared' }) => {
    if (!Number.isInteger(o.problems) || o.problems < 1) throw new Error(`jvpHeap: option '--problems' must be a positive integer, got ${o.problems}`);
    if (o.chunk !== undefined && !(Number.isInteger(o.chunk) && o.chunk >= 1)) throw new Error(`jvpHeap: option '--chunk' must be a positive integer, got ${o.chunk}`);
    if (o.identity) {
      process.stdout.write(JSON.stringify(await child(o.config, o.problems, o.identity, o.chunk ?? o.problems)));
      return;
    }
    // A child that runs out of wasm memory (4 GB at most) is reported, not fatal.
    const run = (identity: string, chunk = o.problems): Measure | null => {
      try {
        return JSON.parse(execFileSync(process.execPath, [
          ...process.execArgv, fileURLToPath(import.meta.url), '--config', o.config, '--problems', String(o.problems), '--identity', identity, '--chunk', String(chunk),
        ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 })) as Measure;
      } catch {
        return null;
      }
    };
    const stock = run('stock');
    const shared = run('shared');
    const parts = o.chunk === undefined ? undefined : run('shared', o.chunk);
    const line = (m: Measure | null) => (m === null ? '  failed (out of wasm memory)' : `${m.heapMB.toFixed(0).padStart(6)} MB  ${m.seconds.toFixed(1)} s`);
    console.log(`exact JVP of ${o.problems * 4} probe-token losses, ${o.config} model, wasm heap afterwards (its high-water mark):`);
    console.log(`  stock Identity (copies)   ${line(stock)}`);
    console.log(`  sharing Identity          ${line(shared)}`);
    if (stock && shared) {
      console.log(`  heap ratio ${(shared.heapMB / stock.heapMB).toFixed(2)}, time ratio ${(shared.seconds / stock.seconds).toFixed(2)}, derivatives equal bit for bit: ${stock.digest === shared.digest}`);
    }
    if (parts !== undefined) {
      console.log(`  sharing, in parts of ${o.chunk} problems ${line(parts)}`);
      const whole = shared ?? stock;
      if (parts && whole) {
        const f = (m: Measure) => new Float32Array(Uint8Array.from(Buffer.from(m.values, 'base64')).buffer);
        const [a, c] = [f(whole), f(parts)];
        let scale = 0;
        let diff = 0;
        for (let i = 0; i < a.length; i++) {
          scale = Math.max(scale, Math.abs(a[i]));
          diff = Math.max(diff, Math.abs(a[i] - c[i]));
        }
        console.log(`  in parts against whole: heap ratio ${(parts.heapMB / whole.heapMB).toFixed(2)}, time ratio ${(parts.seconds / whole.seconds).toFixed(2)}, largest difference ${(diff / scale).toExponential(1)} of the largest derivative`);
      }
    }
  });
await program.parseAsync();
