/**
 * Vega-Lite specifications of the report's figures. Data are inlined as
 * `data.values`, so a spec renders with no loader and no network.
 *
 * @packageDocumentation
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ClusterBand, Composition } from './reportModel.js';

/** Size and labels shared by the chart builders. */
export interface ChartOptions {
  title: string;
  /** Plot width in pixels. Default 360. */
  width?: number;
  /** Plot height in pixels. Default 220. */
  height?: number;
}

/** One row of a band chart's data. */
export interface BandRow {
  step: number;
  cluster: string;
  median: number;
  q25: number;
  q75: number;
}

// Tableau 10 then 20: distinct enough in print, and the same cluster keeps its colour across a basis vector's charts.
const CLUSTER_COLOURS = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#aec7e8', '#ff7f0e', '#ffbb78', '#2ca02c', '#98df8a', '#d62728', '#ff9896', '#9467bd', '#c5b0d5',
];

const BASE_CONFIG = { font: 'DejaVu Sans, Arial, sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 10, titleFontSize: 11 } } as const;

/**
 * Colour of the k-th cluster of a chart (cycles past 20).
 *
 * @example
 * ```ts
 * clusterColour(0); // '#4e79a7'
 * ```
 */
export function clusterColour(k: number): string {
  return CLUSTER_COLOURS[k % CLUSTER_COLOURS.length];
}

/**
 * Flattens cluster bands into chart rows, leaving out steps where a cluster
 * has no finite value.
 *
 * @example
 * ```ts
 * bandRows(panel.projected).length; // Σ over clusters of sampled steps
 * ```
 */
export function bandRows(bands: readonly ClusterBand[]): BandRow[] {
  const rows: BandRow[] = [];
  for (const b of bands) {
    for (const p of b.points) {
      if (Number.isFinite(p.median)) rows.push({ step: p.step, cluster: b.cluster, median: p.median, q25: p.q25, q75: p.q75 });
    }
  }
  return rows;
}

/**
 * Median line and 25–75% quartile band per cluster over steps, one colour per
 * cluster (the paper's cluster figures).
 *
 * @example
 * ```ts
 * const spec = bandChart(panel.projected, { title: 'L_b(x, t)', yTitle: 'projected loss' });
 * await renderSvg(spec);
 * ```
 */
export function bandChart(bands: readonly ClusterBand[], options: ChartOptions & { yTitle: string }): TopLevelSpec {
  const domain = bands.map((b) => b.cluster);
  const color = {
    field: 'cluster',
    type: 'nominal',
    title: 'cluster',
    scale: { domain, range: domain.map((_, k) => clusterColour(k)) },
    // One merged legend for both layers; opaque stroke swatches, since a faded band swatch would hide the colour.
    legend: { symbolType: 'stroke', symbolStrokeWidth: 3, symbolOpacity: 1 },
  } as const;
  return {
    title: options.title,
    width: options.width ?? 320,
    height: options.height ?? 220,
    config: BASE_CONFIG,
    data: { values: bandRows(bands) },
    encoding: { x: { field: 'step', type: 'quantitative', title: 'step' } },
    layer: [
      {
        mark: { type: 'area', opacity: 0.22 },
        encoding: {
          y: { field: 'q25', type: 'quantitative', title: options.yTitle, scale: { zero: false } },
          y2: { field: 'q75' },
          color,
        },
      },
      {
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { y: { field: 'median', type: 'quantitative' }, color },
      },
    ],
  } as TopLevelSpec;
}

/**
 * Stacked bars of member counts per cluster, coloured by category (the
 * paper's skill composition by digit place × carry, or any label column).
 *
 * @example
 * ```ts
 * compositionChart(panel.compositions[0], { title: 'composition by place × carry' });
 * ```
 */
export function compositionChart(composition: Composition, options: ChartOptions): TopLevelSpec {
  const present = new Set(composition.rows.map((r) => r.category));
  const domain = composition.categories.filter((c) => present.has(c));
  // Short x labels (c<id>); the sizes are in the band charts' legends.
  const clusters = [...new Set(composition.rows.map((r) => `c${r.clusterId}`))];
  return {
    title: options.title,
    width: options.width ?? Math.max(120, 36 * clusters.length),
    height: options.height ?? 220,
    config: BASE_CONFIG,
    data: { values: composition.rows.map((r) => ({ ...r, short: `c${r.clusterId}`, order: domain.indexOf(r.category) })) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'short', type: 'nominal', title: 'cluster', sort: clusters, axis: { labelAngle: 0 } },
      y: { field: 'count', type: 'quantitative', title: 'members', stack: 'zero' },
      color: { field: 'category', type: 'nominal', title: composition.column, scale: { domain, scheme: domain.length > 10 ? 'tableau20' : 'tableau10' } },
      order: { field: 'order', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

/**
 * A single curve over steps (training loss, mean probe loss).
 *
 * @example
 * ```ts
 * lineChart(model.probeLoss, 'meanLoss', { title: 'mean probe loss', yTitle: 'loss' });
 * ```
 */
export function lineChart<T extends { step: number }>(points: readonly T[], field: keyof T & string, options: ChartOptions & { yTitle: string }): TopLevelSpec {
  return {
    title: options.title,
    width: options.width ?? 360,
    height: options.height ?? 180,
    config: BASE_CONFIG,
    data: { values: points.map((p) => ({ step: p.step, [field]: p[field] })) },
    mark: { type: 'line', strokeWidth: 1.5, point: points.length <= 30 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field, type: 'quantitative', title: options.yTitle, scale: { zero: false } },
    },
  } as TopLevelSpec;
}

/**
 * Eigenvalue of each basis vector at the step it was found, labelled by id.
 *
 * @example
 * ```ts
 * eigenvalueChart(model.eigenvalues, { title: 'basis eigenvalues' });
 * ```
 */
export function eigenvalueChart(points: readonly { basisId: number; step: number; eigenvalue: number; kind: string }[], options: ChartOptions): TopLevelSpec {
  const values = points.map((p) => ({ ...p, label: `b${p.basisId}` }));
  return {
    title: options.title,
    width: options.width ?? 360,
    height: options.height ?? 180,
    config: BASE_CONFIG,
    data: { values },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step found', scale: { padding: 16 }, axis: { format: 'd', tickMinStep: 1 } },
      y: { field: 'eigenvalue', type: 'quantitative', title: 'eigenvalue λ' },
    },
    layer: [
      { mark: { type: 'point', filled: true, size: 40 }, encoding: { color: { field: 'kind', type: 'nominal', title: 'basis' } } },
      ...(values.length <= 40 ? [{ mark: { type: 'text', dx: 10, align: 'left', fontSize: 9 }, encoding: { text: { field: 'label' } } }] : []),
    ],
  } as TopLevelSpec;
}
