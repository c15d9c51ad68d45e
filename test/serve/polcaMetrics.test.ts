import { describe, expect, it } from 'vitest';
import { createPolcaMetrics } from '../../src/serve/polcaMetrics.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';

/**
 * Parses the Prometheus text format into name{labels} → value, checking that
 * every series carries run="<run>" and leaving that label out of the key.
 */
function parse(text: string, run = 'polca'): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    const series = line.slice(0, i);
    expect(series, 'every series has the run label').toContain(`run="${run}"`);
    const key = series.replace(`,run="${run}"`, '').replace(`{run="${run}",`, '{').replace(`{run="${run}"}`, '');
    out.set(key, Number(line.slice(i + 1)));
  }
  return out;
}

describe('createPolcaMetrics', () => {
  it('exposes the run in Prometheus text format, with values computed from the events', async () => {
    const events = syntheticServeRun({ numProbe: 30, steps: 1100, checkpointEvery: 20, basisEvery: 100, clusterEvery: 100, troubledEnding: true });
    const metrics = createPolcaMetrics();
    events.slice(0, -1).forEach((e) => metrics.observe(e));
    const m = parse(await metrics.registry.metrics());
    const steps = events.filter((e) => e.type === 'step');
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    const basis = events.filter((e) => e.type === 'basis');
    expect(m.get('polca_training_loss')).toBe(steps[steps.length - 1].loss);
    expect(m.get('polca_training_step')).toBe(1099);
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
    // A transition counter series shows 0 at its first scrape and its count from the next one.
    const transitions = events.filter((e) => e.type === 'transition');
    const byTarget = new Map<string, number>();
    for (const { target } of transitions as Extract<(typeof events)[number], { type: 'transition' }>[]) {
      const key = target.kind === 'cluster' ? `polca_transitions_total{kind="polca",basis="${target.basisId}",cluster="${target.clusterId}"}` : `polca_transitions_total{set="${target.name}"}`;
      byTarget.set(key, (byTarget.get(key) ?? 0) + 1);
    }
    expect(byTarget.size).toBe(2);
    for (const key of byTarget.keys()) expect(m.get(key)).toBe(0);
    const again = parse(await metrics.registry.metrics());
    for (const [key, count] of byTarget) expect(again.get(key)).toBe(count);
    const last = (transitions as Extract<(typeof events)[number], { type: 'transition' }>[]).filter((t) => t.target.kind === 'cluster').pop()!;
    const lastTarget = last.target as { basisId: number; clusterId: number };
    expect(again.get(`polca_transition_step{kind="polca",basis="${lastTarget.basisId}",cluster="${lastTarget.clusterId}"}`)).toBe(last.step);
    // Per-vector series: ⟨b,Δθ⟩ of the last live interval, the step each vector was found.
    const lastPolca = events.filter((e) => e.type === 'polca').pop()!;
    lastPolca.basisIds.forEach((id, k) => expect(m.get(`polca_basis_projection{basis="${id}"}`)).toBe(lastPolca.projections[k]));
    for (const b of basis) expect(m.get(`polca_basis_found_step{basis="${b.id}"}`)).toBe(b.step);
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

  it('bounds the cluster series: at most maxBases × maxClustersPerBasis per kind, the largest clusters, stale ones removed', async () => {
    const metrics = createPolcaMetrics({ maxBases: 2, maxClustersPerBasis: 3, run: 'bounded' });
    const sizes = new Map([[0, 10], [1, 50], [2, 30], [3, 40], [4, 5]]);
    const clusters = [...sizes].map(([id, size]) => ({ id, size, projectedMedian: -id, lossMedian: id / 10 }));
    for (const b of [0, 1, 2]) metrics.setClusters('polca', b, clusters);
    metrics.setClusters('loss', -1, clusters);
    let m = parse(await metrics.registry.metrics(), 'bounded');
    const series = [...m.keys()].filter((k) => k.startsWith('polca_cluster_projected_loss_median{'));
    expect(series.sort()).toEqual(
      [0, 1].flatMap((b) => [1, 3, 2].map((c) => `polca_cluster_projected_loss_median{kind="polca",basis="${b}",cluster="${c}"}`)).sort(),
    );
    expect(m.get('polca_cluster_projected_loss_median{kind="polca",basis="0",cluster="3"}')).toBe(-3);
    expect(m.get('polca_cluster_loss_median{kind="polca",basis="0",cluster="3"}')).toBe(0.3);
    expect(m.get('polca_cluster_members{kind="polca",basis="1",cluster="1"}')).toBe(50);
    // The exact-loss kind (basis −1) has members and exact-loss medians, no projected loss; it does not use up a basis slot.
    expect(m.get('polca_cluster_members{kind="loss",basis="-1",cluster="1"}')).toBe(50);
    expect(m.get('polca_cluster_loss_median{kind="loss",basis="-1",cluster="1"}')).toBe(0.1);
    expect([...m.keys()].some((k) => k.startsWith('polca_cluster_projected_loss_median{kind="loss"'))).toBe(false);
    // Re-clustering along vector 0 leaves two clusters: the others' series go.
    metrics.setClusters('polca', 0, [{ id: 7, size: 3, projectedMedian: 1.5 }, { id: 8, size: 4, projectedMedian: 2.5 }]);
    m = parse(await metrics.registry.metrics(), 'bounded');
    expect([...m.keys()].filter((k) => k.startsWith('polca_cluster_projected_loss_median{kind="polca",basis="0"')).sort()).toEqual([
      'polca_cluster_projected_loss_median{kind="polca",basis="0",cluster="7"}',
      'polca_cluster_projected_loss_median{kind="polca",basis="0",cluster="8"}',
    ]);
    expect(() => createPolcaMetrics({ maxBases: 0 })).toThrow(/createPolcaMetrics: option 'maxBases' .* 0/);
  });

  it('bounds the transition series: the first maxClustersPerBasis clusters of a (kind, basis) by id, the rest as other', async () => {
    const metrics = createPolcaMetrics({ maxBases: 1, maxClustersPerBasis: 2 });
    const clusters = (basisId: number, ids: number[]) =>
      metrics.observe({ type: 'clusters', time: 0, step: 100, kind: 'polca', basisId, steps: Int32Array.from([0, 100]), clusters: ids.map((id) => ({ id, members: Int32Array.from([id]), medoid: id, median: new Float64Array(2), q25: new Float64Array(2), q75: new Float64Array(2) })), dropped: 0, outliers: 0 });
    const transition = (basisId: number, clusterId: number, step: number) =>
      metrics.observe({ type: 'transition', time: 0, step, detectedAt: step + 60, target: { kind: 'cluster', basisId, clusterId }, magnitude: 1, confidence: 0.9 });
    clusters(0, [0, 1, 2, 3]);
    clusters(1, [4]);
    for (const [c, step] of [[0, 20], [1, 40], [2, 60], [3, 80], [0, 100]]) transition(0, c, step);
    transition(1, 4, 120);
    metrics.observe({ type: 'transition', time: 0, step: 140, detectedAt: 200, target: { kind: 'datapoints', name: 'carries' }, magnitude: 1, confidence: 0.9 });
    await metrics.registry.metrics();
    const m = parse(await metrics.registry.metrics());
    expect(Object.fromEntries([...m].filter(([k]) => k.startsWith('polca_transitions_total')))).toEqual({
      'polca_transitions_total{kind="polca",basis="0",cluster="0"}': 2,
      'polca_transitions_total{kind="polca",basis="0",cluster="1"}': 1,
      'polca_transitions_total{kind="polca",basis="0",cluster="other"}': 2,
      'polca_transitions_total{kind="polca",basis="other",cluster="other"}': 1,
      'polca_transitions_total{set="carries"}': 1,
    });
    expect(m.get('polca_transition_step{kind="polca",basis="0",cluster="other"}')).toBe(80);
    expect(m.get('polca_transition_step{set="carries"}')).toBe(140);
  });
});
