import { describe, expect, it } from 'vitest';
import { createPolcaMetrics } from '../../src/serve/polcaMetrics.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';

/** Parses the Prometheus text format into name{labels} → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

describe('createPolcaMetrics', () => {
  it('exposes the run in Prometheus text format, with values computed from the events', async () => {
    const events = syntheticServeRun({ numProbe: 30, steps: 400, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100, troubledEnding: true });
    const metrics = createPolcaMetrics();
    events.slice(0, -1).forEach((e) => metrics.observe(e));
    const m = parse(await metrics.registry.metrics());
    const steps = events.filter((e) => e.type === 'step');
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    const basis = events.filter((e) => e.type === 'basis');
    expect(m.get('polca_training_loss')).toBe(steps[steps.length - 1].loss);
    expect(m.get('polca_training_step')).toBe(399);
    expect(m.get('polca_last_step_timestamp_seconds')).toBe(steps[steps.length - 1].time / 1000);
    expect(m.get('polca_run_active')).toBe(1);
    expect(m.get('polca_checkpoint_step')).toBe(checkpoints[checkpoints.length - 1].step);
    expect(m.get('polca_checkpoints_total')).toBe(checkpoints.length);
    expect(m.get('polca_checkpoint_duration_seconds_count')).toBe(checkpoints.length);
    expect(m.get('polca_checkpoint_duration_seconds_sum')).toBeCloseTo(checkpoints.reduce((s, c) => s + c.seconds, 0), 12);
    expect(m.get('polca_checkpoint_duration_seconds_bucket{le="0.1"}')).toBe(checkpoints.filter((c) => c.seconds <= 0.1).length);
    expect(m.get('polca_probe_loss_mean')).toBe(checkpoints[checkpoints.length - 1].meanLoss);
    expect(m.get('polca_probe_nonfinite_losses')).toBe(7);
    expect(m.get('polca_basis_size')).toBe(basis.length);
    for (const b of basis) expect(m.get(`polca_basis_eigenvalue{basis="${b.id}"}`)).toBe(b.eigenvalue);
    expect(m.get('polca_transitions_total')).toBe(events.filter((e) => e.type === 'transition').length);
    expect(m.get('polca_alerts_total{rule="non-finite"}')).toBe(1);
    expect(m.get('polca_alerts_total{rule="loss-stalled"}')).toBe(0);
    expect(m.get('polca_events_total{type="step"}')).toBe(steps.length);
    metrics.observe(events[events.length - 1]);
    expect(parse(await metrics.registry.metrics()).get('polca_run_active')).toBe(0);
    // Naming: polca_ prefix everywhere, _total exactly on counters.
    const text = await metrics.registry.metrics();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      expect(name.startsWith('polca_')).toBe(true);
      expect(name.endsWith('_total')).toBe(type === 'counter');
    }
  });

  it('bounds the cluster series: at most maxBases × maxClustersPerBasis, the largest clusters, stale ones removed', async () => {
    const metrics = createPolcaMetrics({ maxBases: 2, maxClustersPerBasis: 3 });
    const sizes = new Map([[0, 10], [1, 50], [2, 30], [3, 40], [4, 5]]);
    const medians = new Map([...sizes.keys()].map((k) => [k, -k]));
    for (const b of [0, 1, 2]) metrics.setClusterMedians(b, medians, sizes);
    let m = parse(await metrics.registry.metrics());
    const series = [...m.keys()].filter((k) => k.startsWith('polca_cluster_projected_loss_median{'));
    expect(series.sort()).toEqual(
      [0, 1].flatMap((b) => [1, 3, 2].map((c) => `polca_cluster_projected_loss_median{basis="${b}",cluster="${c}"}`)).sort(),
    );
    expect(m.get('polca_cluster_projected_loss_median{basis="0",cluster="3"}')).toBe(-3);
    expect(m.get('polca_cluster_members{basis="1",cluster="1"}')).toBe(50);
    // Re-clustering along vector 0 leaves two clusters: the others' series go.
    metrics.setClusterMedians(0, new Map([[7, 1.5], [8, 2.5]]), new Map([[7, 3], [8, 4]]));
    m = parse(await metrics.registry.metrics());
    expect([...m.keys()].filter((k) => k.startsWith('polca_cluster_projected_loss_median{basis="0"')).sort()).toEqual([
      'polca_cluster_projected_loss_median{basis="0",cluster="7"}',
      'polca_cluster_projected_loss_median{basis="0",cluster="8"}',
    ]);
    expect(() => createPolcaMetrics({ maxBases: 0 })).toThrow(/createPolcaMetrics: option maxBases .* 0/);
  });
});
