import { describe, it, expect } from 'vitest';
import { evenIndices } from '../../src/report/downsample.js';
import { categoricalColumns } from '../../src/report/probeLabels.js';
import { escapeHtml } from '../../src/report/reportHtml.js';
import { renderSvg } from '../../src/report/renderSvg.js';
import { compositionChart } from '../../src/report/charts.js';

describe('evenIndices', () => {
  it('keeps every index up to max, else max distinct indices with both ends and gaps differing by at most one', () => {
    for (let length = 0; length <= 60; length++) {
      for (let max = 2; max <= 13; max++) {
        const idx = evenIndices(length, max);
        if (length <= max) {
          expect(idx).toEqual(Array.from({ length }, (_, i) => i));
          continue;
        }
        expect(idx).toHaveLength(max);
        expect(idx[0]).toBe(0);
        expect(idx[max - 1]).toBe(length - 1);
        const gaps = idx.slice(1).map((v, k) => v - idx[k]);
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1);
        expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('rejects a bad length or max naming the function', () => {
    expect(() => evenIndices(-1, 5)).toThrow("evenIndices: option 'length' must be a non-negative integer, got -1");
    expect(() => evenIndices(10, 1)).toThrow("evenIndices: option 'max' must be an integer ≥ 2, got 1");
  });
});

describe('probe labels', () => {
  it('categorical columns have few distinct values; per-datapoint text and indices are not categories', () => {
    const n = 20;
    const cols = categoricalColumns(
      {
        pos: Array.from({ length: n }, (_, i) => ['NOUN', 'VERB', 'DET'][i % 3]),
        digit: Array.from({ length: n }, (_, i) => (i * 7) % 4),
        carry: Array.from({ length: n }, (_, i) => i % 5 === 0),
        text: Array.from({ length: n }, (_, i) => `t${i}`),
        index: Array.from({ length: n }, (_, i) => i),
        short: ['x'],
      },
      n,
    );
    expect(cols.map((c) => [c.name, c.categories])).toEqual([
      ['pos', ['NOUN', 'VERB', 'DET']],
      ['digit', ['0', '1', '2', '3']],
      ['carry', ['false', 'true']],
    ]);
    expect(cols[1].values.slice(0, 4)).toEqual(['0', '3', '2', '1']);
  });
});

describe('renderSvg', () => {
  it('draws bars whose pixel heights are proportional to the data', async () => {
    const counts = [3, 6, 9];
    const svg = await renderSvg({
      width: 200,
      height: 180,
      data: { values: counts.map((c, i) => ({ k: `k${i}`, c })) },
      mark: 'bar',
      encoding: { x: { field: 'k', type: 'nominal' }, y: { field: 'c', type: 'quantitative', scale: { domain: [0, 9] } } },
    });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).not.toMatch(/xmlns|https?:/);
    const group = /class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg)![1];
    const heights = [...group.matchAll(/d="M[-\d.]+,[-\d.]+h[-\d.]+v([-\d.]+)/g)].map((m) => Number(m[1]));
    expect(heights).toHaveLength(3);
    heights.forEach((h, i) => expect(h).toBeCloseTo((180 * counts[i]) / 9, 6));
  });

  it('renders a composition chart with one bar segment per (cluster, category) row', async () => {
    const comp = {
      column: 'place × carry',
      categories: ['10s carry', '100s carry', '1s no carry'],
      rows: [
        { cluster: 'cluster 0 (n=5)', clusterId: 0, category: '10s carry', count: 4 },
        { cluster: 'cluster 0 (n=5)', clusterId: 0, category: '1s no carry', count: 1 },
        { cluster: 'cluster 1 (n=2)', clusterId: 1, category: '100s carry', count: 2 },
      ],
    };
    const svg = await renderSvg(compositionChart(comp, { title: 'comp' }));
    const group = /class="mark-rect role-mark[^"]*"[^>]*>(.*?)<\/g>/.exec(svg)![1];
    const heights = [...group.matchAll(/v([-\d.]+)/g)].map((m) => Number(m[1]));
    // Heights follow the counts 4, 1, 2 on one linear scale from 0.
    expect(heights).toHaveLength(3);
    expect(heights[0] / heights[1]).toBeCloseTo(4, 6);
    expect(heights[2] / heights[1]).toBeCloseTo(2, 6);
    expect(svg).toContain('>c0<');
    expect(svg).toContain('>c1<');
  });

  it('refuses specs that load data, naming renderSvg', async () => {
    await expect(
      renderSvg({ data: { url: 'data.csv' }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } }),
    ).rejects.toThrow(/^renderSvg: the spec asked to load "data.csv"/);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe('&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;');
  });
});
