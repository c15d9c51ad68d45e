import { describe, expect, it } from 'vitest';
import { EventLog } from '../../src/serve/eventLog.js';

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
});
