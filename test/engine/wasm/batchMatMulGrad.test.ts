import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { batchMatMulGradConfig } from '../../../src/engine/wasm/batchMatMulGrad.js';
import { createFastBatchMatMulConfig } from '../../../src/engine/wasm/fastMatMul.js';
import { broadcastShape, caseName, matMulCases, referenceMatMul, relativeError, seededValues, size, type MatMulCase } from './matMulReference.js';

let coreGrad: tf.GradConfig;
let stockKernel: tf.KernelConfig;
let fastKernel: tf.KernelConfig;
/** The stock kernel, counting the products it is asked to run with a transpose flag. */
let countingStock: tf.KernelConfig;
let transposedCalls = 0;

beforeAll(async () => {
  await tf.setBackend('wasm');
  await tf.ready();
  coreGrad = tf.getGradient(tf.BatchMatMul)!;
  stockKernel = tf.getKernel(tf.BatchMatMul, 'wasm')!;
  fastKernel = createFastBatchMatMulConfig(stockKernel);
  countingStock = {
    ...stockKernel,
    kernelFunc: (args) => {
      if (args.attrs?.transposeA === true || args.attrs?.transposeB === true) transposedCalls++;
      return stockKernel.kernelFunc(args);
    },
  };
  tf.registerGradient(batchMatMulGradConfig);
});

afterAll(async () => {
  tf.registerGradient(coreGrad);
  useKernel(stockKernel);
  await tf.setBackend('wasm');
});

function useKernel(config: tf.KernelConfig): void {
  tf.unregisterKernel(tf.BatchMatMul, 'wasm');
  tf.registerKernel(config);
}

function isBroadcast(c: MatMulCase): boolean {
  const outer = broadcastShape(c.aShape.slice(0, -2), c.bShape.slice(0, -2));
  return size(outer) !== size(c.aShape.slice(0, -2)) || size(outer) !== size(c.bShape.slice(0, -2)) || c.aShape.length !== c.bShape.length;
}

function isCrossBroadcast(c: MatMulCase): boolean {
  const na = size(c.aShape.slice(0, -2));
  const nb = size(c.bShape.slice(0, -2));
  return na !== nb && na !== 1 && nb !== 1;
}

/** dL/dA and dL/dB of L = Σ matMul(A, B) ⊙ W on the active backend. */
function grads(c: MatMulCase, seed: number): { da: Float32Array; db: Float32Array; w: Float32Array; a: Float32Array; b: Float32Array } {
  const a = seededValues(size(c.aShape), seed);
  const b = seededValues(size(c.bShape), seed + 1);
  const outShape = referenceMatMul(c, a, b).outShape;
  const w = seededValues(size(outShape), seed + 2);
  const [da, db] = tf.tidy(() => {
    const wt = tf.tensor(w, outShape);
    const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, c.transposeA, c.transposeB), wt));
    return tf.grads(f)([tf.tensor(a, c.aShape), tf.tensor(b, c.bShape)]);
  });
  const out = { da: da.dataSync() as Float32Array, db: db.dataSync() as Float32Array, w, a, b };
  tf.dispose([da, db]);
  return out;
}

const cases = [...matMulCases({ m: 5, k: 4, n: 3 }), ...matMulCases({ m: 24, k: 20, n: 28 })];

