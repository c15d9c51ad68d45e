/**
 * Online breakthrough detection on cluster median curves and on named sets
 * of datapoints (METHOD.md §4): the acceleration of eq. (6), as defined once
 * in `breakthrough.ts` ({@link accelerationAt}), scanned for significant
 * local maxima as the curve grows.
 *
 * @packageDocumentation
 */
import { fail, nonNegativeNumber, oneOf, positiveInt, positiveNumber } from '../errors/validate.js';
import type { OperatorFunction } from 'rxjs';
import { pushOperator } from './pushOperator.js';
import type { PolcaEvent, TrajectoryKind, TransitionEvent } from '../stream/events.js';
import { accelerationAt, checkpointSpacing, deltaToOffset } from './breakthrough.js';
import { DEFAULT_DELTA_INTERVALS } from './breakParameters.js';

/** Options of {@link findBreakthroughs} and the online detector. */
export interface PeakOptions {
  /**
   * Δ in steps; must be a multiple of the checkpoint spacing unless `round`.
   * Default {@link DEFAULT_DELTA_INTERVALS} checkpoint intervals (the one
   * default `polca clusters` and `polca report` use too).
   */
  delta?: number;
  /** Round Δ to the nearest multiple of the spacing. Default false. */
  round?: boolean;
  /**
   * Checkpoints after a candidate that must be observed (beyond its window
   * t + Δ) before it is declared a maximum. Default ⌈d/2⌉ where d = Δ/spacing.
   */
  confirm?: number;
  /** Significance: prominence ≥ z · √(20/6) · σ̂ (σ̂ the robust noise scale of one second difference). Default 8. */
  z?: number;
  /** Prominence must also reach this fraction of the curve's range (max − min). Default 0.1. */
  minRelative?: number;
  /**
   * Lag-1 second differences the noise estimate needs: nothing is decided
   * before the curve has minNoise + 2 checkpoints, and early candidates use
   * the first minNoise of them. A MAD from few samples is itself noisy and let
   * single outlying points pass as breakthroughs. Default 30.
   */
  minNoise?: number;
  /**
   * `'max'`: peaks of the second difference, eq. (6) as written (for a falling
   * loss, where the drop ends); `'min'`: troughs (where a fall starts);
   * `'both'`. Default `'max'`.
   */
  direction?: 'max' | 'min' | 'both';
}

/** One breakthrough found on a curve. */
export interface Breakthrough {
  /** Checkpoint index and step of the breakthrough. */
  index: number;
  step: number;
  /** Second difference at lag Δ there (signed). */
  magnitude: number;
  /** Prominence over the surrounding window, in the curve's units. */
  prominence: number;
  /** Prominence divided by its noise scale √(20/6) · σ̂ (see {@link findBreakthroughs}). */
  score: number;
  /** Φ(score − z): 0.5 at the detection threshold, → 1 for clear breakthroughs. */
  confidence: number;
}

interface Resolved {
  minNoise: number;
  d: number;
  confirm: number;
  z: number;
  minRelative: number;
  signs: number[];
}

function resolve(options: PeakOptions, spacing: number, fn: string): Resolved {
  const d = options.delta === undefined ? DEFAULT_DELTA_INTERVALS : deltaToOffset(spacing, options.delta, { round: options.round }, fn);
  const confirm = positiveInt(fn, 'confirm', options.confirm ?? Math.ceil(d / 2));
  const z = positiveNumber(fn, 'z', options.z ?? 8);
  const minRelative = nonNegativeNumber(fn, 'minRelative', options.minRelative ?? 0.1);
  const minNoise = positiveInt(fn, 'minNoise', options.minNoise ?? 30);
  const direction = oneOf(fn, 'direction', options.direction ?? 'max', ['max', 'min', 'both'] as const);
  const signs = direction === 'max' ? [1] : direction === 'min' ? [-1] : [1, -1];
  return { d, confirm, z, minRelative, signs, minNoise };
}

/**
 * Standard normal CDF (Abramowitz & Stegun 7.1.26 for erf, |error| < 1.5e-7).
 *
 * @example
 * ```ts
 * normalCdf(1.96); // ≈ 0.975
 * ```
 */
export function normalCdf(x: number): number {
  const s = x / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * Math.abs(s));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-s * s);
  return 0.5 * (1 + (s >= 0 ? y : -y));
}

/** √(20/6): noise sd of a difference of two lag-d second differences d apart, in units of one. */
const PROMINENCE_NOISE = Math.sqrt(20 / 6);

/** Lag-1 second differences (at least) before a candidate that enter its noise estimate. */
const NOISE_WINDOW = 50;

