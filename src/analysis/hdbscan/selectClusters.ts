/**
 * Flat cluster selection from the condensed tree of {@link hdbscan}.
 *
 * @packageDocumentation
 */
import type { ClusterTree } from './condenseTree.js';

/** How flat clusters are chosen from the cluster tree. */
export type ClusterSelection = 'eom' | 'leaf';

/**
 * Marks the selected clusters of `tree`.
 *
 * - `'eom'` (excess of mass, Campello et al. 2013): bottom-up, a cluster
 *   replaces its descendants' selection when its stability is at least the sum
 *   of its children's best scores (ties keep the parent, as R's `fosc`).
 * - `'leaf'`: every leaf of the tree.
 *
 * The root is never selected (R has no single-cluster option): a tree without
 * splits selects nothing.
 *
 * @param tree - From `condenseTree`.
 * @param selection - `'eom'` or `'leaf'`.
 * @returns 1 for each selected cluster id, else 0; selected clusters are disjoint.
 *
 * @example
 * ```ts
 * const selected = selectClusters(tree, 'eom');
 * ```
 */
export function selectClusters(tree: ClusterTree, selection: ClusterSelection): Uint8Array {
  const { count, parent, child1, child2, stability } = tree;
  const selected = new Uint8Array(count);
  if (selection === 'leaf') {
    for (let c = 1; c < count; c++) if (child1[c] < 0) selected[c] = 1;
    return selected;
  }
  const score = new Float64Array(count);
  const keepSelf = new Uint8Array(count);
  // Children have larger ids than their parent, so descending ids is bottom-up.
  for (let c = count - 1; c >= 1; c--) {
    if (child1[c] < 0) {
      score[c] = stability[c];
      keepSelf[c] = 1;
      continue;
    }
    const children = score[child1[c]] + score[child2[c]];
    if (stability[c] < children) {
      score[c] = children;
    } else {
      score[c] = stability[c];
      keepSelf[c] = 1;
    }
  }
  // A cluster is selected when it keeps itself and no ancestor does.
  const covered = new Uint8Array(count);
  for (let c = 1; c < count; c++) {
    const p = parent[c];
    covered[c] = covered[p] === 1 || selected[p] === 1 ? 1 : 0;
    if (keepSelf[c] === 1 && covered[c] === 0) selected[c] = 1;
  }
  return selected;
}
