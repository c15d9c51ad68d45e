/**
 * The `polca report` command, as a function the CLI calls.
 *
 * @packageDocumentation
 */
import { writeReport, type BuildReportOptions } from './buildReport.js';

/** Options of {@link reportCommand}: where to write, and the report's own options. */
export interface ReportCommandOptions extends BuildReportOptions {
  /** Output file. Default `<dir>/report.html`. */
  out?: string;
}

/**
 * `polca report <dir> [--out file]`: writes the HTML report of a run
 * directory and returns the path written.
 *
 * @throws RangeError naming `reportCommand` when `dir` or `opts.out` is not a non-empty string.
 * @example
 * ```ts
 * const file = await reportCommand('runs/arith', { out: 'arith.html' });
 * ```
 */
export async function reportCommand(dir: string, opts: ReportCommandOptions = {}): Promise<string> {
  if (typeof dir !== 'string' || dir.length === 0) throw new RangeError(`reportCommand: dir must be a non-empty string, got ${JSON.stringify(dir)}`);
  const { out, ...options } = opts;
  if (out !== undefined && (typeof out !== 'string' || out.length === 0)) {
    throw new RangeError(`reportCommand: opts.out must be a non-empty string, got ${JSON.stringify(out)}`);
  }
  return writeReport(dir, out, options);
}