function robustScale(values: number[]): number {
  if (values.length === 0) return 0;
  const v = values.slice().sort((a, b) => a - b);
  const med = v[Math.floor(v.length / 2)];
  const dev = v.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  return 1.4826 * dev[Math.floor(dev.length / 2)];
}

/**
 * Decides the candidates `from ≤ i` whose confirmation window is observed.
 * Returns the breakthroughs and the first undecided index.
 */
function scan(
  f: ArrayLike<number>,
  steps: ArrayLike<number>,
  r: Resolved,
  from: number,
  bounds?: { lo: number; hi: number },
): { found: Breakthrough[]; next: number } {
  const T = f.length;
  const { d, confirm: c } = r;
  const lastValid = T - d - 1;
  const found: Breakthrough[] = [];
  const start = Math.max(from, d + 1);
  const acc = (i: number) => accelerationAt(f, i, d);
  const { lo, hi } = bounds ?? extent(f);
  const range = hi - lo;
  let i = start;
  // Nothing is decided before the noise estimate has r.minNoise samples.
  for (; i + c <= lastValid && T - 2 >= r.minNoise; i++) {
    for (const sign of r.signs) {
      const ai = sign * acc(i);
      if (!Number.isFinite(ai)) continue;
      let isMax = true;
      let minLeft = Infinity;
      for (let j = Math.max(d, i - d); j < i && isMax; j++) {
        const aj = sign * acc(j);
        if (!(ai > aj)) isMax = false;
        if (aj < minLeft) minLeft = aj;
      }
      for (let j = i + 1; j <= i + c && isMax; j++) {
        const aj = sign * acc(j);
        if (!(ai >= aj)) isMax = false;
      }
      if (!isMax || !(range > 0)) continue;
      // Rise over the preceding Δ: the right side only confirms the maximum, so
      // that a short confirmation window does not shrink the prominence.
      const prominence = ai - minLeft;
      if (prominence < r.minRelative * range) continue;
      const lag1: number[] = [];
      const jHi = Math.min(T - 2, Math.max(i + d + c, r.minNoise));
      for (let j = Math.max(1, i - Math.max(4 * d, NOISE_WINDOW)); j <= jHi; j++) lag1.push(accelerationAt(f, j, 1));
      // Noise sd of a(i) − a(i−d) = f(i+d) − 3f(i) + 3f(i−d) − f(i−2d): √20 σ, against √6 σ for one a.
      const sigma = PROMINENCE_NOISE * Math.max(robustScale(lag1), 1e-12 * Math.max(range, Math.abs(hi), Math.abs(lo)));
      const score = prominence / sigma;
      if (score < r.z) continue;
      found.push({ index: i, step: steps[i], magnitude: sign * ai, prominence, score, confidence: normalCdf(score - r.z) });
    }
  }
  return { found, next: Math.max(i, start) };
}

function extent(f: ArrayLike<number>): { lo: number; hi: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < f.length; i++) {
    if (f[i] < lo) lo = f[i];
    if (f[i] > hi) hi = f[i];
  }
  return { lo, hi };
}

/**
 * All significant breakthroughs of one curve (post hoc): indices i whose lag-Δ
 * second difference a(i) = f(i+d) − 2f(i) + f(i−d) is a strict maximum over
 * the d values before it and a maximum over the `confirm` values after it,
 * with prominence (a(i) minus the smallest a over the d values before it: how
 * far the acceleration rose to reach the peak) at least z · √(20/6) · σ̂
 * and at least `minRelative` of the curve's range. σ̂ is 1.4826 · MAD of the
 * lag-1 second differences from max(4d, 50) checkpoints before i up to the
 * newest one in its window (at least the first `minNoise`): for white noise
 * of variance σ² on f, lag-1 and lag-d second differences both have variance
 * 6σ², so σ̂ measures the noise of one a(i) while being barely touched by a
 * smooth trend; a difference a(i) − a(i−d) has variance 20σ², hence the
 * factor √(20/6).
 *
 * @example
 * ```ts
 * const steps = Array.from({ length: 100 }, (_, i) => 20 * i);
 * const f = steps.map((t) => 1 / (1 + Math.exp((t - 1000) / 20)));
 * findBreakthroughs(f, steps, { delta: 100 })[0].step; // ≈ 1000 + 100/2
 * ```
 */
export function findBreakthroughs(f: ArrayLike<number>, steps: ArrayLike<number>, options: PeakOptions): Breakthrough[] {
  if (f.length !== steps.length) throw new RangeError(`findBreakthroughs: f has ${f.length} values but steps has ${steps.length}`);
  const r = resolve(options, checkpointSpacing(steps, 'findBreakthroughs'), 'findBreakthroughs');
  return scan(f, steps, r, 0).found;
}

