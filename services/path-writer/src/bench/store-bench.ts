/**
 * Store benchmark for `npm run bench:store`: returns figures, prints nothing.
 *
 * 1. Insert speed of full path rows into the embedded engine: the path store's Native path against JSONEachRow
 *    through the same client, same table (with its materialized view), same data, same run.
 * 2. A bulk load of `bulkRows` path records generated server-side (INSERT ... SELECT FROM numbers()), 1% of them
 *    corrected by a second version, then a full rollup rebuild.
 * 3. Query latency (p50 of `queryRuns`): dashboard queries on the rollup, and variance / explain / anomalies /
 *    timeline on the raw table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRootLogger } from '@pathwatch/core';
import {
  PATH_INSERT_COLUMNS,
  PathBlockEncoder,
  openPathStore,
  pathAnchorMs,
  type PathStore,
} from '@pathwatch/path-store';
import type { Verdict } from '@pathwatch/schemas';
import { batchToken } from '../writer.js';
import { syntheticVerdict } from '../synthetic.js';

export interface StoreBenchOptions {
  /** Embedded data directory. @default a fresh temp dir, removed afterwards */
  dataDir?: string;
  /** Rows per insert-speed measurement. @default 200000 */
  insertRows?: number;
  /** Rows for the JSONEachRow baseline. @default 100000 */
  baselineRows?: number;
  /** Batch sizes to measure the Native path with (the JSONEachRow baseline uses 50000). @default [10000, 50000, 100000] */
  batchRows?: readonly number[];
  /** Path records for the query benchmark. @default 10000000 (0 skips it) */
  bulkRows?: number;
  /** Runs per query (p50 reported). @default 5 */
  queryRuns?: number;
  /** Progress of long steps. */
  onProgress?: (message: string) => void;
}

export interface InsertFigure {
  method: string;
  batchRows: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  /** Time spent encoding alone (measured separately for the Native path; inside `seconds` for the baseline). */
  encodeSeconds: number;
  /** Process CPU time (all threads: JS, engine, background merges) over `seconds`. */
  cpuSeconds: number;
  /** Rows per CPU-second: the figure that does not depend on other load on the machine. */
  rowsPerCpuSec: number;
}

export interface QueryFigure {
  name: string;
  kind: 'rollup' | 'raw';
  /** Target for the p50 (ms). */
  targetMs: number;
  p50Ms: number;
  minMs: number;
  maxMs: number;
  runs: number;
  resultRows: number;
}

