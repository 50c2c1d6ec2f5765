// Store suite (issue 4, deliverable 8): runs the store engineer's benchStore (Native insert vs a JSONEachRow
// baseline in the same run, a 10M-record bulk load, query p50s) and judges it against the targets.
import { tablesFromUnknown } from '../external.js';
import { mib, sampleOwnMemory } from '../memory.js';
import { step } from '../progress.js';
import type { Table, Target } from '../report.js';
import { formatNumber } from '../report.js';
import { benchStore } from '../store-bench.js';
import type { SuiteContext, SuiteOutput } from './types.js';

const INSERT_TARGET = 100_000;
const ROLLUP_TARGET_MS = 100;
const RAW_TARGET_MS = 1_500;

/** The shape benchStore returns (read defensively: the harness must not break when it grows). */
interface InsertFigure {
  method: string;
  batchRows: number;
  rows: number;
  seconds: number;
  rowsPerSec: number;
  encodeSeconds: number;
  /** Newer benchStore versions: process CPU over the measurement (all threads) and rows per CPU-second. */
  cpuSeconds?: number;
  rowsPerCpuSec?: number;
}
interface QueryFigure {
  name: string;
  kind: 'rollup' | 'raw';
  targetMs: number;
  p50Ms: number;
  minMs: number;
  maxMs: number;
  runs: number;
  resultRows: number;
}
interface StoreResult {
  insert: InsertFigure[];
  bulk: {
    rows: number;
    corrections: number;
    seconds: number;
    rowsPerSec: number;
    optimizeSeconds?: number;
    rollupBuckets: number;
    rollupSeconds: number;
  } | null;
  storage: { table: string; rows: number; compressedBytes: number; uncompressedBytes: number }[];
  queries: QueryFigure[];
}

function isStoreResult(v: unknown): v is StoreResult {
  const r = v as Partial<StoreResult> | null;
  return typeof r === 'object' && r !== null && Array.isArray(r.insert) && Array.isArray(r.queries);
}

