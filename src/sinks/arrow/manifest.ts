/**
 * `run.json`, the manifest of a run directory.
 *
 * @packageDocumentation
 */
import fs from 'node:fs';
import path from 'node:path';
import { EVENT_SCHEMA_VERSION, type HvpMode, type RunConfig } from '../../stream/events.js';
import { checkManifestFields } from './checkManifestFields.js';
import { readRegularFile } from './openRegularFile.js';
import { RunFormatError } from './RunFormatError.js';
import { TABLE_NAMES, tableFileName, type TableName } from './schemas.js';
import { readLabels, type ProbeMetaColumn } from './labelsTable.js';

export type { ProbeMetaColumn } from './labelsTable.js';

/**
 * Content of `run.json`. Written at `run-start` and rewritten (atomically,
 * by rename) when the writer closes or aborts.
 *
 * @example
 * ```ts
 * const m: RunManifest = JSON.parse(fs.readFileSync('run/run.json', 'utf8'));
 * m.schemaVersion; // 1
 * ```
 */
export interface RunManifest {
  /** Always `polca-run`. */
  format: 'polca-run';
  /** {@link EVENT_SCHEMA_VERSION} of the writer. */
  schemaVersion: number;
  /** Layout of the directory ({@link RUN_LAYOUT}: `.arrows` tables, timestamp `time`, a labels table); absent in layout-1 runs. */
  layout?: number;
  /** polca and tfjs-core versions, from the `run-start` event. */
  versions: { polca: string; tfjs: string };
  /** The tracker options of the `run-start` event. */
  config: RunConfig;
  numParams: number;
  numProbe: number;
  backend: string;
  hvpMode: HvpMode;
  /** Time of the `run-start` event (ms since the epoch). */
  startTime: number;
  /**
   * User metadata of the probe datapoints (token text, labels, …), one
   * array of length `numProbe` per column. Layout-2 runs keep them in the
   * labels table (`labels`), and {@link readManifest} fills this field from
   * it; layout-1 runs have them here in run.json.
   */
  probeMeta: Record<string, ProbeMetaColumn>;
  /** File of the labels table (one row per probe datapoint: `datapoint` and the label columns); absent in layout-1 runs. */
  labels?: string;
  /** File of each event table, relative to the run directory. */
  tables: Record<TableName, string>;
  /** File of the θ table when the run kept parameters (`keepParams`), else null. */
  params: string | null;
  /** `running` until the writer closes; a crashed run stays `running`. */
  status: 'running' | 'closed' | 'aborted' | 'failed';
  /** Why the writer aborted (status `aborted`). */
  abortReason?: string;
  /** Why the writer stopped itself (status `failed`): the directory, what it was doing and the I/O error. */
  failureReason?: string;
  /** Events accepted but not on disk when the writer failed (status `failed`); events offered later are not counted here. */
  lostEvents?: number;
  /** Message of the error that ended the event stream the writer was subscribed to, when it ended that way. */
  sourceError?: string;
  /** Number of events committed when the writer closed or aborted. */
  events?: number;
  /** Random id of the run, also in every table file's schema metadata (`polca.runId`): a table copied from another run is recognised. Absent in older runs. */
  runId?: string;
  /** Per-batch checksum scheme of the table files (`crc32`, see `batchChecksum.ts`); absent in runs written before checksums. */
  checksum?: 'crc32';
  /** Per table name, the size, batches and rows of its file, recorded when the writer closed. */
  files?: Record<string, { bytes: number; batches: number; rows: number }>;
}

/** run.json as written: layout-2 runs leave `probeMeta` to the labels table. */
export type RunManifestFile = Omit<RunManifest, 'probeMeta'> & { probeMeta?: RunManifest['probeMeta'] };

/** Name of the manifest file in a run directory. */
export const MANIFEST_FILE = 'run.json';

/** Largest run.json read (layout-1 runs hold the probe labels in it). */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/**
 * Table file names of a manifest.
 *
 * @example
 * ```ts
 * manifestTables().polca; // 'polca.arrows'
 * ```
 */
export function manifestTables(): Record<TableName, string> {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, tableFileName(t)])) as Record<TableName, string>;
}

/**
 * Write `run.json` atomically: a reader sees the old or the new manifest, never half of one.
 *
 * @example
 * ```ts
 * writeManifest(dir, { ...manifest, status: 'closed' });
 * ```
 */
