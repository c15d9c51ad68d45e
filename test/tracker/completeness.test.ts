import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createPolca } from '../../src/tracker/createPolca.js';
import type { PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';
import { quadraticProblem } from '../helpers/quadratic.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function run(secondOrder: 'paper' | 'secant' | 'directional' | 'none', derivatives: 'fast' | 'exact') {
  const q = quadraticProblem();
  const events: PolcaEvent[] = [];
  const thetas = new Map<number, Float32Array>();
  const tracker = createPolca({
    params: [q.theta],
    probe: q.losses,
    every: 2,
    basis: { kind: 'fixed', vectors: q.basis },
    secondOrder,
    derivatives,
  });
  tracker.events$.subscribe((e) => events.push(e));
  const opt = tf.train.sgd(0.3);
  thetas.set(0, q.theta.dataSync().slice() as Float32Array);
  await tracker.step(0);
  for (let s = 1; s <= 8; s++) {
    opt.minimize(() => tf.mean(q.losses()) as tf.Scalar);
    thetas.set(s, q.theta.dataSync().slice() as Float32Array);
    await tracker.step(s);
  }
  await tracker.close();
  opt.dispose();
  q.dispose();
  return { q, events, thetas };
}

describe('POLCA on quadratic losses with a complete shared eigenbasis', () => {
  for (const derivatives of ['exact', 'fast'] as const) {
    for (const secondOrder of ['paper', 'secant', 'directional'] as const) {
      it(`Σ_b POLCA equals the exact loss change for every datapoint (${secondOrder}, ${derivatives})`, async () => {
        const { q, events, thetas } = await run(secondOrder, derivatives);
        const polca = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
        expect(polca).toHaveLength(4);
        for (const e of polca) {
          expect(e.basisIds).toEqual([0, 1, 2, 3, 4, 5]);
          const before = q.losses64(thetas.get(e.fromStep)!);
          const after = q.losses64(thetas.get(e.toStep)!);
          let scale = 0;
          for (let x = 0; x < q.N; x++) scale = Math.max(scale, Math.abs(after[x] - before[x]));
          for (let x = 0; x < q.N; x++) {
            let sum = 0;
            for (const v of e.values) sum += v[x];
            const exact = after[x] - before[x];
            expect(Math.abs(sum - exact)).toBeLessThan(2e-6 * Math.max(scale, 1));
            expect(Math.abs(e.residual[x])).toBeLessThan(2e-6 * Math.max(scale, 1));
          }
          // ⟨b, Δθ⟩ against the host computation.
          const d = thetas.get(e.toStep)!.map((t, i) => t - thetas.get(e.fromStep)![i]);
          e.projections.forEach((p, k) => {
            const want = q.basis[k].reduce((acc, bk, i) => acc + bk * d[i], 0);
            expect(Math.abs(p - want)).toBeLessThan(1e-6);
          });
        }
      });
    }
  }

  it('first order alone leaves the second-order part in the residual', async () => {
    const { events } = await run('none', 'exact');
    const e = events.find((x): x is PolcaIncrementEvent => x.type === 'polca')!;
    const maxResidual = Math.max(...Array.from(e.residual, Math.abs));
    expect(maxResidual).toBeGreaterThan(1e-4);
    e.values.forEach((v, k) => expect(Array.from(v)).toEqual(Array.from(e.firstOrder[k])));
  });
});

describe('curvature estimators against the exact second directional derivative', () => {
  it('directional curvature of the quadratic is a_xj exactly; paper and secant reproduce it', async () => {
    // Along q_j, d²ℓ_x/dε² = a_xj: recover it from the events as 2(value − d·p)/p².
    for (const secondOrder of ['paper', 'secant', 'directional'] as const) {
      const { q, events } = await run(secondOrder, 'exact');
      const e = events.find((x): x is PolcaIncrementEvent => x.type === 'polca')!;
      e.basisIds.forEach((j, k) => {
        const p = e.projections[k];
        if (Math.abs(p) < 1e-3) return;
        for (let x = 0; x < q.N; x++) {
          const lambda = (2 * (e.values[k][x] - e.derivatives[k][x] * p)) / (p * p);
          expect(Math.abs(lambda - q.a[x * q.P + j])).toBeLessThan(2e-2 * q.a[x * q.P + j] + 1e-3);
        }
      });
    }
  });
});
