import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { from } from 'rxjs';
import pl from 'nodejs-polars';
import { writeRun } from '../../src/sinks/arrow/RunWriter.js';
import { clustersCommand, flatAfter } from '../../src/report/clustersCommand.js';
import { arithmeticTarget } from '../../examples/arithmetic/evaluation.js';
import { replayCommand } from '../../src/cli/replayCommand.js';
import type { PolcaEvent } from '../../src/stream/events.js';

/**
 * A run with three planted groups of 100 datapoints along basis vector 0: each
 * group's projected loss drops as a sigmoid at its own step (200, 500, 800),
 * with small per-datapoint noise. Group 1 is labelled carry (10s place), the
 * others not. Exact losses all fall smoothly alike.
 */
function plantedRun(): { events: PolcaEvent[]; group: number[] } {
  const N = 300;
  const every = 20;
  const T = 60;
  const centers = [200, 500, 800];
  let s = 7;
  const noise = () => {
    s = (s * 16807) % 2147483647;
    return (s / 2147483647 - 0.5) * 0.02;
  };
  const group = Array.from({ length: N }, (_, x) => Math.floor(x / 100));
  const L = (x: number, t: number) => -1 / (1 + Math.exp(-(t - centers[group[x]]) / 30));
  const loss = (t: number) => Float32Array.from({ length: N }, () => 2 * Math.exp(-t / 300) + 0.1);
  const events: PolcaEvent[] = [
    {
      type: 'run-start', time: 0, config: { every }, numParams: 10, numProbe: N, backend: 'cpu', hvpMode: 'exact', hvpReason: 'test',
      params: [{ name: 'w', shape: [10] }], versions: { polca: '0.1.0', tfjs: '4.22.0' },
    },
  ];
  let prev = loss(0);
  for (let i = 0; i <= T; i++) {
    const t = i * every;
    const losses = loss(t);
    events.push({ type: 'checkpoint', time: t, step: t, losses, meanLoss: 2 * Math.exp(-t / 300) + 0.1, nonFinite: 0, seconds: 0.1 });
    if (i === 0) {
      events.push({ type: 'basis', time: t, id: 0, step: 0, kind: 'hessian', eigenvalue: 3, residual: 1e-4, hvps: 12 });
      continue;
    }
    const values = Float32Array.from({ length: N }, (_, x) => L(x, t) - L(x, t - every) + noise() * 0.05);
    events.push({
      type: 'polca', time: t, fromStep: t - every, toStep: t, basisIds: [0], projections: [0.1], values: [values], firstOrder: [values], // one array in two columns: the writer must copy
      derivatives: [Float32Array.from(values, (v) => v * 10)], lossBefore: prev, lossAfter: losses,
      residual: new Float32Array(N), secondOrder: 'paper', nonFinite: 0,
    });
    prev = losses;
  }
  events.push({ type: 'run-end', time: T * every, step: T * every, reason: 'closed' });
  return { events, group };
}

async function writePlanted(): Promise<{ dir: string; group: number[] }> {
  const { events, group } = plantedRun();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-cli-'));
  const place = group.map((g) => (g === 1 ? 1 : 2));
  const carry = group.map((g) => g === 1);
  const writer = writeRun(from(events), dir, { probeMeta: { place, carry } });
  await writer.closed;
  return { dir, group };
}

