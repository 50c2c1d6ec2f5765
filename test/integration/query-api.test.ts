/**
 * The query API over real chdb data, through fastify inject (and one real listen for the cross-process SQL
 * path): every endpoint, bad input with a 400 naming the problem, bearer auth, OpenAPI, health, readiness,
 * metrics, and bound parameters (an injection attempt finds nothing).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '@pathwatch/schemas';
import { Registry, createRootLogger } from '@pathwatch/core';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';
import { buildApp, startQueryApi, type QueryApiDeps } from '@pathwatch/query-api';
import { readJsonLine, spawnTs } from '../support/spawn-ts.js';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const dataDir = mkdtempSync(join(tmpdir(), 'pw-query-api-'));
const HOUR = 3_600_000;
const NOW = Math.floor(Date.now() / HOUR) * HOUR + 30 * 60_000;
const start = NOW - 6 * HOUR;
const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const CHILD = fileURLToPath(
  new URL('../../services/query-api/test/fixtures/run-sql-child.ts', import.meta.url),
);
const iso = (ms: number): string => new Date(ms).toISOString();

const config: QueryApiDeps['config'] = {
  authToken: TOKEN,
  sqlEnabled: true,
  sqlMaxRows: 1000,
  sqlTimeoutSeconds: 10,
  maxRawRangeHours: 48,
  maxRollupRangeDays: 30,
  maxResultRows: 5000,
};

describe('query API', () => {
  let store: PathStore;
  let app: FastifyInstance;
  const rows: Verdict[] = [];
  let ready = true;

  beforeAll(async () => {
    store = await openPathStore(
      { mode: 'embedded', dataDir, database: 'api' },
      { logger, now: () => Date.now() },
    );
    for (let i = 0; i < 400; i++)
      rows.push(syntheticVerdict(i, { startMs: start, spacingMs: 30_000, tenants: 3 }));
    rows[0] = {
      ...(rows[0] as Verdict),
      input_fingerprint: 'same',
      verdict: 'delivered_on_time',
      provisional: false,
    };
    rows[1] = { ...(rows[1] as Verdict), input_fingerprint: 'same', verdict: 'failed', provisional: false };
    await store.insertVerdicts(rows, 'api-pop');
    // The same request id in two tenants (for the ambiguity answer).
    await store.insertVerdicts([{ ...(rows[5] as Verdict), tenant_id: 'other' }], 'api-dup');
    await store.refreshRollups();
    app = await buildApp({
      store,
      config,
      logger,
      registry: new Registry(),
      now: () => NOW,
      readiness: { writer: () => ({ ok: ready, detail: ready ? 'ok' : 'paused' }) },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const get = (url: string, headers: Record<string, string> = auth) =>
    app.inject({ method: 'GET', url, headers });
  const win = `from=${encodeURIComponent(iso(start - HOUR))}&to=${encodeURIComponent(iso(NOW))}`;

  it('serves health, readiness (with registered checks) and the OpenAPI document without a token, metrics with it', async () => {
    expect((await get('/healthz', {})).json()).toEqual({ status: 'ok' });
    const r = await get('/readyz', {});
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      status: 'ready',
      checks: { clickhouse: { ok: true }, writer: { ok: true, detail: 'ok' } },
    });
    ready = false;
    const nr = await get('/readyz', {});
    expect(nr.statusCode).toBe(503);
    expect(nr.json()).toMatchObject({
      status: 'not_ready',
      checks: { writer: { ok: false, detail: 'paused' } },
    });
    ready = true;
    await get(`/v1/latency?${win}`);
    expect((await get('/metrics', {})).statusCode).toBe(401);
    const m = await get('/metrics');
    expect(m.headers['content-type']).toContain('text/plain');
    expect(m.body).toMatch(
      /pathwatch_http_requests_total\{route="\/v1\/latency",method="GET",status="200"\} 1/,
    );
    const doc = (await get('/openapi.json', {})).json<{
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: unknown };
    }>();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/readyz',
      '/v1/anomalies/open',
      '/v1/explain',
      '/v1/latency',
      '/v1/pipeline',
      '/v1/requests/search',
      '/v1/requests/{request_id}/timeline',
      '/v1/sql',
      '/v1/variance/flip-rate',
      '/v1/variance/same-input',
    ]);
    expect(doc.components.securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
  });

  it('requires the bearer token on /v1/*, however the path is spelled', async () => {
    const unauthorized = {
      error: 'QUERY_API_UNAUTHORIZED',
      message: 'missing or invalid bearer token (Authorization: Bearer <token>)',
      retriable: false,
    };
    const none = await get(`/v1/latency?${win}`, {});
    expect(none.statusCode).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect(none.json()).toEqual(unauthorized);
    const wrong = await get(`/v1/latency?${win}`, { authorization: 'Bearer nope-nope-nope-nope' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unauthorized);
    // The bypass this stops: a percent-encoded path the router decodes to /v1/latency.
    for (const url of [`/v1/%6Catency?${win}`, `/%761/latency?${win}`, `/v1/requests/x/%74imeline`])
      expect((await get(url, {})).statusCode, url).toBe(401);
    expect((await get(`/v1/latency?${win}`)).statusCode).toBe(200);
    expect((await get(`/v1/latency?${win}`, { authorization: `bearer ${TOKEN}` })).statusCode).toBe(200);
  });

  it('timeline: the path of one request, 404 when unknown, 409 when the id exists in several tenants', async () => {
    const v = rows[10] as Verdict;
    const r = await get(`/v1/requests/${v.request_id}/timeline?tenant=${v.tenant_id}`);
    expect(r.statusCode).toBe(200);
    const tl = r.json<{
      request_id: string;
      attempts: unknown[];
      events: { kind: string }[];
      versions: unknown[];
      layers: unknown;
    }>();
    expect(tl.request_id).toBe(v.request_id);
    expect(tl.attempts).toHaveLength(v.attempts.length);
    expect(tl.events.filter((e) => e.kind !== 'version')).toHaveLength(v.hops.length);
    expect(tl.versions).toHaveLength(1);
    expect(tl.layers).toEqual({ api_ok: v.api_ok, execution_ok: v.execution_ok, outcome_ok: v.outcome_ok });
    expect((await get(`/v1/requests/${v.request_id}/timeline`)).statusCode).toBe(200);
    const missing = await get('/v1/requests/nope/timeline');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: 'QUERY_API_NOT_FOUND',
      message: 'no path for request nope',
      retriable: false,
    });
    const amb = await get(`/v1/requests/${(rows[5] as Verdict).request_id}/timeline`);
    expect(amb.statusCode).toBe(409);
    expect(amb.json<{ message: string }>().message).toContain('pass tenant');
  });

  it('latency and on-time rate from the rollup, grouped and bucketed', async () => {
    const r = await get(`/v1/latency?${win}&group_by=tenant,provider&bucket=none&stage=e2e`);
    expect(r.statusCode).toBe(200);
    const body = r.json<{
      rows: {
        group: { tenant: string; provider: string };
        requests: number;
        on_time_rate: number | null;
        p50_ms: number | null;
      }[];
    }>();
    expect(body.rows.reduce((a, x) => a + x.requests, 0)).toBe(rows.length + 1);
    expect(
      body.rows.every((x) => typeof x.group.tenant === 'string' && typeof x.group.provider === 'string'),
    ).toBe(true);
    const hourly = (await get(`/v1/latency?${win}&tenant=tenant-1`)).json<{
      rows: { bucket_start_ms: number }[];
    }>();
    expect(hourly.rows.length).toBeGreaterThan(3);
    expect(hourly.rows.every((x) => x.bucket_start_ms % HOUR === 0)).toBe(true);
  });

  it('variance, flip rate, explain and open anomalies', async () => {
    const same = (await get(`/v1/variance/same-input?${win}`)).json<{
      items: { input_fingerprint: string; consistency: number }[];
      consistency_score: number;
    }>();
    expect(same.items).toEqual([expect.objectContaining({ input_fingerprint: 'same', consistency: 0.5 })]);
    const flip = (await get(`/v1/variance/flip-rate?${win}`)).json<{
      rows: { repeated_inputs: number; flipped_inputs: number }[];
    }>();
    expect(flip.rows.reduce((a, x) => a + x.flipped_inputs, 0)).toBe(1);
    const ex = await get(`/v1/explain?${win}&cohort=delivered_late&min_support=10&min_cohort=2`);
    expect(ex.statusCode).toBe(200);
    expect(ex.json<{ population: number; items: unknown[] }>().population).toBe(rows.length + 1);
    const an = (await get(`/v1/anomalies/open?${win}&kind=missing_outcome,missing_dispatch`)).json<{
      counts: Record<string, number>;
      items: { verdict: string; overdue_by_ms: number | null }[];
    }>();
    const expected = [...rows, rows[5] as Verdict].filter(
      (v) => v.verdict === 'missing_outcome' || v.verdict === 'missing_dispatch',
    ).length;
    expect(an.items).toHaveLength(expected);
    expect(an.counts['missing_outcome']! + an.counts['missing_dispatch']!).toBe(expected);
    expect(an.items.every((i) => i.verdict.startsWith('missing') && (i.overdue_by_ms ?? 0) > 0)).toBe(true);
  });

  it('request search: by id, provider message id, fingerprint, tenant, cohort and explain dimension, counted exactly', async () => {
    type Search = { total: number; items: { request_id: string; tenant_id: string; verdict: string }[] };
    const search = async (q: string): Promise<Search> => {
      const r = await get(`/v1/requests/search?${win}&${q}`);
      expect(r.statusCode, q).toBe(200);
      return r.json<Search>();
    };
    const all = [...rows, { ...(rows[5] as Verdict), tenant_id: 'other' }];
    const r7 = rows[7] as Verdict;
    expect((await search(`request_id=${r7.request_id}`)).items.map((i) => i.request_id)).toEqual([
      r7.request_id,
    ]);
    const msg = r7.attempts[0]?.provider_message_id as string;
    expect((await search(`provider_message_id=${encodeURIComponent(msg)}`)).items).toEqual([
      expect.objectContaining({ request_id: r7.request_id, tenant_id: r7.tenant_id }),
    ]);
    expect((await search('input_fingerprint=same')).total).toBe(2);
    const t1 = await search('tenant=tenant-1&limit=5');
    expect(t1.total).toBe(all.filter((v) => v.tenant_id === 'tenant-1').length);
    expect(t1.items).toHaveLength(5);
    const late = await search('cohort=delivered_late&limit=5000');
    expect(late.total).toBe(all.filter((v) => v.verdict === 'delivered_late').length);
    expect(late.items.every((i) => i.verdict === 'delivered_late')).toBe(true);
    // An explain item's example requests: as many as its cohort_count.
    const ex = (await get(`/v1/explain?${win}&cohort=delivered_late&min_support=10&min_cohort=2`)).json<{
      items: { dimension: string; value: string; cohort_count: number }[];
    }>();
    expect(ex.items.length).toBeGreaterThan(0);
    for (const item of ex.items.slice(0, 5)) {
      const q = `cohort=delivered_late&dimension=${encodeURIComponent(item.dimension)}&value=${encodeURIComponent(item.value)}`;
      expect((await search(q)).total, q).toBe(item.cohort_count);
    }
    const noValue = await get(`/v1/requests/search?${win}&dimension=route`);
    expect(noValue.statusCode).toBe(400);
    expect(noValue.json<{ message: string }>().message).toMatch(/dimension and value must be given together/);
    expect((await get(`/v1/requests/search?${win}&dimension=colour&value=x`)).statusCode).toBe(400);
    // Bound, not spliced: a quote in an attribute key matches nothing.
    expect((await search(`dimension=${encodeURIComponent("attr.x'] OR 1=1 --")}&value=x`)).total).toBe(0);
  });

  it('pipeline: accepted requests and verdict versions per bucket from the store, live metrics of the registry', async () => {
    const r = await get(`/v1/pipeline?${win}&step=hour`);
    expect(r.statusCode).toBe(200);
    const body = r.json<{
      step_s: number;
      buckets: { bucket_start_ms: number; accepted: number; versions: number; corrections: number }[];
      live: { reconciler_in_process: boolean; dead_letters: unknown[]; events_in: unknown[] };
    }>();
    expect(body.step_s).toBe(3600);
    expect(body.buckets.reduce((a, b) => a + b.accepted, 0)).toBe(
      rows.filter((v) => !v.verdict.startsWith('orphan')).length + 1,
    );
    expect(body.buckets.every((b) => b.bucket_start_ms % HOUR === 0)).toBe(true);
    // Versions are bucketed by emission time: every version emitted inside the window is counted once.
    const emitted = [...rows, rows[5] as Verdict].filter(
      (v) => v.emitted_at >= NOW - 7 * HOUR && v.emitted_at < NOW,
    ).length;
    expect(body.buckets.reduce((a, b) => a + b.versions, 0)).toBe(emitted);
    expect(body.live).toMatchObject({ reconciler_in_process: false, dead_letters: [], events_in: [] });
    expect((await get(`/v1/pipeline?${win}`)).json<{ step_s: number }>().step_s).toBe(3600);
    const recent = `from=${encodeURIComponent(iso(NOW - HOUR))}&to=${encodeURIComponent(iso(NOW))}`;
    expect((await get(`/v1/pipeline?${recent}`)).json<{ step_s: number }>().step_s).toBe(60);
  });

  it('answers 400 naming the problem for every kind of bad parameter', async () => {
    const cases: [string, RegExp][] = [
      [`/v1/latency?${win}&tenat=x`, /unknown parameter "tenat"/],
      [`/v1/latency?${win}&group_by=route,colour`, /group_by must match pattern/],
      [`/v1/latency?${win}&group_by=route,route`, /"route" is listed twice/],
      [`/v1/latency?${win}&bucket=week`, /bucket must be one of: hour, day, none/],
      [`/v1/latency?from=yesterday`, /from must match format "date-time"/],
      [`/v1/latency?from=${iso(NOW)}&to=${iso(NOW - HOUR)}`, /must be before to/],
      [
        `/v1/latency?from=${iso(NOW - 40 * 24 * HOUR)}&to=${iso(NOW)}`,
        /exceeds the maximum of 30 days for dashboard queries/,
      ],
      [`/v1/explain?${win}`, /missing required parameter "cohort"/],
      [`/v1/explain?${win}&cohort=sad`, /cohort must be one of: delivered_late/],
      [
        `/v1/explain?from=${iso(NOW - 72 * HOUR)}&to=${iso(NOW)}&cohort=failed`,
        /exceeds the maximum of 48 hours for raw-record queries/,
      ],
      [`/v1/variance/same-input?${win}&limit=0`, /limit must be >= 1/],
      [`/v1/variance/same-input?${win}&limit=9000`, /limit must be <= 5000/],
      [`/v1/variance/same-input?${win}&limit=1e400`, /limit must be a finite number/],
      [`/v1/requests/${'r'.repeat(513)}/timeline`, /request_id must NOT have more than 512 characters/],
      [`/v1/variance/same-input?${win}&min_requests=abc`, /min_requests must be integer/],
      [`/v1/anomalies/open?${win}&kind=late`, /kind must match pattern/],
    ];
    for (const [url, msg] of cases) {
      const r = await get(url);
      expect(r.statusCode, url).toBe(400);
      expect(r.json<{ error: string }>().error, url).toBe('QUERY_API_BAD_REQUEST');
      expect(r.json<{ message: string }>().message, url).toMatch(msg);
    }
    expect((await get('/v1/nothing-here')).statusCode).toBe(404);
  });

  it('binds parameters: an injection attempt in a filter matches nothing', async () => {
    const evil = encodeURIComponent("tenant-1' OR 1=1 --");
    const r = await get(`/v1/anomalies/open?${win}&tenant=${evil}`);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ counts: { overdue: 0, missing_dispatch: 0, missing_outcome: 0 }, items: [] });
  });

  it('POST /v1/sql runs read-only SQL and refuses writes with a 400', async () => {
    const post = (body: unknown, headers = auth) =>
      app.inject({ method: 'POST', url: '/v1/sql', headers, payload: body as object });
    const ok = await post({
      sql: 'SELECT verdict, count() AS n FROM paths GROUP BY verdict ORDER BY verdict',
      max_rows: 100,
    });
    expect(ok.statusCode).toBe(200);
    const body = ok.json<{ columns: { name: string }[]; rows: [string, string][]; truncated: boolean }>();
    expect(body.columns.map((c) => c.name)).toEqual(['verdict', 'n']);
    expect(body.rows.reduce((a, r) => a + Number(r[1]), 0)).toBe(rows.length + 1);
    expect(body.truncated).toBe(false);
    const cut = (await post({ sql: 'SELECT arrayJoin(range(50)) AS number', max_rows: 7 })).json<{
      rows: unknown[];
      truncated: boolean;
    }>();
    expect([cut.rows.length, cut.truncated]).toEqual([7, true]);
    for (const [sql, msg] of [
      ['DROP TABLE path_records', /only a SELECT/],
      ['SELECT 1; SELECT 2', /only one statement/],
      ['SELEC 1', /Syntax error/],
      ['SELECT no_such_column FROM paths', /no_such_column/],
    ] as const) {
      const r = await post({ sql });
      expect(r.statusCode, sql).toBe(400);
      expect(r.json<{ message: string }>().message, sql).toMatch(msg);
    }
    expect((await post({ sql: 'SELECT 1', sqll: 'x' })).json<{ message: string }>().message).toMatch(
      /unknown parameter "sqll"/,
    );
    expect((await post({ sql: 'SELECT 1' }, {} as typeof auth)).statusCode).toBe(401);
    const off = await buildApp({ store, config: { ...config, sqlEnabled: false }, logger });
    const r = await off.inject({
      method: 'POST',
      url: '/v1/sql',
      headers: auth,
      payload: { sql: 'SELECT 1' },
    });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: 'QUERY_API_SQL_DISABLED' });
    await off.close();
  });

  it("runSql from another process goes through the owner's HTTP endpoint; an unowned directory is opened directly", async () => {
    const clickhouse = { mode: 'embedded' as const, dataDir, database: 'api' };
    const live = await buildApp({ store, config, logger });
    const running = await startQueryApi(live, {
      host: '127.0.0.1',
      port: 0,
      clickhouse,
      sqlEnabled: true,
      logger,
      now: () => Date.now(),
    });
    try {
      const child = spawnTs(CHILD, [
        JSON.stringify({ dataDir, token: TOKEN, sql: 'SELECT count() AS n FROM api.paths' }),
      ]);
      const res = await readJsonLine<{ via: string; rows: unknown[][] }>(child, 60_000);
      expect(res).toMatchObject({ via: 'http', rows: [[String(rows.length + 1)]] });
      const denied = await readJsonLine<{ error: string; code: string }>(
        spawnTs(CHILD, [JSON.stringify({ dataDir, sql: 'SELECT 1' })]),
        60_000,
      );
      expect(denied.error).toMatch(/401/);
    } finally {
      await running.close();
    }
    const other = mkdtempSync(join(tmpdir(), 'pw-query-api-direct-'));
    const direct = await readJsonLine<{ via: string; rows: unknown[][] }>(
      spawnTs(CHILD, [
        JSON.stringify({ dataDir: other, populate: true, sql: 'SELECT count() AS n FROM pathwatch.paths' }),
      ]),
      60_000,
    );
    expect(direct).toMatchObject({ via: 'embedded', rows: [['5']] });
    // Held by a process without an SQL endpoint: a precise error naming the holder.
    const held = mkdtempSync(join(tmpdir(), 'pw-query-api-held-'));
    const holder = spawnTs(CHILD, [JSON.stringify({ dataDir: held, hold: true, sql: '' })]);
    try {
      const { holding } = await readJsonLine<{ holding: number }>(holder, 60_000);
      const locked = await readJsonLine<{ error: string; code: string }>(
        spawnTs(CHILD, [JSON.stringify({ dataDir: held, sql: 'SELECT 1' })]),
        60_000,
      );
      expect(locked.code).toBe('CORE_STORE_DATA_DIR_LOCKED');
      expect(locked.error).toContain(`held by process ${holding}`);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
