import { createRequire } from 'node:module';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { beforeAll, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const rules = require('../../.dependency-cruiser.cjs');

/** The folder a module belongs to for the folder-level graph: `src/serve/generated/x.ts` → `src/serve`. */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts.length <= 2 ? file : parts.slice(0, 2).join('/');
}

/** Strongly connected components with more than one folder (Tarjan). */
function folderCycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('layering of src/ (dependency-cruiser)', () => {
  let result: ICruiseResult;
  beforeAll(async () => {
    const reported = await cruise(['src'], { ruleSet: { forbidden: rules.forbidden }, ...rules.options, validate: true });
    result = reported.output as ICruiseResult;
  }, 120_000);

  it('reads every source file', () => {
    const files = result.modules.filter((m) => m.source.startsWith('src/'));
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((m) => m.source === 'src/tracker/createPolca.ts')).toBe(true);
  });

  it('has no import cycle between files and no import from a lower layer to a higher one', () => {
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(violations).toEqual([]);
  });

  it('has no import cycle between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const m of result.modules) {
      if (!m.source.startsWith('src/')) continue;
      const from = folderOf(m.source);
      if (!edges.has(from)) edges.set(from, new Set());
      for (const d of m.dependencies) {
        if (!d.resolved.startsWith('src/')) continue;
        const to = folderOf(d.resolved);
        if (to !== from) edges.get(from)!.add(to);
      }
    }
    expect(edges.size).toBeGreaterThan(8);
    expect(folderCycles(edges)).toEqual([]);
  });

  it('the rules catch a violation when there is one', async () => {
    // The rules run on a known upward import, so a misconfigured path pattern cannot pass silently.
    const reported = await cruise(['test/package/fixtures/upward'], {
      ruleSet: { forbidden: rules.rulesFor('test/package/fixtures/upward/src') },
      ...rules.options,
      validate: true,
    });
    const out = reported.output as ICruiseResult;
    expect(out.summary.violations.map((v) => v.rule.name)).toContain('layer0-up');
  });
});
