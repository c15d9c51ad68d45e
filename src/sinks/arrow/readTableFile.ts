/**
 * Reading one table file of a run directory into memory, message by
 * message, so that only the readable prefix is ever read.
 *
 * @packageDocumentation
 */
import { Table, type RecordBatch, type Schema } from 'apache-arrow';
import type { TableRecovery } from './readTable.js';
import { RunFormatError } from './RunFormatError.js';
import { TableFileReader } from './TableFileReader.js';

/**
 * Read one table file with every check of `readTableBytes` (framing,
 * structure, checksums), keeping every batch before the first damage.
 * Reading goes message by message ({@link TableFileReader}): a huge or
 * damaged file is never read past its readable prefix, only a regular file
 * is opened, and a file larger than `maxBytes` is refused unread.
 *
 * @param maxBytes - the largest file accepted (a closed run's recorded size). Default: no limit.
 * @param maxMessageBytes - the largest message accepted (see `readLimits`); a larger one is damage. Default: no limit.
 * @throws RunFormatError naming the file when it is missing, not a regular file, too large, or has the wrong schema.
 * @example
 * ```ts
 * const { table, recovery } = await readTableFile('runs/arith/steps.arrows', eventTableSchema('steps'));
 * if (recovery.droppedBytes > 0) console.warn(recovery.reason);
 * ```
 */
export async function readTableFile(
  file: string, expected: Schema, caller = 'readTable', maxBytes = Infinity, maxMessageBytes = Infinity,
): Promise<{ table: Table; recovery: TableRecovery }> {
  const reader = new TableFileReader(file, expected, caller, maxBytes, maxMessageBytes);
  const batches: RecordBatch[] = [];
  try {
    for (let b = reader.next(); b; b = reader.next()) batches.push(b);
  } finally {
    reader.close();
  }
  let table: Table;
  try {
    table = new Table(batches[0]?.schema ?? expected, batches);
  } catch (e) {
    throw new RunFormatError(`${caller}: ${file}: record batches do not form a table (${(e as Error).message}); the file is damaged`);
  }
  const end = reader.end ?? 'eof';
  const validBytes = reader.position;
  return {
    table,
    recovery: {
      file, bytes: reader.bytes, validBytes, droppedBytes: reader.bytes - validBytes, batches: batches.length, rows: table.numRows, end,
      ...(reader.reason !== undefined ? { reason: reader.reason } : {}),
      checksummed: reader.checksummed, unchecked: batches.length - reader.checksummed,
      ...(reader.runId !== undefined ? { runId: reader.runId } : {}),
    },
  };
}
