/**
 * A task's labels loaded from a module named on the command line
 * (`polca clusters|report --labels <module>`), so that the commands stay
 * free of any task: the module says which label the quality table measures
 * and which compositions the report draws.
 *
 * @packageDocumentation
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { QualityTarget } from '../analysis/quality.js';
import { fail } from '../errors/validate.js';
import type { ProbeMetaColumn } from '../sinks/arrow/manifest.js';
import type { ReportLabels } from './reportModel.js';

/** What a labels module exports (either or both). */
export interface TaskLabels {
  /** The quality table's target for a run's probe metadata and N (`undefined`: no table for this run). */
  quality?: (probeMeta: Record<string, ProbeMetaColumn>, numProbe: number) => QualityTarget | undefined;
  /** The report's compositions and quality target for a run's probe metadata and N. */
  reportLabels?: (probeMeta: Record<string, ProbeMetaColumn>, numProbe: number) => ReportLabels | undefined;
}

/**
 * Imports a labels module: a file exporting `quality` and/or `reportLabels`
 * functions of `(probeMeta, numProbe)`, as `examples/arithmetic/evaluation.ts`
 * does for 3-digit addition.
 *
 * @throws OptionError naming `loadTaskLabels` and `labels` when the module exports neither function.
 * @example
 * ```ts
 * const task = await loadTaskLabels('examples/arithmetic/evaluation.ts');
 * await clustersCommand('runs/addition', { quality: task.quality });
 * ```
 */
export async function loadTaskLabels(file: string): Promise<TaskLabels> {
  const fn = 'loadTaskLabels';
  if (typeof file !== 'string' || file.length === 0) fail(fn, 'labels', 'a module path', file);
  const mod = (await import(pathToFileURL(path.resolve(file)).href)) as Record<string, unknown>;
  const quality = mod.quality;
  const reportLabels = mod.reportLabels;
  for (const [name, f] of [['quality', quality], ['reportLabels', reportLabels]] as const) {
    if (f !== undefined && typeof f !== 'function') fail(fn, 'labels', `a module whose '${name}' export is a function of (probeMeta, numProbe)`, f);
  }
  if (quality === undefined && reportLabels === undefined) {
    fail(fn, 'labels', "a module exporting 'quality' and/or 'reportLabels' functions of (probeMeta, numProbe)", file);
  }
  return { quality: quality as TaskLabels['quality'], reportLabels: reportLabels as TaskLabels['reportLabels'] };
}
