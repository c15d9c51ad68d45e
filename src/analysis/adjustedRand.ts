/**
 * Adjusted Rand index between two labelings (Hubert & Arabie 1985).
 *
 * @packageDocumentation
 */

/**
 * Adjusted Rand index of two labelings of the same points: 1 for identical
 * partitions (up to renaming), about 0 for independent ones, negative below
 * chance. Every distinct value is a class, noise labels (−1) included — the
 * convention of scikit-learn's `adjusted_rand_score`. Two labelings that each
 * put everything in one class, or each point in its own class, score 1.
 *
 * @param a - Labels of n points (any integers).
 * @param b - Labels of the same n points.
 * @returns The index, in [−1, 1].
 * @throws RangeError if the lengths differ.
 *
 * @example
 * ```ts
 * adjustedRandIndex([0, 0, 1, 1], [5, 5, -1, -1]); // 1
 * adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]); // -0.5
 * ```
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) {
    throw new RangeError(`adjustedRandIndex: b has length ${b.length}, expected ${n} (the length of a)`);
  }
  const ia = denseIds(a);
  const ib = denseIds(b);
  const ka = ia.count;
  const kb = ib.count;
  // Contingency counts in a map: ka·kb can be large when both have many classes.
  const cells = new Map<number, number>();
  const rowSum = new Float64Array(ka);
  const colSum = new Float64Array(kb);
  for (let i = 0; i < n; i++) {
    const key = ia.ids[i] * kb + ib.ids[i];
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rowSum[ia.ids[i]]++;
    colSum[ib.ids[i]]++;
  }
  const pairs = (c: number): number => (c * (c - 1)) / 2;
  let index = 0;
  for (const c of cells.values()) index += pairs(c);
  let sumA = 0;
  for (const c of rowSum) sumA += pairs(c);
  let sumB = 0;
  for (const c of colSum) sumB += pairs(c);
  const total = pairs(n);
  const expected = total === 0 ? 0 : (sumA * sumB) / total;
  const max = (sumA + sumB) / 2;
  // Both partitions trivial in the same way (all pairs or no pairs together): identical.
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

function denseIds(labels: ArrayLike<number>): { ids: Int32Array; count: number } {
  const map = new Map<number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = map.get(labels[i]);
    if (id === undefined) {
      id = map.size;
      map.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: map.size };
}
