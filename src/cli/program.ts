/**
 * The `polca` command line: replay, clusters, backfill, report and budget on run directories.
 *
 *   polca replay <dir> [--pace recorded] [--speed 10] [--json] [--grpc [host:]50051] [--metrics [host:]9464] [--run name]
 *                [--token-file f] [--tls-cert f --tls-key f [--tls-ca f]]
 *   polca clusters <dir> [--kinds polca,loss] [--min-cluster-size 150] [--delta 100] [--tau 1000] [--labels <module>]
 *   polca backfill <dir> --model <module>
 *   polca report <dir> [--out report.html] [--delta 100] [--tau 1000] [--min-cluster-size 150] [--kinds polca,loss] [--labels <module>]
 *   polca budget <dir> [--edges 0,500,1000,2000]
 *   polca export <dir…> --parquet [--out DIR] [--max-rows-per-file n]
 *
 * Every command verifies the run directory first (checksums, sizes and row
 * counts against run.json): damage is named by file and the command exits
 * non-zero, unless `--allow-partial` asks it to use the intact prefix.
 */
import { Command, InvalidArgumentError } from 'commander';
import { POLCA_VERSION } from '../version.js';
import { replayCommand } from './replayCommand.js';
import { clustersCommand } from '../report/clustersCommand.js';
import { loadTaskLabels } from '../report/taskLabels.js';
import { backfillCommand } from './backfillCommand.js';
import { budgetCommand } from './budgetCommand.js';
import { TOKEN_ENV, hostPort, serveSetup } from './serveFlags.js';
import { requireIntactRun } from '../sinks/arrow/requireIntactRun.js';
import type { TrajectoryKind } from '../stream/events.js';
import { TRAJECTORY_KINDS, isTrajectoryKind } from '../stream/trajectoryKinds.js';

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
};
const kindList = (value: string): TrajectoryKind[] => {
  const kinds = value.split(',').map((k) => k.trim());
  const bad = kinds.find((k) => !isTrajectoryKind(k));
  if (bad !== undefined) throw new InvalidArgumentError(`--kinds: unknown trajectory kind ${JSON.stringify(bad)}; the kinds are ${TRAJECTORY_KINDS.join(', ')}`);
  return kinds as TrajectoryKind[];
};
const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
};

