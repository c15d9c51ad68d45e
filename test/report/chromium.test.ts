/**
 * The report as a person sees it: headless Chromium (Debian's, installed by
 * .ci/deps/chromium.sh) opens the HTML file, and the test checks that every
 * chart was laid out and drawn (DOM measurements taken inside Chromium) and
 * that a screenshot shows each cluster's colour inside its chart.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';
import { reportCommand } from '../../src/report/reportCommand.js';
import { clusterColour } from '../../src/report/charts.js';
import { makeTrackerRun } from './trackerRun.js';
import { arithmeticReportLabels } from '../../examples/arithmetic/evaluation.js';

const CHROMIUM = '/usr/bin/chromium';
const WIDTH = 1400;
const HEIGHT = 2600;

let tmp: string;
let dir: string;
let reportFile: string;
let html: string;

function chromium(args: string[]): { stdout: string } {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the report's browser test needs Debian's chromium; run \`bash .ci/deps/chromium.sh\``);
  }
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const r = spawnSync(
    CHROMIUM,
    [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1',
      `--user-data-dir=${profile}`, `--window-size=${WIDTH},${HEIGHT}`, ...args,
    ],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.error) throw new Error(`chromium ${args.join(' ')} failed: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`chromium ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
  return { stdout: r.stdout };
}

/** What Chromium measured of one chart after layout. */
interface Measured {
  x: number;
  y: number;
  w: number;
  h: number;
  title: string;
  /** Length in px of each line-mark path. */
  lines: number[];
  /** Bounding-box area in px² of each area-mark path. */
  areas: number[];
  /** Bars drawn, with their bounding-box heights. */
  bars: number[];
}

// Runs inside Chromium on a copy of the report: measures every chart's SVG as laid out.
const MEASURE = `<script>
addEventListener('load', () => {
  const out = [...document.querySelectorAll('.chart > svg')].map((svg) => {
    const r = svg.getBoundingClientRect();
    const title = [...svg.querySelectorAll('.role-title-text text')].map((t) => t.textContent).join(' ');
    const lines = [...svg.querySelectorAll('.mark-line.role-mark path')].map((p) => p.getTotalLength());
    const areas = [...svg.querySelectorAll('.mark-area.role-mark path')].map((p) => { const b = p.getBBox(); return b.width * b.height; });
    const bars = [...svg.querySelectorAll('.mark-rect.role-mark path')].map((p) => p.getBBox().height);
    return { x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height, title, lines, areas, bars };
  });
  const pre = document.createElement('pre');
  pre.id = 'measured';
  pre.style.display = 'none';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>`;

let measuredCache: Measured[] | undefined;

