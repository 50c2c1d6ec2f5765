// Unit tier of the query API's routes: `inject` against the app over a fake store of our own that records what it
// was asked, so the mapping from URL to store query (defaults from the injected clock, filters, lists, limits)
// and from store answer to body is pinned without a database. The real store is in test/integration.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootLogger } from '@pathwatch/core';
import type { LatencyQuery, PathStore, PathTimeline } from '@pathwatch/path-store';
import { buildApp } from '../src/app.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const calls: { method: string; args: unknown[] }[] = [];
const timeline = { request_id: 'r-1', tenant_id: 't', events: [] } as unknown as PathTimeline;

const store = {
  ch: { ping: () => Promise.resolve(true) },
  timeline: (...args: unknown[]) => {
    calls.push({ method: 'timeline', args });
    return Promise.resolve(args[0] === 'r-1' ? timeline : null);
  },
  latency: (q: LatencyQuery) => {
    calls.push({ method: 'latency', args: [q] });
    return Promise.resolve([
      { bucket_start_ms: NOW - HOUR, group: { channel: 'sms' }, requests: 7, p50_ms: 120 },
    ]);
  },
  flipRate: (...args: unknown[]) => {
    calls.push({ method: 'flipRate', args });
    return Promise.resolve([]);
  },
} as unknown as PathStore;

let app: FastifyInstance;

beforeAll(async () => {
  app = await buildApp({
    store,
    config: {
      authToken: undefined,
      sqlEnabled: false,
      sqlMaxRows: 1000,
      sqlTimeoutSeconds: 10,
      maxRawRangeHours: 48,
      maxRollupRangeDays: 30,
      maxResultRows: 5000,
    },
    logger: createRootLogger({ level: 'silent', name: 'routes-test' }),
    now: () => NOW,
  });
});
afterAll(async () => {
  await app.close();
});

describe('query API routes over a recording fake store', () => {
  it('timeline: passes the id and tenant, answers the store result, 404 with the standard body when absent', async () => {
    calls.length = 0;
    const ok = await app.inject({ url: '/v1/requests/r-1/timeline?tenant=t' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual(timeline);
    const missing = await app.inject({ url: '/v1/requests/r-2/timeline' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({
      error: 'QUERY_API_NOT_FOUND',
      message: 'no path for request r-2',
      retriable: false,
    });
    expect(calls).toEqual([
      { method: 'timeline', args: ['r-1', 't'] },
      { method: 'timeline', args: ['r-2', undefined] },
    ]);
  });

  it('latency: defaults to the 24 h before the injected clock; splits group_by; keeps filters; wraps rows', async () => {
    calls.length = 0;
    const res = await app.inject({ url: '/v1/latency?group_by=channel,provider&channel=sms&stage=delivery' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      rows: [{ bucket_start_ms: NOW - HOUR, group: { channel: 'sms' }, requests: 7, p50_ms: 120 }],
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0]).toMatchObject({
      from_ms: NOW - 24 * HOUR,
      to_ms: NOW,
      channel: 'sms',
      group_by: ['channel', 'provider'],
      stage: 'delivery',
    });
  });

  it('refuses ranges over the configured maximum before asking the store', async () => {
    calls.length = 0;
    const from = new Date(NOW - 49 * HOUR).toISOString();
    const res = await app.inject({ url: `/v1/variance/flip-rate?from=${from}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'QUERY_API_BAD_REQUEST', retriable: false });
    expect(res.json<{ message: string }>().message).toMatch(/exceeds the maximum of 48 hours/);
    expect(calls).toEqual([]);
  });

  it('with SQL disabled, POST /v1/sql is the documented 404', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/sql', payload: { sql: 'SELECT 1' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'QUERY_API_SQL_DISABLED' });
  });
});
