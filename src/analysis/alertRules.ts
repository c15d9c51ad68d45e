/**
 * Alert rules on the training signal: loss spikes, stalled loss, non-finite
 * values.
 *
 * @packageDocumentation
 */
import { nonNegativeNumber, oneOf, positiveInt, positiveNumber } from '../errors/validate.js';
import type { OperatorFunction } from 'rxjs';
import { pushOperator } from './pushOperator.js';
import type { AlertEvent, PolcaEvent } from '../stream/events.js';

/** Options of the loss-spike rule. */
export interface SpikeOptions {
  /** Number of previous values forming the running baseline. Default 50. */
  window?: number;
  /** Values needed before the rule can fire. Default 10. */
  warmup?: number;
  /** Robust standard deviations above the median that count as a spike. Default 6. */
  threshold?: number;
  /** The jump must also exceed this fraction of |median| (guards against a near-zero spread). Default 0.1. */
  minRelative?: number;
}

/** Options of the stalled-loss rule. */
export interface StallOptions {
  /** Window length in steps. Default 1000. */
  window?: number;
  /** Smallest relative improvement of the window mean over the previous window's mean. Default 0.01. */
  minImprovement?: number;
}

/** Options of {@link AlertRules}. */
export interface AlertRulesOptions {
  /**
   * Signal watched by the spike and stall rules: `'train'` = the `loss` of
   * `step` events, `'probe'` = `meanLoss` of `checkpoint` events. Default `'train'`.
   */
  signal?: 'train' | 'probe';
  /** Loss-spike rule, or `false` to turn it off. */
  spike?: SpikeOptions | false;
  /** Stalled-loss rule, or `false` to turn it off. */
  stall?: StallOptions | false;
  /** Non-finite rule (training loss, probe losses, POLCA values). Default true. */
  nonFinite?: boolean;
  /** Clock for event time stamps. Default `Date.now`. */
  now?: () => number;
}

const posInt = (v: number, name: string): number => positiveInt('AlertRules', name, v);
const nonNeg = (v: number, name: string): number => nonNegativeNumber('AlertRules', name, v);

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

/**
 * Evaluates the alert rules on a stream of events. Every rule is
 * edge-triggered: it fires when its condition starts and again only after the
 * condition has cleared, so a long plateau or a run of NaNs gives one alert.
 *
 * - `loss-spike`: value > median + max(threshold · 1.4826 · MAD, minRelative · |median|)
 *   over the previous `window` finite values (the spike itself enters the window afterwards).
 * - `loss-stalled`: with m₁ the mean over the last `window` steps and m₀ over
 *   the `window` steps before, (m₀ − m₁) / |m₀| < minImprovement, checked once
 *   two full windows have been seen.
 * - `non-finite`: a non-finite training loss (step events), or `nonFinite > 0`
 *   in checkpoint or polca events (each source tracked separately).
 *
 * @example
 * ```ts
 * const rules = new AlertRules({ stall: { window: 500 } });
 * for (const e of events) for (const a of rules.push(e)) console.log(a.rule, a.message);
 * ```
 */
export class AlertRules {
  private readonly signal: 'train' | 'probe';
  private readonly spike: Required<SpikeOptions> | undefined;
  private readonly stall: Required<StallOptions> | undefined;
  private readonly nonFinite: boolean;
  private readonly now: () => number;
  private readonly recent: number[] = [];
  private spiking = false;
  private readonly history: { step: number; value: number }[] = [];
  private firstStep = NaN;
  private stalled = false;
  private readonly nonFiniteActive = { step: false, checkpoint: false, polca: false };

  constructor(options: AlertRulesOptions = {}) {
    this.signal = oneOf('AlertRules', 'signal', options.signal ?? 'train', ['train', 'probe'] as const);
    if (options.spike !== false) {
      const s = options.spike ?? {};
      this.spike = {
        window: posInt(s.window ?? 50, 'spike.window'),
        warmup: posInt(s.warmup ?? 10, 'spike.warmup'),
        threshold: nonNeg(s.threshold ?? 6, 'spike.threshold'),
        minRelative: nonNeg(s.minRelative ?? 0.1, 'spike.minRelative'),
      };
    }
    if (options.stall !== false) {
      const s = options.stall ?? {};
      const window = positiveNumber('AlertRules', 'stall.window', s.window ?? 1000);
      this.stall = { window, minImprovement: nonNeg(s.minImprovement ?? 0.01, 'stall.minImprovement') };
    }
    this.nonFinite = options.nonFinite ?? true;
    this.now = options.now ?? Date.now;
  }

