/**
 * Webhook sink for transition and alert events: JSON POST with retries,
 * exponential back-off, a bounded queue and a per-rule rate limit. Writing
 * never blocks and never throws on delivery problems.
 *
 * @packageDocumentation
 */
import { fail, oneOf, positiveInt } from '../errors/validate.js';
import type { AlertEvent, PolcaEvent, TransitionEvent } from '../stream/events.js';

/** Options of {@link WebhookSink}. */
export interface WebhookOptions {
  /** Endpoint receiving one POST per event (`content-type: application/json`). */
  url: string;
  /**
   * Body of each POST. `'json'` (default): the event as JSON, with `run`
   * added when set. `'slack'`: a Slack incoming-webhook message,
   * `{ text }` (see {@link webhookText}), which Slack, Mattermost, Rocket.Chat
   * and Discord's `/slack` endpoints accept.
   */
  format?: 'json' | 'slack';
  /** Name of the run, put in every body. */
  run?: string;
  /** Event types to send. Default `['transition', 'alert']`. */
  types?: readonly ('transition' | 'alert')[];
  /** Events waiting to be sent, at most; when full the oldest is dropped. Default 100. */
  maxQueue?: number;
  /** Retries after a failed attempt (network error, timeout, HTTP 429 or 5xx). Default 5. */
  retries?: number;
  /** Wait before the first retry; doubles each time. Default 500 ms. */
  backoffMs?: number;
  /** Longest wait between retries. Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Per-attempt timeout. Default 10 000 ms. */
  timeoutMs?: number;
  /**
   * At most `count` events per `intervalMs` for each rule (alerts: their
   * `rule`; transitions: `transition`); the excess is dropped and counted.
   * Default 10 per 60 000 ms. `false` turns it off.
   */
  rateLimit?: { count: number; intervalMs: number } | false;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Called when an event is given up (after the last retry, or on a 4xx answer). */
  onError?: (error: Error, event: TransitionEvent | AlertEvent) => void;
  /** fetch implementation. Default the global `fetch`. */
  fetch?: typeof fetch;
  /** Clock for the rate limit. Default `Date.now`. */
  now?: () => number;
}

/** Counters of a {@link WebhookSink}. */
export interface WebhookStats {
  /** Events delivered (2xx answer). */
  sent: number;
  /** Events given up after retries or rejected with 4xx. */
  failed: number;
  /** Extra attempts made. */
  retries: number;
  /** Events dropped because the queue was full or the sink closed before sending them. */
  dropped: number;
  /** Events dropped by the rate limit. */
  rateLimited: number;
  /** Events waiting now (including the one in flight). */
  queued: number;
}

class RetryableError extends Error {}

/**
 * One line of text describing a transition or alert, as the `slack` body
 * format sends it.
 *
 * @example
 * ```ts
 * webhookText({ type: 'transition', time: 0, step: 240, detectedAt: 360, target: { kind: 'cluster', basisId: 2, clusterId: 5 }, magnitude: 1.2, confidence: 0.97 }, 'addition');
 * // 'polca run addition: breakthrough at step 240 along basis vector 2, cluster 5 (detected at step 360, confidence 0.97, magnitude 1.2)'
 * ```
 */
export function webhookText(event: TransitionEvent | AlertEvent, run?: string): string {
  const who = run ? `polca run ${run}` : 'polca';
  if (event.type === 'alert') return `${who}: alert ${event.rule} at step ${event.step}: ${event.message}`;
  const t = event.target;
  const what = t.kind === 'cluster' ? (t.basisId < 0 ? `exact-loss cluster ${t.clusterId}` : `basis vector ${t.basisId}, cluster ${t.clusterId}`) : `datapoint set ${t.name}`;
  return `${who}: breakthrough at step ${event.step} along ${what} (detected at step ${event.detectedAt}, confidence ${event.confidence.toFixed(2)}, magnitude ${event.magnitude.toPrecision(2)})`;
}

const posInt = (v: number, name: string, min = 1): number => positiveInt('WebhookSink', name, v, min);

/**
 * Sends transition and alert events to a URL. `write` enqueues and returns
 * at once; a single worker sends the queue in order, retrying failed attempts
 * after `backoffMs`, 2·`backoffMs`, … (capped at `maxBackoffMs`). Timers are
 * unref'd so a pending retry never keeps the process alive; `close()` waits
 * for the queue to drain (up to a deadline) and is idempotent.
 *
 * @example
 * ```ts
 * const hook = new WebhookSink({ url: 'https://example.org/polca', rateLimit: { count: 5, intervalMs: 60_000 } });
 * events$.subscribe((e) => hook.write(e));
 * await hook.close();
 * ```
 */
