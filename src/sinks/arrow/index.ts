/**
 * The Arrow run-directory sink and its readers.
 *
 * @example
 * ```ts
 * import { writeRun, readRun } from './sinks/arrow/index.js';
 * const writer = writeRun(tracker.events$, 'runs/arith');
 * await writer.closed;
 * const run = await readRun('runs/arith');
 * ```
 *
 * @packageDocumentation
 */
export { RunWriter, writeRun, type ParamsRecord, type RunWriterOptions, type RunWriterFailure, type RunWriterResult } from './RunWriter.js';
export { readLabels, readLabelsTable, LABELS_TABLE } from './labelsTable.js';
export { readRun, readParams, type ReadRunOptions, type RunData } from './readRun.js';
export { decodeEvents } from './decodeEvents.js';
export { openEventStream, type EventStream, type EventStreamOptions } from './openEventStream.js';
export { TableFileReader } from './TableFileReader.js';
export { readTableBytes, type TableRecovery } from './readTable.js';
export { readTableFile } from './readTableFile.js';
export { readManifest, MANIFEST_FILE, type RunManifest, type ProbeMetaColumn } from './manifest.js';
export { RunFormatError } from './RunFormatError.js';
export { scanStream, type StreamEnd, type StreamScan } from './ipcFrames.js';
export {
  EVENT_TABLES, TABLE_NAMES, tableSchema, tableFileName, eventTableSchema, RUN_LAYOUT, TABLE_EXTENSION, type TableName,
  eventsSchema, stepsSchema, checkpointsSchema, lossesSchema, basisSchema, intervalsSchema, projectionsSchema,
  polcaSchema, residualsSchema, clustersSchema, transitionsSchema, alertsSchema, paramsSchema,
} from './schemas.js';
export { replay, type ReplayOptions } from './replay.js';
export { verifyRun, describeRunCheck, type RunCheck, type RunDamage, type TableCheck } from './verifyRun.js';
export { requireIntactRun, type IntactRun, type RequireIntactOptions } from './requireIntactRun.js';
export { CHECKSUM_KEY, batchChecksum } from './batchChecksum.js';
