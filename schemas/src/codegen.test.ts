import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../scripts/codegen.mjs', import.meta.url));
const generated = fileURLToPath(new URL('./generated/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'pathwatch-codegen-'));

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function check(outDir?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [
      script,
      '--check',
      ...(outDir ? ['--out', outDir] : []),
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('codegen', () => {
  it('the committed generated files match the .avsc', async () => {
    const res = await check();
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
  });

  it('fails with a clear message when a generated file is stale', async () => {
    for (const f of ['types.ts', 'schemas.ts']) copyFileSync(join(generated, f), join(tmp, f));
    expect((await check(tmp)).code).toBe(0);
    writeFileSync(
      join(tmp, 'types.ts'),
      readFileSync(join(tmp, 'types.ts'), 'utf8').replace('event_id: string;', 'event_id: number;'),
    );
    const res = await check(tmp);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/types\.ts out of date.*\n.*npm run codegen/);
  });
});
