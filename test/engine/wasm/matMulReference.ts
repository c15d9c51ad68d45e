/**
 * Float64 brute-force references for the wasm kernel tests: batched matrix
 * products with tf.matMul's transpose flags and batch broadcasting, their
 * gradients for the loss Σ(C ⊙ W), and a seeded random source.
 */

export function seededValues(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296) * 2 - 1;
  }
  return out;
}

export function size(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** Right-aligned broadcast of two batch shapes (numpy rules). */
export function broadcastShape(x: readonly number[], y: readonly number[]): number[] {
  const r = Math.max(x.length, y.length);
  const out: number[] = [];
  for (let i = 0; i < r; i++) {
    const a = x[x.length - r + i] ?? 1;
    const b = y[y.length - r + i] ?? 1;
    if (a !== b && a !== 1 && b !== 1) throw new Error(`broadcastShape: [${x}] and [${y}] do not broadcast`);
    out.push(Math.max(a, b));
  }
  return out;
}

/** Flat batch index in a (possibly broadcast) batch shape for output batch multi-index `idx`. */
function batchIndex(shape: readonly number[], idx: readonly number[]): number {
  const off = idx.length - shape.length;
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat = flat * shape[d] + (shape[d] === 1 ? 0 : idx[off + d]);
  return flat;
}

export interface MatMulCase {
  aShape: number[];
  bShape: number[];
  transposeA: boolean;
  transposeB: boolean;
}

/** C = op(A)·op(B) and, for L = Σ C ⊙ W, dL/dA and dL/dB — all in float64. */
export function referenceMatMul(
  c: MatMulCase,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  w?: ArrayLike<number>,
): { out: Float64Array; outShape: number[]; da: Float64Array; db: Float64Array } {
  const ar = c.aShape.length;
  const br = c.bShape.length;
  const m = c.transposeA ? c.aShape[ar - 1] : c.aShape[ar - 2];
  const k = c.transposeA ? c.aShape[ar - 2] : c.aShape[ar - 1];
  const n = c.transposeB ? c.bShape[br - 2] : c.bShape[br - 1];
  const outerA = c.aShape.slice(0, -2);
  const outerB = c.bShape.slice(0, -2);
  const outer = broadcastShape(outerA, outerB);
  const batches = size(outer);
  const out = new Float64Array(batches * m * n);
  const da = new Float64Array(size(c.aShape));
  const db = new Float64Array(size(c.bShape));
  const idx = new Array<number>(outer.length).fill(0);
  for (let t = 0; t < batches; t++) {
    const oa = batchIndex(outerA, idx) * m * k;
    const ob = batchIndex(outerB, idx) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const o = t * m * n + i * n + j;
        const wo = w === undefined ? 0 : w[o];
        let s = 0;
        for (let p = 0; p < k; p++) {
          const ai = oa + (c.transposeA ? p * m + i : i * k + p);
          const bi = ob + (c.transposeB ? j * k + p : p * n + j);
          s += a[ai] * b[bi];
          da[ai] += wo * b[bi];
          db[bi] += wo * a[ai];
        }
        out[o] = s;
      }
    }
    for (let d = outer.length - 1; d >= 0; d--) {
      if (++idx[d] < outer[d]) break;
      idx[d] = 0;
    }
  }
  return { out, outShape: [...outer, m, n], da, db };
}

/** max |x − y| / max(1, max |y|). */
export function relativeError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`relativeError: lengths ${x.length} and ${y.length}`);
  let err = 0;
  let scale = 1;
  for (let i = 0; i < x.length; i++) {
    err = Math.max(err, Math.abs(x[i] - y[i]));
    scale = Math.max(scale, Math.abs(y[i]));
  }
  return err / scale;
}

/** The transposition/broadcast cases every matMul test runs. */
export function matMulCases(dims: { m: number; k: number; n: number }): MatMulCase[] {
  const { m, k, n } = dims;
  const cases: MatMulCase[] = [];
  const flags: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];
  const batchPairs: [number[], number[]][] = [
    [[], []],
    [[3], [3]],
    [[2, 1], [1, 3]],
    [[4], []],
    [[], [4]],
    [[1], [3]],
  ];
  for (const [ta, tb] of flags) {
    for (const [oa, ob] of batchPairs) {
      cases.push({
        aShape: [...oa, ...(ta ? [k, m] : [m, k])],
        bShape: [...ob, ...(tb ? [n, k] : [k, n])],
        transposeA: ta,
        transposeB: tb,
      });
    }
  }
  return cases;
}

export function caseName(c: MatMulCase): string {
  return `[${c.aShape}]${c.transposeA ? 'ᵀ' : ''} × [${c.bShape}]${c.transposeB ? 'ᵀ' : ''}`;
}
