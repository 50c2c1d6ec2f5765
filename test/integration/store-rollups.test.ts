/**
 * Rollups under corrections, on real chdb: after any interleaving of batches (versions out of order, redelivered
 * duplicates, corrections that move a request to another provider) and refreshes, the hourly rollup equals a
 * reference model that keeps only the highest version of each request. No double counting, no stale groups.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Verdict, VerdictClass } from '@pathwatch/schemas';
import { createRootLogger } from '@pathwatch/core';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const dataDir = mkdtempSync(join(tmpdir(), 'pw-store-roll-'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Requests over ~2.5 days (whole UTC days in the window exercise the daily rollup level too), all inside the
// correction window measured on the server clock.
const start = Math.floor((Date.now() - 60 * HOUR) / HOUR) * HOUR;
const window = { from_ms: start - HOUR, to_ms: Date.now() + HOUR };
type Grain = 'hour' | 'day' | 'none';
const CLASSES: VerdictClass[] = [
  'delivered_on_time',
  'delivered_late',
  'failed',
  'missing_outcome',
  'overdue',
];
const PROVIDERS = ['pa', 'pb', 'pc'];
let dbSeq = 0;

interface Ver {
  req: number;
  version: number;
  verdict: VerdictClass;
  provider: string;
}

function toVerdict(x: Ver, tenant: string, hourOffset: number): Verdict {
  const base = syntheticVerdict(x.req, { startMs: start + hourOffset * HOUR, spacingMs: 0 });
  const attempt = {
    ...(base.attempts[0] ?? {
      attempt_id: 'a',
      attempt_no: 1,
      reason: 'initial' as const,
      route: 'r',
      provider: 'p',
      provider_message_id: null,
      submit_outcome: 'accepted' as const,
      dispatched_at: base.decided_at,
      last_status: null,
      last_status_at: null,
    }),
    provider: x.provider,
    route: `${x.provider}-r1`,
  };
  const delivered =
    x.verdict === 'delivered_on_time' || x.verdict === 'delivered_late' || x.verdict === 'failed';
  return {
    ...base,
    tenant_id: tenant,
    request_id: `r-${x.req}`,
    verdict_id: `r-${x.req}:v${x.version}`,
    version: x.version,
    verdict: x.verdict,
    provisional: x.verdict === 'overdue',
    is_correction: x.version > 1,
    attempts: [attempt],
    final_at: delivered ? (base.accepted_at ?? 0) + 1000 * x.version : null,
  };
}

type Key = string;
function modelRollup(
  latest: Map<number, Ver>,
  tenantOf: (r: number) => string,
  hourOf: (r: number) => number,
  grain: Grain = 'hour',
): Map<Key, Record<string, number>> {
  const out = new Map<Key, Record<string, number>>();
  for (const x of latest.values()) {
    const t = start + hourOf(x.req) * HOUR;
    const b = grain === 'hour' ? t : grain === 'day' ? Math.floor(t / DAY) * DAY : null;
    const k = JSON.stringify([b, tenantOf(x.req), x.provider]);
    const e = out.get(k) ?? {
      requests: 0,
      settled: 0,
      on_time: 0,
      late: 0,
      failed: 0,
      missing: 0,
      overdue: 0,
      corrected: 0,
    };
    e['requests']! += 1;
    if (x.verdict !== 'overdue') e['settled']! += 1;
    if (x.verdict === 'delivered_on_time') e['on_time']! += 1;
    if (x.verdict === 'delivered_late') e['late']! += 1;
    if (x.verdict === 'failed') e['failed']! += 1;
    if (x.verdict === 'missing_outcome') e['missing']! += 1;
    if (x.verdict === 'overdue') e['overdue']! += 1;
    if (x.version > 1) e['corrected']! += 1;
    out.set(k, e);
  }
  return out;
}

async function storeRollup(
  store: PathStore,
  grain: Grain = 'hour',
): Promise<Map<Key, Record<string, number>>> {
  const rows = await store.latency({
    ...window,
    group_by: ['tenant', 'provider'],
    bucket: grain,
    stage: 'e2e',
    limit: 10_000,
  });
  const out = new Map<Key, Record<string, number>>();
  for (const r of rows) {
    out.set(JSON.stringify([r.bucket_start_ms, r.group.tenant, r.group.provider]), {
      requests: r.requests,
      settled: r.settled,
      on_time: r.on_time,
      late: r.late,
      failed: r.failed,
      missing: r.missing,
      overdue: r.overdue,
      corrected: r.corrected,
    });
  }
  return out;
}

describe('rollups under corrections (embedded)', () => {
  it('a correction replaces the old verdict in the rollup: counted once, in its new group', async () => {
    const store = await openPathStore(
      { mode: 'embedded', dataDir, database: `roll_${++dbSeq}` },
      { logger, now: () => Date.now() },
    );
    try {
      const tenant = () => 't';
      const hour = () => 1;
      await store.insertVerdicts(
        [toVerdict({ req: 1, version: 1, verdict: 'delivered_on_time', provider: 'pa' }, 't', 1)],
        'c1',
      );
      await store.refreshRollups();
      expect(await storeRollup(store)).toEqual(
        modelRollup(
          new Map([[1, { req: 1, version: 1, verdict: 'delivered_on_time', provider: 'pa' }]]),
          tenant,
          hour,
        ),
      );
      // Late evidence: v2 is late and was delivered through another provider.
      await store.insertVerdicts(
        [toVerdict({ req: 1, version: 2, verdict: 'delivered_late', provider: 'pb' }, 't', 1)],
        'c2',
      );
      await store.refreshRollups();
      const after = await storeRollup(store);
      expect(after).toEqual(
        modelRollup(
          new Map([[1, { req: 1, version: 2, verdict: 'delivered_late', provider: 'pb' }]]),
          tenant,
          hour,
        ),
      );
      expect([...after.values()].reduce((a, e) => a + (e['requests'] ?? 0), 0)).toBe(1);
      // Redelivery of v1 (a new batch, so a new token) must not bring the old verdict back.
      await store.insertVerdicts(
        [toVerdict({ req: 1, version: 1, verdict: 'delivered_on_time', provider: 'pa' }, 't', 1)],
        'c1-again',
      );
      await store.refreshRollups();
      expect(await storeRollup(store)).toEqual(after);
    } finally {
      await store.close();
    }
  });

  it('equals the highest-version reference model after any interleaving of batches and refreshes', async () => {
    const verArb = fc.record({
      req: fc.integer({ min: 0, max: 11 }),
      verdict: fc.constantFrom(...CLASSES),
      provider: fc.constantFrom(...PROVIDERS),
    });
    const stepArb = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .array(verArb, { minLength: 1, maxLength: 6 })
          .map((vs) => ({ kind: 'batch' as const, vs })),
      },
      { weight: 1, arbitrary: fc.constant({ kind: 'refresh' as const }) },
      { weight: 1, arbitrary: fc.constant({ kind: 'redeliver' as const }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 10 }), async (steps) => {
        const store = await openPathStore(
          { mode: 'embedded', dataDir, database: `roll_${++dbSeq}` },
          { logger, now: () => Date.now() },
        );
        try {
          const tenantOf = (r: number): string => `t${r % 2}`;
          const hourOf = (r: number): number => (r % 3) * 25;
          const check = async (): Promise<void> => {
            for (const grain of ['hour', 'day', 'none'] as const) {
              expect(await storeRollup(store, grain), grain).toEqual(
                modelRollup(latest, tenantOf, hourOf, grain),
              );
            }
          };
          const nextVersion = new Map<number, number>();
          const latest = new Map<number, Ver>();
          const sent: Ver[][] = [];
          let batchNo = 0;
          for (const step of steps) {
            if (step.kind === 'refresh') {
              await store.refreshRollups();
              await check();
              continue;
            }
            const batch: Ver[] =
              step.kind === 'batch'
                ? step.vs.map((x) => {
                    const version = (nextVersion.get(x.req) ?? 0) + 1;
                    nextVersion.set(x.req, version);
                    return { ...x, version };
                  })
                : (sent[batchNo % Math.max(sent.length, 1)] ?? []);
            if (batch.length === 0) continue;
            if (step.kind === 'batch') sent.push(batch);
            // A redelivered batch may arrive reordered: only the (request, version) identity matters.
            const rows = (step.kind === 'redeliver' ? [...batch].reverse() : batch).map((x) =>
              toVerdict(x, tenantOf(x.req), hourOf(x.req)),
            );
            await store.insertVerdicts(rows, `b-${step.kind}-${batchNo++}`);
            for (const x of batch) if ((latest.get(x.req)?.version ?? 0) < x.version) latest.set(x.req, x);
          }
          await store.refreshRollups();
          await check();
        } finally {
          await store.close();
        }
      }),
      { numRuns: 12 },
    );
  });
});
