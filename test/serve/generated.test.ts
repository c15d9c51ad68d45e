import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

describe('generated proto types', () => {
  it('src/serve/generated is exactly what `npm run gen:proto` produces from the committed proto', async () => {
    const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['gen:proto'];
    expect(script).toMatch(/^proto-loader-gen-types .*--outDir=src\/serve\/generated /);
    const out = mkdtempSync(join(tmpdir(), 'polca-gen-'));
    try {
      const args = script.split(/\s+/).slice(1).map((a) => (a.startsWith('--outDir=') ? `--outDir=${out}` : a));
      await promisify(execFile)(join(ROOT, 'node_modules/.bin/proto-loader-gen-types'), args, { cwd: ROOT });
      const committed = join(ROOT, 'src/serve/generated');
      const want = files(out).map((f) => relative(out, f)).sort();
      expect(files(committed).map((f) => relative(committed, f)).sort()).toEqual(want);
      for (const f of want) expect(readFileSync(join(committed, f), 'utf8'), f).toBe(readFileSync(join(out, f), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
