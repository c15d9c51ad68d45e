import * as tf from '@tensorflow/tfjs';

/**
 * Quadratic per-datapoint losses whose Hessians share eigenvectors:
 * ℓ_x(θ) = ½ Σ_j a_xj (q_jᵀθ − c_xj)², Q orthonormal (rows q_j), a_xj > 0.
 * Hessian of ℓ_x: Qᵀ diag(a_x) Q. Along q_j the loss is an exact parabola
 * with curvature a_xj, so POLCA on the complete basis {q_j} is exact.
 */
export function quadraticProblem(P = 6, N = 10, seed = 3) {
  let s = seed;
  const u = () => {
    s = (s * 48271) % 2147483647;
    return s / 2147483647;
  };
  const q: Float64Array[] = [];
  for (let i = 0; i < P; i++) {
    const v = Float64Array.from({ length: P }, () => u() - 0.5);
    for (let pass = 0; pass < 2; pass++) for (const w of q) {
      let d = 0;
      for (let k = 0; k < P; k++) d += w[k] * v[k];
      for (let k = 0; k < P; k++) v[k] -= d * w[k];
    }
    const n = Math.hypot(...v);
    q.push(v.map((x) => x / n));
  }
  const basis = q.map((v) => Float32Array.from(v));
  const a = Float64Array.from({ length: N * P }, () => Math.fround(0.2 + 2 * u()));
  const c = Float64Array.from({ length: N * P }, () => Math.fround(2 * u() - 1));
  const theta0 = Float32Array.from({ length: P }, () => 2 * u() - 1);
  const Q = tf.tensor2d(basis.flatMap((v) => Array.from(v)), [P, P]);
  const A = tf.tensor2d(Float32Array.from(a), [N, P]);
  const C = tf.tensor2d(Float32Array.from(c), [N, P]);
  const theta = tf.variable(tf.tensor1d(theta0), true, 'theta');
  const losses = (): tf.Tensor1D =>
    tf.tidy(() => {
      const z = tf.reshape(tf.matMul(Q, tf.reshape(theta, [P, 1])), [1, P]);
      return tf.mul(0.5, tf.sum(tf.mul(A, tf.square(tf.sub(z, C))), 1)) as tf.Tensor1D;
    });
  /** ℓ_x(θ) in float64 from θ given as numbers (the float32 basis is the one used). */
  const losses64 = (th: ArrayLike<number>): Float64Array => {
    const out = new Float64Array(N);
    for (let x = 0; x < N; x++) {
      let sum = 0;
      for (let j = 0; j < P; j++) {
        let z = 0;
        for (let k = 0; k < P; k++) z += basis[j][k] * th[k];
        sum += 0.5 * a[x * P + j] * (z - c[x * P + j]) ** 2;
      }
      out[x] = sum;
    }
    return out;
  };
  return { P, N, basis, theta, losses, losses64, a, dispose: () => tf.dispose([Q, A, C, theta]) };
}