export async function runStoreSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const options = ctx.quick
    ? { bulkRows: 1_000_000, queryRuns: 3, insertRows: 50_000, baselineRows: 20_000 }
    : { bulkRows: 10_000_000, queryRuns: 5, insertRows: 200_000, baselineRows: 100_000 };
  const s = step('benchStore (embedded ClickHouse)');
  const mem = sampleOwnMemory(250);
  const ext: { from: string | null; result: unknown; error: string | null } = {
    from: null,
    result: undefined,
    error: null,
  };
  try {
    ext.result = await benchStore({ ...options, onProgress: (m: string) => s.say(m) });
    ext.from = '@pathwatch/path-store (embedded)';
  } catch (err) {
    ext.error = `benchStore failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  }
  const peaks = mem.stop();
  s.done(ext.from ? `done (${ext.from})` : 'not available');
  const why = ext.error;
  const settings: [string, string][] = [
    [
      'benchStore options',
      `${formatNumber(options.bulkRows)} bulk path records (1% corrected), ${options.queryRuns} runs per query (p50), ${formatNumber(options.insertRows)} rows per Native insert measurement, ${formatNumber(options.baselineRows)} for the JSONEachRow baseline`,
    ],
    ['store', 'embedded ClickHouse (chdb) in this process, fresh temporary data directory'],
  ];
  const notes: string[] = [];
  const tables: Table[] = [];
  const r = ext.result;
  let best: InsertFigure | null = null;
  let baseline: InsertFigure | null = null;
  let rollupWorst: QueryFigure | null = null;
  let rawWorst: QueryFigure | null = null;
  if (isStoreResult(r)) {
    for (const f of r.insert) {
      if (/json/i.test(f.method)) baseline = !baseline || f.rowsPerSec > baseline.rowsPerSec ? f : baseline;
      else best = !best || f.rowsPerSec > best.rowsPerSec ? f : best;
    }
    tables.push({
      title: 'Insert speed: full path records into the embedded engine',
      headers: [
        'method',
        'batch rows',
        'rows',
        'seconds',
        'rows/s',
        'encoding s',
        'CPU s (all threads)',
        'rows per CPU-s',
        'vs JSONEachRow',
      ],
      rows: r.insert.map((f) => [
        f.method,
        f.batchRows,
        f.rows,
        formatNumber(f.seconds, 2),
        f.rowsPerSec,
        formatNumber(f.encodeSeconds, 2),
        f.cpuSeconds === undefined ? null : formatNumber(f.cpuSeconds, 2),
        f.rowsPerCpuSec ?? null,
        baseline ? `${formatNumber(f.rowsPerSec / baseline.rowsPerSec, 2)}x` : null,
      ]),
      caption:
        'Same client, same table (with its materialized view), same synthetic verdicts, same run. Baseline: JSONEachRow.',
    });
    if (r.bulk) {
      const b = r.bulk;
      tables.push({
        title: 'Bulk load for the query figures',
        headers: [
          'path records',
          'corrections',
          'seconds',
          'rows/s (server-side INSERT ... SELECT)',
          'OPTIMIZE FINAL s',
          'rollup buckets',
          'rollup rebuild s',
        ],
        rows: [
          [
            b.rows,
            b.corrections,
            formatNumber(b.seconds, 1),
            b.rowsPerSec,
            b.optimizeSeconds === undefined ? null : formatNumber(b.optimizeSeconds, 1),
            b.rollupBuckets,
            formatNumber(b.rollupSeconds, 1),
          ],
        ],
      });
    }
    tables.push({
      title: 'Query latency',
      headers: [
        'query',
        'reads',
        'p50 ms',
        'min ms',
        'max ms',
        'runs',
        'result rows',
        'target p50',
        'status',
      ],
      rows: r.queries.map((q) => [
        q.name,
        q.kind === 'rollup' ? 'rollup' : 'raw table',
        q.p50Ms,
        q.minMs,
        q.maxMs,
        q.runs,
        q.resultRows,
        `<= ${formatNumber(q.targetMs)} ms`,
        q.p50Ms <= q.targetMs ? 'pass' : 'MISS',
      ]),
    });
    if (r.storage.length > 0) {
      tables.push({
        title: 'Storage',
        headers: ['table', 'rows', 'compressed MiB', 'uncompressed MiB', 'ratio'],
        rows: r.storage.map((x) => [
          x.table,
          x.rows,
          formatNumber(x.compressedBytes / 2 ** 20, 1),
          formatNumber(x.uncompressedBytes / 2 ** 20, 1),
          x.compressedBytes > 0 ? `${formatNumber(x.uncompressedBytes / x.compressedBytes, 1)}x` : null,
        ]),
      });
    }
    const worst = (kind: 'rollup' | 'raw'): QueryFigure | null =>
      r.queries
        .filter((q) => q.kind === kind)
        .reduce<QueryFigure | null>((w, q) => (!w || q.p50Ms > w.p50Ms ? q : w), null);
    rollupWorst = worst('rollup');
    rawWorst = worst('raw');
  } else if (ext.from) {
    tables.push(
      ...tablesFromUnknown(r, `benchStore() from ${ext.from} (unrecognised shape, shown as returned)`),
    );
  }
  const queryNote = (q: QueryFigure | null, kind: string): string | undefined =>
    why ?? (q ? `slowest ${kind} query: ${q.name}` : `no ${kind} queries reported`);
  const targets: Target[] = [
    {
      name: 'path rows/s into the embedded engine (full path records)',
      kind: 'atLeast',
      goal: INSERT_TARGET,
      unit: 'rows/s',
      measured: best?.rowsPerSec ?? null,
      note:
        why ??
        (best
          ? `${best.method}, batch ${formatNumber(best.batchRows)}${baseline ? `; baseline JSONEachRow ${formatNumber(baseline.rowsPerSec)} rows/s in the same run` : ''}`
          : undefined),
    },
    {
      name: `dashboard (rollup) queries p50, slowest of them, over ${formatNumber(options.bulkRows)} records`,
      kind: 'atMost',
      goal: ROLLUP_TARGET_MS,
      unit: 'ms',
      measured: rollupWorst?.p50Ms ?? null,
      note: queryNote(rollupWorst, 'rollup'),
    },
    {
      name: 'variance / explain queries over the raw table p50, slowest of them',
      kind: 'atMost',
      goal: RAW_TARGET_MS,
      unit: 'ms',
      measured: rawWorst?.p50Ms ?? null,
      note: queryNote(rawWorst, 'raw'),
    },
  ];
  if (why) notes.push(why);
  if (ctx.quick) notes.push('Quick run: 1M records, not the 10M the targets are stated for.');
  notes.push(
    `Memory (this process, chdb included): peak RSS ${Math.round(mib(peaks.rssBytes) ?? 0)} MiB, peak V8 heap used ${Math.round(mib(peaks.heapUsedBytes) ?? 0)} MiB.`,
  );
  return { targets, tables, settings, notes, kafkaVersion: null };
}
