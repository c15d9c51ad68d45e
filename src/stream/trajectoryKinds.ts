/**
 * The trajectory kinds (METHOD.md §3), listed once: the event types, the
 * tracker, analysis, serving and the report all read them from here.
 *
 * @packageDocumentation
 */

/**
 * Every trajectory kind that can be clustered, in the order of the paper's
 * table: exact loss, its change, projected Fisher, LCA, first-order POLCA,
 * POLCA.
 *
 * @example
 * ```ts
 * TRAJECTORY_KINDS.includes('polca'); // true
 * ```
 */
export const TRAJECTORY_KINDS = ['loss', 'loss-change', 'fisher', 'lca', 'polca-first', 'polca'] as const;

/** Trajectories that can be clustered (METHOD.md §3). */
export type TrajectoryKind = (typeof TRAJECTORY_KINDS)[number];

/**
 * Kinds whose trajectory is a cumulative projected loss L_b(x, t) (eq. 5)
 * along one basis vector, starting at 0.
 *
 * @example
 * ```ts
 * PROJECTED_LOSS_KINDS; // ['polca', 'polca-first', 'lca']
 * ```
 */
export const PROJECTED_LOSS_KINDS: readonly TrajectoryKind[] = ['polca', 'polca-first', 'lca'];

/**
 * Kinds that do not depend on a basis vector (their basis id is −1).
 *
 * @example
 * ```ts
 * BASIS_FREE_KINDS; // ['loss', 'loss-change']
 * ```
 */
export const BASIS_FREE_KINDS: readonly TrajectoryKind[] = ['loss', 'loss-change'];

/**
 * Whether `value` names a trajectory kind (for validating user input).
 *
 * @example
 * ```ts
 * isTrajectoryKind('polka'); // false
 * ```
 */
export function isTrajectoryKind(value: unknown): value is TrajectoryKind {
  return typeof value === 'string' && (TRAJECTORY_KINDS as readonly string[]).includes(value);
}

/**
 * Kinds that do not depend on a basis vector (their basis id is −1).
 *
 * @example
 * ```ts
 * isBasisFree('loss'); // true
 * ```
 */
export function isBasisFree(kind: TrajectoryKind): boolean {
  return BASIS_FREE_KINDS.includes(kind);
}

/**
 * Kinds whose trajectory is a cumulative projected loss L_b(x, t) (eq. 5) starting at 0.
 *
 * @example
 * ```ts
 * isProjectedLoss('polca-first'); // true
 * isProjectedLoss('fisher');      // false
 * ```
 */
export function isProjectedLoss(kind: TrajectoryKind): boolean {
  return PROJECTED_LOSS_KINDS.includes(kind);
}
