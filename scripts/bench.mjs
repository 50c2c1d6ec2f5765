#!/usr/bin/env node
// `npm run bench -- <codec|reconciler|store|all> [options]` (after the build in package.json): runs the benchmark
// harness of @pathwatch/bench, which prints tables and rewrites its sections of BENCHMARKS.md.
import { spawn } from 'node:child_process';
import console from 'node:console';
import { existsSync } from 'node:fs';
import process from 'node:process';
import { URL, fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../services/bench/dist/bin.js', import.meta.url));
if (!existsSync(bin)) {
  console.error(
    `${bin} is missing: build first (npm run bench does: turbo run build --filter=@pathwatch/bench...)`,
  );
  process.exit(2);
}
const args = process.argv.slice(2);
// The same young-generation size `npm start` gives the services (the engine's throughput depends on it); the
// bench's child processes inherit it.
const nodeFlags = ['--max-semi-space-size=64'];
const child = spawn(process.execPath, [...nodeFlags, bin, ...(args.length > 0 ? args : ['all'])], {
  stdio: 'inherit',
});
const forward = (sig) => child.kill(sig);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
