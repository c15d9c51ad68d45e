/**
 * End to end with a real Prometheus: it scrapes a live synthetic run from
 * startServer's /metrics every second, loads dashboards/prometheus/alerts.yml,
 * and every PromQL expression of the dashboards, the Prometheus alert rules
 * and the Grafana-managed alert rules is evaluated through its HTTP API.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { parse as parseYaml } from 'yaml';
import { startServer, type PolcaServer } from '../../src/serve/startServer.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const PROM_DIR = join(ROOT, 'dashboards/prometheus');
const ALERTS = join(PROM_DIR, 'alerts.yml');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

async function promQuery(base: string, expr: string): Promise<PromSample[]> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] | [number, string] } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
  return body.data.result as PromSample[];
}

/** Starts Prometheus on a port it picks itself (127.0.0.1:0) and reads the port from its log. */
async function startPrometheus(configFile: string, dataDir: string): Promise<{ base: string; proc: ChildProcess }> {
  const proc = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanup.push(async () => {
    if (proc.exitCode === null) proc.kill('SIGTERM');
    await exited;
  });
  let log = '';
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => reject(new Error(`prometheus did not start:\n${log}`)), 20_000);
    proc.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      const m = /msg="Listening on" address=127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`prometheus exited with ${code}:\n${log}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${base}/-/ready`).catch(() => undefined))?.ok) return { base, proc };
    await sleep(50);
  }
  throw new Error('prometheus never became ready');
}

