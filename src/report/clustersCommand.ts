import * as fs from 'node:fs';
import * as path from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { lastValueFrom, toArray } from 'rxjs';
import { clusterAllBasisVectors, type BasisClustering } from '../analysis/clusterProcedure.js';
import { clusterBreaks } from '../analysis/clusterBreaks.js';
import { hasBreakWindow } from '../analysis/breakthrough.js';
import { defaultDelta, flatAfter } from '../analysis/breakParameters.js';
import { readLiveAnalysis } from '../run/liveAnalysis.js';
import { formatQualityTable, formatStratumTable, qualityTable, type QualityRow, type QualityTarget } from '../analysis/quality.js';
import { TrajectoryBuilder } from '../analysis/trajectories.js';
import { readManifest, type ProbeMetaColumn } from '../sinks/arrow/manifest.js';
import type { BasisEvent, CheckpointEvent, PolcaEvent, TrajectoryKind } from '../stream/events.js';
import { replay } from '../sinks/arrow/replay.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';
import { RunFormatError } from '../sinks/arrow/RunFormatError.js';

/** Options of {@link clustersCommand}. */
export interface ClustersCommandOptions {
  /** Trajectory kinds to cluster. Default: polca, polca-first, fisher, loss, loss-change (and lca for an axis basis). */
  kinds?: TrajectoryKind[];
  minClusterSize?: number;
  minSamples?: number;
  selection?: 'eom' | 'leaf';
  /**
   * Δ of eq. (6) in steps. Default: the Δ the run's live detector used
   * (`analysis/live.json`), else 5 checkpoint intervals (the paper: 100 steps
   * at 20-step checkpoints) — the same rule as the live detector and
   * `polca report`.
   */
  delta?: number;
  /** τ of eq. (7) in steps. Default {@link flatAfter} of the mean probe loss (shared with `polca report`). */
  tau?: number;
  /**
   * The quality table's target (homogeneity in one category of a datapoint
   * label), or a function making it from the run's probe metadata and N.
   * Without one there is no quality table. For 3-digit addition,
   * `examples/arithmetic`'s `arithmeticTarget`.
   */
  quality?: QualityTarget | ((probeMeta: Record<string, ProbeMetaColumn>, numProbe: number) => QualityTarget | undefined);
  /** Write `analysis/clusters.arrows` into the run directory. Default true. */
  write?: boolean;
  /** Directory for `clusters.arrows` instead of `<dir>/analysis` (a read-only run directory). */
  out?: string;
  /** Cluster the intact prefix of a damaged run (saying what was dropped) instead of failing. Default false. */
  allowPartial?: boolean;
  /** Where damage and what could not be verified are reported. Default: standard error. */
  warn?: (line: string) => void;
}

/** Everything {@link clustersCommand} found. */
export interface ClustersResult {
  text: string;
  clusterings: Map<TrajectoryKind, BasisClustering[]>;
  quality: QualityRow[] | null;
  delta: number;
  tau: number;
  file: string | null;
}

export { flatAfter };

/**
 * `polca clusters <run-dir>`: clusters every basis vector's trajectories of
 * every kind with the paper's procedure, finds breakthroughs, and — given a
 * quality target (`quality`) — prints METHOD.md §5's quality table for it.
 * Writes the memberships to `analysis/clusters.arrows` (Arrow IPC stream:
 * kind, basisId, clusterId, datapoint).
 *
 * @example
 * ```ts
 * const r = await clustersCommand('runs/arith', { kinds: ['polca'], quality: arithmeticTarget }); // examples/arithmetic
 * console.log(r.text);
 * ```
 */
