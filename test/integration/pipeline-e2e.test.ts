/**
 * End to end on the real broker and the embedded ClickHouse: a known set of input events goes through the
 * reconciler and the path writer, and every resulting path row is checked. Then an undecodable and a
 * schema-invalid record land in the dead-letter topic with a specific reason and their original bytes while the
 * consumer carries on. Last, the query API sharing the process's metrics shows the live pipeline (inputs,
 * consumer lag, idle inputs, dead letters by reason) as the dashboard's pipeline page reads it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Producer } from '@pathwatch/core';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { buildPathWriter, loadPathWriterConfig, type PathWriterApp } from '@pathwatch/path-writer';
import { buildApp } from '@pathwatch/query-api';
import type { Codec, DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import {
  collect,
  pipelineTopics,
  startReconciler,
  testKafkaClient,
  testLogger,
} from '../support/pipeline.js';
import { waitFor } from '../support/kafka.js';

const logger = testLogger();
const t = pipelineTopics('e2e');
const kafka = testKafkaClient(logger);
const SLA = 2000;
const GIVE_UP = 5000;
// Event times in the recent past: every deadline is already due by wall clock, so the test does not wait for
// them, and the idle input exercises the wall-clock path of the hybrid clock.
const t0 = Date.now() - 20_000;
let seq = 0;
/** Records produced to the three input topics (what the reconciler's decode stage must have consumed). */
let sentInputs = 0;
// One metrics registry for the reconciler and the path writer, as in `pathwatch start`.
const metrics = createMetrics({ defaultMetrics: false });

function env(requestId: string | null, at: number) {
  seq += 1;
  return {
    event_id: `e2e-${seq}`,
    source: '//e2e/test',
    occurred_at: at,
    recorded_at: at + 5,
    tenant_id: 'acme',
    request_id: requestId,
    schema_version: 1,
  };
}
function request(id: string, at: number, fingerprint = `fp-${id}`): RequestAccepted {
  return {
    envelope: { ...env(id, at), schema_version: 2 },
    operation: 'otp.send',
    channel: 'sms',
    idempotency_key: null,
    input_fingerprint: fingerprint,
    sla_ms: SLA,
    give_up_ms: GIVE_UP,
    api_status: 202,
    api_latency_ms: 40,
    attributes: { country: 'BR' },
  };
}
function dispatch(id: string, at: number, o: Partial<DispatchAttempted> = {}): DispatchAttempted {
  return {
    envelope: env(id, at),
    attempt_id: `${id}-a${o.attempt_no ?? 1}`,
    attempt_no: 1,
    attempt_reason: 'initial',
    parent_attempt_id: null,
    route: 'r1',
    provider: 'p1',
    provider_message_id: `pm-${id}-${o.attempt_no ?? 1}`,
    submit_outcome: 'accepted',
    submit_latency_ms: 30,
    error_code: null,
    ...o,
  };
}
function callback(
  requestId: string | null,
  pmid: string,
  at: number,
  o: Partial<ProviderCallback> = {},
): ProviderCallback {
  return {
    envelope: env(requestId, at),
    provider: 'p1',
    provider_message_id: pmid,
    provider_event_id: null,
    attempt_id: null,
    status_raw: 'DELIVRD',
    status: 'delivered',
    is_final: true,
    error_code: null,
    error_category: null,
    evidence_level: 'handset',
    provider_event_time: at,
    provider_sequence: null,
    ...o,
  };
}

