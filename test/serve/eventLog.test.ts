import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/serve/eventLog.js';
import { RunView } from '../../src/serve/runView.js';

describe('EventLog', () => {
  it('evicts the oldest events beyond maxEvents or maxBytes and counts evicted kinds', () => {
    const log = new EventLog({ maxEvents: 3, maxBytes: 1000 });
    const add = (kind: number, bytes: number, step?: number) =>
      log.append({ event: { type: 'step', time: 0, step: 0 }, kind, step, bytes, summary: {} });
    add(2, 100, 1);
    add(2, 100, 2);
    add(3, 100, 3);
    add(2, 100, 4);
    expect([log.start, log.end, log.size, log.bytes]).toEqual([1, 4, 3, 300]);
    expect(log.get(0)).toBeUndefined();
    expect(log.get(1)?.step).toBe(2);
    expect(Array.from(log.countsBefore(1)!)).toEqual([0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(log.countsBefore(4)!)).toEqual([0, 0, 3, 1, 0, 0, 0, 0, 0, 0]);
    add(5, 901, 5); // too big for the others: they go, the newest always stays
    expect([log.start, log.size, log.bytes, log.evictedMaxStep]).toEqual([4, 1, 901, 4]);
    expect(() => new EventLog({ maxEvents: 0, maxBytes: 1 })).toThrow(/EventLog: option 'maxEvents' .* 0/);
  });

  it('holds a gap of dropped events at one seq, counting its events by kind, also once evicted', () => {
    const log = new EventLog({ maxEvents: 2, maxBytes: 10_000 });
    const add = (kind: number) => log.append({ event: { type: 'step', time: 0, step: 0 }, kind, step: 0, bytes: 10, summary: {} });
    add(1);
    const dropped = [0, 0, 7, 2, 0, 1, 0, 0, 0, 0];
    const gap = log.appendGap(dropped);
    add(2);
    expect([gap.seq, gap.kind, log.end]).toEqual([1, 0, 3]);
    expect(Array.from(gap.prefix)).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Events before seq 2: the run-start and the gap's 10.
    expect(Array.from(log.countsBefore(2)!)).toEqual([0, 1, 7, 2, 0, 1, 0, 0, 0, 0]);
    add(2); // evicts the gap: what readers skipping to the start count as missed still includes its events
    expect(log.start).toBe(2);
    expect(Array.from(log.countsBefore(2)!)).toEqual([0, 1, 7, 2, 0, 1, 0, 0, 0, 0]);
    expect(Array.from(log.countsBefore(4)!)).toEqual([0, 1, 9, 2, 0, 1, 0, 0, 0, 0]);
  });

  it('RunView.dropped names a bad count and ignores an empty gap', () => {
    const view = new RunView();
    expect(() => view.dropped([0, 1.5])).toThrow(/RunView\.dropped: byKind\[1\] must be an integer >= 0, got 1\.5/);
    expect(() => view.dropped(new Array(11).fill(0))).toThrow(/at most 10 entries, got 11/);
    view.dropped([0, 0, 0]);
    expect(view.log.end).toBe(0);
    view.dropped([0, 0, 3]);
    expect(view.log.end).toBe(1);
  });
});