export function buildProgram(): Command {
  const program = new Command().name('polca').description('Hidden breakthroughs in TensorFlow.js training: run directories').version(POLCA_VERSION);

  program
    .command('replay')
    .description('replay a run directory as its event stream')
    .argument('<dir>', 'run directory')
    .option('--pace <pace>', "'fast' or 'recorded'", 'fast')
    .option('--speed <x>', 'speed-up of recorded pacing', positive('--speed'), 1)
    .option('--json', 'print events as JSON lines (typed arrays as arrays)')
    .option('--grpc <[host:]port>', 'serve the stream over gRPC on this port (0: any free port)', hostPort('--grpc'))
    .option('--metrics <[host:]port>', 'serve Prometheus metrics on this port (0: any free port)', hostPort('--metrics'))
    .option('--host <host>', 'address to bind the servers to when --grpc/--metrics name no host', '127.0.0.1')
    .option('--token <token>', `bearer token required by the gRPC server (visible in ps: prefer ${TOKEN_ENV} or --token-file)`)
    .option('--token-file <file>', `file holding the bearer token (default: the ${TOKEN_ENV} environment variable)`)
    .option('--tls-cert <file>', 'serve gRPC over TLS with this PEM certificate chain (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--tls-ca <file>', 'PEM CA bundle: require client certificates signed by it (mutual TLS)')
    .option('--linger <seconds>', 'keep the servers up this long after the replay ends', positive('--linger'))
    .option('--run <name>', "the run label of the metrics (default: the directory's name)")
    .option('--allow-partial', 'use the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .action(async (dir: string, o) => {
      if (o.pace !== 'fast' && o.pace !== 'recorded') throw new InvalidArgumentError(`--pace must be 'fast' or 'recorded', got ${JSON.stringify(o.pace)}`);
      const serve = serveSetup(o);
      for (const w of serve.warnings) process.stderr.write(`${w}\n`);
      await replayCommand(dir, {
        ...o,
        grpc: serve.grpc?.port,
        grpcHost: serve.grpc?.host,
        token: serve.grpc?.token,
        tls: serve.grpc?.tls,
        metrics: serve.metrics?.port,
        metricsHost: serve.metrics?.host,
      });
    });

  program
    .command('clusters')
    .description("cluster every basis vector's trajectories, find breakthroughs, print the quality table")
    .argument('<dir>', 'run directory')
    .option('--kinds <list>', `trajectory kinds, comma-separated (${TRAJECTORY_KINDS.join(', ')})`, kindList)
    .option('--min-cluster-size <n>', 'HDBSCAN min_cluster_size (default: the live clustering\'s, else 0.03·N)', int('--min-cluster-size'))
    .option('--min-samples <n>', 'HDBSCAN min_samples, the point itself counted (default: the live clustering\'s, else N/15)', int('--min-samples'))
    .option('--selection <kind>', "'eom' or 'leaf'", 'eom')
    .option('--delta <steps>', 'Δ of eq. (6), in steps (default: the live detector\'s, else 5 checkpoint intervals)', int('--delta'))
    .option('--tau <steps>', 'τ of eq. (7), in steps (default: where the mean probe loss turns flat)', int('--tau'))
    .option('--no-write', 'do not write analysis/clusters.arrows')
    .option('--out <dir>', 'write clusters.arrows into this directory instead of <dir>/analysis (for a read-only run directory)')
    .option('--allow-partial', 'use the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .option('--labels <module>', "the task's labels: a module exporting quality(probeMeta, N) for the quality table (e.g. examples/arithmetic/evaluation.ts)")
    .action(async (dir: string, o) => {
      const kinds: TrajectoryKind[] | undefined = o.kinds;
      const quality = o.labels ? (await loadTaskLabels(String(o.labels))).quality : undefined;
      const r = await clustersCommand(dir, { ...o, kinds, quality });
      process.stdout.write(r.text + '\n');
    });

  program
    .command('backfill')
    .description('complete every basis vector trajectory from step 0 (run recorded with keepParams)')
    .argument('<dir>', 'run directory')
    .requiredOption('--model <module>', 'module whose default export (manifest, dir) => { params, probe } rebuilds the model and probe')
    .option('--out <dir>', 'output run directory (default <dir>/backfill)')
    .option('--overwrite', 'replace an existing output run')
    .option('--allow-partial', 'use the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .action(async (dir: string, o) => {
      const r = await backfillCommand(dir, o);
      process.stdout.write(`backfilled ${r.vectors} vectors over ${r.checkpoints} checkpoints into ${r.out}\n`);
    });

  program
    .command('report')
    .description('write a self-contained HTML report with the figures and quality tables')
    .argument('<dir>', 'run directory')
    .option('-o, --out <file>', 'output file (default <dir>/report.html)')
    .option('--compare <dirs>', 'other run directories (other bases) for the basis table, comma-separated')
    .option('--min-cluster-size <n>', 'HDBSCAN min_cluster_size (default: the live clustering\'s, else 0.03·N)', int('--min-cluster-size'))
    .option('--min-samples <n>', 'HDBSCAN min_samples, the point itself counted (default: the live clustering\'s, else N/15)', int('--min-samples'))
    .option('--delta <steps>', 'Δ of eq. (6), in steps (default: the live detector\'s, else 5 checkpoint intervals)', int('--delta'))
    .option('--tau <steps>', 'τ of eq. (7), in steps (default: where the mean probe loss turns flat)', int('--tau'))
    .option('--kinds <list>', 'trajectory kinds to draw, comma-separated (default: every kind the run supports)', kindList)
    .option('--recluster', 'recompute the clusters even where the run recorded them')
    .option('--allow-partial', 'use the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .option('--labels <module>', "the task's labels: a module exporting reportLabels(probeMeta, N), compositions and quality target (e.g. examples/arithmetic/evaluation.ts)")
    .action(async (dir: string, o) => {
      const { reportCommand } = await import('../report/index.js');
      // The report reads the run itself; it is checked first, so damage is named before any work.
      const { limit } = await requireIntactRun(dir, 'polca report', { allowPartial: o.allowPartial });
      const compare = o.compare ? String(o.compare).split(',') : undefined;
      const kinds: TrajectoryKind[] | undefined = o.kinds;
      const file = await reportCommand(dir, {
        out: o.out, compare, minClusterSize: o.minClusterSize, minSamples: o.minSamples, delta: o.delta, tau: o.tau, kinds, recluster: o.recluster, limit,
        labels: o.labels ? (await loadTaskLabels(String(o.labels))).reportLabels : undefined,
      });
      process.stdout.write(`report written to ${file}\n`);
    });
  program
    .command('budget')
    .description('how much of the probe loss changes the POLCA terms account for, by step range')
    .argument('<dir>', 'run directory')
    .option('--edges <steps>', 'first steps of the ranges, comma-separated', '0,500,1000,2000')
    .option('--allow-partial', 'use the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .action(async (dir: string, o) => {
      const edges = String(o.edges).split(',').map((v) => Number(v));
      if (edges.some((e) => !Number.isInteger(e) || e < 0)) throw new InvalidArgumentError(`--edges must be non-negative integer steps, got ${JSON.stringify(o.edges)}`);
      process.stdout.write((await budgetCommand(dir, edges, { allowPartial: o.allowPartial })).text + '\n');
    });
  program
    .command('export')
    .description('write the tables of run directories as one Hive-partitioned, zstd-compressed Parquet dataset (DIR/<table>/run=<name>/)')
    .argument('<dirs...>', 'run directories (each directory name becomes its run= partition)')
    .option('--parquet', 'write Parquet (required: the only format so far)')
    .option('--out <dir>', 'dataset directory (a run exported again replaces its own partitions)', 'polca-parquet')
    .option('--max-rows-per-file <n>', 'split larger tables into part-00000, part-00001, …', int('--max-rows-per-file'))
    .option('--allow-partial', 'export the intact prefix of a damaged run directory (and say what was dropped) instead of failing')
    .action(async (dirs: string[], o) => {
      const { exportCommand } = await import('./exportCommand.js');
      process.stdout.write(`${(await exportCommand(dirs, o)).text}\n`);
    });
  return program;
}