/** A named set of datapoints whose mean curve is watched. */
export interface DatapointSet {
  /** Name reported in the transition's target. */
  name: string;
  /** Datapoint indices. */
  indices: ArrayLike<number>;
  /**
   * Watch the set's mean projected loss along this basis vector (cumulative
   * `values` of polca events) instead of its mean exact loss (default).
   */
  basisId?: number;
}

/** Options of {@link BreakthroughDetector}. */
export interface BreakthroughDetectorOptions extends PeakOptions {
  /** Named datapoint sets to watch. */
  sets?: readonly DatapointSet[];
  /** Only `clusters` events of this kind are watched. Default `'polca'`; see `clusterKinds`. */
  clusterKind?: TrajectoryKind;
  /**
   * Only `clusters` events of these kinds are watched (overrides
   * `clusterKind`). Cluster ids must then be unique per basis vector across
   * the kinds, as {@link ClusterTracker} makes them, since a transition names
   * a cluster by basis vector and id only.
   */
  clusterKinds?: readonly TrajectoryKind[];
  /** Clock for event time stamps. Default `Date.now`. */
  now?: () => number;
}

interface Curve {
  steps: number[];
  values: number[];
  next: number;
  reported: number[];
  lo: number;
  hi: number;
  resolved?: Resolved;
}

function emptyCurve(): Curve {
  return { steps: [], values: [], next: 0, reported: [], lo: Infinity, hi: -Infinity };
}

/**
 * Online breakthrough detector. It watches (a) the median curve of every
 * cluster in `clusters` events (each event replaces the cluster's curve, which
 * is then rescanned; breakthroughs within Δ of one already reported for the
 * same cluster id are not repeated), and (b) the mean curve of each named
 * datapoint set, extended at every checkpoint. A breakthrough at step t is
 * reported as soon as the window t + Δ and `confirm` further checkpoints are
 * observed and it passes the test of {@link findBreakthroughs}; `detectedAt`
 * is the last step seen then, so detectedAt − t = Δ + confirm · spacing for
 * datapoint sets (plus the wait for the next re-clustering for clusters),
 * except in the first minNoise + 2 checkpoints, which are decided together
 * once the noise estimate has enough samples. The `minRelative` test uses
 * the range of the curve observed so far, so it can be laxer online than on
 * the finished curve.
 *
 * @example
 * ```ts
 * const det = new BreakthroughDetector({ delta: 100, sets: [{ name: 'carries', indices: carryIdx }] });
 * for (const e of events) for (const t of det.push(e)) console.log(t.step, t.magnitude);
 * ```
 */
export class BreakthroughDetector {
  private readonly options: PeakOptions;
  private readonly sets: { set: DatapointSet; idx: Int32Array; curve: Curve; sum: number }[];
  private readonly clusterKinds: ReadonlySet<TrajectoryKind>;
  private readonly now: () => number;
  private readonly clusters = new Map<string, Curve>();

  constructor(options: BreakthroughDetectorOptions) {
    const fn = 'BreakthroughDetector';
    // Validates everything but the Δ/spacing ratio, which is checked per curve once its spacing is known.
    resolve(options, options.delta ?? 1, fn);
    this.options = {
      delta: options.delta,
      round: options.round,
      confirm: options.confirm,
      z: options.z,
      minRelative: options.minRelative,
      minNoise: options.minNoise,
      direction: options.direction,
    };
    this.clusterKinds = new Set(options.clusterKinds ?? [options.clusterKind ?? 'polca']);
    if (this.clusterKinds.size === 0) fail(fn, 'clusterKinds', 'a non-empty list of trajectory kinds', options.clusterKinds);
    this.now = options.now ?? Date.now;
    const names = new Set<string>();
    this.sets = (options.sets ?? []).map((set) => {
      if (names.has(set.name)) throw new RangeError(`${fn}: options.sets has the name ${JSON.stringify(set.name)} twice`);
      names.add(set.name);
      if (set.indices.length === 0) throw new RangeError(`${fn}: options.sets[${JSON.stringify(set.name)}].indices is empty`);
      const idx = Int32Array.from(set.indices as ArrayLike<number>);
      for (const i of idx) {
        if (!(i >= 0)) throw new RangeError(`${fn}: options.sets[${JSON.stringify(set.name)}].indices holds ${i}`);
      }
      return { set, idx, curve: emptyCurve(), sum: 0 };
    });
  }

