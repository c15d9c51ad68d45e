/**
 * Parquet export of run directories: one Hive-partitioned dataset for
 * DuckDB, polars or Spark. parquet-wasm loads on the first export only.
 *
 * @example
 * ```ts
 * import { exportParquet } from './sinks/parquet/index.js';
 * await exportParquet(['runs/hessian', 'runs/random'], { out: 'polca-parquet' });
 * ```
 *
 * @packageDocumentation
 */
export { exportParquet, partFileName, RUNS_TABLE, type ExportParquetOptions, type ExportProgress, type ExportSummary } from './exportParquet.js';