export async function clustersCommand(dir: string, o: ClustersCommandOptions = {}): Promise<ClustersResult> {
  const manifest = await readManifest(dir, 'polca clusters');
  // Where the memberships go is checked before any work: a read-only run directory fails now, by name.
  const outDir = o.write ?? true ? writableDir(o.out ?? path.join(dir, 'analysis'), o.out === undefined) : null;
  const { limit } = await requireIntactRun(dir, 'polca clusters', o);
  const events: PolcaEvent[] = await lastValueFrom(replay(dir, { limit }).pipe(toArray()));
  const basis = events.filter((e): e is BasisEvent => e.type === 'basis');
  const kinds: TrajectoryKind[] =
    o.kinds ?? (basis.some((b) => b.kind === 'axis') ? ['lca', 'polca-first', 'fisher', 'loss', 'loss-change'] : ['polca', 'polca-first', 'fisher', 'loss', 'loss-change']);
  const builder = new TrajectoryBuilder({ kinds });
  for (const e of events) {
    try {
      builder.push(e);
    } catch (err) {
      throw new RunFormatError(`polca clusters: ${JSON.stringify(dir)}: a ${e.type} event cannot be used (${(err as Error).message}); the run directory is damaged`);
    }
  }
  const checkpoints = events.filter((e): e is CheckpointEvent => e.type === 'checkpoint');
  if (checkpoints.length < 3) throw new Error(`polca clusters: ${dir} has ${checkpoints.length} checkpoints; at least 3 are needed`);
  const spacing = checkpoints[1].step - checkpoints[0].step;
  const live = readLiveAnalysis(dir);
  const delta = o.delta ?? live?.delta ?? defaultDelta(spacing);
  const tau = o.tau ?? flatAfter(checkpoints.map((c) => c.step), checkpoints.map((c) => c.meanLoss));
  const minClusterSize = o.minClusterSize ?? live?.minClusterSize ?? undefined;
  const minSamples = o.minSamples ?? live?.minSamples ?? undefined;

  const lines: string[] = [`run ${dir}: N = ${manifest.numProbe}, P = ${manifest.numParams}, ${basis.length} basis vectors, ${checkpoints.length} checkpoints; Δ = ${delta}, τ = ${tau}`];
  const clusterings = new Map<TrajectoryKind, BasisClustering[]>();
  const rows: { kind: string; basisId: number; clusterId: number; datapoint: number }[] = [];
  for (const kind of kinds) {
    const found = clusterAllBasisVectors(builder, kind, { minClusterSize, minSamples, selection: o.selection });
    clusterings.set(kind, found);
    lines.push('', `## ${kind}`);
    for (const c of found) {
      const e = c.event;
      const where = e.basisId >= 0 ? `basis ${e.basisId}` : 'all';
      if (c.oscillatory) {
        lines.push(`${where}: oscillatory (mean trajectory rises), skipped`);
        continue;
      }
      // A vector found too late for a window of Δ on both sides has no break point to report.
      const breaks = e.clusters.length > 0 && hasBreakWindow(e.steps, delta, { round: true }) ? clusterBreaks(e, c.trajectories, { delta, tau, round: true }) : [];
      const desc = e.clusters.map((cl, i) => {
        const b = breaks[i];
        return `#${cl.id} ${cl.members.length} pts${b ? ` break ${b.median.step}${b.hidden ? ' (hidden)' : ''}` : ''}`;
      });
      lines.push(`${where}: ${e.clusters.length} clusters [${desc.join(', ')}], ${e.dropped} dropped, ${e.outliers} outliers`);
      for (const cl of e.clusters) for (const x of cl.members) rows.push({ kind, basisId: e.basisId, clusterId: cl.id, datapoint: x });
    }
  }

  let quality: QualityRow[] | null = null;
  const target = typeof o.quality === 'function' ? o.quality(manifest.probeMeta ?? {}, manifest.numProbe) : o.quality;
  if (target) {
    quality = qualityTable(
      kinds.map((kind) => ({ kind, clusterings: (clusterings.get(kind) ?? []).filter((c) => !c.oscillatory && c.event.clusters.length > 0) })),
      target,
      { delta, tau, round: true },
    );
    lines.push('', '## Quality (METHOD.md §5)', formatQualityTable(quality));
    if (target.stratum) lines.push('', `## Beyond ${target.stratum.name}: what the best cluster's make-up alone explains`, formatStratumTable(quality));
    for (const r of quality) {
      if (r.undeterminedClusters > 0) {
        lines.push(`${r.kind}: ${r.undeterminedClusters} of ${r.clusters} clusters lie on vectors found too late for a break window of Δ = ${delta} steps; counted as not hidden`);
      }
    }
  }

  let file: string | null = null;
  if (outDir !== null) {
    file = path.join(outDir, 'clusters.arrows');
    const table = tableFromArrays({
      kind: rows.map((r) => r.kind),
      basisId: Int32Array.from(rows, (r) => r.basisId),
      clusterId: Int32Array.from(rows, (r) => r.clusterId),
      datapoint: Int32Array.from(rows, (r) => r.datapoint),
    });
    fs.writeFileSync(file, tableToIPC(table, 'stream'));
    lines.push('', `memberships written to ${file}`);
  }
  return { text: lines.join('\n'), clusterings, quality, delta, tau, file };
}

/** Create `dir` if needed and check it can be written, so that a read-only run directory is reported before the clustering runs. */
function writableDir(dir: string, inRun: boolean): string {
  try {
    // The nearest existing ancestor tells why (EROFS, EACCES); a recursive mkdir would only say ENOENT.
    let existing = path.resolve(dir);
    while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
    fs.accessSync(existing, fs.constants.W_OK);
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new RunFormatError(
      `polca clusters: cannot write the memberships to ${JSON.stringify(dir)} (${code})` +
        (inRun ? '; the run directory is read-only? pass --out <dir> to write them elsewhere, or --no-write' : ''),
    );
  }
  return dir;
}
