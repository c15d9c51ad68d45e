import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { pathClosure, stepDirections } from '../../../examples/arithmetic/pathClosure.js';

// Least squares, ℓ_x(θ) = ½(a_x·θ − y_x)²: quadratic, so the trapezoid rule
// along each straight step is exact, and ∇ℓ_x(θ) = (a_x·θ − y_x) a_x by hand.
const A = [
  [1, 2, -1],
  [0.5, -1, 3],
  [-2, 0.25, 1],
  [1.5, 1, 0.5],
];
const Y = [1, -2, 0.5, 3];
const lossAt = (t: ArrayLike<number>, x: number) => 0.5 * (A[x].reduce((s, a, i) => s + a * t[i], 0) - Y[x]) ** 2;
const gradAt = (t: ArrayLike<number>, x: number) => {
  const r = A[x].reduce((s, a, i) => s + a * t[i], 0) - Y[x];
  return A[x].map((a) => r * a);
};
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('pathClosure', () => {
  let w: tf.Variable;
  const probe = () => tf.tidy(() => tf.mul(0.5, tf.square(tf.sub(tf.squeeze(tf.matMul(tf.tensor2d(A), tf.reshape(w, [3, 1])), [1]), tf.tensor1d(Y)))) as tf.Tensor1D);
  beforeAll(async () => {
    await tf.setBackend('cpu');
    w = tf.variable(tf.zeros([3]));
  });

  it('closes the loss change along a bent path with the whole steps; the chord part equals a float64 hand computation', () => {
    const path = [
      [0.1, -0.2, 0.3],
      [0.6, -0.1, 0.2],
      [0.5, 0.7, -0.4],
      [1.2, 0.4, 0.1],
    ].map((t) => Float32Array.from(t));
    const before = tf.memory().numTensors;
    const extra = [[1, 0, 0], [0, 0.6, 0.8]];
    const s = pathClosure(path, [w], probe, extra);
    expect(tf.memory().numTensors).toBe(before);
    const first = path[0];
    const last = path.at(-1)!;
    const chordLength = Math.sqrt(last.reduce((q, v, i) => q + (v - first[i]) ** 2, 0));
    const u = Array.from(last, (v, i) => (v - first[i]) / chordLength);
    let length = 0;
    let along2 = 0;
    let total2 = 0;
    for (let k = 0; k + 1 < path.length; k++) {
      const d = Array.from(path[k + 1], (v, i) => v - path[k][i]);
      length += Math.sqrt(dot(d, d));
      along2 += dot(d, u) ** 2;
      total2 += dot(d, d);
    }
    for (let x = 0; x < A.length; x++) {
      const dl = lossAt(last, x) - lossAt(first, x);
      expect(s.lossChange[x]).toBeCloseTo(dl, 4);
      expect(s.full[x]).toBeCloseTo(dl, 4);
      let chord = 0;
      for (let k = 0; k + 1 < path.length; k++) {
        const d = Array.from(path[k + 1], (v, i) => v - path[k][i]);
        chord += dot(d, u) * 0.5 * (dot(gradAt(path[k], x), u) + dot(gradAt(path[k + 1], x), u));
      }
      expect(s.chord[x]).toBeCloseTo(chord, 4);
      extra.forEach((v, j) => {
        let a = 0;
        for (let k = 0; k + 1 < path.length; k++) {
          const d = Array.from(path[k + 1], (q, i) => q - path[k][i]);
          a += dot(d, v) * 0.5 * (dot(gradAt(path[k], x), v) + dot(gradAt(path[k + 1], x), v));
        }
        expect(s.along[j][x]).toBeCloseTo(a, 4);
      });
      // A bent path: the chord alone does not close the change.
      expect(Math.abs(s.chord[x] - dl)).toBeGreaterThan(1e-2);
    }
    expect(s.straightness).toBeCloseTo(chordLength / length, 6);
    expect(s.chordShare).toBeCloseTo(along2 / total2, 6);
    extra.forEach((v, j) => {
      let q = 0;
      for (let k = 0; k + 1 < path.length; k++) q += dot(Array.from(path[k + 1], (p, i) => p - path[k][i]), v) ** 2;
      expect(s.alongShare[j]).toBeCloseTo(q / total2, 6);
    });
    expect(s.straightness).toBeLessThan(0.9);
    expect(Array.from(w.dataSync())).toEqual(Array.from(last));
  });

  it('on a straight path the chord holds everything', () => {
    const a = [0.2, -0.5, 0.1];
    const dir = [0.3, 0.4, -0.2];
    const path = [0, 0.5, 1.5, 2].map((c) => Float32Array.from(a, (v, i) => v + c * dir[i]));
    const s = pathClosure(path, [w], probe);
    expect(s.straightness).toBeCloseTo(1, 5);
    expect(s.chordShare).toBeCloseTo(1, 5);
    for (let x = 0; x < A.length; x++) {
      expect(s.chord[x]).toBeCloseTo(s.lossChange[x], 4);
      expect(s.full[x]).toBeCloseTo(s.lossChange[x], 4);
    }
  });

  it('stepDirections: the principal directions of steps in a plane, against the 2 × 2 eigenproblem by hand', async () => {
    // Steps (1,0,0), (1,1,0), (0,2,0): Σ d dᵀ restricted to the plane is [[2, 1], [1, 5]].
    const path = [[0, 0, 5], [1, 0, 5], [2, 1, 5], [2, 3, 5]].map((t) => Float32Array.from(t));
    const { vectors, shares } = await stepDirections(path, 2);
    const [a, b, c] = [2, 1, 5];
    const top = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
    const low = (a + c) / 2 - Math.sqrt(((a - c) / 2) ** 2 + b * b);
    expect(shares[0]).toBeCloseTo(top / 7, 8);
    expect(shares[1]).toBeCloseTo(low / 7, 8);
    // Eigenvector of the top value: (b, top − a), normalised, up to sign.
    const e = [b, top - a];
    const ne = Math.hypot(e[0], e[1]);
    expect(Math.abs(vectors[0][0] * e[0] + vectors[0][1] * e[1]) / ne).toBeCloseTo(1, 8);
    expect(vectors[0][2]).toBeCloseTo(0, 8);
    await expect(stepDirections(path, 4)).rejects.toThrow(/k must be an integer in \[1, 3\] \(the steps\), got 4/);
  });

  it('refuses a path of one point, one that ends where it starts, and θ of the wrong length', () => {
    expect(() => pathClosure([new Float32Array(3)], [w], probe)).toThrow(/at least two θ, got 1/);
    const p = Float32Array.from([1, 2, 3]);
    expect(() => pathClosure([p, Float32Array.from([0, 0, 0]), p], [w], probe)).toThrow(/ends where it starts/);
    expect(() => pathClosure([new Float32Array(4), Float32Array.from([1, 0, 0, 0])], [w], probe)).toThrow(/θ 0 has 4 values, the parameters 3/);
  });
});
