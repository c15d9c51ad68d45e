/**
 * Summarises learning curves saved by `train.ts --out run.json`: for the
 * whole probe set and each place/carry group, when accuracy passes 50 % and
 * 90 %, and how abrupt the loss curve is — the largest fraction of the
 * group's total loss drop that happens within one window of `--window`
 * steps (1.0 = all at once, small = gradual), counted from step `--skip`
 * on, because every group first drops from ln 12 to about ln 10 within a few
 * dozen steps (learning that the answer is a digit).
 *
 *     npx tsx examples/arithmetic/summarize.ts run1.json run2.json --window 100 --skip 100
 *
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { ProbeReport, GroupStats } from './metrics.js';

interface Run {
  config: { name: string; layers: number; dModel: number; heads: number; dMlp: number; lr: number };
  evals: { step: number; report: ProbeReport }[];
}

const args = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const windowSteps = flag('--window', 100);
const skip = flag('--skip', 100);
const files = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));

for (const file of files) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as Run;
  const c = run.config;
  console.log(`${file}: layers ${c.layers} d ${c.dModel} heads ${c.heads} mlp ${c.dMlp} lr ${c.lr}`);
  const groups: [string, (r: ProbeReport) => GroupStats][] = [
    ['all', (r) => r.all],
    ...Object.keys(run.evals[0].report.byPlaceCarry).map((k) => [k, (r: ProbeReport) => r.byPlaceCarry[k]] as [string, (r: ProbeReport) => GroupStats]),
  ];
  for (const [name, pick] of groups) {
    const steps = run.evals.map((e) => e.step);
    const acc = run.evals.map((e) => pick(e.report).accuracy);
    const loss = run.evals.map((e) => pick(e.report).meanLoss);
    const first = (thr: number): string => {
      const i = acc.findIndex((a) => a >= thr);
      return i < 0 ? '-' : String(steps[i]);
    };
    const i0 = Math.max(0, steps.findIndex((s) => s >= skip));
    const totalDrop = Math.max(...loss.slice(i0)) - Math.min(...loss.slice(i0));
    let steepest = 0;
    let at = 0;
    for (let i = i0; i < steps.length; i++) {
      for (let j = i + 1; j < steps.length && steps[j] - steps[i] <= windowSteps; j++) {
        if (loss[i] - loss[j] > steepest) { steepest = loss[i] - loss[j]; at = steps[i]; }
      }
    }
    console.log(`  ${name.padEnd(16)} acc≥0.5 @ ${first(0.5).padStart(5)}  acc≥0.9 @ ${first(0.9).padStart(5)}  final acc ${acc[acc.length - 1].toFixed(3)}` +
      `  steepest ${windowSteps}-step drop ${(steepest / totalDrop).toFixed(2)} of the range after step ${skip} (from step ${at})`);
  }
}
