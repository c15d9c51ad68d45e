import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSink, webhookText } from '../../src/analysis/webhook.js';
import type { AlertEvent, TransitionEvent } from '../../src/stream/events.js';

interface Hit {
  at: number;
  body: unknown;
  headers: IncomingMessage['headers'];
}

/** A local server on 127.0.0.1, port 0; `answer(n)` decides the status of the n-th request (0-based). */
async function startServer(answer: (n: number, res: ServerResponse) => number | undefined): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  let n = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ at: performance.now(), body: JSON.parse(Buffer.concat(chunks).toString('utf8')), headers: req.headers });
      const status = answer(n++, res);
      if (status !== undefined) res.writeHead(status).end('x');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, hits, server };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const alert = (rule: AlertEvent['rule'], step: number): AlertEvent => ({ type: 'alert', time: 1, step, rule, message: `m${step}`, value: step });
const transition = (step: number): TransitionEvent => ({
  type: 'transition',
  time: 1,
  step,
  detectedAt: step + 100,
  target: { kind: 'cluster', basisId: 2, clusterId: 5 },
  magnitude: 0.5,
  confidence: 0.9,
});

describe('WebhookSink against a real local server', () => {
  it('retries with exponential back-off until the server accepts', async () => {
    const { url, hits, server } = await startServer((n) => (n < 3 ? 503 : 200));
    servers.push(server);
    const hook = new WebhookSink({ url, backoffMs: 40, headers: { 'x-token': 'abc' } });
    expect(hook.write(transition(300))).toBe(true);
    // write returned synchronously: nothing has reached the server yet
    expect(hits.length).toBe(0);
    expect(hook.stats.queued).toBe(1);
    await hook.flush();
    expect(hits.length).toBe(4);
    expect(hits.every((h) => JSON.stringify(h.body) === JSON.stringify(transition(300)))).toBe(true);
    expect(hits[0].headers['content-type']).toBe('application/json');
    expect(hits[0].headers['x-token']).toBe('abc');
    // waits of 40, 80, 160 ms between attempts (lower bounds; timers may fire late, never early)
    const gaps = hits.slice(1).map((h, i) => h.at - hits[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(38);
    expect(gaps[1]).toBeGreaterThanOrEqual(78);
    expect(gaps[2]).toBeGreaterThanOrEqual(158);
    expect(hook.stats).toEqual({ sent: 1, failed: 0, retries: 3, dropped: 0, rateLimited: 0, queued: 0 });
    await hook.close();
  });

  it('gives up after the last retry, does not retry a 4xx, reports through onError', async () => {
    const { url, hits, server } = await startServer((n) => (n < 3 ? 500 : 400));
    servers.push(server);
    const errors: string[] = [];
    const hook = new WebhookSink({ url, retries: 2, backoffMs: 5, onError: (e, ev) => errors.push(`${ev.type}:${e.message}`) });
    hook.write(alert('loss-spike', 1));
    hook.write(alert('loss-stalled', 2));
    await hook.flush();
    // first event: 500, 500, 500 (1 try + 2 retries) → failed; second: 400 → failed at once
    expect(hits.map((h) => (h.body as AlertEvent).step)).toEqual([1, 1, 1, 2]);
    expect(hook.stats).toMatchObject({ sent: 0, failed: 2, retries: 2 });
    expect(errors).toEqual([`alert:WebhookSink: POST ${url} answered 500`, `alert:WebhookSink: POST ${url} answered 400`]);
    await hook.close();
  });

  it('rate-limits per rule and filters event types', async () => {
    const { url, hits, server } = await startServer(() => 200);
    servers.push(server);
    let clock = 0;
    const hook = new WebhookSink({ url, rateLimit: { count: 2, intervalMs: 1000 }, now: () => clock });
    const accepted = [alert('loss-spike', 1), alert('loss-spike', 2), alert('loss-spike', 3), alert('non-finite', 4), transition(5)].map((e) => hook.write(e));
    expect(accepted).toEqual([true, true, false, true, true]);
    clock = 1500; // the window has passed
    expect(hook.write(alert('loss-spike', 6))).toBe(true);
    expect(hook.write({ type: 'step', time: 0, step: 1 })).toBe(false);
    await hook.flush();
    expect(hits.map((h) => (h.body as { step: number }).step)).toEqual([1, 2, 4, 5, 6]);
    expect(hook.stats).toMatchObject({ sent: 5, rateLimited: 1 });
    const only = new WebhookSink({ url, types: ['transition'] });
    expect(only.write(alert('loss-spike', 1))).toBe(false);
    await only.close();
    await hook.close();
  });

  it('bounds the queue, never blocks, and close() is idempotent and drops what cannot drain', async () => {
    const pending: ServerResponse[] = [];
    const { url, hits, server } = await startServer((_, res) => {
      pending.push(res); // never answers
      return undefined;
    });
    servers.push(server);
    const hook = new WebhookSink({ url, maxQueue: 3, rateLimit: false });
    for (let i = 0; i < 10; i++) expect(hook.write(transition(i))).toBe(true);
    // one in flight (0), queue of 3 (7, 8, 9); 1–6 were dropped as the oldest
    await new Promise((r) => setTimeout(r, 50));
    expect(hits.length).toBe(1);
    expect(hook.stats).toMatchObject({ dropped: 6, queued: 4 });
    const c1 = hook.close({ timeoutMs: 50 });
    const c2 = hook.close();
    expect(c2).toBe(c1);
    await c1;
    expect(hook.closed).toBe(true);
    expect(hook.stats).toMatchObject({ sent: 0, dropped: 10, queued: 0 });
    expect(hook.write(transition(11))).toBe(false);
  });

  it('sends the event with the run name as JSON, or a Slack-compatible { text } body', async () => {
    const { url, hits, server } = await startServer(() => 200);
    servers.push(server);
    const json = new WebhookSink({ url, run: 'addition' });
    json.write(transition(240));
    await json.close();
    expect(hits[0].body).toEqual({ run: 'addition', ...transition(240) });
    expect(hits[0].headers['content-type']).toBe('application/json');
    const slack = new WebhookSink({ url, run: 'addition', format: 'slack' });
    slack.write(transition(240));
    slack.write({ ...transition(300), target: { kind: 'cluster', basisId: -1, clusterId: 3 } });
    slack.write({ ...transition(320), target: { kind: 'datapoints', name: 'carries' } });
    slack.write(alert('loss-spike', 500));
    await slack.close();
    expect(hits.slice(1).map((h) => h.body)).toEqual([
      { text: 'polca run addition: breakthrough at step 240 along basis vector 2, cluster 5 (detected at step 340, confidence 0.90, magnitude 0.50)' },
      { text: 'polca run addition: breakthrough at step 300 along exact-loss cluster 3 (detected at step 400, confidence 0.90, magnitude 0.50)' },
      { text: 'polca run addition: breakthrough at step 320 along datapoint set carries (detected at step 420, confidence 0.90, magnitude 0.50)' },
      { text: 'polca run addition: alert loss-spike at step 500: m500' },
    ]);
    expect(webhookText(transition(1))).toMatch(/^polca: breakthrough at step 1 /);
  });

  it('validates options', () => {
    expect(() => new WebhookSink({ url: 'http://x', format: 'xml' as never })).toThrow(/WebhookSink: option 'format' must be 'json' or 'slack', got "xml"/);
    expect(() => new WebhookSink({ url: 'not a url' })).toThrow(/WebhookSink: option 'url' must be a valid URL, got "not a url"/);
    expect(() => new WebhookSink({ url: 'ftp://x' })).toThrow(/option 'url' must be an http\(s\) URL, got "ftp:\/\/x"/);
    expect(() => new WebhookSink({ url: 'http://x', maxQueue: 0 })).toThrow(/option 'maxQueue' must be a positive integer, got 0/);
    expect(() => new WebhookSink({ url: 'http://x', rateLimit: { count: 1, intervalMs: 0 } })).toThrow(/rateLimit.intervalMs/);
    expect(() => new WebhookSink({ url: 'http://x', types: ['step' as never] })).toThrow(/option 'types' must be 'transition' or 'alert', got "step"/);
  });
});