  /** Consumes one event; returns the transitions it revealed. */
  push(event: PolcaEvent): TransitionEvent[] {
    const out: TransitionEvent[] = [];
    if (event.type === 'clusters') {
      if (!this.clusterKinds.has(event.kind)) return out;
      for (const c of event.clusters) {
        const key = `${event.kind}:${event.basisId}:${c.id}`;
        let curve = this.clusters.get(key);
        if (!curve) this.clusters.set(key, (curve = emptyCurve()));
        curve.steps = Array.from(event.steps);
        curve.values = Array.from(c.median);
        const { lo, hi } = extent(curve.values);
        curve.lo = lo;
        curve.hi = hi;
        curve.next = 0;
        curve.resolved = undefined;
        if (curve.steps.length >= 2) checkpointSpacing(curve.steps, 'BreakthroughDetector');
        this.advance(curve, event.step, { kind: 'cluster', basisId: event.basisId, clusterId: c.id }, out);
      }
    } else if (event.type === 'checkpoint') {
      for (const s of this.sets) if (s.set.basisId === undefined) this.appendLoss(s, event.step, event.losses, out);
    } else if (event.type === 'polca') {
      for (const s of this.sets) {
        if (s.set.basisId === undefined) {
          this.appendLoss(s, event.fromStep, event.lossBefore, out);
          this.appendLoss(s, event.toStep, event.lossAfter, out);
          continue;
        }
        // A filled-in interval lies in the past of the curve; the set's curve along b is built from live intervals.
        const k = event.filled ? -1 : event.basisIds.indexOf(s.set.basisId);
        if (k < 0) continue;
        const values = event.values[k];
        if (s.curve.steps.length === 0) this.appendValue(s, event.fromStep, 0, out);
        let inc = 0;
        for (const i of s.idx) inc += values[i];
        s.sum += inc / s.idx.length;
        this.appendValue(s, event.toStep, s.sum, out);
      }
    }
    return out;
  }

  private appendLoss(s: { idx: Int32Array; curve: Curve; set: DatapointSet }, step: number, losses: ArrayLike<number>, out: TransitionEvent[]): void {
    const c = s.curve;
    if (c.steps.length > 0 && step <= c.steps[c.steps.length - 1]) return;
    let sum = 0;
    for (const i of s.idx) {
      if (i >= losses.length) {
        throw new RangeError(`BreakthroughDetector.push: set ${JSON.stringify(s.set.name)} holds index ${i} but the probe has ${losses.length} datapoints`);
      }
      sum += losses[i];
    }
    this.appendValue(s, step, sum / s.idx.length, out);
  }

  private appendValue(s: { curve: Curve; set: DatapointSet }, step: number, value: number, out: TransitionEvent[]): void {
    const c = s.curve;
    const T = c.steps.length;
    if (T >= 2) {
      const spacing = c.steps[1] - c.steps[0];
      const gap = step - c.steps[T - 1];
      if (Math.abs(gap - spacing) > 1e-9 * spacing) {
        throw new RangeError(
          `BreakthroughDetector.push: set ${JSON.stringify(s.set.name)} needs uniformly spaced checkpoints (${spacing}), got a gap of ${gap} at step ${step}`,
        );
      }
    }
    c.steps.push(step);
    c.values.push(value);
    if (value < c.lo) c.lo = value;
    if (value > c.hi) c.hi = value;
    this.advance(c, step, { kind: 'datapoints', name: s.set.name }, out);
  }

  private advance(curve: Curve, detectedAt: number, target: TransitionEvent['target'], out: TransitionEvent[]): void {
    if (curve.steps.length < 2) return;
    if (!curve.resolved) {
      curve.resolved = resolve(this.options, curve.steps[1] - curve.steps[0], 'BreakthroughDetector');
    }
    const spacing = curve.steps[1] - curve.steps[0];
    const r = curve.resolved;
    const { found, next } = scan(curve.values, curve.steps, r, curve.next, curve);
    curve.next = next;
    for (const b of found) {
      if (curve.reported.some((s) => Math.abs(s - b.step) <= r.d * spacing)) continue;
      curve.reported.push(b.step);
      out.push({
        type: 'transition',
        time: this.now(),
        step: b.step,
        detectedAt,
        target,
        magnitude: b.magnitude,
        confidence: b.confidence,
      });
    }
  }
}

/**
 * RxJS operator: the transitions a {@link BreakthroughDetector} finds in a
 * stream of events (feed it `clusters` events, for example merged from
 * {@link clusterEvents}, and/or checkpoint and polca events for named sets).
 *
 * @example
 * ```ts
 * merge(events$, events$.pipe(clusterEvents({ every: 10 })))
 *   .pipe(transitions({ delta: 100 }))
 *   .subscribe((t) => console.log(t.step));
 * ```
 */
export function transitions(options: BreakthroughDetectorOptions): OperatorFunction<PolcaEvent, TransitionEvent> {
  return pushOperator(() => new BreakthroughDetector(options));
}
