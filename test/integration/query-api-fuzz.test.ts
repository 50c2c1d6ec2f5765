/**
 * Schema-driven fuzzing of the query API: schemathesis (PyPI, pinned) reads /openapi.json of a real query API
 * over a real embedded ClickHouse holding known rows written through the path store, generates valid and
 * invalid requests for every operation, and checks that no answer is a server error and that every status,
 * content type and body is the one the document declares. Bounded (examples per operation, fixed seed) so it
 * takes a minute or two on a busy machine; the request count is printed.
 *
 * schemathesis is installed on first use into node_modules/.cache/pathwatch/schemathesis-venv
 * (`python3 -m venv` + pip), so a fresh clone needs only `npm ci`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '@pathwatch/schemas';
import { Registry, createRootLogger } from '@pathwatch/core';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';
import { buildApp, startQueryApi, type QueryApiDeps, type RunningQueryApi } from '@pathwatch/query-api';

const SCHEMATHESIS_VERSION = '4.32.5';
const SEED = 20_261_203;
/** Test cases per operation and phase: ~1-2 minutes on a busy 2-core machine. */
const MAX_EXAMPLES = Number(process.env['PATHWATCH_FUZZ_EXAMPLES'] ?? 60);
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
  'ignored_auth',
];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VENV = join(ROOT, 'node_modules', '.cache', 'pathwatch', 'schemathesis-venv');
const ST = join(VENV, 'bin', 'st');
const TOKEN = 'fuzz-token-0123456789abcdef';
const HOUR = 3_600_000;
const logger = createRootLogger({ level: 'silent', name: 'fuzz' });

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** The pinned schemathesis, installed into the cached virtualenv when missing or of another version. */
function ensureSchemathesis(): void {
  const has =
    existsSync(ST) &&
    spawnSync(ST, ['--version'], { encoding: 'utf8' }).stdout?.includes(SCHEMATHESIS_VERSION);
  if (has) return;
  rmSync(VENV, { recursive: true, force: true });
  run('python3', ['-m', 'venv', VENV]);
  run(join(VENV, 'bin', 'python'), [
    '-m',
    'pip',
    'install',
    '--quiet',
    '--disable-pip-version-check',
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ]);
}

describe('query API under schemathesis', () => {
  let store: PathStore;
  let api: RunningQueryApi;
  const dataDir = mkdtempSync(join(tmpdir(), 'pw-query-api-fuzz-'));

  beforeAll(async () => {
    ensureSchemathesis();
    const now = Date.now();
    store = await openPathStore({ mode: 'embedded', dataDir, database: 'fuzz' }, { logger, now: () => now });
    const rows: Verdict[] = [];
    for (let i = 0; i < 300; i++)
      rows.push(syntheticVerdict(i, { startMs: now - 12 * HOUR, spacingMs: 120_000, tenants: 3 }));
    await store.insertVerdicts(rows, 'fuzz-pop');
    await store.refreshRollups();
    const config: QueryApiDeps['config'] = {
      authToken: TOKEN,
      sqlEnabled: true,
      sqlMaxRows: 1000,
      sqlTimeoutSeconds: 5,
      maxRawRangeHours: 48,
      maxRollupRangeDays: 30,
      maxResultRows: 5000,
    };
    const app = await buildApp({ store, config, logger, registry: new Registry(), now: () => Date.now() });
    api = await startQueryApi(app, {
      host: '127.0.0.1',
      port: 0,
      clickhouse: { mode: 'embedded', dataDir, database: 'fuzz' },
      sqlEnabled: true,
      logger,
      now: () => Date.now(),
    });
  }, 600_000);

  afterAll(async () => {
    await api?.close();
    await store?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds no server error and no answer the OpenAPI document does not declare', async () => {
    const reportDir = mkdtempSync(join(tmpdir(), 'pw-fuzz-report-'));
    const ndjson = join(reportDir, 'events.ndjson');
    const args = [
      'run',
      `${api.url}/openapi.json`,
      '--checks',
      CHECKS.join(','),
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      '--workers',
      '1',
      '--phases',
      'examples,coverage,fuzzing',
      '--request-timeout',
      '30',
      '--suppress-health-check',
      'too_slow,filter_too_much',
      '--header',
      `Authorization: Bearer ${TOKEN}`,
      '--report',
      'ndjson',
      '--report-ndjson-path',
      ndjson,
      '--no-color',
    ];
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(ST, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, output: out }));
    });
    const requests = countRequests(ndjson);
    process.stderr.write(
      `[query-api fuzz] schemathesis ${SCHEMATHESIS_VERSION}, seed ${SEED}: ${requests} requests, exit ${code}\n`,
    );
    // The summary (operations, checks, test cases) always; the whole output when it failed.
    process.stderr.write(
      code === 0 ? `${output.slice(output.lastIndexOf('=== ') >= 0 ? output.indexOf('====') : 0)}\n` : output,
    );
    if (process.env['PATHWATCH_FUZZ_KEEP'])
      process.stderr.write(`${readFileSync(ndjson, 'utf8').slice(0, 3000)}\n`);
    rmSync(reportDir, { recursive: true, force: true });
    expect(code, output).toBe(0);
    const cases = /(\d+) generated, (\d+) passed/.exec(output);
    expect(cases, output).not.toBeNull();
    const [generated, passed] = [Number(cases?.[1]), Number(cases?.[2])];
    expect(passed, output).toBe(generated);
    expect(output).not.toMatch(/\bFAILED\b|failures/);
    // Every operation was exercised, with many requests, not a handful.
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).reduce((a, p) => a + Object.keys(p).length, 0);
    expect(output).toMatch(new RegExp(`Tested: ${operations}\\b`));
    expect(requests).toBeGreaterThan(300);
  }, 900_000);
});

/** Requests schemathesis sent, from its NDJSON event report (one ScenarioFinished per test case, each with its steps). */
function countRequests(file: string): number {
  if (!existsSync(file)) return 0;
  let n = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    const m = line.match(/"request":/g);
    n += m ? m.length : 0;
  }
  return n;
}
