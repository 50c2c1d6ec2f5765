#!/usr/bin/env node
// `npm test`: every vitest project (unit, then integration on the real broker + embedded ClickHouse).
// Extra arguments go to vitest (e.g. `npm test -- --project unit`). Ends with a plain
// "N passed, N failed, N skipped" line so any CI can read the result.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'pw-test-'));
const report = join(dir, 'report.json');
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
];
const child = spawn('npx', args, { stdio: 'inherit' });
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => {
  let summary = 'test report missing';
  try {
    const r = JSON.parse(readFileSync(report, 'utf8'));
    summary = `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`;
  } catch {
    /* vitest crashed before writing the report: the exit code tells */
  }
  rmSync(dir, { recursive: true, force: true });
  console.log(`\n${summary}`);
  process.exit(code ?? (signal ? 1 : 0));
});
