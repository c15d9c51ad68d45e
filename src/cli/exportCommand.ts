import path from 'node:path';
import { exportParquet, type ExportSummary } from '../sinks/parquet/exportParquet.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';

/** Options of {@link exportCommand}. */
export interface ExportCommandOptions {
  /** Write Parquet (the only format so far; required, so that the format is explicit). */
  parquet?: boolean;
  /** Dataset directory. Default `polca-parquet` in the working directory. */
  out?: string;
  /** Most rows per Parquet file. Default 4 000 000. */
  maxRowsPerFile?: number;
  /** Export the intact prefix of a damaged run (saying what is dropped) instead of failing. */
  allowPartial?: boolean;
  /** Where progress and damage reports go. Default: standard error. */
  warn?: (line: string) => void;
}

/**
 * `polca export <dir…> --parquet [--out DIR]`: every table of every run as
 * zstd Parquet, Hive-partitioned by run (`DIR/<table>/run=<name>/part-00000.parquet`),
 * one dataset that DuckDB, polars or Spark scan as one table.
 *
 * Every run is verified first; damage fails the command naming the files,
 * unless `allowPartial` (then its intact prefix is exported and the drop reported).
 *
 * @throws Error without `parquet`; RunFormatError naming the directory for a run that cannot be read.
 * @example
 * ```ts
 * const { files } = await exportCommand(['runs/a', 'runs/b'], { parquet: true, out: 'dataset' });
 * ```
 */
export async function exportCommand(dirs: readonly string[], o: ExportCommandOptions = {}): Promise<ExportSummary & { out: string; text: string }> {
  if (!o.parquet) throw new Error('polca export: choose the output format: --parquet (the only one so far)');
  if (dirs.length === 0) throw new Error('polca export: name at least one run directory');
  const warn = o.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const out = o.out ?? 'polca-parquet';
  const limits = new Map<string, number>();
  for (const dir of dirs) {
    const { limit } = await requireIntactRun(dir, 'polca export', { allowPartial: o.allowPartial, warn });
    if (limit !== undefined) limits.set(dir, limit);
  }
  const summary = await exportParquet(dirs, {
    out, maxRowsPerFile: o.maxRowsPerFile, limits,
    onProgress: (p) => warn(`polca export: ${p.run}/${p.table}: ${p.rows} rows → ${path.relative(out, p.file)} (${(p.bytes / 1024).toFixed(1)} KiB)`),
  });
  const total = Object.values(summary.rows).reduce((a, b) => a + b, 0);
  const text = `exported ${summary.runs.length} run${summary.runs.length === 1 ? '' : 's'} (${total} rows, ${summary.files.length} files, ${(summary.bytes / 1e6).toFixed(2)} MB) to ${out}`;
  return { ...summary, out, text };
}
