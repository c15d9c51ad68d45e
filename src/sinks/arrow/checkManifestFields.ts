/**
 * Field-by-field check of a `run.json` read from a directory that may come
 * from someone else: every field a reader relies on is checked, and a bad
 * one is named with its value.
 *
 * @packageDocumentation
 */
import { RunFormatError } from './RunFormatError.js';

const STATUSES = ['running', 'closed', 'aborted', 'failed'];

/** Longest value quoted in an error, so a huge field does not flood the terminal. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Throw a {@link RunFormatError} naming the first field of `manifest` that
 * a reader cannot trust (wrong type, out of range, inconsistent with
 * `numProbe`). Fields checked: `numParams`, `numProbe`, `probeMeta`
 * (one array of length numProbe per column), `params`, `status`,
 * `events`, `runId`, `checksum`, `files` (non-negative integer bytes,
 * batches and rows per table). Table paths are checked by `readManifest`.
 *
 * @param file - the manifest's path, for the message.
 * @param caller - the function or command reading it, for the message.
 * @example
 * ```ts
 * checkManifestFields(JSON.parse(text), 'runs/a/run.json', 'polca replay');
 * // RunFormatError: polca replay: "runs/a/run.json" field 'events' must be a non-negative integer, got -3
 * ```
 */
export function checkManifestFields(manifest: Record<string, unknown>, file: string, caller: string): void {
  const bad = (field: string, want: string): never => {
    const value = field.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], manifest);
    throw new RunFormatError(`${caller}: ${JSON.stringify(file)} field '${field}' must be ${want}, got ${show(value)}`);
  };
  const count = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!count(manifest.numProbe) || manifest.numProbe === 0) bad('numProbe', 'a positive integer');
  if (!count(manifest.numParams)) bad('numParams', 'a non-negative integer');
  const n = manifest.numProbe as number;
  const meta = manifest.probeMeta;
  if (meta !== undefined) {
    if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) bad('probeMeta', 'an object of per-datapoint columns');
    for (const [name, column] of Object.entries(meta as Record<string, unknown>)) {
      if (!Array.isArray(column) || column.length !== n) bad(`probeMeta.${name}`, `an array of length numProbe = ${n}`);
      const kinds = new Set((column as unknown[]).map((v) => typeof v));
      if (kinds.size > 1 || ![...kinds].every((k) => k === 'string' || k === 'number' || k === 'boolean')) {
        bad(`probeMeta.${name}`, 'an array of strings, numbers or booleans (one kind)');
      }
    }
  }
  if (manifest.tables === null || typeof manifest.tables !== 'object' || Array.isArray(manifest.tables)) bad('tables', 'an object of table file names');
  if (manifest.params !== null && manifest.params !== undefined && typeof manifest.params !== 'string') bad('params', 'a file name or null');
  if (!STATUSES.includes(manifest.status as string)) bad('status', `one of ${STATUSES.join(', ')}`);
  if (manifest.events !== undefined && !count(manifest.events)) bad('events', 'a non-negative integer');
  if (manifest.runId !== undefined && !(typeof manifest.runId === 'string' && /^[0-9a-f-]{8,64}$/i.test(manifest.runId))) bad('runId', 'a run id (hex digits and dashes)');
  if (manifest.checksum !== undefined && manifest.checksum !== 'crc32') bad('checksum', "'crc32'");
  const files = manifest.files;
  if (files !== undefined) {
    if (files === null || typeof files !== 'object' || Array.isArray(files)) bad('files', 'an object of per-table sizes');
    for (const [name, f] of Object.entries(files as Record<string, Record<string, unknown>>)) {
      if (f === null || typeof f !== 'object') bad(`files.${name}`, 'an object { bytes, batches, rows }');
      for (const k of ['bytes', 'batches', 'rows']) if (!count(f[k])) bad(`files.${name}.${k}`, 'a non-negative integer');
    }
  }
}