/** Chromium's measurements of every chart (taken once; a missing browser fails each test that needs it). */
function measureCharts(): Measured[] {
  if (measuredCache) return measuredCache;
  const probe = path.join(tmp, 'measure.html');
  fs.writeFileSync(probe, html.replace('</body>', `${MEASURE}</body>`));
  const dom = chromium(['--dump-dom', `file://${probe}`]).stdout;
  const m = /<pre id="measured"[^>]*>([^<]*)<\/pre>/.exec(dom);
  if (!m) throw new Error(`Chromium's DOM has no measurements; it printed ${dom.length} characters`);
  measuredCache = JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as Measured[];
  return measuredCache;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'polca-report-chromium-'));
  dir = path.join(tmp, 'run');
  await makeTrackerRun(dir);
  reportFile = await reportCommand(dir, { minClusterSize: 5, minSamples: 3, labels: arithmeticReportLabels });
  html = fs.readFileSync(reportFile, 'utf8');
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('polca report in headless Chromium', () => {
  it('Debian chromium is installed (.ci/deps/chromium.sh)', () => {
    expect(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`bash .ci/deps/chromium.sh\``).toBe(true);
  });

  it('reportCommand writes <dir>/report.html, one file with no script and no external reference', () => {
    expect(reportFile).toBe(path.join(dir, 'report.html'));
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc\s*=|\bhref\s*=|url\(|@import|https?:\/\//i);
    expect(html.length).toBeLessThan(1_000_000);
  });

  it('every chart is laid out with its title, and its marks are drawn', () => {
    const measured = measureCharts();
    const titles = measured.map((c) => c.title);
    expect(titles.slice(0, 3)).toEqual(['training loss', 'mean probe loss', 'basis eigenvalues']);
    const panels = [...html.matchAll(/<section class="panel" id="basis-(\d+)">/g)].map((m) => Number(m[1]));
    expect(panels.length).toBeGreaterThanOrEqual(2);
    for (const b of panels) {
      expect(titles).toContain(`b${b}: projected loss L_b(x, t)`);
      expect(titles).toContain(`b${b}: exact loss ℓ_x(θ_t)`);
      expect(titles).toContain(`b${b}: composition by place × carry`);
    }
    // POLCA panels: projected loss, exact loss, composition; then the figures of the other trajectory kinds with clusters.
    const kinds = [...html.matchAll(/<section class="panel" id="(polca-first|fisher|lca)-basis-(\d+)">/g)].map((m) => `${m[1]} b${m[2]}`);
    expect(kinds.length).toBeGreaterThan(0);
    for (const k of kinds) {
      expect(titles.some((t) => t.startsWith(`${k}: `) && !t.includes('exact loss') && !t.includes('composition')), k).toBe(true);
      expect(titles).toContain(`${k}: exact loss ℓ_x(θ_t)`);
      expect(titles).toContain(`${k}: composition by place × carry`);
    }
    const loss = html.includes('<section class="panel" id="loss">') ? 1 : 0;
    const lossChange = html.includes('<section class="panel" id="loss-change">') ? 1 : 0;
    if (loss) expect(titles).toContain('exact-loss clusters: exact loss ℓ_x(θ_t)');
    expect(measured).toHaveLength(3 + 3 * panels.length + 3 * kinds.length + 2 * loss + 3 * lossChange);
    for (const c of measured) {
      expect(c.w, c.title).toBeGreaterThan(150);
      expect(c.h, c.title).toBeGreaterThan(150);
    }
    // Training loss: one line across most of the 360 px plot.
    expect(measured[0].lines).toHaveLength(1);
    expect(measured[0].lines[0]).toBeGreaterThan(300);
    for (const c of measured.filter((m) => m.title.includes('loss L_b') || m.title.includes('exact loss'))) {
      expect(c.lines.length, c.title).toBeGreaterThanOrEqual(2);
      expect(c.areas, c.title).toHaveLength(c.lines.length);
      c.lines.forEach((len) => expect(len, c.title).toBeGreaterThan(200));
      c.areas.forEach((a) => expect(a, c.title).toBeGreaterThan(0));
    }
    for (const c of measured.filter((m) => m.title.includes('composition'))) {
      expect(c.bars.length, c.title).toBeGreaterThanOrEqual(2);
      c.bars.forEach((h) => expect(h, c.title).toBeGreaterThan(0));
    }
  });

  it('a screenshot shows each cluster\u2019s colour inside the first projected-loss chart, and the page is not blank', () => {
    const measured = measureCharts();
    const png = path.join(tmp, 'report.png');
    chromium([`--screenshot=${png}`, `file://${reportFile}`]);
    const img = PNG.sync.read(fs.readFileSync(png));
    expect([img.width, img.height]).toEqual([WIDTH, HEIGHT]);
    let white = 0;
    for (let i = 0; i < img.data.length; i += 4) if (img.data[i] > 250 && img.data[i + 1] > 250 && img.data[i + 2] > 250) white++;
    const total = img.width * img.height;
    expect(white / total).toBeGreaterThan(0.3);
    expect(white / total).toBeLessThan(0.98);

    const chart = measured.find((c) => c.title.includes('projected loss'))!;
    expect(chart.y + chart.h, 'the first projected-loss chart must fit in the screenshot').toBeLessThanOrEqual(HEIGHT);
    const count = (hex: string): number => {
      const [r, g, b] = [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
      let n = 0;
      for (let y = Math.floor(chart.y); y < chart.y + chart.h; y++) {
        for (let x = Math.floor(chart.x); x < chart.x + chart.w; x++) {
          const i = (y * img.width + x) * 4;
          if (Math.abs(img.data[i] - r) + Math.abs(img.data[i + 1] - g) + Math.abs(img.data[i + 2] - b) <= 24) n++;
        }
      }
      return n;
    };
    chart.lines.forEach((_, k) => expect(count(clusterColour(k)), `cluster colour ${k} ${clusterColour(k)}`).toBeGreaterThan(100));
    // A colour no cluster of this chart has must not show up there.
    expect(count(clusterColour(chart.lines.length + 5))).toBeLessThan(20);
  });
});
