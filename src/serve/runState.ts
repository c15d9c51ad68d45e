/**
 * What the server knows about a run, distilled from its events.
 *
 * @packageDocumentation
 */
import type { BasisEvent, ClustersEvent, PolcaEvent, RunEndEvent, RunStartEvent } from '../stream/events.js';

/**
 * Running summary of a run: start and end events, last step and loss,
 * counts, the basis vectors found and the latest clustering per trajectory
 * kind and basis vector.
 *
 * @example
 * ```ts
 * const state = new RunState();
 * state.observe({ type: 'step', time: Date.now(), step: 4, loss: 0.3 });
 * state.lastStep; // 4
 * ```
 */
export class RunState {
  start: RunStartEvent | undefined;
  end: RunEndEvent | undefined;
  lastStep = -1;
  lastLoss = NaN;
  checkpoints = 0;
  transitions = 0;
  alerts = 0;
  events = 0;
  /** Basis vectors by id (vectors stripped). */
  readonly basis = new Map<number, BasisEvent>();
  private readonly clusterings = new Map<string, Map<number, ClustersEvent>>();

  /** Updates the summary from one event. */
  observe(event: PolcaEvent): void {
    this.events++;
    switch (event.type) {
      case 'run-start':
        this.start = event;
        break;
      case 'run-end':
        this.end = event;
        break;
      case 'step':
        this.lastStep = Math.max(this.lastStep, event.step);
        if (event.loss !== undefined) this.lastLoss = event.loss;
        break;
      case 'checkpoint':
        this.checkpoints++;
        break;
      case 'basis':
        this.basis.set(event.id, { ...event, vector: undefined });
        break;
      case 'clusters': {
        let byBasis = this.clusterings.get(event.kind);
        if (!byBasis) this.clusterings.set(event.kind, (byBasis = new Map()));
        byBasis.set(event.basisId, event);
        break;
      }
      case 'transition':
        this.transitions++;
        break;
      case 'alert':
        this.alerts++;
        break;
      default:
        break;
    }
  }

  /** The latest clustering of a trajectory kind along a basis vector. */
  latestClusters(kind: string, basisId: number): ClustersEvent | undefined {
    return this.clusterings.get(kind)?.get(basisId);
  }

  /** The latest clusterings of a trajectory kind, ascending basis id. */
  allClusters(kind: string): ClustersEvent[] {
    const byBasis = this.clusterings.get(kind);
    if (!byBasis) return [];
    return [...byBasis.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
  }
}