interface Dashboard {
  uid: string;
  panels: { title: string; type: string; targets?: { expr?: string }[]; panels?: Dashboard['panels'] }[];
  annotations: { list: { name: string; expr?: string; datasource?: { type?: string } }[] };
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

function dashboardExpressions(d: Dashboard): { where: string; expr: string }[] {
  const out: { where: string; expr: string }[] = [];
  const walk = (panels: Dashboard['panels']) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${d.uid} panel "${p.title}"`, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  for (const a of d.annotations.list) if (a.expr && a.datasource?.type === 'prometheus') out.push({ where: `${d.uid} annotation "${a.name}"`, expr: a.expr });
  return out;
}

/** Grafana's built-in interval variables, as Grafana would set them for a 1 s scrape interval and a recent range. */
const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '1s', __range: '5m', __range_s: '300' };

function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => vars[name] ?? BUILTINS[name] ?? m);
}

describe('Prometheus end to end', () => {
  it('promtool checks and unit-tests the alert rules', async () => {
    const check = await run('promtool', ['check', 'rules', ALERTS]);
    expect(check.stdout).toMatch(/SUCCESS: 5 rules found/);
    const test = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: PROM_DIR });
    expect(test.stdout).toMatch(/SUCCESS/);
    const config = await run('promtool', ['check', 'config', join(PROM_DIR, 'prometheus.yml')]);
    expect(config.stdout).toMatch(/is valid prometheus config file syntax/);
    // promtool test really fails on a wrong expectation (the test above can fail).
    const dir = mkdtempSync(join(tmpdir(), 'polca-promtool-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(ALERTS));
    writeFileSync(join(dir, 'broken.test.yml'), readFileSync(join(PROM_DIR, 'alerts.test.yml'), 'utf8').replace('eval_time: 1m', 'eval_time: 4m'));
    await expect(run('promtool', ['test', 'rules', 'broken.test.yml'], { cwd: dir })).rejects.toThrow(/FAILED/);
  });

  it('evaluates every dashboard panel, variable, annotation and alert expression against a live scrape', async () => {
    const steps = 2000;
    const stepMs = 200;
    // A replayed run whose last step lies ~18 minutes back: the stalled rule must fire.
    const startTime = Date.now() - 1500_000;
    const events = syntheticServeRun({ steps, stepMs, startTime, troubledEnding: true });
    const runEnd = events.pop() as PolcaEvent; // held back: the run stays active
    const subject = new Subject<PolcaEvent>();
    const server: PolcaServer = await startServer({ events$: subject, metrics: { port: 0 } });
    cleanup.push(() => server.close());

    const dir = mkdtempSync(join(tmpdir(), 'polca-prometheus-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(
      configFile,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: [${JSON.stringify(ALERTS)}]`,
        'scrape_configs:',
        '  - job_name: polca',
        `    static_configs: [{ targets: ["127.0.0.1:${server.metricsPort}"], labels: { instance: "e2e" } }]`,
      ].join('\n'),
    );
    const { base } = await startPrometheus(configFile, join(dir, 'data'));

    // First tenth of the run, then wait until Prometheus has seen the counters at their start values.
    const tenth = Math.floor(events.length / 10);
    events.slice(0, tenth).forEach((e) => subject.next(e));
    for (let i = 0; (await promQuery(base, 'polca_transitions_total')).length === 0; i++) {
      if (i > 200) throw new Error('prometheus never scraped /metrics');
      await sleep(100);
    }
    await sleep(1200);
    // The rest over ~3 s, so that rates have several scrapes to work with.
    const chunks = 10;
    const rest = events.slice(tenth);
    for (let c = 0; c < chunks; c++) {
      rest.slice(Math.floor((c * rest.length) / chunks), Math.floor(((c + 1) * rest.length) / chunks)).forEach((e) => subject.next(e));
      await sleep(300);
    }
    await sleep(2500);

    // Values Prometheus scraped equal the run's, computed from the events.
    const lastStep = events.filter((e) => e.type === 'step').pop()!;
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    const scalar = async (expr: string) => Number((await promQuery(base, expr))[0].value[1]);
    expect(await scalar('polca_training_loss')).toBe(lastStep.loss);
    expect(await scalar('polca_training_step')).toBe(lastStep.step);
    expect(await scalar('polca_transitions_total')).toBe(events.filter((e) => e.type === 'transition').length);
    expect(await scalar('polca_basis_size')).toBe(events.filter((e) => e.type === 'basis').length);
    expect(await scalar('polca_checkpoints_total')).toBe(checkpoints.length);
    expect(await scalar('polca_probe_nonfinite_losses')).toBe(7);
    expect(await scalar('polca_checkpoint_duration_seconds_sum')).toBeCloseTo(
      checkpoints.reduce((s, e) => s + e.seconds, 0),
      9,
    );

    // Dashboards: variables first (their values feed the expressions), then every target and annotation.
    const evaluated: string[] = [];
    for (const file of ['polca-live.json', 'polca-overview.json']) {
      const dashboard = JSON.parse(readFileSync(join(ROOT, 'dashboards', file), 'utf8')) as Dashboard;
      const vars: Record<string, string> = {};
      const firsts: Record<string, string> = {};
      for (const v of dashboard.templating.list) {
        expect(v.type).toBe('query');
        const q = substitute(typeof v.query === 'string' ? v.query : v.query.query, vars);
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
        expect(m, `variable ${v.name}: ${q}`).not.toBeNull();
        const res = await fetch(`${base}/api/v1/label/${m![2]}/values?${new URLSearchParams({ 'match[]': m![1] })}`);
        const values = ((await res.json()) as { data: string[] }).data;
        expect(values.length, `variable ${v.name} has values`).toBeGreaterThan(0);
        // "All" as Grafana formats a multi-value selection for Prometheus: a regex alternation.
        vars[v.name] = `(${values.join('|')})`;
        firsts[v.name] = values[0];
      }
      for (const { where, expr } of dashboardExpressions(dashboard)) {
        for (const values of Object.keys(vars).length ? [vars, firsts] : [vars]) {
          const q = substitute(expr, values);
          expect(q, `${where}: unsubstituted variable`).not.toMatch(/\$/);
          const result = await promQuery(base, q);
          expect(result.length, `${where}: ${q} returned no data`).toBeGreaterThan(0);
          expect(
            result.some((s) => Number.isFinite(Number(s.value[1]))),
            `${where}: ${q} returned no finite value`,
          ).toBe(true);
          evaluated.push(q);
        }
      }
    }
    expect(evaluated.length).toBeGreaterThan(20);

    // The per-cluster median series equals the median of the members' cumulative POLCA, brute force.
    const basis = 2;
    const cluster = 1;
    const cum = new Float64Array(500);
    for (const e of events) if (e.type === 'polca' && e.basisIds.includes(basis)) e.values[e.basisIds.indexOf(basis)].forEach((v, x) => (cum[x] += v));
    const lastClusters = events.filter((e) => e.type === 'clusters' && e.basisId === basis).pop()!;
    const members = Array.from((lastClusters as Extract<PolcaEvent, { type: 'clusters' }>).clusters[cluster].members, (x) => cum[x]).sort((a, b) => a - b);
    const median = members.length % 2 ? members[(members.length - 1) / 2] : (members[members.length / 2 - 1] + members[members.length / 2]) / 2;
    expect(await scalar(`polca_cluster_projected_loss_median{basis="${basis}", cluster="${cluster}"}`)).toBeCloseTo(median, 12);

    // Prometheus alert rules: each rule's expression returns data, and each alert is pending or firing.
    const rules = (await (await fetch(`${base}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; query: string; state: string; type: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    const declared = (parseYaml(readFileSync(ALERTS, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name).sort()).toEqual(declared.map((r) => r.alert).sort());
    for (const rule of declared) {
      expect((await promQuery(base, rule.expr)).length, `alert ${rule.alert}: ${rule.expr}`).toBeGreaterThan(0);
      const state = loaded.find((r) => r.name === rule.alert)!.state;
      expect(['pending', 'firing'], `alert ${rule.alert} state`).toContain(state);
    }
    const firing = ((await (await fetch(`${base}/api/v1/alerts`)).json()) as { data: { alerts: { labels: { alertname: string }; state: string }[] } }).data.alerts
      .filter((a) => a.state === 'firing')
      .map((a) => a.labels.alertname);
    // Rules without `for` fire at once.
    expect(new Set(firing)).toEqual(new Set(['PolcaTransitionDetected', 'PolcaNonFiniteLoss', 'PolcaTrackerAlert']));

    // Grafana-managed alert rules: query A of each returns data and its threshold C holds now.
    const grafana = parseYaml(readFileSync(join(ROOT, 'dashboards/provisioning/alerting/polca-alerts.yaml'), 'utf8')) as {
      groups: {
        rules: {
          title: string;
          condition: string;
          data: { refId: string; datasourceUid: string; model: { expr?: string; expression?: string; conditions?: { evaluator: { type: string; params: number[] } }[] } }[];
        }[];
      }[];
    };
    const grafanaRules = grafana.groups.flatMap((g) => g.rules);
    expect(grafanaRules.map((r) => r.title).sort()).toEqual(declared.map((r) => r.alert).sort());
    for (const rule of grafanaRules) {
      const a = rule.data.find((d) => d.refId === 'A')!;
      expect(a.datasourceUid).toBe('polca-prometheus');
      const result = await promQuery(base, a.model.expr!);
      expect(result.length, `grafana rule ${rule.title}: ${a.model.expr}`).toBeGreaterThan(0);
      const c = rule.data.find((d) => d.refId === rule.condition)!;
      expect(c.model.expression).toBe('A');
      const { type, params } = c.model.conditions![0].evaluator;
      expect(type).toBe('gt');
      expect(result.some((s) => Number(s.value[1]) > params[0]), `grafana rule ${rule.title} holds`).toBe(true);
    }

    subject.next(runEnd);
    subject.complete();
    await server.done;
  });
});
