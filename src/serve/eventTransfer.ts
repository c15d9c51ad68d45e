/**
 * Events packed for a worker thread: one copy of every typed array, moved
 * (not copied again) by `postMessage`.
 *
 * @packageDocumentation
 */
import type { PolcaEvent } from '../stream/events.js';

/** An event ready for `postMessage(message, transfer)`. */
export interface PackedEvent {
  event: PolcaEvent;
  /** The buffers of its typed arrays, to transfer. */
  transfer: ArrayBuffer[];
  /** Bytes of its typed arrays. */
  bytes: number;
}

/**
 * Copies `event` so that its typed arrays own fresh buffers, which
 * `postMessage` then moves to the worker without another copy; the
 * caller's arrays (shared with the other sinks) stay intact. (A basis
 * vector goes too: the server reports its length, then drops it.)
 *
 * @example
 * ```ts
 * const { event, transfer } = packEvent(e);
 * worker.postMessage({ type: 'event', event }, transfer);
 * ```
 */
export function packEvent(raw: PolcaEvent): PackedEvent {
  const transfer: ArrayBuffer[] = [];
  let bytes = 0;
  const copy = (value: unknown): unknown => {
    if (ArrayBuffer.isView(value)) {
      const view = value as unknown as { slice(): ArrayBufferView & { buffer: ArrayBuffer } };
      const fresh = view.slice();
      transfer.push(fresh.buffer);
      bytes += fresh.byteLength;
      return fresh;
    }
    if (Array.isArray(value)) return value.map(copy);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = copy(v);
      return out;
    }
    return value;
  };
  return { event: copy(raw) as PolcaEvent, transfer, bytes };
}
