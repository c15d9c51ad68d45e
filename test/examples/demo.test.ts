import { mergeIntervals } from '../../src/analysis/mergeIntervals.js';
import pl from 'nodejs-polars';
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { lastValueFrom, toArray } from 'rxjs';
import { DEMO_PLANS, demoClusterSizes, demoPlan, noMidSumColumn, overrideFlags, paperOrder, parseDemoArgs, type DemoOverrides } from '../../examples/demo.js';
import { problemText } from '../../examples/arithmetic/data.js';
import { createArithmeticLayersModel } from '../../examples/arithmetic/layers.js';
import { encodeFrame, readTheta } from '../../examples/thetaFeed.js';
import { replay } from '../../src/sinks/arrow/replay.js';
import { readRun } from '../../src/sinks/arrow/readRun.js';
import type { CheckpointEvent, PolcaEvent, PolcaIncrementEvent } from '../../src/stream/events.js';

/** The trained θ's digest printed by the quick demo's run in the first test, for the full-disk run to compare with. */
let thetaDigest: string | undefined;
/** That run's directory, whose compared basis was measured in the child process from the θ it was sent. */
let quickOut: string | undefined;
const digestOf = (stdout: string) => /^trained θ: sha256 ([0-9a-f]{64})$/m.exec(stdout)?.[1];

