import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { attachSinks } from '../../src/run/attachSinks.js';
import { readLiveAnalysis, resolveLiveAnalysis } from '../../src/run/liveAnalysis.js';
import type { PolcaEvent } from '../../src/stream/events.js';
import { syntheticServeRun } from '../helpers/serveEvents.js';

const tmp = mkdtempSync(join(tmpdir(), 'polca-sinks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A synthetic run without the analysis events (the sinks' analysis makes its own). */
function source() {
  const events = syntheticServeRun({ numProbe: 60, steps: 400, checkpointEvery: 20, basisEvery: 100 })
    .filter((e) => e.type !== 'clusters' && e.type !== 'transition')
    // The synthetic vectors are shorter than its P; the log does not keep them.
    .map((e) => (e.type === 'basis' ? { ...e, vector: undefined } : e));
  const subject = new Subject<PolcaEvent>();
  return { events, subject, run: { events$: subject.asObservable(), basisVectors: [], readTheta: () => new Float32Array(0) } };
}

describe('attachSinks', () => {
  it('with a log and a server: live clustering, detection and alerts on, the run named after its directory, the analysis recorded', async () => {
    const { events, subject, run } = source();
    const dir = join(tmp, 'addition-run');
    const sinks = await attachSinks(run, { log: { dir }, serve: { metrics: { port: 0 } } });
    expect(sinks.name).toBe('addition-run');
    const seen: PolcaEvent[] = [];
    sinks.events$.subscribe((e) => seen.push(e));
    events.forEach((e) => subject.next(e));
    const metrics = await (await fetch(`http://127.0.0.1:${sinks.server!.metricsPort}/metrics`)).text();
    subject.complete();
    await sinks.closed;
    // The run is over and its sinks closed, but /metrics answers a while longer for the last scrapes, until closed.
    const after = await (await fetch(`http://127.0.0.1:${sinks.server!.metricsPort}/metrics`)).text();
    expect(after).toMatch(/^polca_run_active\{run="addition-run"\} 0$/m);
    await sinks.server!.close();
    await expect(fetch(`http://127.0.0.1:${sinks.server!.metricsPort}/metrics`)).rejects.toThrow();
    const clusters = seen.filter((e): e is Extract<PolcaEvent, { type: 'clusters' }> => e.type === 'clusters');
    expect(new Set(clusters.map((c) => c.kind))).toEqual(new Set(['polca', 'polca-first', 'loss']));
    expect(metrics).toMatch(/^polca_training_step\{run="addition-run"\} 399$/m);
    expect(metrics).toMatch(/^polca_clustering_rounds_total\{run="addition-run"\} [1-9]/m);
    expect(sinks.clusterStats!.clusterings).toBe(clusters.length);
    expect(readLiveAnalysis(dir)).toEqual({ delta: null, minClusterSize: null, minSamples: null, kinds: ['polca', 'polca-first', 'loss'], every: 'auto', budget: 0.05 });
    expect(JSON.parse(readFileSync(join(dir, 'analysis', 'live.json'), 'utf8')).every).toBe('auto');
  });

  it('merges given parts over the defaults, turns parts off with false, and leaves a run without sinks to alerts only', async () => {
    expect(resolveLiveAnalysis({ transitions: { delta: 60 }, clusters: { kinds: ['polca'] } })).toMatchObject({
      clusters: { every: 'auto', budget: 0.05, kinds: ['polca'], maxPerPush: 1 },
      transitions: { delta: 60, clusterKinds: ['polca'] },
      alerts: {},
    });
    expect(resolveLiveAnalysis({ clusters: false, alerts: false })).toMatchObject({ clusters: false, alerts: false, transitions: {} });
    for (const [options, want] of [[{}, 0], [{ log: { dir: join(tmp, 'off') }, analysis: { clusters: false as const } }, 0]] as const) {
      const { events, subject, run } = source();
      const sinks = await attachSinks(run, options);
      const seen: PolcaEvent[] = [];
      sinks.events$.subscribe((e) => seen.push(e));
      events.forEach((e) => subject.next(e));
      subject.complete();
      await sinks.closed;
      expect(seen.filter((e) => e.type === 'clusters')).toHaveLength(want);
      expect(sinks.name).toBe(options === undefined || !('log' in options) ? 'polca' : 'off');
    }
  });
});
