import { describe, expect, it } from 'vitest';
import { from, toArray, lastValueFrom } from 'rxjs';
import { breakTime } from '../../src/analysis/breakthrough.js';
import { BreakthroughDetector, findBreakthroughs, normalCdf, transitions } from '../../src/analysis/onlineDetector.js';
import type { CheckpointEvent, ClustersEvent, PolcaEvent, TransitionEvent } from '../../src/stream/events.js';
import { polcaEvents } from './helpers.js';
import { mulberry32 as rng } from '../helpers/prng.js';

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}
const sig = (t: number, t0: number, w: number) => 1 / (1 + Math.exp((t - t0) / w));

const SPACING = 20;
const T = 201; // steps 0..4000
const DELTA = 100;
const STEPS = Array.from({ length: T }, (_, i) => i * SPACING);
const SETS = 50;
const PER_SET = 100;

interface Synthetic {
  losses: Float32Array[]; // per checkpoint, length N
  planted: number[][]; // per set: planted inflection steps (empty: smooth)
}

/**
 * 50 sets of 100 trajectories. Sets 0–29: one falling sigmoid on top of a
 * slow exponential decay; sets 30–39: two sigmoids; sets 40–49: smooth
 * exponential decays only. Each datapoint has its own amplitude, width,
 * inflection jitter (±10 steps) and Gaussian noise (σ = 0.05).
 */
function synthesize(seed: number): Synthetic {
  const r = rng(seed);
  const planted: number[][] = [];
  const rows: Float64Array[] = [];
  for (let s = 0; s < SETS; s++) {
    const p: number[] = [];
    if (s < 30) p.push(300 + Math.round(r() * 3200));
    else if (s < 40) {
      const a = 300 + Math.round(r() * 1500);
      p.push(a, a + 700 + Math.round(r() * 1000));
    }
    planted.push(p);
    const tau = 200 + r() * 2000;
    for (let k = 0; k < PER_SET; k++) {
      const row = new Float64Array(T);
      const base = 0.5 + r();
      const amps = p.map(() => 0.5 + r());
      const widths = p.map(() => 5 + 15 * r());
      const jit = p.map(() => (r() - 0.5) * 20);
      for (let i = 0; i < T; i++) {
        const t = STEPS[i];
        let v = 0.2 + base * Math.exp(-t / tau) + 0.05 * gauss(r);
        p.forEach((t0, j) => (v += amps[j] * sig(t, t0 + jit[j], widths[j])));
        row[i] = v;
      }
      rows.push(row);
    }
  }
  const losses = STEPS.map((_, i) => Float32Array.from(rows, (row) => row[i]));
  return { losses, planted };
}

function checkpoint(step: number, losses: Float32Array): CheckpointEvent {
  return { type: 'checkpoint', time: 0, step, losses, meanLoss: NaN, nonFinite: 0, seconds: 0 };
}

function setIndices(s: number): number[] {
  return Array.from({ length: PER_SET }, (_, k) => s * PER_SET + k);
}

function meanCurve(data: Synthetic, s: number): number[] {
  // Mean in float64 over the float32 losses the events carry.
  return data.losses.map((col) => setIndices(s).reduce((acc, i) => acc + col[i], 0) / PER_SET);
}

