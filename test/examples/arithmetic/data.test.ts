import { describe, it, expect } from 'vitest';
import {
  EQUALS, OUTPUTS_PER_PROBLEM, PLUS, QUERY_LEN, SEQ_LEN, VOCAB, belowColumnSum, datapointMeta, makeBatch, makeSplits, problemText,
  problemTokens, queryTokens,
} from '../../../examples/arithmetic/data.js';
import { mulberry32, randomInt } from '../../../examples/arithmetic/prng.js';

/** Schoolbook column addition, least significant digit first: digits and the carry entering each column. */
function columnAddition(a: number, b: number): { digits: number[]; carryIn: boolean[] } {
  const da = String(a).split('').reverse().map(Number);
  const db = String(b).split('').reverse().map(Number);
  const digits: number[] = [];
  const carryIn: boolean[] = [];
  let carry = 0;
  for (let col = 0; col < 4; col++) {
    carryIn.push(carry === 1);
    const s = (da[col] ?? 0) + (db[col] ?? 0) + carry;
    digits.push(s % 10);
    carry = s >= 10 ? 1 : 0;
  }
  return { digits, carryIn };
}

describe('arithmetic data', () => {
  it('labels digits, places and carries like column addition', () => {
    const rng = mulberry32(11);
    const a: number[] = [100, 999, 150, 199, 500, 101];
    const b: number[] = [100, 999, 850, 801, 499, 899];
    for (let i = 0; i < 20000; i++) {
      a.push(100 + Math.floor(rng() * 900));
      b.push(100 + Math.floor(rng() * 900));
    }
    const batch = makeBatch(a, b);
    const counts = { carry10: 0, carry100: 0, carry1000: 0, ripple: 0 };
    const mismatches: string[] = [];
    for (let i = 0; i < a.length; i++) {
      const ref = columnAddition(a[i], b[i]);
      for (let k = 0; k < OUTPUTS_PER_PROBLEM; k++) {
        const col = 3 - k;
        const j = 4 * i + k;
        if (batch.targets[j] !== ref.digits[col] || batch.place[j] !== col || batch.carry[j] !== (ref.carryIn[col] ? 1 : 0)) {
          mismatches.push(`${a[i]}+${b[i]} output ${k}`);
        }
      }
      if (ref.carryIn[1]) counts.carry10++;
      if (ref.carryIn[2]) counts.carry100++;
      if (ref.carryIn[3]) counts.carry1000++;
      // A carry into the 100s made only by a carry passed on from the 1s (tens digits sum to 9).
      if (ref.carryIn[2] && (Math.floor(a[i] / 10) % 10) + (Math.floor(b[i] / 10) % 10) === 9) counts.ripple++;
    }
    expect(mismatches).toEqual([]);
    // The column below each place, carry in included, sums to ≥ 10 exactly when that place gets a carry.
    for (let i = 0; i < 2000; i++) {
      const da = String(a[i]).split('').reverse().map(Number);
      const db = String(b[i]).split('').reverse().map(Number);
      const ref = columnAddition(a[i], b[i]);
      for (let col = 1; col <= 3; col++) {
        const below = da[col - 1] + db[col - 1] + (ref.carryIn[col - 1] ? 1 : 0);
        expect(belowColumnSum(a[i], b[i], col)).toBe(below);
        expect(below >= 10).toBe(ref.carryIn[col]);
      }
    }
    expect(() => belowColumnSum(123, 456, 0)).toThrow(/power must be 1, 2 or 3, got 0/);
    // The fixture exercised every kind of carry, ripple carries included.
    expect(counts.carry10).toBeGreaterThan(1000);
    expect(counts.carry100).toBeGreaterThan(1000);
    expect(counts.carry1000).toBeGreaterThan(1000);
    expect(counts.ripple).toBeGreaterThan(100);
    expect([...batch.carry.filter((_, j) => batch.place[j] === 0)].every((c) => c === 0)).toBe(true);
  });

  it('writes problems as text with a zero-padded four-digit sum', () => {
    const rng = mulberry32(5);
    for (let i = 0; i < 2000; i++) {
      const a = 100 + Math.floor(rng() * 900);
      const b = 100 + Math.floor(rng() * 900);
      const text = problemText(a, b);
      expect(text).toBe(`${a}+${b}=${String(a + b).padStart(4, '0')}`);
      expect(problemTokens(a, b).map((t) => VOCAB[t]).join('')).toBe(text);
    }
    expect(() => problemTokens(99, 100)).toThrow(/problemTokens: a must be an integer in \[100, 999\], got 99/);
    expect(() => problemTokens(100, 1000)).toThrow(/b must be/);
  });

  it('lays out model inputs as the text without its last digit', () => {
    const batch = makeBatch([123, 987], [456, 654]);
    expect(Array.from(batch.inputs.slice(0, SEQ_LEN))).toEqual([1, 2, 3, 10, 4, 5, 6, 11, 0, 5, 7]);
    expect(Array.from(batch.inputs.slice(SEQ_LEN))).toEqual([9, 8, 7, 10, 6, 5, 4, 11, 1, 6, 4]);
    expect(Array.from(batch.targets)).toEqual([0, 5, 7, 9, 1, 6, 4, 1]);
  });

  it('in the query format, asks for one place per input, its answer the digit of the sum there', () => {
    const batch = makeBatch([123, 987, 150], [456, 654, 850], 'query');
    expect(batch.format).toBe('query');
    expect(batch.inputs).toHaveLength(3 * 4 * QUERY_LEN);
    expect(Array.from(batch.inputs.slice(0, QUERY_LEN))).toEqual([1, 2, 3, 10, 4, 5, 6, 11, 3]);
    expect(Array.from(batch.inputs.slice(6 * QUERY_LEN, 7 * QUERY_LEN))).toEqual([9, 8, 7, 10, 6, 5, 4, 11, 1]);
    const same = makeBatch([123, 987, 150], [456, 654, 850]);
    // Targets and labels are those of the sequence format, datapoint for datapoint.
    expect(Array.from(batch.targets)).toEqual(Array.from(same.targets));
    expect(Array.from(batch.carry)).toEqual(Array.from(same.carry));
    const rng = mulberry32(9);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < 500; i++) { a.push(randomInt(rng, 100, 999)); b.push(randomInt(rng, 100, 999)); }
    const big = makeBatch(a, b, 'query');
    for (let j = 0; j < 2000; j++) {
      const row = big.inputs.slice(j * QUERY_LEN, (j + 1) * QUERY_LEN);
      const x = row[0] * 100 + row[1] * 10 + row[2];
      const y = row[4] * 100 + row[5] * 10 + row[6];
      const power = row[8];
      expect([x, y, row[3], row[7]]).toEqual([a[j >> 2], b[j >> 2], PLUS, EQUALS]);
      expect(power).toBe(3 - (j % 4));
      expect(big.targets[j]).toBe(Math.floor((x + y) / 10 ** power) % 10);
    }
    expect(() => makeBatch([123], [456], 'reversed' as never)).toThrow(/makeBatch: option format must be one of 'sequence', 'query', got "reversed"/);
    expect(() => queryTokens(123, 456, 4)).toThrow(/queryTokens: power must be 0, 1, 2 or 3, got 4/);
    // The split draws the same problems whatever the format.
    const s = makeSplits({ seed: 3, probeSize: 40, hessianSize: 8, format: 'query' });
    const t = makeSplits({ seed: 3, probeSize: 40, hessianSize: 8 });
    expect(Array.from(s.probe.a)).toEqual(Array.from(t.probe.a));
    const drawn = s.train.next(5);
    expect(drawn.format).toBe('query');
    expect(Array.from(drawn.b)).toEqual(Array.from(t.train.next(5).b));
  });

  it('describes every datapoint with its text and target character', () => {
    const batch = makeBatch([123, 150, 999], [456, 850, 999]);
    const meta = datapointMeta(batch);
    expect(meta).toHaveLength(12);
    meta.forEach((m, j) => {
      expect(m.index).toBe(j);
      expect(m.text[m.target]).toBe(VOCAB[batch.targets[j]]);
      expect(m.carry).toBe(batch.carry[j] === 1);
    });
    expect(meta[5]).toEqual({ index: 5, problem: 1, text: '150+850=1000', target: 9, place: '100s', carry: true });
  });

  it('draws disjoint, reproducible probe, Hessian and training sets over 100–999', () => {
    const s1 = makeSplits({ seed: 3 });
    const s2 = makeSplits({ seed: 3 });
    const id = (a: number, b: number): number => (a - 100) * 900 + (b - 100);
    const probeIds = new Set(Array.from(s1.probe.a, (a, i) => id(a, s1.probe.b[i])));
    const hessianIds = new Set(Array.from(s1.hessian.a, (a, i) => id(a, s1.hessian.b[i])));
    expect(probeIds.size).toBe(1250);
    expect(hessianIds.size).toBe(1250);
    expect([...probeIds].some((x) => hessianIds.has(x))).toBe(false);
    expect(Array.from(s2.probe.a)).toEqual(Array.from(s1.probe.a));
    expect(Array.from(s2.hessian.b)).toEqual(Array.from(s1.hessian.b));
    let min = 1000;
    let max = 0;
    for (let r = 0; r < 50; r++) {
      const t1 = s1.train.next(200);
      const t2 = s2.train.next(200);
      expect(Array.from(t1.a)).toEqual(Array.from(t2.a));
      for (let i = 0; i < t1.size; i++) {
        const x = id(t1.a[i], t1.b[i]);
        expect(probeIds.has(x) || hessianIds.has(x)).toBe(false);
        min = Math.min(min, t1.a[i], t1.b[i]);
        max = Math.max(max, t1.a[i], t1.b[i]);
      }
    }
    expect(min).toBe(100);
    expect(max).toBe(999);
    const other = makeSplits({ seed: 4 });
    expect(Array.from(other.probe.a)).not.toEqual(Array.from(s1.probe.a));
    expect(() => makeSplits({ seed: 0, probeSize: 0 })).toThrow(/makeSplits: option probeSize .* got 0/);
  });

  it('draws training problems that a curriculum predicate accepts, still outside the held-out sets', () => {
    const s = makeSplits({ seed: 5 });
    const noCarry = (a: number, b: number) => (a % 10) + (b % 10) < 10 && (a % 100) + (b % 100) < 100;
    const t = s.train.next(500, noCarry);
    expect(t.size).toBe(500);
    for (let i = 0; i < t.size; i++) {
      // Column by column: neither the 1s nor the 10s column reaches 10.
      expect((t.a[i] % 10) + (t.b[i] % 10)).toBeLessThan(10);
      expect((Math.floor(t.a[i] / 10) % 10) + (Math.floor(t.b[i] / 10) % 10)).toBeLessThan(10);
      expect(s.heldOut.has((t.a[i] - 100) * 900 + (t.b[i] - 100))).toBe(false);
    }
    // Without the predicate about 70 % of problems carry into the 10s or 100s.
    const u = s.train.next(2000);
    let carries = 0;
    for (let i = 0; i < u.size; i++) if (!noCarry(u.a[i], u.b[i])) carries++;
    expect(carries / u.size).toBeGreaterThan(0.6);
    expect(() => s.train.next(1, () => false)).toThrow(/accept rejected 10,000 draws per problem/);
  });
});
