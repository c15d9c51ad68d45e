/**
 * How much of a cluster's homogeneity its make-up in another label explains.
 * A cluster of 10s-place tokens is about 45 % carry on 3-digit addition
 * whatever found it, because 45 % of the 10s tokens are carries: the place
 * alone sets that share. The null model here draws the cluster again, keeping
 * how many members it has in each category of the other label (the stratum)
 * and picking them at random within it, without replacement. Under it the
 * count in the target category is a sum of independent hypergeometric
 * variables, one per stratum; this module gives its mean and its exact upper
 * tail.
 *
 * @packageDocumentation
 */

/** Per stratum: datapoints, those in the target category, and the cluster's members. */
interface Stratum {
  total: number;
  inTarget: number;
  members: number;
}

/** Strata of a cluster, and its observed count in the target category. */
export interface StratifiedCounts {
  strata: Stratum[];
  count: number;
  size: number;
}

/**
 * Counts a cluster's members by stratum, and the probe's datapoints by stratum
 * and target category.
 *
 * @param isTarget - whether each datapoint is in the target category.
 * @param stratum - each datapoint's stratum (any string key).
 */
export function stratifiedCounts(members: ArrayLike<number>, isTarget: ArrayLike<boolean>, stratum: readonly string[]): StratifiedCounts {
  const n = isTarget.length;
  if (stratum.length !== n) throw new RangeError(`stratifiedCounts: ${n} target flags but ${stratum.length} strata`);
  const byKey = new Map<string, Stratum>();
  const get = (k: string) => {
    let s = byKey.get(k);
    if (!s) byKey.set(k, (s = { total: 0, inTarget: 0, members: 0 }));
    return s;
  };
  for (let x = 0; x < n; x++) {
    const s = get(stratum[x]);
    s.total++;
    if (isTarget[x]) s.inTarget++;
  }
  let count = 0;
  for (let k = 0; k < members.length; k++) {
    const x = members[k];
    if (!Number.isInteger(x) || x < 0 || x >= n) throw new RangeError(`stratifiedCounts: member ${x} is not a datapoint index in [0, ${n})`);
    get(stratum[x]).members++;
    if (isTarget[x]) count++;
  }
  return { strata: [...byKey.values()], count, size: members.length };
}

/** The share of the cluster in the target category that its strata alone predict (NaN for an empty cluster). */
export function stratifiedExpectation(c: StratifiedCounts): number {
  if (c.size === 0) return NaN;
  let e = 0;
  for (const s of c.strata) if (s.members > 0) e += (s.members * s.inTarget) / s.total;
  return e / c.size;
}

const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let k = logFactorials.length; k <= n; k++) logFactorials.push(logFactorials[k - 1] + Math.log(k));
  return logFactorials[n];
}
const logChoose = (n: number, k: number) => logFactorial(n) - logFactorial(k) - logFactorial(n - k);

/** The hypergeometric pmf of one stratum, indexed from its smallest possible count. */
function hypergeometric(s: Stratum): { from: number; pmf: Float64Array } {
  const from = Math.max(0, s.members - (s.total - s.inTarget));
  const to = Math.min(s.members, s.inTarget);
  const pmf = new Float64Array(to - from + 1);
  const denom = logChoose(s.total, s.members);
  for (let k = from; k <= to; k++) pmf[k - from] = Math.exp(logChoose(s.inTarget, k) + logChoose(s.total - s.inTarget, s.members - k) - denom);
  return { from, pmf };
}

/**
 * P(count ≥ observed) when the cluster is drawn again at random within its
 * strata: the chance that a cluster of the same make-up reaches its count in
 * the target category without any information beyond the strata. Exact, by
 * convolving the strata's hypergeometric distributions (time O(size²) at most).
 */
export function stratifiedTail(c: StratifiedCounts): number {
  if (c.size === 0) return NaN;
  let from = 0;
  let dist = Float64Array.of(1);
  for (const s of c.strata) {
    if (s.members === 0) continue;
    const h = hypergeometric(s);
    const next = new Float64Array(dist.length + h.pmf.length - 1);
    for (let i = 0; i < dist.length; i++) {
      const a = dist[i];
      if (a === 0) continue;
      for (let j = 0; j < h.pmf.length; j++) next[i + j] += a * h.pmf[j];
    }
    dist = next;
    from += h.from;
  }
  // Summed from the far tail inwards, so that a tiny p keeps its digits.
  let p = 0;
  for (let k = dist.length - 1; k >= 0 && k + from >= c.count; k--) p += dist[k];
  return Math.min(1, p);
}