describe('npm run demo -- --quick', () => {
  it('trains, logs a consistent run directory, and clusters it', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-demo-')), 'run');
    quickOut = out;
    // The command a user types, through npm and the script's own argument parsing.
    const demo = spawnSync('npm', ['run', '-s', 'demo', '--', '--quick', '--out', out], { encoding: 'utf8', timeout: 400_000, maxBuffer: 64 * 1024 * 1024 });
    expect(demo.stderr).not.toMatch(/demo: /);
    expect(demo.status).toBe(0);
    const text = demo.stdout;
    thetaDigest = digestOf(text);
    expect(thetaDigest).toBeDefined();
    expect(text).toMatch(/live: gRPC 127\.0\.0\.1:\d+ \(polca\.v1\.Polca\), metrics http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(text).toMatch(/## polca/);
    expect(text).toMatch(/## Quality/);
    // Without a terminal, progress comes as lines, about one per tenth of the run.
    expect(text.split('\n').filter((l) => /^training \d+\/400 steps, loss [\d.]+/.test(l)).length).toBeGreaterThanOrEqual(8);
    // The basis table has the Hessian row and the random basis's.
    expect(text).toMatch(/also along: random basis \(.*bases\/random\), in a second process/);
    expect(text).toMatch(/## POLCA by basis/);
    // Each basis has a second-order (secant, the demo's default) and a first-order POLCA row.
    expect(text).toMatch(/\| hessian \(top eigenvectors\), POLCA \(secant\) \|/);
    expect(text).toMatch(/\| hessian \(top eigenvectors\), first-order POLCA \|/);
    expect(text).toMatch(/\| random orthonormal, POLCA \(secant\) \|/);
    expect(text).toMatch(/HDBSCAN: min_cluster_size 12, min_samples 3 \(scaled sizes for N = 600\)/);
    // The closing line reads off the tables above it: the best POLCA row over both bases, and the exact loss.
    const firstOf = (line: string | undefined) => (line === undefined ? undefined : Number(line.split('|')[2].trim().split(' / ')[0]));
    const lines = text.split('\n');
    const polcaBest = Math.max(...lines.filter((l) => /^\| (hessian|random).*POLCA/.test(l)).map(firstOf).filter((h): h is number => h !== undefined && !Number.isNaN(h)));
    const lossBest = firstOf(lines.find((l) => l.startsWith('| loss |')));
    const order = lines.find((l) => l.startsWith("paper's order"));
    expect(order).toBeDefined();
    // A table's '-' (no eligible cluster) must read as such on the closing line, not be skipped.
    expect(order).toContain(Number.isFinite(polcaBest) ? `POLCA ${polcaBest.toFixed(3)} (` : 'POLCA no eligible cluster');
    expect(order).toContain(lossBest !== undefined && !Number.isNaN(lossBest) ? `exact loss ${lossBest.toFixed(3)}` : 'exact loss no eligible cluster');

    const run = await readRun(out, { strict: true });
    expect(run.complete).toBe(true);
    expect(run.manifest.numProbe).toBe(600);
    const events: PolcaEvent[] = await lastValueFrom(replay(out).pipe(toArray()));
    expect(events[0].type).toBe('run-start');
    expect(events.at(-1)!.type).toBe('run-end');
    const checkpoints = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
    expect(checkpoints.map((c) => c.step)).toEqual(Array.from({ length: 21 }, (_, i) => 20 * i));
    expect(events.filter((e) => e.type === 'basis')).toHaveLength(4);
    // Consistency: each interval's losses are those of its two checkpoints, and the
    // residual closes the decomposition: Δℓ = Σ_b POLCA + r.
    const polca = events.filter((e): e is PolcaIncrementEvent => e.type === 'polca');
    expect(polca.filter((p) => !p.filled)).toHaveLength(20);
    // Full-length trajectories: with the filled-in intervals, every interval holds all four vectors.
    expect(mergeIntervals(events).map((e) => [e.fromStep, e.basisIds])).toEqual(Array.from({ length: 20 }, (_, i) => [20 * i, [0, 1, 2, 3]]));
    for (const p of polca) {
      const before = checkpoints.find((c) => c.step === p.fromStep)!;
      const after = checkpoints.find((c) => c.step === p.toStep)!;
      expect(Array.from(p.lossBefore)).toEqual(Array.from(before.losses));
      expect(Array.from(p.lossAfter)).toEqual(Array.from(after.losses));
      for (let x = 0; x < p.residual.length; x += 37) {
        const sum = p.values.reduce((s, v) => s + v[x], 0);
        expect(p.lossAfter[x] - p.lossBefore[x] - sum).toBeCloseTo(p.residual[x], 4);
      }
    }
    // The random-basis tracker ran in a second process repeating the same training: the same checkpoints
    // with bit-identical probe losses, and its own four (random) vectors.
    const other: PolcaEvent[] = await lastValueFrom(replay(path.join(out, 'bases', 'random')).pipe(toArray()));
    const otherCheckpoints = other.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
    expect(otherCheckpoints.map((c) => c.step)).toEqual(checkpoints.map((c) => c.step));
    otherCheckpoints.forEach((c, i) => expect(Array.from(c.losses)).toEqual(Array.from(checkpoints[i].losses)));
    const otherBasis = other.filter((e) => e.type === 'basis');
    expect(otherBasis.map((b) => (b as { kind: string }).kind)).toEqual(['random', 'random', 'random', 'random']);
    // The carry diagnostic reads the run: its exact-loss row equals pairwise AUCs of the checkpoint
    // losses, with the near-threshold tokens found here by column addition from the probe texts.
    const sep = spawnSync('npx', ['tsx', 'examples/arithmetic/carrySeparation.ts', out], { encoding: 'utf8', timeout: 120_000 });
    expect(sep.status).toBe(0);
    const lossRow = sep.stdout.split('\n').find((l) => l.startsWith('| exact loss |'))!.split('|').map((c) => c.trim());
    const meta = run.manifest.probeMeta as { text: string[]; place: number[]; carry: boolean[] };
    const near = meta.text.map((t, i) => {
      const [a, b] = t.slice(0, 7).split('+').map((v) => v.split('').reverse().map(Number));
      let carryIn = 0;
      let below = -1;
      for (let col = 0; col < meta.place[i]; col++) {
        below = a[col] + b[col] + carryIn;
        carryIn = below >= 10 ? 1 : 0;
      }
      return below === 9 || below === 10;
    });
    const idx = meta.place.flatMap((p, i) => (p === 1 || p === 2 ? [i] : []));
    const pairAuc = (g: (i: number) => boolean, losses: Float32Array) => {
      let s = 0;
      const A = idx.filter(g);
      const B = idx.filter((i) => !g(i));
      for (const x of A) for (const y of B) s += losses[x] < losses[y] ? 1 : losses[x] === losses[y] ? 0.5 : 0;
      const v = s / (A.length * B.length);
      return Math.max(v, 1 - v);
    };
    const best = (g: (i: number) => boolean) => Math.max(...checkpoints.map((c) => pairAuc(g, c.losses)));
    expect(Number(lossRow[7].split(' ')[0])).toBeCloseTo(best((i) => meta.carry[i]), 2);
    expect(Number(lossRow[8].split(' ')[0])).toBeCloseTo(best((i) => near[i]), 2);
    expect(sep.stdout.split('\n').filter((l) => l.startsWith('| vector '))).toHaveLength(4);
    // The cluster make-up reads the same run and its memberships; its probe carry count is the manifest's.
    const mix = spawnSync('npx', ['tsx', 'examples/arithmetic/clusterMix.ts', out], { encoding: 'utf8', timeout: 120_000 });
    expect(mix.status).toBe(0);
    const carries = meta.carry.filter((c, i) => c && meta.place[i] !== 3).length;
    expect(mix.stdout).toMatch(new RegExp(`^probe: carry ${carries}, carry-1000s \\d+, mid-sum \\d+, other \\d+$`, 'm'));
    expect(mix.stdout.split('\n').filter((l) => /^\| (polca|loss|fisher)/.test(l)).length).toBeGreaterThan(0);
    // The POLCA table again as an Arrow IPC file (magic and footer), in the run and in the compared basis's
    // run: polars reads it by path as a file, with the same rows as the stream the run writes.
    for (const dir of [out, path.join(out, 'bases', 'random')]) {
      const ipc = path.join(dir, 'polca.ipc');
      expect(fs.readFileSync(ipc).subarray(0, 6).toString('latin1')).toBe('ARROW1');
      const file = pl.readIPC(ipc);
      const stream = pl.readIPCStream(fs.readFileSync(path.join(dir, 'polca.arrows')));
      expect(file.height).toBeGreaterThan(0);
      expect(file.columns).toEqual(stream.columns);
      expect(file.frameEqual(stream)).toBe(true);
    }
    // The clusters command wrote its memberships next to the run.
    expect(fs.existsSync(path.join(out, 'analysis', 'clusters.arrows'))).toBe(true);
    // The report renders in a real browser: its charts are laid-out SVGs with drawn marks.
    const report = path.join(out, 'report.html');
    // …with the basis table comparing the Hessian run with the random-basis run.
    const html = fs.readFileSync(report, 'utf8');
    expect(html).toContain('POLCA by basis');
    expect(html).toMatch(/polca, random basis \(random\)/);
    expect(text).toContain(`report: ${report}`);
    const chromium = '/usr/bin/chromium';
    if (!fs.existsSync(chromium)) throw new Error('/usr/bin/chromium is missing: run `bash .ci/deps/chromium.sh`');
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-chromium-'));
    const r = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, '--dump-dom', `file://${report}`],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 },
    );
    expect(r.status).toBe(0);
    const svgs = r.stdout.match(/<svg[\s>]/g) ?? [];
    expect(svgs.length).toBeGreaterThanOrEqual(3);
    expect((r.stdout.match(/<path[^>]* d="M/g) ?? []).length).toBeGreaterThan(10);
  }, 600_000);
});

describe('npm run demo -- --quick with its log on a full disk', () => {
  it('trains to the end with the same θ, says the log failed as an alert while training, and leaves run.json failed with the reason', () => {
    expect(thetaDigest).toBeDefined();
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-demo-full-'));
    const mnt = path.join(base, 'disk');
    fs.mkdirSync(mnt);
    // A real full disk: a 128 KB tmpfs (needs root; CI's machine and this one run as root).
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', mnt], { stdio: 'ignore' });
    const mounted = fs.readFileSync('/proc/mounts', 'utf8').includes(` ${mnt} tmpfs `);
    // Without a tmpfs, an unwritable log (its parent is a file) shows the same, except run.json.
    if (!mounted) fs.writeFileSync(path.join(mnt, 'file'), '');
    const out = mounted ? path.join(mnt, 'run') : path.join(mnt, 'file', 'run');
    try {
      const demo = spawnSync('npm', ['run', '-s', 'demo', '--', '--quick', '--out', out, '--bases', 'none', '--no-serve'], { encoding: 'utf8', timeout: 400_000, maxBuffer: 64 * 1024 * 1024 });
      expect(demo.status).toBe(0);
      const text = demo.stdout;
      expect(text).toMatch(/^training 400\/400 steps/m);
      expect(digestOf(text)).toBe(thetaDigest);
      // The alert reached the stream during training (the progress line shows the latest alert), then the summary.
      expect(text).toMatch(/^training \d+\/400 steps, .*alert: sink-failed/m);
      expect(text).toMatch(mounted ? /^the log stopped at step \d+: .*ENOSPC.*training went on$/m : /^the log stopped at step -?\d+: .*training went on$/m);
      expect(text).toMatch(/no clusters or report from it/);
      if (mounted) {
        const manifest = JSON.parse(fs.readFileSync(path.join(out, 'run.json'), 'utf8'));
        expect(manifest.status).toBe('failed');
        expect(manifest.failureReason).toMatch(/ENOSPC/);
      }
    } finally {
      if (mounted) spawnSync('umount', [mnt], { stdio: 'ignore' });
      fs.rmSync(base, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('paperOrder', () => {
  it('compares the best POLCA cluster of any basis with the best exact-loss cluster', () => {
    const rows = [
      { kind: 'hessian, POLCA (secant)', topHomogeneity: [0.2, 0.1] },
      { kind: 'random, POLCA (secant)', topHomogeneity: [] },
      { kind: 'gradient covariance, first-order POLCA', topHomogeneity: [0.435] },
    ];
    expect(paperOrder(rows, { topHomogeneity: [0.37, 0.08] })).toBe(
      "paper's order (best eligible carry homogeneity): POLCA 0.435 (gradient covariance, first-order POLCA), exact loss 0.370, difference +0.065",
    );
    expect(paperOrder(rows.slice(0, 1), { topHomogeneity: [0.5] })).toMatch(/POLCA 0\.200 \(hessian, POLCA \(secant\)\), exact loss 0\.500, difference -0\.300$/);
    expect(paperOrder(rows.slice(1, 2), undefined)).toBe("paper's order (best eligible carry homogeneity): POLCA no eligible cluster, exact loss no eligible cluster");
  });
});

describe('demo experiment overrides', () => {
  it('change only what they name, and name the option and value when wrong', () => {
    const p = demoPlan(false, { lr: 3e-4, schedule: 'constant', probeSize: 1250 });
    expect(p.config.lr).toBe(3e-4);
    expect(p.config.schedule).toBe('constant');
    expect(p.probeSize).toBe(1250);
    expect({ ...p.config, lr: 0, schedule: 0 }).toEqual({ ...DEMO_PLANS.default.config, lr: 0, schedule: 0 });
    expect(demoPlan(true)).toEqual(DEMO_PLANS.quick);
    expect(() => demoPlan(false, { lr: -1 })).toThrow(/option 'lr' must be a positive number, got -1/);
    expect(() => demoPlan(false, { steps: 10 })).toThrow(/option 'steps' must be an integer ≥ 40, got 10/);
    expect(() => demoPlan(false, { schedule: 'linear' as 'constant' })).toThrow(/option 'schedule'/);
    const big = demoPlan(false, { layers: 3, dModel: 128, dMlp: 512 });
    expect([big.config.layers, big.config.dModel, big.config.dMlp, big.config.heads]).toEqual([3, 128, 512, 4]);
    expect(() => demoPlan(false, { dModel: 30 })).toThrow(/option 'd-model' must be a positive multiple of the 4 heads, got 30/);
    const sparse = demoPlan(false, { basisEvery: 400 });
    expect([sparse.basisEvery, sparse.maxVectors, sparse.every]).toEqual([400, DEMO_PLANS.default.maxVectors, DEMO_PLANS.default.every]);
    expect(() => demoPlan(false, { basisEvery: 30 })).toThrow(/option 'basis-every' must be a positive multiple of the checkpoint interval 20, got 30/);
    expect(demoPlan(false, { basisEvery: 60, maxVectors: 50 }).maxVectors).toBe(50);
    expect(() => demoPlan(false, { maxVectors: 0 })).toThrow(/option 'max-vectors' must be a positive integer, got 0/);
    expect(demoPlan(false, { carryFrom: 1000 }).carryFrom).toBe(1000);
    expect(demoPlan(false).carryFrom).toBeUndefined();
    expect(demoPlan(false, { secondOrder: 'secant' }).secondOrder).toBe('secant');
    // The child process gets the parent's overrides through the same flags the command line reads.
    const all: DemoOverrides = {
      lr: 3e-4, schedule: 'constant', steps: 6000, probeSize: 250, seed: 2, layers: 3, dModel: 128, dMlp: 512,
      every: 10, basisEvery: 400, maxVectors: 30, secondOrder: 'secant', carryFrom: 1000, midSumsFrom: 1000, compare: 'shuffled,axis',
      compareEvery: 100, compareVectors: 12, clusterSizes: 'paper', format: 'query',
    };
    const dense = demoPlan(false, { every: 5, basisEvery: 100, compareEvery: 100, compareVectors: 15 });
    expect([dense.every, dense.basisEvery, dense.compareEvery, dense.compareMaxVectors]).toEqual([5, 100, 100, 15]);
    expect(() => demoPlan(false, { every: 0 })).toThrow(/option 'every' must be a positive integer, got 0/);
    // The defaults' 200 and 500 must stay multiples of a new checkpoint interval.
    expect(() => demoPlan(false, { every: 30 })).toThrow(/option 'basis-every' must be a positive multiple of the checkpoint interval 30, got 200/);
    expect(() => demoPlan(false, { every: 40, basisEvery: 400 })).toThrow(/option 'compare-every' must be a positive multiple of the checkpoint interval 40, got 500/);
    expect(() => demoPlan(false, { compareVectors: 1.5 })).toThrow(/option 'compare-vectors' must be a positive integer, got 1.5/);
    expect(demoPlan(false, { compare: 'shuffled,axis' }).compare).toEqual(['shuffled', 'axis']);
    expect(demoPlan(false, { compare: 'none' }).compare).toEqual([]);
    expect(() => demoPlan(false, { compare: 'random,hessian' })).toThrow(/option 'compare' must be 'none' or a comma-separated list of 'random', 'shuffled', 'axis', 'movement', 'step-covariance', 'gradient-covariance', got "random,hessian"/);
    expect(() => demoPlan(false, { clusterSizes: 'big' as 'paper' })).toThrow(/option 'cluster-sizes' must be 'scaled' or 'paper', got "big"/);
    // 2 % and 0.5 % of N; the paper's 150 and N/15 at N = 5000, scaled.
    expect(demoClusterSizes(2000)).toEqual({ minClusterSize: 40, minSamples: 10 });
    expect(demoClusterSizes(5000, 'paper')).toEqual({ minClusterSize: 150, minSamples: 333 });
    expect(parseDemoArgs(overrideFlags(all)).overrides).toEqual(all);
    expect(parseDemoArgs(['--quick', '--mlp', '1024'])).toMatchObject({ quick: true, bases: 'child', serve: true, overrides: { dMlp: 1024 } });
    expect(Object.keys(parseDemoArgs([]).overrides)).toEqual([]);
    expect(() => demoPlan(false, { secondOrder: 'exact' as 'secant' })).toThrow(/option 'second-order' must be 'none', 'paper', 'secant', 'directional', got "exact"/);
    expect(() => demoPlan(false, { carryFrom: 5000 })).toThrow(/option 'carry-from' must be an integer in \[0, 3000\] \(the training steps\), got 5000/);
    expect(demoPlan(false, { midSumsFrom: 1000 }).midSumsFrom).toBe(1000);
    expect(demoPlan(false, { format: 'query' }).config).toEqual({ ...DEMO_PLANS.default.config, format: 'query' });
    expect(demoPlan(false, { format: 'sequence' }).config).toEqual(DEMO_PLANS.default.config);
    expect(() => demoPlan(false, { format: 'reversed' as 'query' })).toThrow(/option 'format' must be 'sequence', 'query', got "reversed"/);
    expect(() => demoPlan(false, { midSumsFrom: -1 })).toThrow(/option 'mid-sums-from' must be an integer in \[0, 3000\] \(the training steps\), got -1/);
  });

  it('the held-out sums: no column of the problem text whose two digits sum to 5–8', () => {
    // Read from the problem's text, column by column, rather than by arithmetic on the operands.
    const byText = (a: number, b: number) => {
      const t = problemText(a, b);
      return [0, 1, 2].every((k) => {
        const s = Number(t[k]) + Number(t[4 + k]);
        return s < 5 || s > 8;
      });
    };
    let kept = 0;
    for (let a = 100; a <= 999; a += 7) {
      for (let b = 100; b <= 999; b += 3) {
        expect(noMidSumColumn(a, b), `${a}+${b}`).toBe(byText(a, b));
        if (byText(a, b)) kept++;
      }
    }
    // Both outcomes occur: the filter neither takes nor drops everything.
    expect(kept).toBeGreaterThan(0);
    expect(noMidSumColumn(104, 200)).toBe(true);
    expect(noMidSumColumn(123, 456)).toBe(false);
  });
});

/** A run's measured events (steps, checkpoints, basis vectors, POLCA), without wall-clock fields. */
async function measured(dir: string): Promise<string[]> {
  const events: PolcaEvent[] = await lastValueFrom(replay(dir).pipe(toArray()));
  const keep = new Set(['step', 'checkpoint', 'basis', 'polca']);
  return events
    .filter((e) => keep.has(e.type))
    .map((e) => {
      const { time: _t, ...rest } = e as PolcaEvent & { seconds?: number };
      delete (rest as { seconds?: number }).seconds;
      return JSON.stringify(rest, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v));
    });
}

describe('the comparison-bases process', () => {
  it('measures, from the θ it is sent, exactly what a tracker watching the training itself measures', async () => {
    expect(quickOut).toBeDefined();
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-demo-inline-')), 'run');
    // The same plan with the compared basis watching the training in the same process.
    const demo = spawnSync('npm', ['run', '-s', 'demo', '--', '--quick', '--out', out, '--bases', 'inline', '--no-serve'], { encoding: 'utf8', timeout: 400_000, maxBuffer: 64 * 1024 * 1024 });
    expect(demo.status).toBe(0);
    expect(digestOf(demo.stdout)).toBe(thetaDigest);
    const fed = await measured(path.join(quickOut!, 'bases', 'random'));
    const watched = await measured(path.join(out, 'bases', 'random'));
    // The whole run: 401 steps, 21 checkpoints, 4 vectors, and POLCA for every interval.
    expect(fed.filter((e) => e.startsWith('{"type":"step"'))).toHaveLength(401);
    expect(fed.filter((e) => e.startsWith('{"type":"checkpoint"'))).toHaveLength(21);
    expect(fed.filter((e) => e.startsWith('{"type":"basis"'))).toHaveLength(4);
    expect(fed.filter((e) => e.startsWith('{"type":"polca"') && !e.includes('"filled":true')).length).toBe(20);
    expect(fed).toEqual(watched);
  }, 600_000);

  it('stops when its parent goes away (its stdin closes), closing what it measured so far', async () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'polca-demo-child-')), 'run');
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts', '--compared-bases', 'random', '--out', out, '--quick'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // The quick plan's model, as the parent would send it: θ at step 0 and at the checkpoint of step 20.
    const plan = DEMO_PLANS.quick;
    await tf.setBackend('cpu');
    const model = createArithmeticLayersModel({ ...plan.config, seed: plan.config.seed + 1, initStd: plan.config.initStd });
    model.build([null, 11, 12]);
    const theta = readTheta(model);
    model.dispose();
    for (let step = 0; step <= 25; step++) {
      child.stdin.write(encodeFrame({ step, loss: step === 0 ? undefined : 2, theta: step % 20 === 0 ? theta : undefined }));
    }
    child.stdin.end();
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(stderr).toMatch(/the parent process is gone after step 25 of 400/);
    expect(code).toBe(2);
    // Nothing it measured is lost: the run is closed, with both checkpoints.
    const run = await readRun(path.join(out, 'bases', 'random'), { strict: true });
    expect(run.complete).toBe(true);
    const events: PolcaEvent[] = await lastValueFrom(replay(path.join(out, 'bases', 'random')).pipe(toArray()));
    expect(events.filter((e): e is CheckpointEvent => e.type === 'checkpoint').map((c) => c.step)).toEqual([0, 20]);
    expect(events.filter((e) => e.type === 'step').at(-1)).toMatchObject({ step: 25, loss: 2 });
  }, 120_000);
});
