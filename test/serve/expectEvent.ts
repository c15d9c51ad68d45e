/**
 * Field-by-field comparison of a received `polca.v1.Event` with the
 * PolcaEvent that was sent, written independently of src/serve/eventMessage.ts.
 */
import { expect } from 'vitest';
import type { PolcaEvent } from '../../src/stream/events.js';
import type { Event__Output } from '../../src/serve/generated/polca/v1/Event.js';

const f32 = (a: ArrayLike<number>) => Array.from(Float32Array.from(a));

/** Mean of the finite values, brute force. */
export function meanFinite(a: ArrayLike<number>): number {
  const v = Array.from(a).filter(Number.isFinite);
  return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN;
}

export function expectEventMatches(got: Event__Output, sent: PolcaEvent, opts: { datapoints: boolean; basisIds?: number[] }): void {
  expect(got.timeMs).toBe(sent.time);
  const dp = opts.datapoints;
  switch (sent.type) {
    case 'run-start': {
      const r = got.runStart!;
      expect(JSON.parse(r.configJson)).toEqual(sent.config);
      expect([r.numParams, r.numProbe, r.backend, r.hvpMode, r.hvpReason, r.model]).toEqual([
        sent.numParams,
        sent.numProbe,
        sent.backend,
        sent.hvpMode,
        sent.hvpReason,
        sent.model ?? '',
      ]);
      expect(r.params).toEqual(sent.params);
      expect([r.polcaVersion, r.tfjsVersion]).toEqual([sent.versions.polca, sent.versions.tfjs]);
      break;
    }
    case 'step':
      expect(got.step).toEqual({
        step: sent.step,
        loss: sent.loss ?? 0,
        hasLoss: sent.loss !== undefined,
        lr: sent.lr ?? 0,
        hasLr: sent.lr !== undefined,
      });
      break;
    case 'checkpoint': {
      const c = got.checkpoint!;
      const finite = Array.from(sent.losses).filter(Number.isFinite).sort((a, b) => a - b);
      const mid = finite.length / 2;
      const median = finite.length % 2 ? finite[Math.floor(mid)] : (finite[mid - 1] + finite[mid]) / 2;
      expect(c.step).toBe(sent.step);
      expect(c.numDatapoints).toBe(sent.losses.length);
      expect(c.meanLoss).toBe(sent.meanLoss);
      expect(c.nonFinite).toBe(sent.nonFinite);
      expect(c.seconds).toBe(sent.seconds);
      expect([c.minLoss, c.medianLoss, c.maxLoss]).toEqual([finite[0], median, finite[finite.length - 1]]);
      expect(c.losses).toEqual(dp ? f32(sent.losses) : []);
      break;
    }
    case 'basis':
      expect(got.basis).toEqual({
        id: sent.id,
        step: sent.step,
        kind: sent.kind,
        eigenvalue: sent.eigenvalue,
        residual: sent.residual,
        hvps: sent.hvps,
        vectorLength: sent.vector?.length ?? 0,
      });
      break;
    case 'polca': {
      const p = got.polca!;
      expect([p.fromStep, p.toStep, p.secondOrder, p.nonFinite]).toEqual([sent.fromStep, sent.toStep, sent.secondOrder, sent.nonFinite]);
      expect(p.meanResidual).toBeCloseTo(meanFinite(sent.residual), 12);
      expect(p.meanLossChange).toBeCloseTo(meanFinite(Array.from(sent.lossAfter, (a, i) => a - sent.lossBefore[i])), 12);
      const keep = sent.basisIds.map((id, k) => [id, k]).filter(([id]) => !opts.basisIds || opts.basisIds.includes(id));
      expect(p.bases.map((b) => b.basisId)).toEqual(keep.map(([id]) => id));
      keep.forEach(([id, k], j) => {
        const b = p.bases[j];
        expect(b.projection).toBe(sent.projections[k]);
        expect(b.mean).toBeCloseTo(meanFinite(sent.values[k]), 12);
        expect(b.sum).toBeCloseTo(Array.from(sent.values[k]).filter(Number.isFinite).reduce((s, x) => s + x, 0), 10);
        expect(b.firstOrderMean).toBeCloseTo(meanFinite(sent.firstOrder[k]), 12);
        expect(b.values).toEqual(dp ? f32(sent.values[k]) : []);
        expect(b.firstOrder).toEqual(dp ? f32(sent.firstOrder[k]) : []);
        expect(b.derivatives).toEqual(dp ? f32(sent.derivatives[k]) : []);
        expect(id).toBe(b.basisId);
      });
      expect(p.lossBefore).toEqual(dp ? f32(sent.lossBefore) : []);
      expect(p.lossAfter).toEqual(dp ? f32(sent.lossAfter) : []);
      expect(p.residual).toEqual(dp ? f32(sent.residual) : []);
      expect(p.hasDerivativeCheck).toBe(sent.derivativeCheck !== undefined);
      if (sent.derivativeCheck) expect(p.derivativeCheck).toEqual(sent.derivativeCheck);
      break;
    }
    case 'run-end':
      expect(got.runEnd).toEqual({ step: sent.step, reason: sent.reason, error: sent.error ?? '' });
      break;
    case 'clusters': {
      const c = got.clusters!;
      expect([c.step, c.kind, c.basisId, c.dropped, c.outliers]).toEqual([sent.step, sent.kind, sent.basisId, sent.dropped, sent.outliers]);
      expect(c.steps).toEqual(Array.from(sent.steps));
      expect(c.clusters).toEqual(
        sent.clusters.map((k) => ({
          id: k.id,
          members: Array.from(k.members),
          medoid: k.medoid,
          median: Array.from(k.median),
          q25: Array.from(k.q25),
          q75: Array.from(k.q75),
        })),
      );
      break;
    }
    case 'transition': {
      const t = got.transition!;
      expect([t.step, t.detectedAt, t.magnitude, t.confidence]).toEqual([sent.step, sent.detectedAt, sent.magnitude, sent.confidence]);
      if (sent.target.kind === 'cluster') {
        expect(t.target).toBe('cluster');
        expect(t.cluster).toEqual({ basisId: sent.target.basisId, clusterId: sent.target.clusterId });
      } else {
        expect(t.target).toBe('datapoints');
        expect(t.datapoints).toBe(sent.target.name);
      }
      break;
    }
    case 'alert':
      expect(got.alert).toEqual({ step: sent.step, rule: sent.rule, message: sent.message, value: sent.value });
      break;
  }
  expect(got.payload).toBe(
    {
      'run-start': 'runStart',
      step: 'step',
      checkpoint: 'checkpoint',
      basis: 'basis',
      polca: 'polca',
      'run-end': 'runEnd',
      clusters: 'clusters',
      transition: 'transition',
      alert: 'alert',
    }[sent.type],
  );
}
