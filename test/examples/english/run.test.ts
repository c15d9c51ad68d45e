import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../../src/engine/wasm/registerWasmKernels.js';
import { readManifest } from '../../../src/sinks/arrow/manifest.js';
import { replay } from '../../../src/sinks/arrow/replay.js';
import type { PolcaEvent } from '../../../src/stream/events.js';
import { runEnglish, type EnglishRunResult } from '../../../examples/english/experiment.js';

/** METHOD.md §5's label, by brute force: per position, add tags in order of frequency until 70 % are covered; more than two → '*'. */
function bruteLabel(rows: string[][]): string | undefined {
  const parts = rows[0].map((_, p) => {
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(r[p], (counts.get(r[p]) ?? 0) + 1);
    const sorted = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const tags: string[] = [];
    let covered = 0;
    for (const [tag, c] of sorted) {
      if (covered >= 0.7 * rows.length) break;
      tags.push(tag);
      covered += c;
    }
    return tags.length > 2 ? '*' : tags.join('/');
  });
  return parts.every((p) => p === '*') ? undefined : parts.join(' ');
}

describe('English example end to end (tiny configuration)', () => {
  let dir: string;
  let result: EnglishRunResult;
  let events: PolcaEvent[];
  beforeAll(async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    registerWasmKernels();
    dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'polca-english-')), 'run');
    result = await runEnglish({ config: 'tiny', dir, every: 5, basisEvery: 20, maxVectors: 2, lanczosMaxIter: 20, minSamples: 10, kinds: ['polca', 'loss'] });
    events = await lastValueFrom(replay(dir).pipe(toArray()));
  }, 120_000);
  afterAll(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

  it('writes a closed run directory with the probe metadata', async () => {
    const m = await readManifest(dir);
    expect(m.status).toBe('closed');
    expect(m.numProbe).toBe(300);
    for (const col of ['token', 'pos', 'pos1', 'pos2', 'pos3', 'context']) expect(m.probeMeta[col]).toHaveLength(300);
    expect(existsSync(path.join(dir, 'analysis', 'clusters.arrows'))).toBe(true);
    const checkpoints = events.filter((e) => e.type === 'checkpoint');
    expect(checkpoints.map((e) => e.step)).toEqual(Array.from({ length: 13 }, (_, i) => 5 * i));
    expect(events.filter((e) => e.type === 'basis')).toHaveLength(2);
    const start = events.find((e) => e.type === 'run-start');
    // The embedding's gather survives nested differentiation: the exact HVP passed its check.
    expect(start?.type === 'run-start' && start.hvpMode).toBe('exact');
    expect(result.probeLoss.last).toBeLessThan(result.probeLoss.first - 0.3);
  });

  it('labels every cluster by part of speech as a brute-force count does, with the contexts nearest its medoid', async () => {
    const meta = (await readManifest(dir)).probeMeta as Record<string, string[]>;
    const labelled = result.labelled;
    expect(labelled.length).toBeGreaterThan(0);
    expect(labelled.some((l) => l.label.text !== undefined)).toBe(true);
    for (const l of labelled) {
      const clustering = result.clusters.clusterings.get(l.kind)!.find((c) => c.event.basisId === l.basisId)!;
      const cluster = clustering.event.clusters.find((c) => c.id === l.clusterId)!;
      expect(l.size).toBe(cluster.members.length);
      const rows = Array.from(cluster.members, (x) => [meta.pos3[x], meta.pos2[x], meta.pos1[x], meta.pos[x]]);
      expect(l.label.text).toBe(bruteLabel(rows));
      expect(l.nearest[0]).toBe(cluster.medoid);
      expect(l.nearest).toHaveLength(Math.min(10, cluster.members.length));
      expect(l.contexts).toEqual(l.nearest.map((x) => meta.context[x]));
      for (const x of l.nearest) expect(Array.from(cluster.members)).toContain(x);
      // The context ends with the target word in brackets.
      for (const x of l.nearest) expect(meta.context[x].endsWith(`[${meta.token[x]}]`)).toBe(true);
    }
    expect(result.report).toContain('| kind | basis | cluster | size | label |');
  });
});
