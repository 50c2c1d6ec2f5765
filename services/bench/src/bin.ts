#!/usr/bin/env node
// `npm run bench -- <codec|reconciler|store|all> [options]`: runs the suites, prints readable tables (progress on
// stderr) and rewrites each suite's own section of BENCHMARKS.md with machine, settings, figures and targets.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './args.js';
import type { BenchArgs } from './args.js';
import { loadBenchConfig } from './config.js';
import { describeMachine } from './machine.js';
import { renderMarkdown, renderText, rewriteSection } from './report.js';
import type { SuiteName, SuiteReport } from './report.js';
import { runCodecSuite } from './suites/codec.js';
import { runReconcilerSuite } from './suites/reconciler.js';
import { runStoreSuite } from './suites/store.js';
import type { SuiteContext, SuiteOutput } from './suites/types.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BENCHMARKS_MD = path.join(REPO_ROOT, 'BENCHMARKS.md');

const SUITE_META: Record<
  SuiteName,
  { title: string; command: string; run: (ctx: SuiteContext) => SuiteOutput | Promise<SuiteOutput> }
> = {
  codec: { title: 'Codec (schemas)', command: 'npm run bench -- codec', run: runCodecSuite },
  reconciler: { title: 'Reconciler (issue 3)', command: 'npm run bench:reconciler', run: runReconcilerSuite },
  store: { title: 'Path store (issue 4)', command: 'npm run bench:store', run: runStoreSuite },
};

async function runSuite(name: SuiteName, args: BenchArgs, ctx: SuiteContext): Promise<SuiteReport> {
  const meta = SUITE_META[name];
  const machine = describeMachine();
  const startedAt = new Date();
  const t0 = performance.now();
  process.stderr.write(`\n▶ ${meta.title}${args.quick ? ' (quick)' : ''}\n`);
  const out = await meta.run(ctx);
  if (out.kafkaVersion) machine.kafka = out.kafkaVersion;
  const report: SuiteReport = {
    suite: name,
    title: meta.title,
    command: `${meta.command}${args.quick ? ' -- --quick' : ''}`,
    startedAt,
    durationMs: performance.now() - t0,
    machine,
    settings: [
      ['node flags', process.execArgv.length > 0 ? process.execArgv.join(' ') : 'none'],
      ...out.settings,
      ['load average at end (1 min)', os.loadavg()[0]?.toFixed(2) ?? '?'],
    ],
    targets: out.targets,
    tables: out.tables,
    notes: out.notes,
  };
  process.stdout.write(`\n${renderText(report)}\n`);
  if (args.write) {
    let doc = '';
    try {
      doc = await readFile(BENCHMARKS_MD, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await writeFile(BENCHMARKS_MD, rewriteSection(doc, name, renderMarkdown(report)));
    process.stderr.write(
      `✓ wrote the ${name} section of ${path.relative(process.cwd(), BENCHMARKS_MD) || BENCHMARKS_MD}\n`,
    );
  }
  return report;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadBenchConfig();
  const ctx: SuiteContext = {
    sizes: args.sizes,
    quick: args.quick,
    brokers: config.brokers,
    repoRoot: REPO_ROOT,
  };
  const names: SuiteName[] = args.suite === 'all' ? ['codec', 'reconciler', 'store'] : [args.suite];
  let failed = 0;
  for (const name of names) {
    try {
      await runSuite(name, args, ctx);
    } catch (err) {
      failed++;
      const e = err as { code?: string; message?: string; stack?: string };
      process.stderr.write(
        `\n✗ suite ${name} failed${e.code ? ` [${e.code}]` : ''}: ${e.stack ?? e.message ?? String(err)}\n`,
      );
    }
  }
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as { code?: string; message?: string };
    process.stderr.write(`${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}\n`);
    process.exit(2);
  },
);