describe('pipeline end to end (real broker, embedded ClickHouse)', () => {
  let store: PathStore;
  let writer: PathWriterApp;
  let producer: Producer;
  let codec: Codec;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    const r = startReconciler(t, { logger, engine: { retryGraceMs: 500, orphanGraceMs: 3000 }, metrics });
    codec = r.codec;
    await r.app.start();
    cleanups.push(() => r.app.close());
    store = await openPathStore(
      { mode: 'embedded', dataDir: mkdtempSync(join(tmpdir(), 'pw-e2e-')), database: 'e2e' },
      { logger, now: Date.now },
    );
    cleanups.push(() => store.close());
    const pw = loadPathWriterConfig({ KAFKA_BROKERS: '127.0.0.1:1' });
    writer = buildPathWriter(
      { kafka, store, codec, logger, metrics, now: Date.now },
      { ...pw, topics: t.topics, groupId: `${t.groupId}-writer`, flushIntervalMs: 200, topicPartitions: 3 },
    );
    await writer.start();
    cleanups.push(() => writer.close());
    producer = await kafka.producer();
    cleanups.push(() => producer.close());
  }, 120_000);

  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function send(
    kind: 'request' | 'dispatch' | 'callback',
    value: RequestAccepted | DispatchAttempted | ProviderCallback,
    format: 'avro' | 'json' = 'avro',
  ) {
    const key =
      value.envelope.request_id ??
      `${(value as ProviderCallback).provider}:${(value as ProviderCallback).provider_message_id}`;
    await producer.send(t.topics[kind], [{ key, value: codec.encode(kind, value, { format }) }]);
    sentInputs++;
  }

  it('writes the expected path row for every request', async () => {
    // on time, JSON on the wire
    await send('request', request('r-ontime', t0), 'json');
    await send('dispatch', dispatch('r-ontime', t0 + 50));
    await send('callback', callback('r-ontime', 'pm-r-ontime-1', t0 + 800));
    // late: delivered after the SLA
    await send('request', request('r-late', t0 + 100));
    await send('dispatch', dispatch('r-late', t0 + 150));
    await send('callback', callback('r-late', 'pm-r-late-1', t0 + 100 + SLA + 900));
    // failed: final undelivered receipt, no retry within the grace
    await send('request', request('r-failed', t0 + 200));
    await send('dispatch', dispatch('r-failed', t0 + 250));
    await send(
      'callback',
      callback('r-failed', 'pm-r-failed-1', t0 + 900, {
        status: 'undelivered',
        status_raw: 'UNDELIV',
        error_code: '30005',
        error_category: 'permanent_number',
        evidence_level: 'operator',
      }),
    );
    // accepted, never dispatched
    await send('request', request('r-nodispatch', t0 + 300));
    // dispatched, only an intermediate receipt
    await send('request', request('r-nooutcome', t0 + 400));
    await send('dispatch', dispatch('r-nooutcome', t0 + 450));
    await send(
      'callback',
      callback('r-nooutcome', 'pm-r-nooutcome-1', t0 + 700, {
        status: 'sent',
        status_raw: 'sent',
        is_final: false,
        evidence_level: 'none',
      }),
    );
    // failover: first provider rejects, second delivers; its receipt carries no request_id and arrives first
    await send('callback', callback(null, 'pm-r-failover-2', t0 + 1200, { provider: 'p2' }));
    await send('request', request('r-failover', t0 + 500, 'fp-r-ontime'));
    await send(
      'dispatch',
      dispatch('r-failover', t0 + 550, {
        submit_outcome: 'rejected',
        provider_message_id: null,
        error_code: 'E503',
      }),
    );
    await send(
      'dispatch',
      dispatch('r-failover', t0 + 700, {
        attempt_no: 2,
        attempt_reason: 'failover',
        parent_attempt_id: 'r-failover-a1',
        provider: 'p2',
        route: 'r2',
      }),
    );
    // duplicate receipts
    await send('request', request('r-dupe', t0 + 600));
    await send('dispatch', dispatch('r-dupe', t0 + 650));
    await send('callback', callback('r-dupe', 'pm-r-dupe-1', t0 + 1000, { provider_event_id: 'ev-1' }));
    await send('callback', callback('r-dupe', 'pm-r-dupe-1', t0 + 1000, { provider_event_id: 'ev-1' }));
    // a receipt for a request nobody accepted
    await send('callback', callback('r-ghost', 'pm-ghost', t0 + 1100));

    const expected: Record<
      string,
      {
        verdict: string;
        provider: string;
        route: string;
        attempts: number;
        flags?: string[];
        e2e?: number | null;
      }
    > = {
      'r-ontime': { verdict: 'delivered_on_time', provider: 'p1', route: 'r1', attempts: 1, e2e: 800 },
      'r-late': { verdict: 'delivered_late', provider: 'p1', route: 'r1', attempts: 1, e2e: SLA + 900 },
      'r-failed': { verdict: 'failed', provider: 'p1', route: 'r1', attempts: 1 },
      'r-nodispatch': { verdict: 'missing_dispatch', provider: '', route: '', attempts: 0, e2e: null },
      'r-nooutcome': { verdict: 'missing_outcome', provider: 'p1', route: 'r1', attempts: 1, e2e: null },
      'r-failover': {
        verdict: 'delivered_on_time',
        provider: 'p2',
        route: 'r2',
        attempts: 2,
        flags: ['failed_over', 'retried'],
        e2e: 700,
      },
      'r-dupe': {
        verdict: 'delivered_on_time',
        provider: 'p1',
        route: 'r1',
        attempts: 1,
        flags: ['duplicate_callback'],
        e2e: 400,
      },
      'r-ghost': { verdict: 'orphan_callback', provider: '', route: '', attempts: 0 },
    };

    type Row = {
      request_id: string;
      verdict: string;
      provisional: boolean;
      flags: string[];
      provider: string;
      route: string;
      attempt_count: number;
      e2e_ms: string | null;
      sla_ms: number;
      tenant_id: string;
      operation: string;
      error_category: string;
    };
    let rows: Row[] = [];
    await waitFor(
      async () => {
        rows = await store.ch.query<Row>(
          'SELECT request_id, verdict, provisional, flags, provider, route, attempt_count, e2e_ms, sla_ms, tenant_id, operation, error_category FROM paths ORDER BY request_id',
        );
        return Object.entries(expected).every(([id, e]) =>
          rows.some((r) => r.request_id === id && r.verdict === e.verdict && !r.provisional),
        );
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'final path rows for every request' },
    ).catch(() => undefined);

    expect(rows.map((r) => r.request_id).sort()).toEqual(Object.keys(expected).sort());
    for (const r of rows) {
      const e = expected[r.request_id];
      expect(e, r.request_id).toBeDefined();
      if (!e) continue;
      expect({
        id: r.request_id,
        verdict: r.verdict,
        provisional: r.provisional,
        provider: r.provider,
        route: r.route,
        attempts: Number(r.attempt_count),
      }).toEqual({
        id: r.request_id,
        verdict: e.verdict,
        provisional: false,
        provider: e.provider,
        route: e.route,
        attempts: e.attempts,
      });
      for (const f of e.flags ?? []) expect(r.flags, `${r.request_id} flags`).toContain(f);
      if (e.e2e !== undefined)
        expect(r.e2e_ms === null ? null : Number(r.e2e_ms), `${r.request_id} e2e_ms`).toBe(e.e2e);
      if (r.request_id !== 'r-ghost') {
        expect(r.tenant_id).toBe('acme');
        expect(r.operation).toBe('otp.send');
        expect(Number(r.sla_ms)).toBe(SLA);
      }
    }
    expect(rows.find((r) => r.request_id === 'r-failed')?.error_category).toBe('permanent_number');

    // The late request passed through a provisional `overdue` version and then settled: both versions are kept.
    const versions = await store.ch.query<{ version: number; verdict: string; provisional: boolean }>(
      "SELECT version, verdict, provisional FROM path_versions FINAL WHERE request_id = 'r-nooutcome' ORDER BY version",
    );
    expect(versions.map((v) => [v.verdict, v.provisional])).toEqual([
      ['overdue', true],
      ['missing_outcome', false],
    ]);
  }, 120_000);

  it('dead-letters an undecodable and a schema-invalid record with reason and original bytes, and carries on', async () => {
    const dlq = await collect(kafka, t.topics.dead_letter);
    cleanups.push(dlq.close);
    const garbage = Buffer.from([0x13, 0x37, 0xca, 0xfe]);
    const invalidJson = Buffer.from(JSON.stringify({ operation: 'otp.send', channel: 'sms' }));
    await producer.send(t.topics.request, [
      { key: 'bad-1', value: garbage },
      { key: 'bad-2', value: invalidJson },
    ]);
    sentInputs += 2;
    await send('request', request('r-after', Date.now() - 10_000));
    await waitFor(() => dlq.messages.length >= 2, { timeoutMs: 30_000, description: 'two dead letters' });
    const letters = dlq.messages.map((m) => ({
      headers: m.headers,
      dl: codec.decode('dead_letter', m.value),
    }));
    const byKey = new Map(letters.map((l) => [l.dl.source_key?.toString(), l]));
    const g = byKey.get('bad-1');
    const j = byKey.get('bad-2');
    expect(g?.dl.reason_code).toBe('SCHEMA_DECODE_BAD_MAGIC');
    expect(g?.dl.original_value?.equals(garbage)).toBe(true);
    expect(g?.dl.source_topic).toBe(t.topics.request);
    expect(g?.headers['pw-stage']).toBe('reconciler.decode');
    expect(j?.dl.reason_code).toMatch(/^SCHEMA_(DECODE_BAD_JSON|VALIDATION_FAILED)$/);
    expect(j?.dl.reason).toMatch(/envelope/);
    expect(j?.dl.original_value?.equals(invalidJson)).toBe(true);
    expect(Number(j?.dl.source_offset)).toBe(Number(g?.dl.source_offset) + 1);
    // The consumer carried on: the valid request after them reaches its verdict and its path row.
    await waitFor(
      async () => {
        const r = await store.ch.query<{ verdict: string }>(
          "SELECT verdict FROM paths WHERE request_id = 'r-after' AND NOT provisional",
        );
        return r[0]?.verdict === 'missing_dispatch';
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'r-after settled' },
    );
  }, 120_000);

  it('the query API in the same process shows the live pipeline: inputs consumed, consumer lag, idle inputs, dead letters by reason', async () => {
    const app = await buildApp({
      store,
      config: {
        authToken: undefined,
        sqlEnabled: false,
        sqlMaxRows: 100,
        sqlTimeoutSeconds: 5,
        maxRawRangeHours: 48,
        maxRollupRangeDays: 30,
        maxResultRows: 1000,
      },
      logger,
      registry: metrics.registry,
    });
    cleanups.push(() => app.close());
    type Live = {
      reconciler_in_process: boolean;
      writer_in_process: boolean;
      events_in: { stage: string; topic: string; value: number }[];
      dead_letters: { stage: string; reason_code: string; value: number }[];
      consumer_lag: { topic: string; partition: string; value: number }[];
      input_idle: { kind: string; partition: string; value: number }[];
      input_watermark_lag_ms: { kind: string; value: number }[];
      clock_lag_ms: number | null;
    };
    const pipeline = async () =>
      (await app.inject({ url: '/v1/pipeline' })).json<{ buckets: { accepted: number }[]; live: Live }>();
    const decoded = (l: Live) =>
      l.events_in.filter((e) => e.stage === 'reconciler.decode').reduce((a, e) => a + e.value, 0);
    // Caught up: everything sent was consumed and no partition is behind.
    await waitFor(
      async () => {
        const { live } = await pipeline();
        return decoded(live) === sentInputs && live.consumer_lag.every((l) => l.value === 0);
      },
      { timeoutMs: 30_000, intervalMs: 300, description: 'reconciler caught up' },
    );
    const { buckets, live } = await pipeline();
    expect(live.reconciler_in_process).toBe(true);
    expect(live.writer_in_process).toBe(true);
    expect(decoded(live)).toBe(sentInputs);
    const inputTopics = new Set([t.topics.request, t.topics.dispatch, t.topics.callback]);
    expect(live.consumer_lag.length).toBeGreaterThan(0);
    expect(live.consumer_lag.every((l) => inputTopics.has(l.topic))).toBe(true);
    expect(new Set(live.input_idle.map((i) => i.kind))).toEqual(new Set(['request', 'dispatch', 'callback']));
    expect(live.input_watermark_lag_ms.every((w) => w.value > 0)).toBe(true);
    expect(live.clock_lag_ms).not.toBeNull();
    const dl = live.dead_letters.filter((d) => d.stage === 'reconciler.decode');
    expect(dl.reduce((a, d) => a + d.value, 0)).toBe(2);
    expect(dl.map((d) => d.reason_code)).toContain('SCHEMA_DECODE_BAD_MAGIC');
    // The store side: one accepted request per request row written.
    const [{ n } = { n: '0' }] = await store.ch.query<{ n: string }>(
      "SELECT count() AS n FROM paths WHERE verdict NOT IN ('orphan_callback', 'orphan_dispatch')",
    );
    expect(buckets.reduce((a, b) => a + b.accepted, 0)).toBe(Number(n));
  }, 120_000);
});