describe('BreakthroughDetector on named datapoint sets', () => {
  const data7 = synthesize(7);

  // seed 15 holds a noise excursion that passed an earlier, laxer noise estimate
  it.each([7, 15])('finds every planted breakthrough within Δ and raises no false alarm on smooth curves (seed %i)', (seed) => {
    const data = seed === 7 ? data7 : synthesize(seed);
    expect(data.losses[0].length).toBe(5000); // 5000 trajectories per checkpoint
    const det = new BreakthroughDetector({
      delta: DELTA,
      sets: Array.from({ length: SETS }, (_, s) => ({ name: `set${s}`, indices: setIndices(s) })),
      now: () => 0,
    });
    const found: TransitionEvent[] = [];
    STEPS.forEach((step, i) => found.push(...det.push(checkpoint(step, data.losses[i]))));

    let planted = 0;
    let maxErr = 0;
    for (let s = 0; s < SETS; s++) {
      const mine = found.filter((t) => t.target.kind === 'datapoints' && t.target.name === `set${s}`);
      // one detection per planted breakthrough, nothing on the smooth sets
      expect(mine.length, `set ${s}`).toBe(data.planted[s].length);
      for (const t0 of data.planted[s]) {
        planted++;
        const hit = mine.find((t) => Math.abs(t.step - t0) <= DELTA);
        expect(hit, `set ${s} planted at ${t0}, got ${mine.map((t) => t.step)}`).toBeDefined();
        maxErr = Math.max(maxErr, Math.abs(hit!.step - t0));
        // reported as soon as t + Δ and confirm = ⌈5/2⌉ = 3 more checkpoints were seen,
        // but not before the noise estimate has minNoise = 30 samples (32 checkpoints: step 620)
        expect(hit!.detectedAt).toBe(Math.max(hit!.step + DELTA + 3 * SPACING, 31 * SPACING));
        expect(hit!.magnitude).toBeGreaterThan(0);
        expect(hit!.confidence).toBeGreaterThan(0.5);
        expect(hit!.confidence).toBeLessThanOrEqual(1);
      }
    }
    expect(planted).toBe(50);
    expect(maxErr).toBeLessThanOrEqual(DELTA);
  });

  it('reports the same peaks online as post hoc, and the single-peak sets at their eq. (6) break', () => {
    for (let s = 0; s < 30; s++) {
      const f = meanCurve(data7, s);
      const post = findBreakthroughs(f, STEPS, { delta: DELTA });
      expect(post.length).toBe(1);
      // With one breakthrough, the significant peak is the global argmax of eq. (6).
      expect(post[0].step).toBe(breakTime(f, STEPS, DELTA));
    }
  });

  it('misses nothing when Δ is given in rounded form and stays quiet on pure noise', () => {
    const r = rng(3);
    const noise = STEPS.map(() => 1 + 0.01 * gauss(r));
    expect(findBreakthroughs(noise, STEPS, { delta: 110, round: true })).toEqual([]);
    expect(() => findBreakthroughs(noise, STEPS, { delta: 110 })).toThrow(/not a positive multiple/);
  });
});

describe('BreakthroughDetector on cluster medians', () => {
  it('detects planted breakthroughs from re-clustering events with stable ids', async () => {
    const data = synthesize(11);
    const events: PolcaEvent[] = [];
    const M = 10;
    const curves = Array.from({ length: SETS }, (_, s) => meanCurve(data, s));
    for (let upto = M; upto <= T; upto += M) {
      const steps = Int32Array.from(STEPS.slice(0, upto));
      const clusters = Array.from({ length: SETS }, (_, s) => {
        const f = curves[s].slice(0, upto); // the "median" of a cluster: its mean curve here
        return {
          id: 100 + s,
          members: Int32Array.from(setIndices(s)),
          medoid: s * PER_SET,
          median: Float64Array.from(f),
          q25: Float64Array.from(f),
          q75: Float64Array.from(f),
        };
      });
      const ev: ClustersEvent = { type: 'clusters', time: 0, step: steps[upto - 1], kind: 'polca', basisId: 4, steps, clusters, dropped: 0, outliers: 0 };
      events.push(ev);
    }
    // a clusters event of another kind is ignored
    events.push({ ...(events[events.length - 1] as ClustersEvent), kind: 'loss' });
    const out = await lastValueFrom(from(events).pipe(transitions({ delta: DELTA, now: () => 0 }), toArray()));
    // Watching several kinds: the same curves under kind loss (basis −1 there) give the same breakthroughs for it;
    // without a Δ the shared default, 5 checkpoint intervals, is used.
    const asLoss = events.slice(0, -1).map((e) => ({ ...(e as ClustersEvent), kind: 'loss' as const, basisId: -1 }));
    const both = new BreakthroughDetector({ clusterKinds: ['polca', 'loss'], now: () => 0 });
    const outBoth = [...events.slice(0, -1), ...asLoss].flatMap((e) => both.push(e));
    expect(DELTA).toBe(5 * SPACING);
    expect(outBoth.filter((t) => t.target.kind === 'cluster' && t.target.basisId === 4).map((t) => t.step)).toEqual(out.map((t) => t.step));
    expect(outBoth.filter((t) => t.target.kind === 'cluster' && t.target.basisId === -1).map((t) => t.step)).toEqual(out.map((t) => t.step));
    for (let s = 0; s < SETS; s++) {
      const mine = out.filter((t) => t.target.kind === 'cluster' && t.target.clusterId === 100 + s && t.target.basisId === 4);
      expect(mine.length, `cluster ${s}`).toBe(data.planted[s].length);
      for (const t0 of data.planted[s]) {
        const hit = mine.find((t) => Math.abs(t.step - t0) <= DELTA)!;
        expect(hit).toBeDefined();
        // seen at the first re-clustering after t + Δ + 3 checkpoints (and after step 620, see above)
        const ready = Math.max(hit.step + DELTA + 3 * SPACING, 31 * SPACING);
        expect(hit.detectedAt).toBeGreaterThanOrEqual(ready);
        expect(hit.detectedAt - ready).toBeLessThan(M * SPACING);
      }
    }
  });
});

