/**
 * The quick demo, watched live as a user would: a real Prometheus (Debian's)
 * scrapes its /metrics while it trains, with the polca alert rules loaded; a
 * Python grpcio client subscribes over gRPC; a webhook receiver takes its
 * Slack-format posts. One demo run serves every assertion:
 *
 * - every panel query, variable and annotation of polca-live returns data
 *   over the run, all of it labelled with the run, per-cluster projected-loss
 *   series and a breakthrough annotation naming basis vector and cluster
 *   included;
 * - the transition rule fires in Prometheus, and the Grafana rule's query
 *   crosses its threshold, during training;
 * - the Python client receives clusters and transitions, and ListClusters
 *   answers with the streamed ids, before training ends;
 * - live clustering stays a small share of the run's time;
 * - `polca replay --metrics` of the run directory exposes every metric the
 *   dashboards and rules query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { lastValueFrom, toArray } from 'rxjs';
import { parse as parseYaml } from 'yaml';
import { replay } from '../../src/sinks/arrow/replay.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import { ALERTS, ROOT, dashboardExpressions, loadDashboard, promQuery, prometheusConfig, promRange, resolveVariables, sleep, startPrometheus, substitute } from './prometheusHelpers.js';

const exec = promisify(execFile);
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const RUN = 'live-e2e';

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface PyLine {
  recv?: number;
  event?: { seq: number; timeMs: number; payload: string; clusters?: { kind: string; basisId: number; step: number; clusters: { id: number; members: number[] }[] }; transition?: { step: number; detectedAt: number; cluster?: { basisId: number; clusterId: number } }; step?: { step: number } };
  kind?: string;
  list?: { clusterings: { kind: string; basisId: number; clusters: { id: number }[] }[] };
  run?: { name: string; transitions: number };
  status?: string;
}

/** Everything observed of the one demo run. */
const seen = {
  dir: '',
  stdout: '',
  events: [] as PolcaEvent[],
  firingDuringTraining: [] as Record<string, string>[],
  python: [] as PyLine[],
  hooks: [] as { at: number; body: { text?: string } }[],
  promBase: '',
  start: 0,
  end: 0,
};

