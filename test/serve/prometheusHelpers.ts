/**
 * A real Prometheus for the serving tests: start it on a port it picks, query
 * it, and walk the dashboards' PromQL as Grafana would send it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const PROM_DIR = join(ROOT, 'dashboards/prometheus');
export const ALERTS = join(PROM_DIR, 'alerts.yml');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromRange {
  metric: Record<string, string>;
  values: [number, string][];
}

export async function promQuery(base: string, expr: string, time?: number): Promise<PromSample[]> {
  const params = new URLSearchParams({ query: expr });
  if (time !== undefined) params.set('time', String(time));
  const res = await fetch(`${base}/api/v1/query?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data: { resultType: string; result: PromSample[] | [number, string] } };
  if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
  if (body.data.resultType === 'scalar') return [{ metric: {}, value: body.data.result as [number, string] }];
  return body.data.result as PromSample[];
}

/** A range query, as Grafana's panels and annotations send them. */
export async function promRange(base: string, expr: string, start: number, end: number, step = 1): Promise<PromRange[]> {
  const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
  const res = await fetch(`${base}/api/v1/query_range?${params}`);
  const body = (await res.json()) as { status: string; error?: string; data: { result: PromRange[] } };
  if (body.status !== 'success') throw new Error(`range query ${expr} failed: ${body.error}`);
  return body.data.result;
}

/** Values of a label among the series matching a selector (what Grafana's `label_values(selector, label)` lists). */
export async function labelValues(base: string, selector: string, label: string, start?: number, end?: number): Promise<string[]> {
  const params = new URLSearchParams({ 'match[]': selector });
  if (start !== undefined) params.set('start', String(start));
  if (end !== undefined) params.set('end', String(end));
  const res = await fetch(`${base}/api/v1/label/${label}/values?${params}`);
  return ((await res.json()) as { data: string[] }).data;
}

/**
 * Starts Prometheus on a port it picks itself (127.0.0.1:0) and reads the
 * port from its log; `cleanup` receives the function that stops it.
 */
export async function startPrometheus(configFile: string, dataDir: string, cleanup: (stop: () => Promise<void>) => void): Promise<{ base: string; proc: ChildProcess }> {
  const proc = spawn('prometheus', [`--config.file=${configFile}`, `--storage.tsdb.path=${dataDir}`, '--web.listen-address=127.0.0.1:0', '--log.level=info'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanup(async () => {
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

/** The parts of a dashboard these tests read. */
export interface Dashboard {
  uid: string;
  panels: { title: string; type: string; targets?: { expr?: string }[]; panels?: Dashboard['panels'] }[];
  annotations: { list: { name: string; expr?: string; titleFormat?: string; datasource?: { type?: string } }[] };
  templating: { list: { name: string; type: string; query: string | { query: string }; allValue?: string }[] };
}

export function loadDashboard(file: string): Dashboard {
  return JSON.parse(readFileSync(join(ROOT, 'dashboards', file), 'utf8')) as Dashboard;
}

/** Every PromQL expression of a dashboard's panels and Prometheus annotations. */
export function dashboardExpressions(d: Dashboard): { where: string; expr: string; annotation?: string }[] {
  const out: { where: string; expr: string; annotation?: string }[] = [];
  const walk = (panels: Dashboard['panels']) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) if (t.expr) out.push({ where: `${d.uid} panel "${p.title}"`, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(d.panels);
  for (const a of d.annotations.list) {
    if (a.expr && a.datasource?.type === 'prometheus') out.push({ where: `${d.uid} annotation "${a.name}"`, expr: a.expr, annotation: a.titleFormat });
  }
  return out;
}

/** Grafana's built-in interval variables, as Grafana would set them for a 1 s scrape interval and a recent range. */
export const BUILTINS: Record<string, string> = { __rate_interval: '1m', __interval: '1s', __range: '5m', __range_s: '300' };

export function substitute(expr: string, vars: Record<string, string>): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (m, name: string) => vars[name] ?? BUILTINS[name] ?? m);
}

/**
 * The dashboard's query variables resolved against Prometheus in order (each
 * feeds the next): `all` as Grafana sends "All" (the variable's `allValue`,
 * else the values as a regex alternation), `first` with each variable's first
 * value (listed under the earlier variables' first values). The data-source variable is left to Grafana (no expression uses it).
 */
export async function resolveVariables(
  base: string,
  d: Dashboard,
  range?: { start: number; end: number },
): Promise<{ all: Record<string, string>; first: Record<string, string>; values: Record<string, string[]> }> {
  const all: Record<string, string> = {};
  const first: Record<string, string> = {};
  const values: Record<string, string[]> = {};
  for (const v of d.templating.list) {
    if (v.type === 'datasource') continue;
    if (v.type !== 'query') throw new Error(`variable ${v.name}: type ${v.type} is not handled`);
    const query = typeof v.query === 'string' ? v.query : v.query.query;
    const list = async (vars: Record<string, string>) => {
      const q = substitute(query, vars);
      const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
      if (!m) throw new Error(`variable ${v.name}: ${q} is not label_values(selector, label)`);
      return labelValues(base, m[1], m[2], range?.start, range?.end);
    };
    const vs = await list(all);
    values[v.name] = vs;
    all[v.name] = v.allValue ?? `(${vs.join('|')})`;
    // The first value given the first values of the variables before it, as a user picking from the top would get.
    first[v.name] = (await list(first))[0];
  }
  return { all, first, values };
}

/** A Prometheus config scraping polca's /metrics on `port` every second, with the alert rules loaded. */
export function prometheusConfig(port: number, instance: string): string {
  return [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(ALERTS)}]`,
    'scrape_configs:',
    '  - job_name: polca',
    `    static_configs: [{ targets: ["127.0.0.1:${port}"], labels: { instance: "${instance}" } }]`,
  ].join('\n');
}