describe('detector validation and helpers', () => {
  it('validates options', () => {
    expect(() => new BreakthroughDetector({ delta: -1 })).toThrow(/BreakthroughDetector: delta=-1|delta must be a positive/);
    expect(() => new BreakthroughDetector({ delta: 100, z: 0 })).toThrow(/option 'z'/);
    expect(() => new BreakthroughDetector({ delta: 100, direction: 'up' as never })).toThrow(/option 'direction'/);
    expect(() => new BreakthroughDetector({ delta: 100, sets: [{ name: 'a', indices: [] }] })).toThrow(/indices is empty/);
    const det = new BreakthroughDetector({ delta: 100, sets: [{ name: 'a', indices: [5] }] });
    expect(() => det.push(checkpoint(0, new Float32Array(3)))).toThrow(/holds index 5 but the probe has 3/);
  });

  it('normalCdf matches known values', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959963985)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-1)).toBeCloseTo(0.158655254, 6);
  });

  it('direction "min" finds where a fall starts', () => {
    const f = STEPS.map((t) => sig(t, 2000, 5));
    const [b] = findBreakthroughs(f, STEPS, { delta: DELTA, direction: 'min' });
    expect(b.magnitude).toBeLessThan(0);
    expect(b.step).toBeLessThan(2000);
    expect(2000 - b.step).toBeLessThanOrEqual(DELTA);
  });
});

describe('BreakthroughDetector on sets along a basis vector (polca events)', () => {
  it('watches the set’s mean projected loss, starting when the vector appears', () => {
    const r = rng(5);
    // 3 sets of 50 datapoints; basis vector 7 appears at step 200 and is tracked for 90 intervals
    // of 20 steps; along it set k drops by ≈1 at step 700 + 500k
    const L = Array.from({ length: 150 }, (_, x) => {
      const t0 = 700 + 500 * Math.floor(x / 50);
      const s = (t: number) => 1 / (1 + Math.exp((t - t0) / 10));
      return Array.from({ length: 91 }, (_, j) => (j === 0 ? 0 : s(200 + j * 20) - s(200) + 0.01 * gauss(r)));
    });
    const events = polcaEvents([L], [7], 20, 200);
    const det = new BreakthroughDetector({
      delta: DELTA,
      sets: [0, 1, 2].map((k) => ({ name: `b7-set${k}`, basisId: 7, indices: Array.from({ length: 50 }, (_, i) => 50 * k + i) })),
    });
    const found = events.flatMap((e) => det.push(e));
    expect(found.map((t) => (t.target.kind === 'datapoints' ? t.target.name : ''))).toEqual(['b7-set0', 'b7-set1', 'b7-set2']);
    found.forEach((t, k) => expect(Math.abs(t.step - (700 + 500 * k))).toBeLessThanOrEqual(DELTA));
    // the curve is the running mean of the increments: compare with the mean of L at the break
    const post = findBreakthroughs(
      Array.from({ length: 91 }, (_, j) => L.slice(0, 50).reduce((a, row) => a + Math.fround(row[j]), 0) / 50),
      Array.from({ length: 91 }, (_, j) => 200 + 20 * j),
      { delta: DELTA },
    );
    expect(post.map((b) => b.step)).toEqual([found[0].step]);
  });

  it('builds a set’s curve along b from live intervals only (filled-in ones lie in its past)', () => {
    const det = new BreakthroughDetector({ delta: DELTA, sets: [{ name: 's', basisId: 0, indices: [0] }] });
    const L = [Array.from({ length: 41 }, (_, j) => -0.01 * j)];
    const events = polcaEvents([L], [0]);
    for (const e of events.slice(0, 20)) det.push(e);
    // A filled interval (of an earlier step) would break the uniform spacing of the curve if it were appended.
    expect(() => det.push({ ...events[3], filled: true })).not.toThrow();
    for (const e of events.slice(20)) det.push(e);
  });

  it('reads set losses from polca events when there are no checkpoint events', () => {
    const det = new BreakthroughDetector({ delta: DELTA, sets: [{ name: 'all', indices: [0, 1] }] });
    const ev = (j: number, before: number, after: number) => ({
      type: 'polca' as const, time: 0, fromStep: 20 * j, toStep: 20 * (j + 1), basisIds: [], projections: [], values: [], firstOrder: [], derivatives: [],
      lossBefore: new Float32Array([before, before]), lossAfter: new Float32Array([after, after]), residual: new Float32Array(2), secondOrder: 'none' as const, nonFinite: 0,
    });
    const f = (t: number) => 2 - 1 / (1 + Math.exp(-(t - 1200) / 10));
    const found = Array.from({ length: 100 }, (_, j) => det.push(ev(j, f(20 * j), f(20 * (j + 1))))).flat();
    expect(found.length).toBe(1);
    expect(Math.abs(found[0].step - 1200)).toBeLessThanOrEqual(DELTA);
  });
});