export interface StoreBenchResult {
  /** os.loadavg() at the start and the end: throughput is only comparable on an otherwise idle machine. */
  loadAverage: { start: number[]; end: number[]; cpus: number };
  insert: InsertFigure[];
  bulk: {
    rows: number;
    corrections: number;
    seconds: number;
    rowsPerSec: number;
    /** OPTIMIZE TABLE path_records FINAL after the load (queries then run on settled parts). */
    optimizeSeconds: number;
    rollupBuckets: number;
    rollupSeconds: number;
  } | null;
  storage: { table: string; rows: number; compressedBytes: number; uncompressedBytes: number }[];
  queries: QueryFigure[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** The baseline's row shape: what a JSONEachRow writer has to build per verdict. */
function jsonRow(v: Verdict): Record<string, unknown> {
  return {
    tenant_id: v.tenant_id,
    request_id: v.request_id,
    path_at: iso(pathAnchorMs(v)),
    version: v.version,
    verdict_id: v.verdict_id,
    verdict: v.verdict,
    provisional: v.provisional,
    is_correction: v.is_correction,
    previous_verdict: v.previous_verdict ?? '',
    error_category: v.error_category ?? '',
    error_code: v.error_code ?? '',
    flags: v.flags,
    api_ok: v.api_ok,
    execution_ok: v.execution_ok,
    outcome_ok: v.outcome_ok,
    fired_by: v.fired_by,
    watermark_lag_ms: v.watermark_lag_ms,
    decided_at: iso(v.decided_at),
    emitted_at: iso(v.emitted_at),
    operation: v.operation,
    channel: v.channel,
    input_fingerprint: v.input_fingerprint,
    attributes: v.attributes,
    accepted_at: iso(v.accepted_at),
    sla_ms: v.sla_ms,
    give_up_ms: v.give_up_ms,
    first_dispatch_at: iso(v.first_dispatch_at),
    provider_accepted_at: iso(v.provider_accepted_at),
    final_at: iso(v.final_at),
    evidence_level: v.evidence_level,
    callbacks: v.callbacks,
    duplicate_callbacks: v.duplicate_callbacks,
    'attempts.attempt_id': v.attempts.map((a) => a.attempt_id),
    'attempts.attempt_no': v.attempts.map((a) => a.attempt_no),
    'attempts.reason': v.attempts.map((a) => a.reason),
    'attempts.route': v.attempts.map((a) => a.route),
    'attempts.provider': v.attempts.map((a) => a.provider),
    'attempts.provider_message_id': v.attempts.map((a) => a.provider_message_id),
    'attempts.submit_outcome': v.attempts.map((a) => a.submit_outcome),
    'attempts.dispatched_at': v.attempts.map((a) => iso(a.dispatched_at)),
    'attempts.last_status': v.attempts.map((a) => a.last_status),
    'attempts.last_status_at': v.attempts.map((a) => iso(a.last_status_at)),
    'hops.kind': v.hops.map((h) => h.kind),
    'hops.at': v.hops.map((h) => iso(h.at)),
    'hops.detail': v.hops.map((h) => h.detail),
  };
}

/**
 * Server-side generator of realistic path records (same shapes as syntheticVerdict: retries/failover, a slow
 * provider and country, late/failed/missing/overdue outcomes, ~3 requests per input). Params: {n}, {start_ms},
 * {spacing_ms}, {per_input} (consecutive requests sharing an input, tenant and operation), {every} (keep numbers divisible by it), {version}, {late} (force delivered_late).
 */
const BULK_SQL = `INSERT INTO path_records (${PATH_INSERT_COLUMNS.map((c) => `\`${c}\``).join(', ')})
SETTINGS optimize_on_insert = 0, async_insert = 0
SELECT
    tenant_id, request_id, accepted, {version:UInt32}, concat(request_id, ':v', toString({version:UInt32})), verdict,
    verdict = 'overdue', {version:UInt32} > 1, if({version:UInt32} > 1, 'missing_outcome', ''),
    if(verdict = 'failed', 'permanent_number', ''), if(verdict = 'failed', '30003', ''),
    arrayConcat(if(failover, ['retried', 'failed_over'], []), if(dup, ['duplicate_callback'], [])),
    true, verdict != 'missing_dispatch', if(verdict = 'overdue', NULL, verdict = 'delivered_on_time'),
    multiIf(final_at IS NOT NULL, 'event', verdict = 'overdue', 'wall_clock', 'watermark'),
    toInt64(50 + h3 % 900), decided, decided + toIntervalMillisecond(5 + h3 % 200),
    operation, channel, concat('sha256:', hex(hg)),
    map('country', country, 'template', concat('tpl-', toString(h2 % 12)), 'priority', if(h2 % 4 = 0, 'high', 'normal')),
    accepted, sla, toUInt32(120000),
    if(md, NULL, d1), if(md, NULL, d1 + toIntervalMillisecond(40 + h3 % 200)), final_at,
    if(final_at IS NULL, 'none', 'handset'), toUInt32(if(final_at IS NULL, 0, if(dup, 3, 2))), toUInt32(dup),
    if(md, [], if(failover, [concat(request_id, '/a1'), concat(request_id, '/a2')], [concat(request_id, '/a1')])),
    CAST(if(md, [], if(failover, [1, 2], [1])), 'Array(UInt16)'),
    if(md, [], if(failover, ['initial', 'failover'], ['initial'])),
    if(md, [], if(failover, [r1, concat(p2, '-r1')], [r1])),
    if(md, [], if(failover, [p1, p2], [p1])),
    CAST(if(md, [], if(failover, [concat(p1, '-', toString(number)), concat(p2, '-', toString(number))], [concat(p1, '-', toString(number))])), 'Array(Nullable(String))'),
    if(md, [], if(failover, ['accepted', 'accepted'], ['accepted'])),
    if(md, [], if(failover, [d1, d_last], [d1])),
    CAST(if(md, [], if(failover, ['undelivered', 'delivered'], ['delivered'])), 'Array(Nullable(String))'),
    CAST(if(md, [], if(failover, [d1 + toIntervalMillisecond(900), d_last + toIntervalMillisecond(900)], [d1 + toIntervalMillisecond(900)])), 'Array(Nullable(DateTime64(3, \\'UTC\\')))'),
    arrayMap(x -> x.1, hops_t), arrayMap(x -> x.2, hops_t), arrayMap(x -> x.3, hops_t)
