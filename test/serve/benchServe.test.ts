/**
 * The quick variant of `npm run bench:serve` runs end to end: every row
 * (worker and training thread, with and without POLCA checkpoints) reports
 * its deliveries, latencies (over the whole run and after its first
 * second) and scrapes. Thresholds are the benchmark's
 * business, not this test's (the machine may be shared).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

describe('bench:serve --quick', () => {
  it('prints all seven rows with numbers; single subscribers get every event; checkpoints ran', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bench/serve.ts', '--quick'], {
      cwd: resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 170_000,
    });
    const total = Number(/polca serve latency: (\d+) events/.exec(out)![1]);
    const num = String.raw`\s+([\d.]+|NaN)`;
    const rows = new Map<string, RegExpExecArray>();
    for (const line of out.split('\n')) {
      const m = new RegExp(String.raw`^((?:worker|main): [^\d]*\d[^\s]*(?: [^\s]+)*?)\s+(\d+)/(\d+)${num}${num}${num}${num}${num}${num}${num}${num}\s+(.+)$`).exec(line);
      if (m) rows.set(m[1].trim(), m);
    }
    expect([...rows.keys()]).toEqual([
      'worker: 1 subscriber', 'worker: 100 fast + 5 slow', 'worker: 100 + 5, checkpoints', 'worker: 100 + 5, checkpoints, no warm-up',
      'main: 1 subscriber', 'main: 100 fast + 5 slow', 'main: 100 + 5, checkpoints',
    ]);
    for (const thread of ['worker', 'main']) {
      const one = rows.get(`${thread}: 1 subscriber`)!;
      expect([Number(one[2]), Number(one[3])]).toEqual([total, total]);
      expect(rows.get(`${thread}: 100 + 5, checkpoints`)![12]).toMatch(/^\d+ × \d+ ms$/);
    }
  }, 180_000);
});
