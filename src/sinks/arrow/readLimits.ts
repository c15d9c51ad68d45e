/**
 * How much a reader may take from the files of a run directory, derived
 * from run.json's counts, so that a huge or crafted file is refused rather
 * than read.
 *
 * @packageDocumentation
 */
import type { RunManifest } from './manifest.js';

/**
 * Limits for one table file of a run.
 *
 * @example
 * ```ts
 * const { fileBytes, messageBytes } = readLimits(manifest, 'polca');
 * ```
 */
export interface ReadLimits {
  /** Largest file accepted: the size recorded in run.json for a closed run, else unlimited (files are read message by message). */
  fileBytes: number;
  /** Largest single message (metadata and body) accepted. */
  messageBytes: number;
}

/** Basis vectors assumed at most per interval when bounding one message: far above any run's K. */
const MAX_VECTORS = 4096;

/**
 * Read limits of a table from run.json. A message holds the rows of one
 * flush; the writer flushes at every checkpoint and interval, and the
 * largest per-event rows are N·K `polca` rows of 28 bytes, and θ or a basis
 * vector of P floats. So one message may hold at most 64 MiB + 32·N·4096 +
 * 8·P bytes (a K of 4096 vectors, far above any real basis); a closed run's
 * file may be no larger than recorded.
 *
 * @example
 * ```ts
 * readLimits({ ...manifest, numProbe: 5000, numParams: 100_000 }, 'polca').messageBytes; // ≈ 0.7 GB
 * ```
 */
export function readLimits(manifest: RunManifest, table: string): ReadLimits {
  const recorded = manifest.status === 'closed' ? manifest.files?.[table]?.bytes : undefined;
  const messageBytes = 64 * 1024 * 1024 + 32 * manifest.numProbe * MAX_VECTORS + 8 * manifest.numParams;
  return { fileBytes: recorded ?? Infinity, messageBytes };
}
