import { replay } from '../stream/replay.js';
import type { PolcaEvent } from '../stream/events.js';

/** Options of {@link replayCommand}. */
export interface ReplayCommandOptions {
  pace?: 'fast' | 'recorded';
  speed?: number;
  json?: boolean;
  grpc?: number;
  metrics?: number;
  host?: string;
  token?: string;
  linger?: number;
}

/** One line describing an event, typed arrays summarised. */
export function describeEvent(e: PolcaEvent): string {
  switch (e.type) {
    case 'run-start':
      return `run-start P=${e.numParams} N=${e.numProbe} backend=${e.backend} hvp=${e.hvpMode}`;
    case 'step':
      return `step ${e.step}${e.loss !== undefined ? ` loss=${e.loss.toFixed(4)}` : ''}`;
    case 'checkpoint':
      return `checkpoint ${e.step} mean loss=${e.meanLoss.toFixed(4)} (${e.seconds.toFixed(2)} s)`;
    case 'basis':
      return `basis #${e.id} at ${e.step} (${e.kind}) λ=${e.eigenvalue.toPrecision(4)} residual=${e.residual.toExponential(1)}`;
    case 'polca':
      return `polca ${e.fromStep}→${e.toStep} ${e.basisIds.length} vectors`;
    case 'clusters':
      return `clusters ${e.kind} basis ${e.basisId} at ${e.step}: ${e.clusters.map((c) => c.members.length).join('/')}`;
    case 'transition':
      return `transition at ${e.step} (${e.target.kind === 'cluster' ? `basis ${e.target.basisId} cluster ${e.target.clusterId}` : e.target.name}) confidence ${e.confidence.toFixed(2)}`;
    case 'alert':
      return `alert ${e.rule} at ${e.step}: ${e.message}`;
    case 'run-end':
      return `run-end at ${e.step} (${e.reason}${e.error ? `: ${e.error}` : ''})`;
  }
}

function toJson(e: PolcaEvent): string {
  return JSON.stringify(e, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<number>) : v));
}

/** `polca replay <dir>`: prints the run's events, paced as asked. */
export async function replayCommand(dir: string, o: ReplayCommandOptions = {}): Promise<number> {
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    replay(dir, { pace: o.pace, speed: o.speed }).subscribe({
      next: (e) => {
        count++;
        process.stdout.write((o.json ? toJson(e) : describeEvent(e)) + '\n');
      },
      error: reject,
      complete: resolve,
    });
  });
  return count;
}