describe('polca clusters', () => {
  it('recovers planted groups, their breakthroughs and carry homogeneity; writes memberships as Arrow', async () => {
    const { dir, group } = await writePlanted();
    const r = await clustersCommand(dir, { kinds: ['polca', 'loss'], minClusterSize: 30, minSamples: 10, delta: 100, tau: 600, quality: arithmeticTarget });
    const polca = r.clusterings.get('polca')!;
    expect(polca).toHaveLength(1);
    const clusters = polca[0].event.clusters;
    expect(clusters).toHaveLength(3);
    // Each cluster is one planted group.
    const byGroup = clusters.map((c) => new Set(Array.from(c.members, (x) => group[x])));
    byGroup.forEach((g) => expect(g.size).toBe(1));
    // Quality: the carry cluster is the whole group 1 → homogeneity 1, recall 1.
    const row = r.quality!.find((q) => q.kind === 'polca')!;
    expect(row.topHomogeneity[0]).toBe(1);
    // Exact losses are identical for everyone: no structure there.
    expect(r.text).toMatch(/## polca/);
    expect(r.text).toMatch(/3 clusters/);
    // Hidden breakthroughs: group 2's drop (800) is after τ = 600, group 0's (200) is not.
    expect(r.text).toMatch(/\(hidden\)/);
    // Memberships file, read by an independent Arrow implementation.
    const df = pl.readIPCStream(fs.readFileSync(r.file!));
    const rows = df.filter(pl.col('kind').eq(pl.lit('polca'))).toRecords() as { clusterId: number; datapoint: number }[];
    const members = new Map<number, number[]>();
    for (const x of rows) members.set(x.clusterId, [...(members.get(x.clusterId) ?? []), x.datapoint]);
    for (const c of clusters) expect(members.get(c.id)!.sort((a, b) => a - b)).toEqual(Array.from(c.members).sort((a, b) => a - b));
  });

  it('τ is where the mean loss becomes flat', () => {
    const steps = [0, 10, 20, 30, 40, 50];
    expect(flatAfter(steps, [10, 5, 2, 1.1, 1.05, 1.0])).toBe(30);
  });
});

describe('polca command line', () => {
  it('replays a run directory and clusters it from the shell', async () => {
    const { dir } = await writePlanted();
    const cli = (...args: string[]) =>
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', cwd: path.resolve(__dirname, '../..'), maxBuffer: 256 * 1024 * 1024 });
    const out = cli('replay', dir);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^run-start P=10 N=300/);
    expect(lines.at(-1)).toMatch(/^run-end/);
    expect(lines.filter((l) => l.startsWith('polca '))).toHaveLength(60);
    // A reader that stops early closes the pipe: the command ends quietly, without a stack trace.
    const head = spawnSync('sh', ['-c', `"${process.execPath}" --import tsx src/cli/main.ts replay "${dir}" --json | head -c 100`], {
      encoding: 'utf8',
      cwd: path.resolve(__dirname, '../..'),
    });
    expect(head.stdout).toHaveLength(100);
    expect(head.stderr).not.toMatch(/EPIPE|Error/);
    const json = cli('replay', dir, '--json').trim().split('\n').map((l) => JSON.parse(l));
    expect(json[1].losses).toHaveLength(300);
    // A misspelt kind is refused before any work, with the kinds listed.
    const misspelt = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'clusters', dir, '--kinds', 'polka'], { encoding: 'utf8', cwd: path.resolve(__dirname, '../..') });
    expect(misspelt.status).not.toBe(0);
    expect(misspelt.stderr).toMatch(/unknown trajectory kind "polka"; the kinds are loss, loss-change, fisher, lca, polca-first, polca/);
    const clusters = cli('clusters', dir, '--kinds', 'polca', '--min-cluster-size', '30', '--min-samples', '10', '--no-write');
    expect(clusters).toMatch(/basis 0: 3 clusters/);
    // Δ defaults to 5 checkpoint intervals, in clusters as in the report; both take --delta and --tau.
    expect(clusters).toMatch(/61 checkpoints; Δ = 100, τ = \d+/);
    const report = path.join(dir, 'custom.html');
    const written = cli('report', dir, '--out', report, '--delta', '60', '--tau', '400', '--min-cluster-size', '30', '--min-samples', '10', '--kinds', 'polca,loss');
    expect(written).toBe(`report written to ${report}\n`);
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('<tr><th>break times</th><td>Δ = 60 steps, τ = 400 steps (given)</td></tr>');
    expect(html).toMatch(/<section class="panel" id="basis-0">/);
    expect(html).toMatch(/<h3 id="kind-loss">loss<\/h3>/);
    // A run whose live detector used another Δ (analysis/live.json): clusters and the report take it over.
    fs.mkdirSync(path.join(dir, 'analysis'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'analysis', 'live.json'), JSON.stringify({ delta: 60, minClusterSize: 30, minSamples: 10, kinds: ['polca'], every: 'auto', budget: 0.05 }));
    expect(cli('clusters', dir, '--kinds', 'polca', '--no-write')).toMatch(/Δ = 60, τ = \d+[\s\S]*basis 0: 3 clusters/);
    cli('report', dir, '--out', report);
    expect(fs.readFileSync(report, 'utf8')).toMatch(/<tr><th>break times<\/th><td>Δ = 60 steps, τ = \d+ steps \(from the mean probe loss\)<\/td><\/tr>/);
    fs.rmSync(path.join(dir, 'analysis'), { recursive: true });
    // The budget of the planted run, recomputed by hand for the first range.
    const budget = cli('budget', dir, '--edges', '0,500');
    const { events } = plantedRun();
    let dd = 0;
    let vv = 0;
    for (const e of events) {
      if (e.type !== 'polca' || e.fromStep >= 500) continue;
      for (let x = 0; x < e.lossAfter.length; x++) {
        dd += (e.lossAfter[x] - e.lossBefore[x]) ** 2;
        vv += e.values[0][x] ** 2;
      }
    }
    const row = budget.split('\n').find((l) => l.startsWith('| 0–500 |'))!.split('|').map((c) => c.trim());
    expect(row[2]).toBe('25');
    expect(Number(row[4].split(' / ')[0])).toBeCloseTo(vv / dd, 3);
    expect(budget).toMatch(/recorded \(paper\)/);
    expect(budget).toMatch(/\| 500–end \| 35 \| 1 \|/);
    let err = '';
    try {
      cli('clusters', '/nonexistent/run');
    } catch (e) {
      err = String((e as { stderr: string }).stderr);
    }
    expect(err).toMatch(/polca: .*nonexistent/);
  }, 300_000); // eight CLI processes, each starting tsx: slow on a loaded machine
});