export class WebhookSink {
  private readonly url: string;
  private readonly format: 'json' | 'slack';
  private readonly run: string | undefined;
  private readonly types: Set<string>;
  private readonly maxQueue: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly rateLimit: { count: number; intervalMs: number } | undefined;
  private readonly headers: Record<string, string>;
  private readonly onError: WebhookOptions['onError'];
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly queue: (TransitionEvent | AlertEvent)[] = [];
  private readonly sentAt = new Map<string, number[]>();
  private readonly counters = { sent: 0, failed: 0, retries: 0, dropped: 0, rateLimited: 0 };
  private working = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private sleeping: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  constructor(options: WebhookOptions) {
    const fn = 'WebhookSink';
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      fail(fn, 'url', 'a valid URL', options.url);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(fn, 'url', 'an http(s) URL', options.url);
    this.url = options.url;
    this.format = oneOf(fn, 'format', options.format ?? 'json', ['json', 'slack'] as const);
    if (options.run !== undefined && typeof options.run !== 'string') fail(fn, 'run', 'a string', options.run);
    this.run = options.run;
    const types = options.types ?? ['transition', 'alert'];
    for (const t of types) oneOf(fn, 'types', t, ['transition', 'alert'] as const);
    this.types = new Set(types);
    this.maxQueue = posInt(options.maxQueue ?? 100, 'maxQueue');
    this.retries = posInt(options.retries ?? 5, 'retries', 0);
    this.backoffMs = posInt(options.backoffMs ?? 500, 'backoffMs', 0);
    this.maxBackoffMs = posInt(options.maxBackoffMs ?? 30_000, 'maxBackoffMs', 0);
    this.timeoutMs = posInt(options.timeoutMs ?? 10_000, 'timeoutMs');
    const rl = options.rateLimit ?? { count: 10, intervalMs: 60_000 };
    if (rl !== false) {
      this.rateLimit = { count: posInt(rl.count, 'rateLimit.count'), intervalMs: posInt(rl.intervalMs, 'rateLimit.intervalMs') };
    }
    this.headers = { 'content-type': 'application/json', ...(options.headers ?? {}) };
    this.onError = options.onError;
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Current counters. */
  get stats(): WebhookStats {
    return { ...this.counters, queued: this.queue.length + this.inFlight };
  }

  /**
   * Enqueues an event for sending. Returns true when it was queued, false when
   * it is of another type, rate-limited, or the sink is closed. Never throws
   * on delivery problems and never waits.
   */
  write(event: PolcaEvent): boolean {
    if (this.closing) return false;
    if (event.type !== 'transition' && event.type !== 'alert') return false;
    if (!this.types.has(event.type)) return false;
    if (this.rateLimit) {
      const key = event.type === 'alert' ? `alert:${event.rule}` : 'transition';
      const t = this.now();
      const list = (this.sentAt.get(key) ?? []).filter((s) => s > t - this.rateLimit!.intervalMs);
      if (list.length >= this.rateLimit.count) {
        this.sentAt.set(key, list);
        this.counters.rateLimited++;
        return false;
      }
      list.push(t);
      this.sentAt.set(key, list);
    }
    if (this.queue.length >= this.maxQueue) {
      this.queue.shift();
      this.counters.dropped++;
    }
    this.queue.push(event);
    if (!this.working) void this.work();
    return true;
  }

  /** Resolves once the queue is empty and nothing is in flight. */
  flush(): Promise<void> {
    if (!this.working) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops accepting events and waits up to `timeoutMs` (default 5000) for the
   * queue to drain; then aborts what is left (counted as dropped). Idempotent:
   * later calls return the same promise.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closing) return this.closing;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.closing = (async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
      });
      await Promise.race([this.flush(), deadline]);
      clearTimeout(timer);
      if (this.working) {
        this.counters.dropped += this.queue.length;
        this.queue.length = 0;
        this.abort.abort(new Error('WebhookSink closed'));
        if (this.sleeping) {
          clearTimeout(this.sleeping.timer);
          this.sleeping.resolve();
        }
        await this.flush();
      }
    })();
    return this.closing;
  }

  private async work(): Promise<void> {
    this.working = true;
    while (this.queue.length > 0) {
      const event = this.queue.shift()!;
      this.inFlight = 1;
      await this.deliver(event);
      this.inFlight = 0;
    }
    this.working = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async deliver(event: TransitionEvent | AlertEvent): Promise<void> {
    const body = this.format === 'slack' ? JSON.stringify({ text: webhookText(event, this.run) }) : JSON.stringify(this.run === undefined ? event : { run: this.run, ...event });
    for (let attempt = 0; ; attempt++) {
      if (this.abort.signal.aborted) {
        this.counters.dropped++;
        return;
      }
      try {
        const res = await this.fetchFn(this.url, {
          method: 'POST',
          headers: this.headers,
          body,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
        });
        // Drain the body so the connection can be reused.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.counters.sent++;
          return;
        }
        const err = new Error(`WebhookSink: POST ${this.url} answered ${res.status}`);
        if (res.status !== 429 && res.status < 500) {
          this.fail(err, event);
          return;
        }
        throw new RetryableError(err.message);
      } catch (e) {
        if (this.abort.signal.aborted) {
          this.counters.dropped++;
          return;
        }
        if (attempt >= this.retries) {
          this.fail(e instanceof Error ? e : new Error(String(e)), event);
          return;
        }
        this.counters.retries++;
        await this.sleep(Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt));
      }
    }
  }

  private fail(error: Error, event: TransitionEvent | AlertEvent): void {
    this.counters.failed++;
    try {
      this.onError?.(error, event);
    } catch {
      // A throwing callback must not stop the worker.
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = undefined;
        resolve();
      }, ms);
      timer.unref();
      this.sleeping = { timer, resolve };
    });
  }
}
