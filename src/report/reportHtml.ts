/**
 * The report page: one self-contained HTML document (inline CSS and SVG, no
 * script, no external reference).
 *
 * @packageDocumentation
 */
import { isProjectedLoss } from '../stream/trajectoryKinds.js';
import { formatChance, type QualityRow } from '../analysis/quality.js';
import type { BasisPanel, ReportModel } from './reportModel.js';

/** Rendered SVG charts of a report, keyed as {@link reportHtml} expects. */
export interface ReportCharts {
  trainingLoss?: string;
  probeLoss?: string;
  eigenvalues?: string;
  /** Per panel (same order as `model.panels`): projected bands, exact-loss bands, compositions. */
  panels: { projected: string; exact?: string; compositions: string[] }[];
  /** The same for `model.kindPanels`. */
  kindPanels: { projected: string; exact?: string; compositions: string[] }[];
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<a & "b">'); // '&lt;a &amp; &quot;b&quot;&gt;'
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function num(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return '–';
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(digits - 1) : v.toPrecision(digits);
}

const CSS = `
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:1800px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}
.chart{border:1px solid #eee;padding:4px}
pre{background:#f7f7f7;padding:8px;font-size:12px;overflow:auto;max-height:360px}
.muted{color:#666;font-size:13px}.notes li{font-size:13px;margin:2px 0}
`;

function headerTable(m: ReportModel): string {
  const h = m.header;
  const rows: [string, string][] = [
    ['parameters P', num(h.numParams)],
    ['probe datapoints N', num(h.numProbe)],
    ['backend', h.backend],
    ['HVP mode', `${h.hvpMode} — ${h.hvpReason}`],
    ['versions', `polca ${h.versions.polca}, tfjs ${h.versions.tfjs}`],
    ['started', new Date(h.startTime).toISOString()],
    ['ended', h.end + (h.endError ? `: ${h.endError}` : '')],
    ['last step', num(h.lastStep)],
    ['checkpoints / POLCA intervals', `${h.checkpoints} / ${h.polcaIntervals}`],
    ['basis vectors', num(h.basisVectors)],
    ['probe metadata', h.probeMetaColumns.join(', ') || '(none)'],
  ];
  if (m.breaks) {
    rows.push(['break times', `Δ = ${num(m.breaks.delta)} steps, τ = ${num(m.breaks.tau)} steps (${m.breaks.tauSource === 'option' ? 'given' : 'from the mean probe loss'})`]);
  }
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const model = h.model ? `<details><summary>model</summary><pre>${escapeHtml(h.model)}</pre></details>` : '';
  return `<table class="header">${body}</table>${model}<details><summary>config</summary><pre>${escapeHtml(JSON.stringify(h.config, null, 2))}</pre></details>`;
}

/** The quality target's own description, else a generic one naming it. */
function qualityDescription(model: ReportModel): string {
  if (model.quality?.description) return model.quality.description;
  const target = (model.quality ?? model.basisQuality)?.rows[0]?.target ?? 'target';
  return `Homogeneity in ${target} of the top eligible clusters over all basis vectors`;
}

function qualitySection(rows: readonly QualityRow[], first = 'trajectories'): string {
  const k = Math.max(3, ...rows.map((r) => r.top.length));
  // A cluster pure in the stratum (a digit place) is as homogeneous as the stratum's base rate, found or not.
  const stratum = rows.find((r) => r.stratum !== undefined)?.stratum;
  const head =
    `<tr><th>${escapeHtml(first)}</th><th>max ${escapeHtml(rows[0]?.target ?? 'target')} homogeneity (top ${k})</th><th>recall / F1 of the top cluster</th>` +
    `${stratum ? `<th>top cluster: explained by ${escapeHtml(stratum)} / chance</th>` : ''}<th>clusters with hidden breakthroughs</th></tr>`;
  const body = rows
    .map((r) => {
      const h = r.topHomogeneity.length === 0 ? '–' : r.topHomogeneity.map((v) => v.toFixed(3)).join(' / ');
      const top = r.top[0] ? `${r.top[0].recall.toFixed(3)} / ${r.top[0].f1.toFixed(3)} (${r.top[0].basisId >= 0 ? `b${r.top[0].basisId} ` : ''}c${r.top[0].clusterId})` : '–';
      const explained = stratum ? `<td>${r.top[0] ? `${r.top[0].expected.toFixed(3)} / ${formatChance(r.top[0].chance)}` : '–'}</td>` : '';
      const f = Number.isNaN(r.hiddenFraction) ? '–' : `${r.hiddenFraction.toFixed(3)} (${r.hiddenClusters}/${r.clusters})`;
      return `<tr><td>${escapeHtml(r.kind)}</td><td>${h}</td><td>${escapeHtml(top)}</td>${explained}<td>${f}</td></tr>`;
    })
    .join('');
  return `<table class="quality">${head}${body}</table>`;
}

function panelSection(p: BasisPanel, charts: ReportCharts['panels'][number]): string {
  const b = p.basis;
  const title =
    p.basisId < 0
      ? `${p.kind === 'loss' ? 'Exact loss' : 'Loss change'} (no basis vector)`
      : `Basis vector ${p.basisId}` + (b ? ` — ${b.kind}, found at step ${b.step}${Number.isFinite(b.eigenvalue) ? `, λ = ${num(b.eigenvalue)}` : ''}` : '');
  const summary =
    `${p.clusters.length} cluster${p.clusters.length === 1 ? '' : 's'} (${p.source}) over ${p.clusteredCheckpoints} checkpoints up to step ${p.clusteredAt}; ` +
    (p.dropped > 0 ? `${p.dropped} datapoints dropped (${isProjectedLoss(p.kind) ? 'loss along b rose' : 'a value was not finite'}), ` : '') +
    `${p.outliers} outliers.`;
  const hasText = p.clusters.some((c) => c.medoidText !== undefined);
  const head = `<tr><th>cluster</th><th>size</th><th>medoid</th>${hasText ? '<th>medoid text</th>' : ''}<th>break of median</th><th>mean member break</th><th>hidden</th></tr>`;
  const body = p.clusters
    .map(
      (c) =>
        `<tr><td>${c.id}</td><td>${c.size}</td><td>${c.medoid}</td>${hasText ? `<td>${escapeHtml(c.medoidText ?? '')}</td>` : ''}` +
        `<td>${num(c.medianBreak)}</td><td>${num(c.meanBreak, 5)}</td><td>${c.hidden ? 'yes' : 'no'}</td></tr>`,
    )
    .join('');
  const figs = [charts.projected, charts.exact, ...charts.compositions].filter((s): s is string => !!s).map((s) => `<div class="chart">${s}</div>`);
  const id = p.kind === 'polca' ? `basis-${p.basisId}` : p.basisId < 0 ? p.kind : `${p.kind}-basis-${p.basisId}`;
  return `<section class="panel" id="${id}"><h3>${escapeHtml(title)}</h3><p class="muted">${escapeHtml(summary)}</p>` +
    `<div class="charts">${figs.join('')}</div><table class="clusters">${head}${body}</table></section>`;
}

const MAX_EVENT_ROWS = 200;

function eventTables(model: ReportModel): string[] {
  const out: string[] = [];
  const more = (n: number) => (n > MAX_EVENT_ROWS ? `<p class="muted">First ${MAX_EVENT_ROWS} of ${n}.</p>` : '');
  if (model.transitions.length > 0) {
    const tau = model.breaks?.tau;
    const rows = model.transitions.slice(0, MAX_EVENT_ROWS).map((t) => {
      const target =
        t.target.kind === 'cluster'
          ? t.target.basisId < 0
            ? `exact-loss cluster ${t.target.clusterId}`
            : `basis ${t.target.basisId}, cluster ${t.target.clusterId}`
          : `datapoints ${t.target.name}`;
      const hidden = tau === undefined ? '–' : t.step > tau ? 'yes' : 'no';
      return `<tr><td>${num(t.step)}</td><td>${num(t.detectedAt)}</td><td>${escapeHtml(target)}</td><td>${num(t.magnitude)}</td><td>${num(t.confidence, 3)}</td><td>${hidden}</td></tr>`;
    });
    out.push(
      '<h3>Breakthroughs detected during the run</h3>',
      `<p class="muted">Found live by the detector (eq. 6 on the clusters' median curves${model.breaks ? `, Δ = ${num(model.breaks.delta)} steps` : ''}); past τ: after the step from which the mean probe loss is flat (eq. 7).</p>`,
      `<table class="transitions"><tr><th>step</th><th>detected at</th><th>target</th><th>magnitude</th><th>confidence</th><th>past τ</th></tr>${rows.join('')}</table>`,
      more(model.transitions.length),
    );
  }
  if (model.alerts.length > 0) {
    const rows = model.alerts
      .slice(0, MAX_EVENT_ROWS)
      .map((a) => `<tr><td>${num(a.step)}</td><td>${escapeHtml(a.rule)}</td><td>${escapeHtml(a.message)}</td><td>${num(a.value)}</td></tr>`);
    out.push(
      '<h3>Alerts</h3>',
      `<table class="alerts"><tr><th>step</th><th>rule</th><th>message</th><th>value</th></tr>${rows.join('')}</table>`,
      more(model.alerts.length),
    );
  }
  return out;
}

/**
 * Assembles the report page from the model and its rendered charts.
 *
 * @example
 * ```ts
 * const html = reportHtml(model, charts, { title: 'polca report — runs/arith' });
 * ```
 */
export function reportHtml(model: ReportModel, charts: ReportCharts, options: { title: string }): string {
  const overview = [charts.trainingLoss, charts.probeLoss, charts.eigenvalues].filter((s): s is string => !!s).map((s) => `<div class="chart">${s}</div>`);
  const skipped: string[] = [];
  if (model.oscillatory.length) skipped.push(`oscillatory (mean L_b rises), not clustered: ${model.oscillatory.join(', ')}`);
  if (model.noClusters.length) skipped.push(`no cluster found: ${model.noClusters.join(', ')}`);
  const panels = model.panels.map((p, i) => panelSection(p, charts.panels[i])).join('');
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(options.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(options.title)}</h1>`,
    '<h2>Run</h2>',
    headerTable(model),
    `<div class="charts">${overview.join('')}</div>`,
    ...eventTables(model),
  ];
  if (model.quality || model.basisQuality) {
    parts.push(
      '<h2>Cluster quality</h2>',
      `<p class="muted">${escapeHtml(qualityDescription(model))}; hidden breakthroughs by eq. (7).</p>`,
    );
  }
  if (model.quality) parts.push(qualitySection(model.quality.rows));
  if (model.basisQuality) parts.push('<h3>POLCA by basis</h3>', qualitySection(model.basisQuality.rows, 'POLCA basis (run)'));
  parts.push(
    '<h2>Clusters per basis vector</h2>',
    `<p class="muted">Projected loss L_b(x,t) (POLCA, cumulative) and exact loss ℓ_x(θ_t) of each cluster: median line, 25–75% band. ` +
      `${model.panels.length} basis vector${model.panels.length === 1 ? '' : 's'} with clusters${skipped.length ? `; ${escapeHtml(skipped.join('; '))}` : ''}.</p>`,
    panels || '<p>No basis vector has clusters.</p>',
  );
  const kinds = model.kindSummaries.filter((k) => k.kind !== 'polca');
  if (kinds.length > 0) {
    parts.push(
      '<h2>Clusters of the other trajectory kinds</h2>',
      '<p class="muted">The same procedure on the baselines (METHOD.md §3): first-order POLCA, LCA, projected Fisher, exact loss and its change. ' +
        'Each figure shows the clustered trajectories, then the same clusters\' exact loss.</p>',
    );
    for (const k of kinds) {
      const skipped = [
        k.oscillatory.length ? `oscillatory: ${k.oscillatory.join(', ')}` : '',
        k.noClusters.length ? `no cluster: ${k.noClusters.map((b) => (b < 0 ? 'all' : b)).join(', ')}` : '',
      ].filter(Boolean);
      const own = model.kindPanels.map((p, i) => ({ p, i })).filter(({ p }) => p.kind === k.kind);
      parts.push(
        `<h3 id="kind-${k.kind}">${escapeHtml(k.kind)}</h3>`,
        `<p class="muted">${own.length} with clusters${skipped.length ? `; ${escapeHtml(skipped.join('; '))}` : ''}.</p>`,
        ...own.map(({ p, i }) => panelSection(p, charts.kindPanels[i])),
      );
    }
  }
  if (model.notes.length) parts.push('<h2>Notes</h2><ul class="notes">', ...model.notes.map((n) => `<li>${escapeHtml(n)}</li>`), '</ul>');
  parts.push('</body></html>');
  return parts.join('\n');
}