export function writeManifest(dir: string, manifest: RunManifestFile): void {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  const tmp = path.join(dir, `${MANIFEST_FILE}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, path.join(dir, MANIFEST_FILE));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    // A full disk has no room for a second copy, but usually for the same file
    // rewritten in the blocks it already holds: that is how a failed run still says so.
    const fd = fs.openSync(path.join(dir, MANIFEST_FILE), 'r+');
    try {
      fs.writeSync(fd, text, 0);
      fs.ftruncateSync(fd, Buffer.byteLength(text));
    } finally {
      fs.closeSync(fd);
    }
  }
}

/**
 * Read and check `run.json`.
 *
 * @throws RunFormatError when the directory or manifest is missing or unreadable, or the run is from a newer schema.
 * @example
 * ```ts
 * const manifest = await readManifest('runs/arith');
 * ```
 */
export async function readManifest(dir: string, caller = 'readManifest'): Promise<RunManifest> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(dir);
  } catch {
    throw new RunFormatError(`${caller}: run directory ${JSON.stringify(dir)} does not exist`);
  }
  if (!stat.isDirectory()) throw new RunFormatError(`${caller}: ${JSON.stringify(dir)} is not a directory`);
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    // A FIFO or a huge file in place of run.json must not hang or exhaust the reader.
    text = readRegularFile(file, caller, MAX_MANIFEST_BYTES, MANIFEST_FILE).toString('utf8');
  } catch (e) {
    if (e instanceof RunFormatError && !/\(ENOENT\)/.test(e.message)) throw e;
    throw new RunFormatError(
      `${caller}: ${JSON.stringify(dir)} has no ${MANIFEST_FILE}; it is not a polca run directory, or its writer stopped before run-start`,
    );
  }
  let manifest: RunManifest;
  try {
    manifest = JSON.parse(text) as RunManifest;
  } catch (e) {
    throw new RunFormatError(`${caller}: ${JSON.stringify(file)} is not valid JSON (${(e as Error).message})`);
  }
  if (manifest === null || typeof manifest !== 'object' || manifest.format !== 'polca-run') {
    throw new RunFormatError(`${caller}: ${JSON.stringify(file)} is not a polca run manifest (format ${JSON.stringify((manifest as { format?: unknown })?.format)})`);
  }
  const version = manifest.schemaVersion;
  if (!Number.isInteger(version) || version < 1) {
    throw new RunFormatError(`${caller}: ${JSON.stringify(file)} has an invalid schemaVersion ${JSON.stringify(version)}`);
  }
  if (version > EVENT_SCHEMA_VERSION) {
    throw new RunFormatError(
      `${caller}: run directory ${JSON.stringify(dir)} was written with schema version ${version}, ` +
        `but this polca reads schema versions up to ${EVENT_SCHEMA_VERSION}; upgrade polca to read it`,
    );
  }
  if (!(Number.isInteger(manifest.numProbe) && manifest.numProbe > 0)) {
    throw new RunFormatError(`${caller}: ${JSON.stringify(file)} field 'numProbe' must be a positive integer, got ${JSON.stringify(manifest.numProbe)}`);
  }
  checkManifestFields(manifest as unknown as Record<string, unknown>, file, caller);
  // A run directory may come from someone else: its table paths must stay inside it and name regular files.
  const root = path.resolve(dir);
  for (const [name, rel] of [...Object.entries(manifest.tables ?? {}).map(([t, f]) => [`tables.${t}`, f] as const), ['params', manifest.params] as const, ['labels', manifest.labels] as const]) {
    if (rel === null || ((name === 'params' || name === 'labels') && rel === undefined)) continue;
    if (typeof rel !== 'string' || rel === '') throw new RunFormatError(`${caller}: ${JSON.stringify(file)} field '${name}' must be a file name, got ${JSON.stringify(rel)}`);
    const full = path.resolve(root, rel);
    if (path.dirname(full) !== root) {
      throw new RunFormatError(`${caller}: ${JSON.stringify(file)} field '${name}' (${JSON.stringify(rel)}) points outside the run directory; refused`);
    }
    const st = await fs.promises.lstat(full).catch(() => null);
    if (st && !st.isFile()) {
      throw new RunFormatError(`${caller}: ${JSON.stringify(file)} field '${name}' (${JSON.stringify(rel)}) is not a regular file; refused`);
    }
  }
  if (typeof manifest.labels === 'string') manifest.probeMeta = await readLabels(path.join(dir, manifest.labels), manifest.numProbe, caller);
  else manifest.probeMeta ??= {};
  return manifest;
}