describe('batchMatMulGradConfig', () => {
  for (const kernel of ['stock', 'fast'] as const) {
    describe(`on wasm with the ${kernel} BatchMatMul kernel`, () => {
      beforeAll(() => useKernel(kernel === 'fast' ? fastKernel : countingStock));

      // tfjs's own kernels cannot multiply batches that broadcast against each
      // other ([2,1]×[1,3] gives 3 of 6 batches), so the stock kernel skips those.
      const supported = kernel === 'fast' ? cases : cases.filter((c) => !isCrossBroadcast(c));
      it.each(supported.map((c) => [caseName(c), c] as const))('%s: gradients equal the float64 reference', (_n, c) => {
        const before = transposedCalls;
        const g = grads(c, 7);
        if (kernel === 'stock') {
          // Only the forward product may carry transpose flags: the gradient's are materialised.
          expect(transposedCalls - before).toBe(c.transposeA || c.transposeB ? 1 : 0);
        }
        const ref = referenceMatMul(c, g.a, g.b, g.w);
        expect(relativeError(g.da, ref.da)).toBeLessThan(2e-5);
        expect(relativeError(g.db, ref.db)).toBeLessThan(2e-5);
      });
    });
  }

  describe('wasm against cpu', () => {
    beforeAll(() => useKernel(fastKernel));
    const plain = cases.filter((c) => !isBroadcast(c));
    it('covers all four transpose combinations, 2-D and batched', () => {
      const seen = new Set(plain.map((c) => `${c.transposeA}${c.transposeB}${c.aShape.length}`));
      expect(seen.size).toBe(8);
    });
    it.each(plain.map((c) => [caseName(c), c] as const))('%s: wasm equals cpu (tfjs-core gradient) within float32 rounding', async (_n, c) => {
      await tf.setBackend('wasm');
      const wasm = grads(c, 13);
      await tf.setBackend('cpu');
      tf.registerGradient(coreGrad);
      let cpu: ReturnType<typeof grads>;
      try {
        cpu = grads(c, 13);
      } finally {
        tf.registerGradient(batchMatMulGradConfig);
        await tf.setBackend('wasm');
      }
      expect(relativeError(wasm.da, cpu.da)).toBeLessThan(1e-5);
      expect(relativeError(wasm.db, cpu.db)).toBeLessThan(1e-5);
    });
  });

  describe('on cpu', () => {
    it.each(cases.filter((c) => !isBroadcast(c)).map((c) => [caseName(c), c] as const))(
      '%s: bitwise equal to the tfjs-core gradient (same ops, same order)',
      async (_n, c) => {
        await tf.setBackend('cpu');
        try {
          const ours = grads(c, 17);
          tf.registerGradient(coreGrad);
          let core: ReturnType<typeof grads>;
          try {
            core = grads(c, 17);
          } finally {
            tf.registerGradient(batchMatMulGradConfig);
          }
          expect(Array.from(ours.da)).toEqual(Array.from(core.da));
          expect(Array.from(ours.db)).toEqual(Array.from(core.db));
        } finally {
          await tf.setBackend('wasm');
        }
      },
    );

    it('supports broadcasting where the tfjs-core gradient throws', async () => {
      const c: MatMulCase = { aShape: [4, 5, 6], bShape: [6, 3], transposeA: false, transposeB: false };
      await tf.setBackend('cpu');
      try {
        const ours = grads(c, 19);
        const ref = referenceMatMul(c, ours.a, ours.b, ours.w);
        expect(relativeError(ours.db, ref.db)).toBeLessThan(1e-5);
        tf.registerGradient(coreGrad);
        try {
          expect(() => grads(c, 19)).toThrow(/shape/);
        } finally {
          tf.registerGradient(batchMatMulGradConfig);
        }
      } finally {
        await tf.setBackend('wasm');
      }
    });
  });

  describe('second order (Hessian-vector products through nested tf.grad)', () => {
    // L(W) = ¼‖W Wᵀ‖²_F per batch, so ∇L = W Wᵀ W and
    // H·V = V Wᵀ W + W Vᵀ W + W Wᵀ V (closed form, float64 below).
    function mm(x: Float64Array, y: Float64Array, r: number, k: number, c: number, tx: boolean, ty: boolean): Float64Array {
      const out = new Float64Array(r * c);
      for (let i = 0; i < r; i++) {
        for (let j = 0; j < c; j++) {
          let s = 0;
          for (let p = 0; p < k; p++) s += (tx ? x[p * r + i] : x[i * k + p]) * (ty ? y[j * k + p] : y[p * c + j]);
          out[i * c + j] = s;
        }
      }
      return out;
    }
    function closedForm(w: Float32Array, v: Float32Array, batches: number, m: number, n: number): Float64Array {
      const out = new Float64Array(batches * m * n);
      for (let t = 0; t < batches; t++) {
        const W = Float64Array.from(w.subarray(t * m * n, (t + 1) * m * n));
        const V = Float64Array.from(v.subarray(t * m * n, (t + 1) * m * n));
        const wtw = mm(W, W, n, m, n, true, false);
        const vtw = mm(V, W, n, m, n, true, false);
        const wwt = mm(W, W, m, n, m, false, true);
        const term = [mm(V, wtw, m, n, n, false, false), mm(W, vtw, m, n, n, false, false), mm(wwt, V, m, m, n, false, false)];
        for (let i = 0; i < m * n; i++) out[t * m * n + i] = term[0][i] + term[1][i] + term[2][i];
      }
      return out;
    }
    const shapes: [string, number[]][] = [
      ['2-D', [6, 5]],
      ['batched 3-D', [3, 6, 5]],
      ['2-D above the XNNPACK threshold', [24, 20]],
    ];
    const setups = [
      ['wasm, stock kernel (transposes materialised)', 'wasm', 'stock'],
      ['wasm, polca kernel', 'wasm', 'fast'],
      ['cpu', 'cpu', 'fast'],
    ] as const;
    for (const [label, backend, kernel] of setups) {
      it.each(shapes)(`${label}, %s`, async (_n, shape) => {
        await tf.setBackend(backend);
        useKernel(kernel === 'fast' ? fastKernel : stockKernel);
        try {
          const [m, n] = shape.slice(-2);
          const batches = size(shape.slice(0, -2));
          const w = seededValues(size(shape), 23);
          const v = seededValues(size(shape), 29);
          const hv = tf.tidy(() => {
            const W = tf.tensor(w, shape);
            const V = tf.tensor(v, shape);
            const loss = (x: tf.Tensor) => tf.mul(tf.sum(tf.square(tf.matMul(x, x, false, true))), 0.25) as tf.Scalar;
            const grad = tf.grad(loss);
            return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(grad(x), V)))(W);
          });
          const got = hv.dataSync();
          hv.dispose();
          expect(relativeError(got, closedForm(w, v, batches, m, n))).toBeLessThan(5e-5);
        } finally {
          await tf.setBackend('wasm');
        }
      });
    }
  });

  it('leaves the tensor count unchanged over repeated gradients', () => {
    useKernel(fastKernel);
    const a = tf.tensor(seededValues(3 * 24 * 20, 1), [3, 24, 20]);
    const b = tf.tensor(seededValues(20 * 28, 2), [20, 28]);
    const g = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.matMul(x, y)));
    const once = () => tf.dispose(g([a, b]));
    once();
    const before = tf.memory().numTensors;
    const ids = tf.backend().numDataIds();
    for (let i = 0; i < 5; i++) once();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.backend().numDataIds()).toBe(ids);
    tf.dispose([a, b]);
  });
});