beforeAll(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'polca-live-demo-'));
  cleanup.push(() => rmSync(tmp, { recursive: true, force: true }));
  seen.dir = join(tmp, RUN);

  // A webhook receiver (what Slack would be).
  const hook: Server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.hooks.push({ at: Date.now(), body: JSON.parse(body) as { text?: string } });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => hook.close(() => r())));
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

  // Prometheus first, scraping the port the demo will serve on, so that it sees the run from its first steps.
  const metricsPort = await freePort();
  const configFile = join(tmp, 'prometheus.yml');
  writeFileSync(configFile, prometheusConfig(metricsPort, 'demo'));
  const { base } = await startPrometheus(configFile, join(tmp, 'data'), (stop) => cleanup.push(stop));
  seen.promBase = base;

  // Python stubs from the committed proto.
  const stubs = join(tmp, 'py');
  mkdirSync(stubs);
  await exec(PYTHON, ['-m', 'grpc_tools.protoc', `-I${join(ROOT, 'proto')}`, `--python_out=${stubs}`, `--grpc_python_out=${stubs}`, 'polca/v1/polca.proto']);

  // The command a user types.
  const demo: ChildProcess = spawn(
    'npm',
    ['run', '-s', 'demo', '--', '--quick', '--bases', 'none', '--out', seen.dir, '--metrics', String(metricsPort), '--grpc', '0',
      '--run-name', RUN, '--webhook', hookUrl, '--webhook-format', 'slack'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  cleanup.push(() => {
    try {
      if (demo.exitCode === null) process.kill(-demo.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  });
  let stderr = '';
  demo.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((r) => demo.on('exit', (code) => r(code)));
  let python: Promise<string> | undefined;
  let pythonError: unknown;
  demo.stdout!.on('data', (c: Buffer) => {
    seen.stdout += c.toString();
    const m = /live: gRPC 127\.0\.0\.1:(\d+)/.exec(seen.stdout);
    if (m && !python) {
      // Subscribed as soon as the demo says where: the client sees the run while it trains.
      python = new Promise((resolve, reject) => {
        const py = spawn(PYTHON, [join(ROOT, 'test/serve/subscribe_client.py'), stubs, m[1], '-', '--live'], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        py.stdout.on('data', (d: Buffer) => (out += d.toString()));
        py.stderr.on('data', (d: Buffer) => (err += d.toString()));
        py.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`python client exited ${code}: ${err}`))));
      });
      python.catch((e: unknown) => (pythonError = e));
    }
  });

  // While it trains: watch the alert rules fire.
  let finished = false;
  void exited.then(() => (finished = true));
  while (!finished) {
    const alerts = (await (await fetch(`${base}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
    const training = /training \d+\/400 steps/.test(seen.stdout) && !/\n\nrun /.test(seen.stdout);
    for (const a of alerts.data.alerts) {
      if (training && a.state === 'firing' && a.labels.alertname === 'PolcaTransitionDetected') seen.firingDuringTraining.push(a.labels);
    }
    await sleep(500);
  }
  const code = await exited;
  if (code !== 0) throw new Error(`demo exited ${code}: ${stderr.slice(-3000)}`);
  if (!python) throw new Error(`the demo never printed its gRPC port:\n${seen.stdout}`);
  if (pythonError) throw pythonError;
  seen.python = (await python).trim().split('\n').map((l) => JSON.parse(l) as PyLine);
  seen.events = await lastValueFrom(replay(seen.dir).pipe(toArray()));
  seen.start = seen.events[0].time / 1000;
  seen.end = seen.events.filter((e) => e.type === 'step').pop()!.time / 1000;
}, 600_000);

/** Time (ms) the last training step was produced: training ends there. */
const trainingEnd = () => seen.end * 1000;

describe('the quick demo, watched live', () => {
  it('clusters and detects breakthroughs live by default, and records its live analysis for the post-hoc commands', () => {
    const clusters = seen.events.filter((e): e is Extract<PolcaEvent, { type: 'clusters' }> => e.type === 'clusters');
    const transitions = seen.events.filter((e): e is Extract<PolcaEvent, { type: 'transition' }> => e.type === 'transition');
    expect(new Set(clusters.map((c) => c.kind))).toEqual(new Set(['polca', 'polca-first', 'loss']));
    expect(transitions.length).toBeGreaterThan(0);
    // Re-clustered while training ran, not only at the end.
    expect(clusters.filter((c) => c.time < trainingEnd()).length).toBeGreaterThan(10);
    const live = JSON.parse(readFileSync(join(seen.dir, 'analysis', 'live.json'), 'utf8')) as { delta: number };
    expect(live.delta).toBe(60);
    // `polca clusters` (run by the demo) used the live Δ.
    expect(seen.stdout).toMatch(/checkpoints; Δ = 60, τ = \d+/);
  });

  it('its report draws the clusters of every trajectory kind that has some, live-recorded ones as recorded', () => {
    const html = readFileSync(join(seen.dir, 'report.html'), 'utf8');
    const kinds = [...html.matchAll(/<section class="panel" id="([a-z-]+?)(?:-basis-\d+)?">/g)].map((m) => m[1]);
    expect(kinds).toEqual(expect.arrayContaining(['polca-first', 'loss']));
    expect(html).toMatch(/<section class="panel" id="loss"><h3>Exact loss \(no basis vector\)<\/h3><p class="muted">\d+ clusters? \(recorded\)/);
    expect(html).toContain('<tr><th>break times</th><td>Δ = 60 steps');
    expect(html).toContain('<h3>Breakthroughs detected during the run</h3>');
  });

  it('keeps cluster ids across re-clusterings', () => {
    const clusters = seen.events.filter((e): e is Extract<PolcaEvent, { type: 'clusters' }> => e.type === 'clusters');
    let kept = 0;
    const last = new Map<string, Set<number>>();
    for (const c of clusters) {
      const key = `${c.kind}:${c.basisId}`;
      const ids = new Set(c.clusters.map((k) => k.id));
      for (const id of last.get(key) ?? []) if (ids.has(id)) kept++;
      last.set(key, ids);
    }
    expect(kept).toBeGreaterThan(10);
    // Ids are unique per basis vector across kinds, so (basis, cluster) names one cluster of one kind.
    const owner = new Map<string, string>();
    for (const c of clusters) {
      for (const k of c.clusters) {
        const key = `${c.basisId}:${k.id}`;
        expect(owner.get(key) ?? c.kind, `cluster ${key}`).toBe(c.kind);
        owner.set(key, c.kind);
      }
    }
  });

  it('every panel query, variable and annotation of polca-live returns data over the run, labelled with the run', async () => {
    const base = seen.promBase;
    const range = { start: seen.start - 5, end: seen.end + 5 };
    const dashboard = loadDashboard('polca-live.json');
    const { all, values } = await resolveVariables(base, dashboard, range);
    expect(values.run).toEqual([RUN]);
    expect(values.kind).toEqual(expect.arrayContaining(['polca-first', 'loss']));
    for (const [name, vs] of Object.entries(values)) expect(vs.length, `variable ${name}`).toBeGreaterThan(0);
    let annotations = 0;
    for (const { where, expr, annotation } of dashboardExpressions(dashboard)) {
      const q = substitute(expr, all);
      expect(q, `${where}: unsubstituted variable`).not.toMatch(/\$/);
      const result = await promRange(base, q, range.start, range.end);
      expect(result.length, `${where}: ${q} returned no data`).toBeGreaterThan(0);
      expect(result.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v)))), `${where}: no finite value`).toBe(true);
      for (const s of result) expect(s.metric.run, `${where}: series without the run label`).toBe(RUN);
      if (annotation) {
        annotations++;
        // The annotation names the kind, the basis vector and the cluster, as Grafana renders its title.
        const titles = result.map((s) => annotation.replace(/\{\{(\w+)\}\}/g, (_, l: string) => s.metric[l] ?? ''));
        for (const t of titles) expect(t).toMatch(/^Breakthrough: (polca|polca-first|loss) cluster \d+ along basis vector -?\d+$/);
      }
      if (where.includes('Cluster projected-loss')) expect(new Set(result.map((s) => s.metric.kind)).size).toBeGreaterThan(0);
    }
    expect(annotations).toBe(1);
    // Every polca series Prometheus holds carries the run label.
    const unlabelled = await promRange(base, 'count by (__name__) ({__name__=~"polca_.+", run=""})', range.start, range.end);
    expect(unlabelled.map((r) => r.metric.__name__)).toEqual([]);
  });

  it('fires the transition rule during training, naming run and cluster; the Grafana rule query crosses its threshold', async () => {
    expect(seen.firingDuringTraining.length, 'PolcaTransitionDetected firing while the demo trained').toBeGreaterThan(0);
    for (const labels of seen.firingDuringTraining) {
      expect(labels.run).toBe(RUN);
      expect(labels.basis).toMatch(/^-?\d+$/);
      expect(labels.cluster).toMatch(/^\d+$/);
    }
    const grafana = parseYaml(readFileSync(join(ROOT, 'dashboards/provisioning/alerting/polca-alerts.yaml'), 'utf8')) as {
      groups: { rules: { uid: string; condition: string; data: { refId: string; model: { expr?: string; conditions?: { evaluator: { type: string; params: number[] } }[] } }[] }[] }[];
    };
    const rule = grafana.groups.flatMap((g) => g.rules).find((r) => r.uid === 'polca-transition-detected')!;
    const a = rule.data.find((d) => d.refId === 'A')!.model.expr!;
    const { type, params } = rule.data.find((d) => d.refId === rule.condition)!.model.conditions![0].evaluator;
    expect([type, params]).toEqual(['lt', [300]]);
    const result = await promRange(seen.promBase, a, seen.start, seen.end + 5);
    expect(result.some((s) => s.metric.run === RUN && s.values.some(([, v]) => Number(v) < 300)), `${a} < 300 during the run`).toBe(true);
    const fired = await promRange(seen.promBase, `ALERTS{alertname="PolcaTransitionDetected", alertstate="firing", run="${RUN}"}`, seen.start, seen.end + 5);
    expect(fired.length).toBeGreaterThan(0);
  });

  it('a Python grpcio client receives clusters and transitions, and ListClusters answers, before training ends', () => {
    const lines = seen.python;
    const events = lines.filter((l) => l.event);
    const clusters = events.filter((l) => l.event!.payload === 'clusters');
    const transitions = events.filter((l) => l.event!.payload === 'transition');
    const end = trainingEnd();
    expect(clusters.filter((l) => l.recv! < end).length).toBeGreaterThan(5);
    expect(transitions.filter((l) => l.recv! < end).length).toBeGreaterThan(0);
    // What it received is what the run recorded.
    expect(transitions.map((l) => l.event!.transition!.step)).toEqual(seen.events.filter((e) => e.type === 'transition').map((e) => (e as { step: number }).step));
    const lists = lines.filter((l) => l.list);
    expect(lists.filter((l) => l.recv! < end).length).toBeGreaterThan(0);
    const streamed = new Map<string, Set<number>>();
    for (const l of clusters) {
      const c = l.event!.clusters!;
      const key = `${c.kind}:${c.basisId}`;
      if (!streamed.has(key)) streamed.set(key, new Set());
      for (const k of c.clusters) streamed.get(key)!.add(k.id);
    }
    for (const l of lists) {
      for (const c of l.list!.clusterings) for (const k of c.clusters) expect(streamed.get(`${c.kind}:${c.basisId}`)?.has(k.id), `ListClusters ${c.kind} b${c.basisId} #${k.id}`).toBe(true);
    }
    expect(lines.find((l) => l.run)!.run!.name).toBe(RUN);
    expect(lines.find((l) => l.status)!.status).toBe('OK');
  });

  it('posts each breakthrough to the webhook as a Slack message while training', () => {
    const transitions = seen.events.filter((e) => e.type === 'transition');
    const posts = seen.hooks.filter((h) => /breakthrough/.test(h.body.text ?? ''));
    // Every one, but for the sink's default rate limit: 10 transitions per minute.
    const sent: number[] = [];
    for (const t of transitions) if (sent.filter((s) => s > t.time - 60_000).length < 10) sent.push(t.time);
    expect(posts.length).toBe(sent.length);
    expect(posts[0].at).toBeLessThan(trainingEnd() + 1000);
    expect(posts[0].body.text).toMatch(new RegExp(`^polca run ${RUN}: breakthrough at step \\d+ along (basis vector \\d+, cluster \\d+|exact-loss cluster \\d+) \\(detected at step \\d+`));
  });

  it('spends a small share of the run on live clustering', async () => {
    const seconds = await promQuery(seen.promBase, `max_over_time(polca_clustering_seconds_total{run="${RUN}"}[10m])`, seen.end + 2);
    const spent = Number(seconds[0].value[1]);
    const wall = seen.end - seen.start;
    process.stdout.write(`live clustering: ${spent.toFixed(2)} s of a ${wall.toFixed(1)} s run (${((100 * spent) / wall).toFixed(1)}%)\n`);
    expect(spent).toBeGreaterThan(0);
    expect(spent / wall).toBeLessThan(0.1);
  });

  it('polca replay --metrics of the run directory exposes every metric the dashboards and rules query', async () => {
    const replayer = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'replay', seen.dir, '--metrics', '0', '--linger', '30'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => {
      if (replayer.exitCode === null) replayer.kill('SIGTERM');
    });
    let out = '';
    const port = await new Promise<number>((resolve, reject) => {
      replayer.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /serving metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(out);
        if (m) resolve(Number(m[1]));
      });
      replayer.on('exit', (code) => reject(new Error(`replay exited ${code}: ${out}`)));
    });
    // The replay (fast pace) is over once run-end is printed; two scrapes let new counter series show their counts.
    for (let i = 0; !/run-end/.test(out); i++) {
      if (i > 600) throw new Error('replay never ended');
      await sleep(50);
    }
    await fetch(`http://127.0.0.1:${port}/metrics`);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    replayer.kill('SIGTERM');
    const exposed = new Set<string>();
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const m = /^(polca_\w+)\{([^}]*)\}/.exec(line);
      expect(m, line).not.toBeNull();
      expect(m![2]).toContain(`run="${RUN}"`);
      exposed.add(m![1]);
    }
    const queried = new Set<string>();
    const collect = (expr: string) => {
      for (const [name] of expr.matchAll(/polca_\w+/g)) queried.add(name);
    };
    for (const file of ['polca-live.json', 'polca-overview.json']) {
      const d = loadDashboard(file);
      for (const { expr } of dashboardExpressions(d)) collect(expr);
      for (const v of d.templating.list) if (v.type === 'query') collect(typeof v.query === 'string' ? v.query : v.query.query);
    }
    collect(readFileSync(ALERTS, 'utf8'));
    collect(readFileSync(join(ROOT, 'dashboards/provisioning/alerting/polca-alerts.yaml'), 'utf8'));
    expect(queried.size).toBeGreaterThan(20);
    expect([...queried].filter((name) => !exposed.has(name)).sort()).toEqual([]);
    // The replayed counts equal the run's.
    const transitions = seen.events.filter((e) => e.type === 'transition').length;
    const total = [...text.matchAll(/^polca_transitions_total\{[^}]*\} (\S+)$/gm)].reduce((s, m) => s + Number(m[1]), 0);
    expect(total).toBe(transitions);
  }, 120_000);
});