describe('polca replay --grpc --metrics', () => {
  it('serves the replayed run: Prometheus metrics equal the run\'s last values', async () => {
    const { dir } = await writePlanted();
    const lines: string[] = [];
    let scraped = '';
    const watcher = setInterval(async () => {
      const m = lines.find((l) => l.startsWith('serving metrics on '));
      if (!m || scraped) return;
      const url = m.replace('serving metrics on ', '');
      const text = await (await fetch(url)).text();
      if (/polca_checkpoint_step\{run="[^"]+"\} 1200/.test(text)) scraped = text;
    }, 100);
    const count = await replayCommand(dir, { grpc: 0, metrics: 0, linger: 2 }, (s) => lines.push(s));
    clearInterval(watcher);
    expect(count).toBe(1 + 61 + 1 + 60 + 1);
    expect(lines.some((l) => /^serving gRPC on 127\.0\.0\.1:\d+/.test(l))).toBe(true);
    // Every series is labelled with the run: the directory's name unless --run names it.
    const run = path.basename(dir);
    expect(scraped).toMatch(new RegExp(`polca_checkpoint_step\\{run="${run}"\\} 1200`));
    expect(scraped).toMatch(new RegExp(`polca_basis_size\\{run="${run}"\\} 1`));
    // The mean probe loss of the last checkpoint, computed independently.
    const mean = Number(/polca_probe_loss_mean\{run="[^"]+"\} ([0-9.e-]+)/.exec(scraped)![1]);
    expect(mean).toBeCloseTo(2 * Math.exp(-1200 / 300) + 0.1, 5);
  });
});
