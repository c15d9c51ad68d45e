/**
 * The running projected loss L_b(x, t) = Σ_{i<t} POLCA(x, b, i) (METHOD.md
 * eq. 5) per basis vector, and the rule for where an interval goes.
 *
 * @packageDocumentation
 */

/** Where an interval went on a basis vector's curve. */
export type IntervalPlacement =
  /** The vector's first interval: its curve is 0 at `fromStep`, the increments at `toStep`. */
  | 'start'
  /** The interval continues the curve: a new point at `toStep`. */
  | 'append'
  /** A filled-in earlier interval ending where the curve starts: every later point moves by its increments. */
  | 'prepend';

/** The steps an interval spans, and whether it was filled in from the θ history. */
export interface IntervalSpan {
  fromStep: number;
  toStep: number;
  filled?: boolean;
}

/**
 * Running sums L_b(x) in double precision, one Float64Array of N values per
 * basis vector, with the interval-order rule both the analysis
 * ({@link TrajectoryBuilder}) and the live server's trajectory store follow:
 * a vector's curve starts at its first interval; a live interval must start
 * where the curve ends; a filled interval must end where it starts. Anything
 * else (a missing or repeated interval) is a RangeError, because the
 * cumulative sum would silently be wrong.
 *
 * @example
 * ```ts
 * const L = new ProjectedLoss(3);
 * L.add(0, { fromStep: 0, toStep: 10 }, [0.1, 0, -0.2]);  // 'start'
 * L.add(0, { fromStep: 10, toStep: 20 }, [0.1, 0, 0]);    // 'append'
 * L.current(0); // Float64Array [0.2, 0, -0.2]
 * ```
 */
export class ProjectedLoss {
  private readonly sums = new Map<number, { running: Float64Array; firstStep: number; lastStep: number }>();

  /** @param n number of datapoints N */
  constructor(readonly n: number) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`ProjectedLoss: n must be a positive integer, got ${n}`);
  }

  /** Ids of the vectors seen, ascending. */
  basisIds(): number[] {
    return [...this.sums.keys()].sort((a, b) => a - b);
  }

  /** L_b(x) after the last interval for every x (the live array), or undefined for an unknown vector. */
  current(basisId: number): Float64Array | undefined {
    return this.sums.get(basisId)?.running;
  }

  /** First and last step of a vector's curve. */
  span(basisId: number): { firstStep: number; lastStep: number } | undefined {
    const s = this.sums.get(basisId);
    return s && { firstStep: s.firstStep, lastStep: s.lastStep };
  }

  /**
   * Adds one interval's increments along vector `basisId` and says where it went.
   *
   * @throws RangeError when `increments` does not have N values, or the interval neither continues nor precedes the curve.
   */
  add(basisId: number, interval: IntervalSpan, increments: ArrayLike<number>): IntervalPlacement {
    if (increments.length !== this.n) {
      throw new RangeError(`ProjectedLoss.add: basis ${basisId} has ${increments.length} values, expected ${this.n}`);
    }
    let s = this.sums.get(basisId);
    let placement: IntervalPlacement;
    if (!s) {
      s = { running: new Float64Array(this.n), firstStep: interval.fromStep, lastStep: interval.toStep };
      this.sums.set(basisId, s);
      placement = 'start';
    } else if (interval.filled && s.firstStep === interval.toStep) {
      s.firstStep = interval.fromStep;
      placement = 'prepend';
    } else if (s.lastStep === interval.fromStep) {
      s.lastStep = interval.toStep;
      placement = 'append';
    } else {
      throw new RangeError(
        `ProjectedLoss.add: interval (${interval.fromStep}, ${interval.toStep}] of basis ${basisId} neither continues its curve ` +
          `(ends at step ${s.lastStep}) nor, filled in, precedes it (starts at step ${s.firstStep}): missing or repeated interval`,
      );
    }
    const running = s.running;
    for (let i = 0; i < this.n; i++) running[i] += increments[i];
    return placement;
  }
}