  /** Consumes one event and returns the alerts it raised. */
  push(event: PolcaEvent): AlertEvent[] {
    const out: AlertEvent[] = [];
    if (event.type === 'step') {
      if (event.loss !== undefined) {
        if (this.nonFinite) this.edge('step', !Number.isFinite(event.loss), event.step, event.loss, `training loss is ${event.loss} at step ${event.step}`, out);
        if (this.signal === 'train' && Number.isFinite(event.loss)) this.observe(event.step, event.loss, 'training loss', out);
      }
    } else if (event.type === 'checkpoint') {
      if (this.nonFinite) {
        this.edge('checkpoint', event.nonFinite > 0, event.step, event.nonFinite, `${event.nonFinite} probe losses are not finite at step ${event.step}`, out);
      }
      if (this.signal === 'probe' && Number.isFinite(event.meanLoss)) this.observe(event.step, event.meanLoss, 'probe loss', out);
    } else if (event.type === 'polca' && this.nonFinite) {
      this.edge('polca', event.nonFinite > 0, event.toStep, event.nonFinite, `${event.nonFinite} datapoints have non-finite POLCA values over steps ${event.fromStep}–${event.toStep}`, out);
    }
    return out;
  }

  private edge(source: 'step' | 'checkpoint' | 'polca', active: boolean, step: number, value: number, message: string, out: AlertEvent[]): void {
    if (active && !this.nonFiniteActive[source]) out.push({ type: 'alert', time: this.now(), step, rule: 'non-finite', message, value });
    this.nonFiniteActive[source] = active;
  }

  private observe(step: number, value: number, what: string, out: AlertEvent[]): void {
    if (this.spike) {
      const s = this.spike;
      if (this.recent.length >= s.warmup) {
        const sorted = this.recent.slice().sort((a, b) => a - b);
        const med = median(sorted);
        const mad = median(sorted.map((v) => Math.abs(v - med)).sort((a, b) => a - b));
        const limit = med + Math.max(s.threshold * 1.4826 * mad, s.minRelative * Math.abs(med));
        const spiking = value > limit;
        if (spiking && !this.spiking) {
          out.push({
            type: 'alert',
            time: this.now(),
            step,
            rule: 'loss-spike',
            message: `${what} ${value.toPrecision(4)} at step ${step} is above its running median ${med.toPrecision(4)} (limit ${limit.toPrecision(4)})`,
            value,
          });
        }
        this.spiking = spiking;
      }
      this.recent.push(value);
      if (this.recent.length > s.window) this.recent.shift();
    }
    if (this.stall) {
      const W = this.stall.window;
      if (Number.isNaN(this.firstStep)) this.firstStep = step;
      this.history.push({ step, value });
      while (this.history.length > 0 && this.history[0].step <= step - 2 * W) this.history.shift();
      if (step - this.firstStep < 2 * W) return;
      let s0 = 0;
      let n0 = 0;
      let s1 = 0;
      let n1 = 0;
      for (const h of this.history) {
        if (h.step > step - W) {
          s1 += h.value;
          n1++;
        } else {
          s0 += h.value;
          n0++;
        }
      }
      if (n0 === 0 || n1 === 0) return;
      const m0 = s0 / n0;
      const m1 = s1 / n1;
      const improvement = m0 === 0 ? 0 : (m0 - m1) / Math.abs(m0);
      const stalled = improvement < this.stall.minImprovement;
      if (stalled && !this.stalled) {
        out.push({
          type: 'alert',
          time: this.now(),
          step,
          rule: 'loss-stalled',
          message: `${what} improved by ${(100 * improvement).toFixed(2)}% over the last ${W} steps (mean ${m1.toPrecision(4)} vs ${m0.toPrecision(4)} before), below ${(100 * this.stall.minImprovement).toFixed(2)}%`,
          value: improvement,
        });
      }
      this.stalled = stalled;
    }
  }
}

/**
 * RxJS operator: the alerts {@link AlertRules} raise on a stream of events.
 *
 * @example
 * ```ts
 * tracker.events$.pipe(alerts({ signal: 'train' })).subscribe((a) => console.log(a.message));
 * ```
 */
export function alerts(options: AlertRulesOptions = {}): OperatorFunction<PolcaEvent, AlertEvent> {
  return pushOperator(() => new AlertRules(options));
}
