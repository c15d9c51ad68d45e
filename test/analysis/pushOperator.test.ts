import { describe, expect, it } from 'vitest';
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { pushOperator } from '../../src/analysis/pushOperator.js';

/** Emits each number's divisors below it; throws on a negative number. */
class Divisors {
  seen = 0;
  push(n: number): number[] {
    if (n < 0) throw new RangeError(`Divisors.push: ${n} is negative`);
    this.seen++;
    return Array.from({ length: n }, (_, k) => k).filter((k) => k > 0 && n % k === 0);
  }
}

describe('pushOperator', () => {
  it('emits what push returns for each event, in order, and completes with the source', async () => {
    const out = await lastValueFrom(from([6, 1, 4]).pipe(pushOperator(() => new Divisors()), toArray()));
    expect(out).toEqual([1, 2, 3, 1, 2]);
  });

  it('makes one analyser per subscription', async () => {
    const made: Divisors[] = [];
    const op = pushOperator(() => {
      const d = new Divisors();
      made.push(d);
      return d;
    });
    const src = from([2, 3]);
    await lastValueFrom(src.pipe(op, toArray()));
    await lastValueFrom(src.pipe(op, toArray()));
    expect(made.map((d) => d.seen)).toEqual([2, 2]);
  });

  it('an exception in push ends the output with that error and unsubscribes from the source', () => {
    const source = new Subject<number>();
    const got: number[] = [];
    let error: unknown;
    source.pipe(pushOperator(() => new Divisors())).subscribe({ next: (v) => got.push(v), error: (e) => (error = e) });
    source.next(4);
    source.next(-1);
    source.next(9);
    expect(got).toEqual([1, 2]);
    expect((error as Error).message).toBe('Divisors.push: -1 is negative');
    expect(source.observed).toBe(false);
  });

  it('source errors pass through and unsubscribing releases the source', () => {
    const source = new Subject<number>();
    let error: unknown;
    const sub = source.pipe(pushOperator(() => new Divisors())).subscribe({ error: (e) => (error = e) });
    expect(source.observed).toBe(true);
    sub.unsubscribe();
    expect(source.observed).toBe(false);
    const source2 = new Subject<number>();
    source2.pipe(pushOperator(() => new Divisors())).subscribe({ error: (e) => (error = e) });
    source2.error(new Error('boom'));
    expect((error as Error).message).toBe('boom');
  });
});
