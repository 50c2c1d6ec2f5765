#!/usr/bin/env node
// `npm run screenshots`: regenerates the dashboard screenshots in docs/screenshots from a run with known data.
// It is the browser test itself (test/integration/dashboard.test.ts: real headless Chromium over a real query
// API and embedded ClickHouse with the fixture's rows), told to save each page it checks as a PNG.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../docs/screenshots', import.meta.url));
const child = spawn(
  'npx',
  ['vitest', 'run', '--project', 'integration', 'test/integration/dashboard.test.ts'],
  { stdio: 'inherit', env: { ...process.env, PATHWATCH_SCREENSHOTS_DIR: dir } },
);
child.on('exit', (code, signal) => {
  if (code === 0) console.log(`screenshots written to ${dir}`);
  process.exit(code ?? (signal ? 1 : 0));
});