FROM
(
    SELECT *,
        if(verdict IN ('missing_outcome', 'missing_dispatch', 'overdue'), NULL, final_raw) AS final_at,
        if(final_at IS NULL, accepted + toIntervalMillisecond(if(verdict = 'overdue', sla, 120000)), assumeNotNull(final_at)) AS decided,
        verdict = 'missing_dispatch' AS md,
        arrayConcat(
            [('accepted', accepted, concat('api 202 ', operation))],
            if(md, [], if(failover,
                [('dispatch', d1, concat('initial ', p1, '/', r1, ' accepted')), ('dispatch', d_last, concat('failover ', p2, '/', p2, '-r1 accepted'))],
                [('dispatch', d1, concat('initial ', p1, '/', r1, ' accepted'))])),
            if(final_at IS NULL, [], [('callback', assumeNotNull(final_at), if(verdict = 'failed', 'failed (operator)', 'delivered (handset)'))]),
            [('verdict', decided, verdict)]) AS hops_t
    FROM
    (
        SELECT *,
            if({late:UInt8} = 1, accepted + toIntervalMillisecond(sla + 1 + h3 % 5000), d_last + toIntervalMillisecond((400 + intDiv(h3, 65536) % 6000) * slow)) AS final_raw,
            multiIf({late:UInt8} = 1, 'delivered_late', roll < 20, 'failed', roll < 30, 'missing_outcome', roll < 33, 'missing_dispatch',
                    accepted > now64(3) - toIntervalHour(1) AND roll < 60, 'overdue',
                    dateDiff('millisecond', accepted, d_last + toIntervalMillisecond((400 + intDiv(h3, 65536) % 6000) * slow)) <= sla,
                    'delivered_on_time', 'delivered_late') AS verdict
        FROM
        (
            SELECT *,
                concat(p1, '-r', toString(1 + intDiv(h2, 256) % 2)) AS r1,
                if(p1 = 'vonage', 3, 1) * if(country = 'NG', 2, 1) AS slow,
                if(channel = 'email', 60000, 10000) AS sla,
                accepted + toIntervalMillisecond(15 + h3 % 120) AS d1,
                if(failover, d1 + toIntervalMillisecond(2500), d1) AS d_last
            FROM
            (
                SELECT number, h, h2, h3, hg,
                    concat('tenant-', toString(hg % 20)) AS tenant_id,
                    concat('req-', toString(number)) AS request_id,
                    fromUnixTimestamp64Milli(toInt64({start_ms:Int64} + number * {spacing_ms:Float64}), 'UTC') AS accepted,
                    ['otp.send', 'receipt.email', 'alert.push', 'payment.capture', 'otp.voice'][intDiv(hg, 64) % 5 + 1] AS operation,
                    ['sms', 'email', 'push', 'payment', 'voice'][intDiv(hg, 64) % 5 + 1] AS channel,
                    ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'NG', 'JP', 'MX', 'ID'][intDiv(hg, 1024) % 10 + 1] AS country,
                    ['twilio', 'sinch', 'vonage', 'infobip', 'messagebird'][if(intDiv(h, 256) % 10 < 7, intDiv(h, 4096) % 2, intDiv(h, 4096) % 5) + 1] AS p1,
                    ['twilio', 'sinch', 'vonage', 'infobip', 'messagebird'][intDiv(h, 1048576) % 5 + 1] AS p2,
                    intDiv(h, 65536) % 12 = 0 AS failover,
                    intDiv(h, 16777216) % 20 = 0 AS dup,
                    intDiv(h3, 4294967296) % 1000 AS roll
                FROM (SELECT number, cityHash64(number) AS h, cityHash64(number, 1) AS h2, cityHash64(number, 2) AS h3,
                             cityHash64(intDiv(number, {per_input:UInt64}), 3) AS hg
                      FROM numbers({n:UInt64}))
                WHERE number % {every:UInt64} = 0
            )
        )
    )
)`;

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? 0;
}

async function timeQuery(
  name: string,
  kind: QueryFigure['kind'],
  runs: number,
  fn: () => Promise<unknown>,
): Promise<QueryFigure> {
  await fn(); // warm (marks, caches): dashboards run the same queries over and over
  const times: number[] = [];
  let resultRows = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = await fn();
    times.push(performance.now() - t);
    resultRows = Array.isArray(r)
      ? r.length
      : r && typeof r === 'object' && 'items' in r && Array.isArray(r.items)
        ? r.items.length
        : 1;
  }
  return {
    name,
    kind,
    targetMs: kind === 'rollup' ? 100 : 1500,
    p50Ms: Math.round(p50(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
    runs,
    resultRows,
  };
}

async function measureInserts(
  store: PathStore,
  opts: Required<Pick<StoreBenchOptions, 'insertRows' | 'baselineRows' | 'batchRows'>>,
  startMs: number,
): Promise<InsertFigure[]> {
  const total = Math.max(opts.insertRows, opts.baselineRows);
  const verdicts = Array.from({ length: total }, (_, i) => syntheticVerdict(i, { startMs, spacingMs: 50 }));
  const out: InsertFigure[] = [];
  const clear = async (): Promise<void> => {
    await store.ch.command('TRUNCATE TABLE path_records');
    await store.ch.command('TRUNCATE TABLE path_versions');
  };
  // Warm-up: first inserts pay for lazy engine initialisation.
  await store.insertVerdicts(verdicts.slice(0, 1000), 'bench-warm');
  for (const batch of opts.batchRows) {
    await clear();
    const rows = opts.insertRows;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < rows; i += batch) {
      const chunk = verdicts.slice(i, Math.min(i + batch, rows));
      await store.insertVerdicts(chunk, batchToken(chunk));
    }
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // Encoding alone, for the split (not part of the figure above).
    const te = performance.now();
    const encoder = new PathBlockEncoder();
    for (let i = 0; i < rows; i += batch) encoder.encode(verdicts.slice(i, Math.min(i + batch, rows)));
    out.push({
      method: 'Native block (path store)',
      batchRows: batch,
      rows,
      seconds,
      rowsPerSec: Math.round(rows / seconds),
      encodeSeconds: (performance.now() - te) / 1000,
      cpuSeconds,
      rowsPerCpuSec: Math.round(rows / cpuSeconds),
    });
  }
  {
    await clear();
    const batch = 50_000;
    const rows = opts.baselineRows;
    const cpu0 = process.cpuUsage();
    const t = performance.now();
    let encode = 0;
    for (let i = 0; i < rows; i += batch) {
      const te = performance.now();
      const chunk = verdicts.slice(i, Math.min(i + batch, rows)).map(jsonRow);
      encode += performance.now() - te;
      await store.ch.insertJsonEachRow('path_records', PATH_INSERT_COLUMNS, chunk, `bench-json-${i}`);
    }
    const seconds = (performance.now() - t) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    out.push({
      method: 'JSONEachRow (baseline)',
      batchRows: batch,
      rows,
      seconds,
      rowsPerSec: Math.round(rows / seconds),
      encodeSeconds: encode / 1000,
      cpuSeconds,
      rowsPerCpuSec: Math.round(rows / cpuSeconds),
    });
  }
  await clear();
  return out;
}

export async function benchStore(options: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const progress = options.onProgress ?? (() => undefined);
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pathwatch-bench-store-'));
  const logger = createRootLogger({
    level: 'warn',
    name: 'bench-store',
    destination: { write: () => undefined },
  });
  const store = await openPathStore(
    { mode: 'embedded', dataDir, database: 'bench' },
    { logger, now: () => Date.now() },
  );
  const runs = options.queryRuns ?? 5;
  const bulkRows = options.bulkRows ?? 10_000_000;
  const nowMs = Date.now();
  const result: StoreBenchResult = {
    loadAverage: { start: loadavg(), end: [], cpus: cpus().length },
    insert: [],
    bulk: null,
    storage: [],
    queries: [],
  };
  try {
    progress('insert speed: Native block vs JSONEachRow');
    result.insert = await measureInserts(
      store,
      {
        insertRows: options.insertRows ?? 200_000,
        baselineRows: options.baselineRows ?? 100_000,
        batchRows: options.batchRows ?? [10_000, 50_000, 100_000],
      },
      nowMs - 2 * DAY,
    );
    if (bulkRows > 0) {
      const spanMs = 30 * DAY;
      const startMs = nowMs - spanMs;
      const spacing = spanMs / bulkRows;
      progress(`bulk load: ${bulkRows.toLocaleString('en')} path records over 30 days (server-side)`);
      const t = performance.now();
      const base = {
        n: bulkRows,
        start_ms: startMs,
        spacing_ms: spacing,
        per_input: 3,
      };
      await store.ch.command(BULK_SQL, { ...base, every: 1, version: 1, late: 0 });
      progress('bulk load: 1% corrected by a second version');
      await store.ch.command(BULK_SQL, { ...base, every: 100, version: 2, late: 1 });
      const seconds = (performance.now() - t) / 1000;
      // A bulk load leaves a few large overlapping parts; a live system merges them in the background. Settle
      // them so FINAL queries see what they would on data older than the last few hours.
      progress('settling merges (OPTIMIZE TABLE path_records FINAL)');
      const to = performance.now();
      await store.ch.command('OPTIMIZE TABLE path_records FINAL');
      const optimizeSeconds = (performance.now() - to) / 1000;
      progress('rollup rebuild over 30 days');
      const tr = performance.now();
      const rb = await store.rebuildRollups({ from_ms: startMs - HOUR, to_ms: nowMs + HOUR });
      const rollupSeconds = (performance.now() - tr) / 1000;
      const corrections = Math.ceil(bulkRows / 100);
      result.bulk = {
        rows: bulkRows,
        corrections,
        seconds,
        rowsPerSec: Math.round((bulkRows + corrections) / seconds),
        optimizeSeconds,
        rollupBuckets: rb.buckets,
        rollupSeconds,
      };

      progress('queries');
      const w7 = { from_ms: nowMs - 7 * DAY, to_ms: nowMs };
      const w1 = { from_ms: nowMs - DAY, to_ms: nowMs };
      const w30 = { from_ms: startMs, to_ms: nowMs + HOUR };
      const q = result.queries;
      q.push(
        await timeQuery('latency: 1 tenant, 7 d, hourly, route x provider', 'rollup', runs, () =>
          store.latency({
            ...w7,
            tenant: 'tenant-3',
            group_by: ['route', 'provider'],
            bucket: 'hour',
            stage: 'e2e',
            limit: 10_000,
          }),
        ),
      );
      q.push(
        await timeQuery('latency: all tenants, 24 h, hourly, by provider', 'rollup', runs, () =>
          store.latency({ ...w1, group_by: ['provider'], bucket: 'hour', stage: 'e2e', limit: 10_000 }),
        ),
      );
      q.push(
        await timeQuery('on-time: all tenants, 30 d, daily, by operation', 'rollup', runs, () =>
          store.latency({ ...w30, group_by: ['operation'], bucket: 'day', stage: 'e2e', limit: 10_000 }),
        ),
      );
      q.push(
        await timeQuery('latency: 1 tenant, 30 d, by provider (dispatch leg)', 'rollup', runs, () =>
          store.latency({
            ...w30,
            tenant: 'tenant-3',
            group_by: ['provider'],
            bucket: 'none',
            stage: 'dispatch',
            limit: 10_000,
          }),
        ),
      );
      q.push(
        await timeQuery('explain delivered_late: all tenants, 7 d', 'raw', runs, () =>
          store.explain({ ...w7, cohort: 'delivered_late', min_support: 100, min_cohort: 20, limit: 25 }),
        ),
      );
      q.push(
        await timeQuery('explain not_on_time: 1 tenant, 7 d', 'raw', runs, () =>
          store.explain({
            ...w7,
            tenant: 'tenant-3',
            cohort: 'not_on_time',
            min_support: 50,
            min_cohort: 10,
            limit: 25,
          }),
        ),
      );
      q.push(
        await timeQuery('same input, different outcome: all tenants, 7 d', 'raw', runs, () =>
          store.sameInput({ ...w7, min_requests: 2, limit: 50 }),
        ),
      );
      q.push(
        await timeQuery('flip rate by provider: all tenants, 7 d', 'raw', runs, () =>
          store.flipRate({ ...w7, group_by: ['provider'], bucket: 'none', limit: 100 }),
        ),
      );
      q.push(
        await timeQuery('explain delivered_late: all tenants, 30 d (all 10M)', 'raw', runs, () =>
          store.explain({ ...w30, cohort: 'delivered_late', min_support: 100, min_cohort: 20, limit: 25 }),
        ),
      );
      q.push(
        await timeQuery('open anomalies: all tenants, 24 h', 'raw', runs, () =>
          store.openAnomalies({
            ...w1,
            kinds: ['overdue', 'missing_dispatch', 'missing_outcome'],
            limit: 100,
            now_ms: nowMs,
          }),
        ),
      );
      // The dashboard's own reads: request search (and the explain drill-down) and pipeline health.
      const mid = Math.floor(bulkRows / 2);
      q.push(
        await timeQuery('search by provider message id: all tenants, 7 d', 'raw', runs, () =>
          store.searchRequests({ ...w7, provider_message_id: `twilio-${mid}-0`, limit: 50 }),
        ),
      );
      q.push(
        await timeQuery('search: 1 tenant, 24 h, newest 100 with count', 'raw', runs, () =>
          store.searchRequests({ ...w1, tenant: 'tenant-3', limit: 100 }),
        ),
      );
      q.push(
        await timeQuery('explain drill-down (cohort + provider): all tenants, 7 d', 'raw', runs, () =>
          store.searchRequests({
            ...w7,
            cohort: 'delivered_late',
            dimension: 'provider',
            value: 'vonage',
            limit: 100,
          }),
        ),
      );
      q.push(
        await timeQuery('pipeline buckets: all tenants, 24 h, hourly', 'raw', runs, () =>
          store.pipelineBuckets({ ...w1, step_s: 3600, scan_from_ms: w1.from_ms - 2 * DAY }),
        ),
      );
      q.push(
        await timeQuery('timeline of one request (no tenant)', 'raw', runs, () =>
          store.timeline(`req-${Math.floor(bulkRows / 2)}`),
        ),
      );
    }
    const storage = await store.ch.query<{ table: string; rows: string; c: string; u: string }>(
      `SELECT table, toString(sum(rows)) AS rows, toString(sum(data_compressed_bytes)) AS c, toString(sum(data_uncompressed_bytes)) AS u
       FROM system.parts WHERE database = currentDatabase() AND active GROUP BY table ORDER BY table`,
    );
    result.loadAverage.end = loadavg();
    result.storage = storage.map((s) => ({
      table: s.table,
      rows: Number(s.rows),
      compressedBytes: Number(s.c),
      uncompressedBytes: Number(s.u),
    }));
    return result;
  } finally {
    await store.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
