/**
 * End to end with a real Prometheus: it scrapes a live synthetic run from
 * startServer's /metrics every second, loads dashboards/prometheus/alerts.yml,
 * and every PromQL expression of the dashboards, the Prometheus alert rules
 * and the Grafana-managed alert rules is evaluated through its HTTP API.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Subject } from 'rxjs';
import { parse as parseYaml } from 'yaml';
import { startServer, type PolcaServer } from '../../src/serve/startServer.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';
import { ALERTS, PROM_DIR, ROOT, dashboardExpressions, loadDashboard, promQuery, prometheusConfig, resolveVariables, sleep, startPrometheus, substitute } from './prometheusHelpers.js';

const run = promisify(execFile);

const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

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
    // The replayed run's breakthroughs lie ~20 minutes back; one more is detected now, as a live run would.
    events.push({ type: 'transition', time: Date.now(), step: 1990, detectedAt: 1999, target: { kind: 'cluster', basisId: 0, clusterId: 1 }, magnitude: 0.5, confidence: 0.9 });
    const subject = new Subject<PolcaEvent>();
    const server: PolcaServer = await startServer({ events$: subject, metrics: { port: 0 }, run: 'synthetic' });
    cleanup.push(() => server.close());

    const dir = mkdtempSync(join(tmpdir(), 'polca-prometheus-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const configFile = join(dir, 'prometheus.yml');
    writeFileSync(configFile, prometheusConfig(server.metricsPort!, 'e2e'));
    const { base } = await startPrometheus(configFile, join(dir, 'data'), (stop) => cleanup.push(stop));

    // First tenth of the run, then wait until Prometheus has seen the counters at their start values.
    const tenth = Math.floor(events.length / 10);
    events.slice(0, tenth).forEach((e) => subject.next(e));
    for (let i = 0; (await promQuery(base, 'polca_alerts_total')).length === 0; i++) {
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
    expect(await scalar('sum(polca_transitions_total)')).toBe(events.filter((e) => e.type === 'transition').length);
    // Every polca series carries the run label.
    const unlabelled = await promQuery(base, 'count by (__name__) ({__name__=~"polca_.+", run=""})');
    expect(unlabelled.map((r) => r.metric.__name__)).toEqual([]);
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
      const dashboard = loadDashboard(file);
      const { all, first, values } = await resolveVariables(base, dashboard);
      for (const [name, vs] of Object.entries(values)) expect(vs.length, `variable ${name} has values`).toBeGreaterThan(0);
      expect(values.run).toEqual(['synthetic']);
      for (const { where, expr } of dashboardExpressions(dashboard)) {
        for (const vars of [all, first]) {
          const q = substitute(expr, vars);
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
    expect(await scalar(`polca_cluster_projected_loss_median{kind="polca", basis="${basis}", cluster="${cluster}"}`)).toBeCloseTo(median, 12);

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
    // The transition alert names the run and the cluster it fired for.
    const transitionAlerts = ((await (await fetch(`${base}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts.filter(
      (a) => a.labels.alertname === 'PolcaTransitionDetected',
    );
    expect(transitionAlerts.map((a) => [a.labels.run, a.labels.kind ?? a.labels.set, a.labels.basis, a.labels.cluster]).sort()).toContainEqual(['synthetic', 'polca', '0', '1']);

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
    // Every Grafana rule notifies the provisioned webhook contact point.
    const contactPoints = parseYaml(readFileSync(join(ROOT, 'dashboards/provisioning/alerting/contact-points.yaml'), 'utf8')) as {
      contactPoints: { name: string; receivers: { type: string; settings: { url: string } }[] }[];
    };
    const receivers = contactPoints.contactPoints.map((c) => c.name);
    expect(contactPoints.contactPoints[0].receivers[0].type).toBe('webhook');
    for (const rule of grafanaRules as { title: string; notification_settings?: { receiver: string } }[]) {
      expect(receivers, `grafana rule ${rule.title} notifies a provisioned contact point`).toContain(rule.notification_settings?.receiver);
    }
    for (const rule of grafanaRules) {
      const a = rule.data.find((d) => d.refId === 'A')!;
      expect(a.datasourceUid).toBe('polca-prometheus');
      const result = await promQuery(base, a.model.expr!);
      expect(result.length, `grafana rule ${rule.title}: ${a.model.expr}`).toBeGreaterThan(0);
      const c = rule.data.find((d) => d.refId === rule.condition)!;
      expect(c.model.expression).toBe('A');
      const { type, params } = c.model.conditions![0].evaluator;
      expect(['gt', 'lt']).toContain(type);
      const holds = (v: number) => (type === 'gt' ? v > params[0] : v < params[0]);
      expect(result.some((s) => holds(Number(s.value[1]))), `grafana rule ${rule.title} holds`).toBe(true);
    }

    subject.next(runEnd);
    subject.complete();
    await server.done;
  });
});
