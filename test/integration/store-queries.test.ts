/**
 * Typed queries over real chdb: the timeline returns exactly what was written (every field of the enriched path),
 * and each analyst query agrees with a reference computed in plain TypeScript from the same verdicts.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict, VerdictClass } from '@pathwatch/schemas';
import { createRootLogger } from '@pathwatch/core';
import { openPathStore, pathAnchorMs, type PathStore } from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const dataDir = mkdtempSync(join(tmpdir(), 'pw-store-q-'));
const HOUR = 3_600_000;
// Recent data (rollups only re-aggregate inside the correction window, measured on the server clock).
const start = Math.floor((Date.now() - 5 * HOUR) / HOUR) * HOUR;
const window = { from_ms: start - HOUR, to_ms: start + 10 * HOUR };

function v(i: number, patch: Partial<Verdict> = {}, version = 1): Verdict {
  return { ...syntheticVerdict(i, { startMs: start, spacingMs: 1000, tenants: 2 }, version), ...patch };
}

describe('path store queries (embedded)', () => {
  let store: PathStore;
  beforeAll(async () => {
    store = await openPathStore(
      { mode: 'embedded', dataDir, database: 'queries' },
      { logger, now: () => Date.now() },
    );
  });
  afterAll(async () => {
    await store.close();
  });

  it('timeline returns the whole enriched path of the latest version plus every version', async () => {
    const base = v(1, { tenant_id: 'tl' });
    const v1: Verdict = {
      ...base,
      version: 1,
      verdict_id: 'req-1:v1',
      verdict: 'overdue',
      provisional: true,
      outcome_ok: null,
      final_at: null,
      fired_by: 'wall_clock',
      is_correction: false,
      previous_verdict: null,
    };
    const v2: Verdict = {
      ...base,
      version: 2,
      verdict_id: 'req-1:v2',
      verdict: 'missing_outcome',
      provisional: false,
      outcome_ok: false,
      final_at: null,
      fired_by: 'watermark',
      is_correction: false,
      previous_verdict: 'overdue',
    };
    const v3: Verdict = {
      ...base,
      version: 3,
      verdict_id: 'req-1:v3',
      verdict: 'delivered_late',
      provisional: false,
      outcome_ok: false,
      is_correction: true,
      previous_verdict: 'missing_outcome',
      flags: ['retried', 'failed_over'],
      error_code: 'E1',
      error_category: 'temporary',
      attributes: { country: 'DE', 'weird key': "quote ' and \\ slash", emoji: 'ünï ✓' },
    };
    // Versions arrive out of order and in separate batches.
    await store.insertVerdicts([v3], 't-v3');
    await store.insertVerdicts([v1, v2], 't-v12');
    const tl = await store.timeline('req-1', 'tl');
    expect(tl).not.toBeNull();
    if (!tl) return;
    expect(tl.version).toBe(3);
    expect(tl.verdict).toBe('delivered_late');
    expect(tl.is_correction).toBe(true);
    expect(tl.previous_verdict).toBe('missing_outcome');
    expect(tl.flags).toEqual(['retried', 'failed_over']);
    expect(tl.error_code).toBe('E1');
    expect(tl.error_category).toBe('temporary');
    expect(tl.attributes).toEqual(v3.attributes);
    expect(tl.layers).toEqual({
      api_ok: v3.api_ok,
      execution_ok: v3.execution_ok,
      outcome_ok: v3.outcome_ok,
    });
    expect(tl.clock).toEqual({
      fired_by: v3.fired_by,
      watermark_lag_ms: v3.watermark_lag_ms,
      decided_at_ms: v3.decided_at,
      emitted_at_ms: v3.emitted_at,
    });
    expect(tl.accepted_at_ms).toBe(v3.accepted_at);
    expect(tl.deadline_at_ms).toBe((v3.accepted_at ?? 0) + v3.sla_ms);
    expect(tl.first_dispatch_at_ms).toBe(v3.first_dispatch_at);
    expect(tl.provider_accepted_at_ms).toBe(v3.provider_accepted_at);
    expect(tl.final_at_ms).toBe(v3.final_at);
    expect(tl.input_fingerprint).toBe(v3.input_fingerprint);
    expect([
      tl.operation,
      tl.channel,
      tl.evidence_level,
      tl.callbacks,
      tl.duplicate_callbacks,
      tl.sla_ms,
      tl.give_up_ms,
    ]).toEqual([
      v3.operation,
      v3.channel,
      v3.evidence_level,
      v3.callbacks,
      v3.duplicate_callbacks,
      v3.sla_ms,
      v3.give_up_ms,
    ]);
    expect(tl.attempts).toEqual(
      v3.attempts.map((a) => ({
        attempt_id: a.attempt_id,
        attempt_no: a.attempt_no,
        reason: a.reason,
        route: a.route,
        provider: a.provider,
        provider_message_id: a.provider_message_id,
        submit_outcome: a.submit_outcome,
        dispatched_at_ms: a.dispatched_at,
        last_status: a.last_status,
        last_status_at_ms: a.last_status_at,
      })),
    );
    const last = v3.attempts[v3.attempts.length - 1];
    expect([tl.route, tl.provider]).toEqual([last?.route, last?.provider]);
    expect(tl.latency_ms).toEqual({
      accept_to_dispatch: (v3.first_dispatch_at ?? 0) - (v3.accepted_at ?? 0),
      dispatch_to_provider_accept: (v3.provider_accepted_at ?? 0) - (v3.first_dispatch_at ?? 0),
      provider_accept_to_final: (v3.final_at ?? 0) - (v3.provider_accepted_at ?? 0),
      end_to_end: (v3.final_at ?? 0) - (v3.accepted_at ?? 0),
    });
    expect(
      tl.events
        .filter((e) => e.kind !== 'version')
        .map((e) => ({ kind: e.kind, at: e.at_ms, detail: e.detail })),
    ).toEqual(v3.hops);
    expect(tl.events.map((e) => e.at_ms)).toEqual([...tl.events.map((e) => e.at_ms)].sort((a, b) => a - b));
    expect(
      tl.versions.map((x) => [
        x.version,
        x.verdict,
        x.provisional,
        x.is_correction,
        x.previous_verdict,
        x.fired_by,
      ]),
    ).toEqual([
      [1, 'overdue', true, false, null, 'wall_clock'],
      [2, 'missing_outcome', false, false, 'overdue', 'watermark'],
      [3, 'delivered_late', false, true, 'missing_outcome', 'event'],
    ]);
    expect(await store.timeline('req-1', 'other-tenant')).toBeNull();
    expect((await store.timeline('req-1'))?.tenant_id).toBe('tl');
  });

  it('stores orphans (no accepted_at) under their earliest evidence', async () => {
    const base = v(2, { tenant_id: 'orph' });
    const o: Verdict = {
      ...base,
      verdict: 'orphan_dispatch',
      accepted_at: null,
      verdict_id: 'req-2:v1',
      hops: base.hops.filter((h) => h.kind !== 'accepted'),
    };
    await store.insertVerdicts([o], 'orphan-1');
    const tl = await store.timeline('req-2', 'orph');
    expect(tl?.accepted_at_ms).toBeNull();
    expect(tl?.deadline_at_ms).toBeNull();
    expect(tl?.latency_ms.end_to_end).toBeNull();
    expect(tl?.events[0]?.offset_ms).toBe(0);
    expect(pathAnchorMs(o)).toBe(o.first_dispatch_at);
  });

  describe('analytics over a known population', () => {
    const T = 'tenant-q';
    const rows: Verdict[] = [];
    beforeAll(async () => {
      for (let i = 100; i < 700; i++) rows.push(v(i, { tenant_id: T }));
      // Same-input groups: fp-a: on_time, on_time, failed; fp-b: late, late (consistent).
      const fp = (r: Verdict, f: string, verdict: VerdictClass): Verdict => ({
        ...r,
        input_fingerprint: f,
        verdict,
        provisional: false,
      });
      rows[0] = fp(rows[0] as Verdict, 'fp-a', 'delivered_on_time');
      rows[1] = fp(rows[1] as Verdict, 'fp-a', 'delivered_on_time');
      rows[2] = fp(rows[2] as Verdict, 'fp-a', 'failed');
      rows[3] = fp(rows[3] as Verdict, 'fp-b', 'delivered_late');
      rows[4] = fp(rows[4] as Verdict, 'fp-b', 'delivered_late');
      await store.insertVerdicts(rows.slice(0, 300), 'pop-1');
      await store.insertVerdicts(rows.slice(300), 'pop-2');
      await store.refreshRollups();
    });

    it('latency and on-time rate per provider match a reference computed from the verdicts', async () => {
      const res = await store.latency({
        ...window,
        tenant: T,
        group_by: ['provider'],
        bucket: 'none',
        stage: 'e2e',
        limit: 100,
      });
      const ref = new Map<
        string,
        { n: number; settled: number; onTime: number; executed: number; e2e: number[] }
      >();
      for (const r of rows) {
        const p = r.attempts[r.attempts.length - 1]?.provider ?? '';
        const e = ref.get(p) ?? { n: 0, settled: 0, onTime: 0, executed: 0, e2e: [] };
        e.n++;
        if (r.execution_ok === true) e.executed++;
        if (!r.provisional) e.settled++;
        if (r.verdict === 'delivered_on_time') e.onTime++;
        if (r.final_at !== null && r.accepted_at !== null) e.e2e.push(r.final_at - r.accepted_at);
        ref.set(p, e);
      }
      expect(res.map((r) => r.group.provider).sort()).toEqual([...ref.keys()].sort());
      for (const r of res) {
        const e = ref.get(r.group.provider ?? '');
        expect(r.requests).toBe(e?.n);
        expect(r.settled).toBe(e?.settled);
        expect(r.on_time).toBe(e?.onTime);
        expect(r.execution_ok).toBe(e?.executed);
        expect(r.on_time_rate).toBeCloseTo((e?.onTime ?? 0) / (e?.settled ?? 1), 10);
        const sorted = [...(e?.e2e ?? [])].sort((a, b) => a - b);
        if (sorted.length === 0) {
          expect([r.mean_ms, r.p50_ms, r.p99_ms]).toEqual([null, null, null]);
          continue;
        }
        const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
        expect(r.mean_ms).toBeCloseTo(mean, 6);
        // Log-bucketed histograms: every percentile within one bucket width (2^(1/8)) of the order statistic.
        const width = 2 ** (1 / 8) * (1 + 1e-9);
        for (const [q, got] of [
          [0.5, r.p50_ms],
          [0.9, r.p90_ms],
          [0.95, r.p95_ms],
          [0.99, r.p99_ms],
        ] as const) {
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? 0;
          expect((got ?? 0) / exact, `p${q * 100}`).toBeLessThanOrEqual(width);
          expect(exact / (got ?? 1), `p${q * 100}`).toBeLessThanOrEqual(width);
        }
      }
      const hourly = await store.latency({
        ...window,
        tenant: T,
        group_by: [],
        bucket: 'hour',
        stage: 'e2e',
        limit: 100,
      });
      expect(hourly.reduce((a, r) => a + r.requests, 0)).toBe(rows.length);
      expect(hourly.every((r) => r.bucket_start_ms !== null && r.bucket_start_ms % HOUR === 0)).toBe(true);
    });

    it('same input, different outcome: inconsistent inputs with their consistency and the window score', async () => {
      const res = await store.sameInput({ ...window, tenant: T, min_requests: 2, limit: 10 });
      expect(res.items).toHaveLength(1);
      expect(res.items[0]).toMatchObject({
        input_fingerprint: 'fp-a',
        requests: 3,
        modal_verdict: 'delivered_on_time',
        outcomes: { delivered_on_time: 2, failed: 1 },
      });
      expect(res.items[0]?.consistency).toBeCloseTo(2 / 3, 10);
      expect(res.fingerprints).toBe(2);
      expect(res.inconsistent_fingerprints).toBe(1);
      expect(res.consistency_score).toBeCloseTo(4 / 5, 10);
      const none = await store.sameInput({ ...window, tenant: T, min_requests: 4, limit: 10 });
      expect(none).toEqual({
        fingerprints: 0,
        inconsistent_fingerprints: 0,
        consistency_score: null,
        items: [],
      });
    });

    it('flip rate: repeated inputs whose outcome flips, and corrections from the version history', async () => {
      const res = await store.flipRate({ ...window, tenant: T, group_by: [], bucket: 'none', limit: 10 });
      expect(res).toHaveLength(1);
      expect(res[0]).toMatchObject({ repeated_inputs: 2, flipped_inputs: 1, input_flip_rate: 0.5 });
      expect(res[0]?.settled_requests).toBe(
        rows.filter((r) => !r.provisional && !r.verdict.startsWith('orphan')).length,
      );
      expect(res[0]?.corrected_requests).toBe(0);
    });

    it('explain ranks attribute values by lift for a cohort, with support thresholds', async () => {
      const res = await store.explain({
        ...window,
        tenant: T,
        cohort: 'delivered_late',
        min_support: 20,
        min_cohort: 5,
        limit: 50,
      });
      const population = rows.length;
      const late = rows.filter((r) => r.verdict === 'delivered_late');
      expect(res.population).toBe(population);
      expect(res.cohort_size).toBe(late.length);
      expect(res.items.length).toBeGreaterThan(0);
      // Reference for one item: recompute support/cohort_count/lift from the verdicts.
      for (const item of res.items.slice(0, 5)) {
        const has = (r: Verdict): boolean => {
          if (item.dimension === 'provider')
            return r.attempts[r.attempts.length - 1]?.provider === item.value;
          if (item.dimension === 'first_provider') return r.attempts[0]?.provider === item.value;
          if (item.dimension === 'route') return r.attempts[r.attempts.length - 1]?.route === item.value;
          if (item.dimension === 'flag') return r.flags.includes(item.value);
          if (item.dimension === 'attempts') return String(r.attempts.length) === item.value;
          if (item.dimension.startsWith('attr.')) return r.attributes[item.dimension.slice(5)] === item.value;
          return (r as unknown as Record<string, unknown>)[item.dimension] === item.value;
        };
        const support = rows.filter(has).length;
        const c = late.filter(has).length;
        expect([item.support, item.cohort_count]).toEqual([support, c]);
        const lift = (c + 1) / (support + 2) / ((late.length - c + 1) / (population - support + 2));
        expect(item.lift).toBeCloseTo(lift, 9);
        expect(item.support).toBeGreaterThanOrEqual(20);
        expect(item.cohort_count).toBeGreaterThanOrEqual(5);
      }
      expect(res.items.map((i) => i.lift)).toEqual([...res.items.map((i) => i.lift)].sort((a, b) => b - a));
      // The planted cause (a slow provider) is the top explanation.
      expect(res.items.slice(0, 3).map((i) => `${i.dimension}=${i.value}`)).toContain(
        'first_provider=vonage',
      );
    });

    it('open anomalies list overdue and missing requests until a correction resolves them', async () => {
      const q = {
        ...window,
        tenant: T,
        kinds: ['overdue', 'missing_dispatch', 'missing_outcome'] as const,
        limit: 1000,
        now_ms: Date.now(),
      };
      const before = await store.openAnomalies(q);
      const expected = rows.filter((r) =>
        ['overdue', 'missing_dispatch', 'missing_outcome'].includes(r.verdict),
      );
      expect(before.items.map((i) => i.request_id).sort()).toEqual(expected.map((r) => r.request_id).sort());
      expect(before.counts.missing_outcome).toBe(
        expected.filter((r) => r.verdict === 'missing_outcome').length,
      );
      const target = expected[0];
      expect(target).toBeDefined();
      if (!target) return;
      await store.insertVerdicts(
        [
          {
            ...target,
            version: 2,
            verdict_id: `${target.request_id}:v2`,
            verdict: 'delivered_late',
            is_correction: true,
            previous_verdict: target.verdict,
            final_at: (target.accepted_at ?? 0) + 50_000,
          },
        ],
        'fix-1',
      );
      const after = await store.openAnomalies(q);
      expect(after.items.map((i) => i.request_id)).not.toContain(target.request_id);
      expect(after.items).toHaveLength(before.items.length - 1);
      const flips = await store.flipRate({ ...window, tenant: T, group_by: [], bucket: 'none', limit: 10 });
      expect(flips[0]?.corrected_requests).toBe(1);
    });
  });
});
