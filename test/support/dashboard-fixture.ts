/**
 * A query API over embedded chdb with known rows, listening on a free port, for the dashboard's browser test
 * and the screenshot script: synthetic paths over the last 6 hours (three tenants, repeated inputs, failovers,
 * late, failed and missing outcomes), open overdue requests in the last hour, one request with a provisional
 * overdue version later settled as delivered_late, one final missing_outcome corrected to delivered_late, and
 * dead letters counted in the process registry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Verdict } from '@pathwatch/schemas';
import { createMetrics, createRootLogger } from '@pathwatch/core';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';
import { buildApp, startQueryApi, type QueryApiDeps, type RunningQueryApi } from '@pathwatch/query-api';

const HOUR = 3_600_000;

export interface DashboardFixture {
  url: string;
  token: string;
  store: PathStore;
  /** Window holding every row (explicit from/to for the pages, so page and test query the same range). */
  from: string;
  to: string;
  /** The request with two verdict versions (provisional overdue, then final delivered_late). */
  correctedRequest: { request_id: string; tenant_id: string };
  rows: readonly Verdict[];
  close(): Promise<void>;
}

export async function startDashboardFixture(opts: { token?: string } = {}): Promise<DashboardFixture> {
  const token = opts.token ?? 'dashboard-test-token-0123456789';
  const logger = createRootLogger({ level: 'silent', name: 'dashboard-fixture' });
  const dataDir = mkdtempSync(join(tmpdir(), 'pw-dashboard-'));
  const now = Date.now();
  const start = Math.floor((now - 6 * HOUR) / HOUR) * HOUR;
  const store = await openPathStore(
    { mode: 'embedded', dataDir, database: 'dash' },
    { logger, now: () => Date.now() },
  );
  const syn = { startMs: start, spacingMs: 30_000, tenants: 3, perInput: 4 };
  const rows: Verdict[] = [];
  // 600 requests over 5 hours; then 12 still overdue within the last hour.
  for (let i = 0; i < 600; i++) rows.push(syntheticVerdict(i, syn));
  for (let i = 600; i < 612; i++) rows.push(syntheticVerdict(i, syn, 1, 'overdue'));
  await store.insertVerdicts(rows, 'dash-pop');
  // One request decided twice: provisional overdue first, then a final delivered_late correction.
  const first = syntheticVerdict(612, syn, 1, 'overdue');
  const second: Verdict = {
    ...syntheticVerdict(612, syn, 2, 'delivered_late'),
    is_correction: false,
    previous_verdict: 'overdue',
  };
  await store.insertVerdicts([first], 'dash-v1');
  await store.insertVerdicts([second], 'dash-v2');
  rows.push(second);
  // One final verdict corrected by late evidence: missing_outcome, then delivered_late (is_correction).
  const missing = syntheticVerdict(613, syn, 1, 'missing_outcome');
  const corrected = syntheticVerdict(613, syn, 2, 'delivered_late');
  await store.insertVerdicts([missing], 'dash-c1');
  await store.insertVerdicts([corrected], 'dash-c2');
  rows.push(corrected);
  await store.refreshRollups();

  const metrics = createMetrics({ defaultMetrics: false });
  // What the reconciler's dead-letter publisher counts when it refuses records (same counter, same labels).
  metrics.deadLetters.inc({ stage: 'reconciler.decode', reason_code: 'RECONCILER_DECODE_FAILED' }, 3);
  metrics.deadLetters.inc({ stage: 'reconciler.apply', reason_code: 'RECONCILER_TOO_LATE' }, 2);
  metrics.eventsIn.inc({ stage: 'reconciler.decode', topic: 'pathwatch.requests' }, 612);

  const config: QueryApiDeps['config'] = {
    authToken: token,
    sqlEnabled: false,
    sqlMaxRows: 1000,
    sqlTimeoutSeconds: 10,
    maxRawRangeHours: 168,
    maxRollupRangeDays: 92,
    maxResultRows: 5000,
  };
  const app = await buildApp({ store, config, logger, registry: metrics.registry, now: () => Date.now() });
  let api: RunningQueryApi;
  try {
    api = await startQueryApi(app, {
      host: '127.0.0.1',
      port: 0,
      clickhouse: { mode: 'embedded', dataDir, database: 'dash' },
      sqlEnabled: false,
      logger,
      now: () => Date.now(),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const to = Math.ceil((now + 60_000) / 60_000) * 60_000;
  return {
    url: api.url,
    token,
    store,
    from: new Date(start - HOUR).toISOString(),
    to: new Date(to).toISOString(),
    correctedRequest: { request_id: second.request_id, tenant_id: second.tenant_id },
    rows,
    async close() {
      await api.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
