/**
 * What each cluster of a run is made of, by skill: carries into the 10s or
 * 100s, carries into the 1000s (the trivial leading 1), tokens whose own
 * column sums to 5–8 without a carry (the skill `--mid-sums-from` holds out),
 * and the rest. On a run with two held-out skills this says whether a
 * clustering tells them apart, which the carry homogeneity alone cannot.
 *
 *   npx tsx examples/arithmetic/clusterMix.ts <run-dir> [clusters.arrows]
 *
 * The clusters file defaults to `<run-dir>/analysis/clusters.arrows`, which
 * the demo writes (columns kind, basisId, clusterId, datapoint).
 *
 * @packageDocumentation
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { readManifest } from '../../src/sinks/arrow/index.js';
import { midSumColumn, OUTPUTS_PER_PROBLEM, TEXT_LENGTH } from './data.js';

/** The skill one output token exercises. */
export type TokenSkill = 'carry' | 'carry-1000s' | 'mid-sum' | 'other';

/** Every {@link TokenSkill}, in the order tables print them. */
export const TOKEN_SKILLS: readonly TokenSkill[] = ['carry', 'carry-1000s', 'mid-sum', 'other'];

/**
 * The skill of the token at character `target` of `text` (`"abc+def=wxyz"`,
 * target 8–11), given its carry label.
 *
 * @example
 * ```ts
 * tokenSkill('123+456=0579', 10, false); // 'mid-sum': the 10s column is 2 + 5
 * tokenSkill('150+850=1000', 9, true);   // 'carry'
 * ```
 */
export function tokenSkill(text: string, target: number, carry: boolean): TokenSkill {
  const place = TEXT_LENGTH - 1 - target;
  if (!(Number.isInteger(place) && place >= 0 && place < OUTPUTS_PER_PROBLEM) || text.length !== TEXT_LENGTH) {
    throw new RangeError(`tokenSkill: target must be a sum digit (8–11) of a ${TEXT_LENGTH}-character problem, got ${target} of ${JSON.stringify(text)}`);
  }
  if (carry) return place === 3 ? 'carry-1000s' : 'carry';
  if (place === 3) return 'other';
  return midSumColumn(Number(text.slice(0, 3)), Number(text.slice(4, 7)), place) ? 'mid-sum' : 'other';
}

/** One cluster's make-up. */
export interface ClusterMix {
  kind: string;
  basisId: number;
  clusterId: number;
  size: number;
  /** Members per skill. */
  counts: Record<TokenSkill, number>;
}

/** One membership row of `clusters.arrows`. */
export interface Membership {
  kind: string;
  basisId: number;
  clusterId: number;
  datapoint: number;
}

/** The make-up of every cluster (outliers, clusterId < 0, left out), in order of first appearance. */
export function clusterMix(rows: Iterable<Membership>, skills: readonly TokenSkill[]): ClusterMix[] {
  const byKey = new Map<string, ClusterMix>();
  for (const r of rows) {
    if (r.clusterId < 0) continue;
    const skill = skills[r.datapoint];
    if (skill === undefined) throw new RangeError(`clusterMix: datapoint ${r.datapoint} is outside the probe's ${skills.length}`);
    const key = `${r.kind}\u0000${r.basisId}\u0000${r.clusterId}`;
    let mix = byKey.get(key);
    if (!mix) {
      mix = { kind: r.kind, basisId: r.basisId, clusterId: r.clusterId, size: 0, counts: { carry: 0, 'carry-1000s': 0, 'mid-sum': 0, other: 0 } };
      byKey.set(key, mix);
    }
    mix.size++;
    mix.counts[skill]++;
  }
  return [...byKey.values()];
}

/** A markdown table of {@link clusterMix}'s result, shares to three decimals. */
export function formatMix(mixes: readonly ClusterMix[]): string {
  const head = `| trajectories | vector | cluster | size | ${TOKEN_SKILLS.join(' | ')} |`;
  const rule = `|${'---|'.repeat(4 + TOKEN_SKILLS.length)}`;
  const rows = mixes.map((m) => `| ${m.kind} | ${m.basisId < 0 ? '-' : m.basisId} | ${m.clusterId} | ${m.size} | ${TOKEN_SKILLS.map((s) => (m.counts[s] / m.size).toFixed(3)).join(' | ')} |`);
  return [head, rule, ...rows].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [dir, file] = argv;
  if (!dir) throw new Error('usage: clusterMix.ts <run-dir> [clusters.arrows]');
  const manifest = await readManifest(dir, 'clusterMix');
  const meta = manifest.probeMeta as { text?: string[]; target?: number[]; carry?: boolean[] } | undefined;
  if (!meta?.text || !meta.target || !meta.carry) throw new Error(`clusterMix: run ${JSON.stringify(dir)} has no probe text, target and carry labels (not an addition demo run)`);
  const skills = meta.text.map((t, i) => tokenSkill(t, meta.target![i], meta.carry![i]));
  const table = tableFromIPC(fs.readFileSync(file ?? path.join(dir, 'analysis', 'clusters.arrows')));
  const rows = table.toArray().map((r) => r.toJSON() as unknown as Membership);
  const total: Record<string, number> = {};
  for (const s of skills) total[s] = (total[s] ?? 0) + 1;
  console.log(`probe: ${TOKEN_SKILLS.map((s) => `${s} ${total[s] ?? 0}`).join(', ')}`);
  console.log(formatMix(clusterMix(rows, skills)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
