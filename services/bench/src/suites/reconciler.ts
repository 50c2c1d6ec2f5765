// Reconciler suite (issue 3, deliverable 8): (a) the engine in-process including decoding, next to object-per-request
// baselines of its state (issue 9); (b) end to end through a broker against the raw consume rate of the same client
// measured in the same run.
import { randomBytes } from 'node:crypto';
import { createKafka, createRootLogger } from '@pathwatch/core';
import { openBroker } from '../kafka-util.js';
import { procMemory } from '../memory.js';
import { mib } from '../memory.js';
import { note } from '../progress.js';
import type { Table, Target } from '../report.js';
import { formatNumber } from '../report.js';
import type { Summary } from '../stats.js';
import { benchEngine } from '../engine-bench.js';
import type { EngineBenchResult } from '../engine-bench.js';
import { figure, tablesFromUnknown } from '../external.js';
import { productEngine } from '../product-engine.js';
import { estimateRecovery } from '../recovery-estimate.js';
import { step } from '../progress.js';
import { STUB_STATE_BYTES } from '../stub-engine.js';
import { baselineTable, runEngineBaselines } from './engine-baselines.js';
import { engineFactory, runEngineInproc } from './engine-inproc.js';
import {
  COMMIT_INTERVAL_MS,
  PARTITIONS,
  TICK_INTERVAL_MS,
  preProduce,
  rawConsumeRun,
  reconcilerRun,
  recoveryRun,
  verdictDelayRun,
} from './e2e.js';
import type { DelayResult, E2eEnv, RecoveryRow, ThroughputRun } from './e2e.js';
import type { SuiteContext, SuiteOutput } from './types.js';

const ENGINE_TARGET_EVENTS_PER_SEC = 500_000;
const BYTES_PER_OPEN_TARGET = 256;
const TARGET_OPEN_REQUESTS = 1_000_000;
const RECOVERY_TARGET_MS = 10_000;
const DELAY_TARGET_MS = 1_000;
const GENERATOR_LAG_LIMIT_MS = 1_000;
const RAW_RUNS = 3;

const ms = (v: number | null): string | number | null => (v === null ? null : Math.round(v));
const mibCell = (b: number | null | undefined): number | null => {
  const m = mib(b);
  return m === null ? null : Math.round(m);
};

export async function runReconcilerSuite(ctx: SuiteContext): Promise<SuiteOutput> {
  const targets: Target[] = [];
  const tables: Table[] = [];
  const notes: string[] = [];
  const settings: [string, string][] = [];

  // ------------------------------------------------------------------------------------ (a) in-process
  const product0 = productEngine();
  const externalOptions = {
    quick: ctx.quick,
    openRequests: ctx.sizes.engineOpenRequests,
    // Bounded so the suite stays under 10 minutes on 2 cores (~430k events per pass): the engine figure and each
    // of its two baselines take about a minute at these sizes, most of a baseline's in the 1M memory fill.
    requests: ctx.quick ? 20_000 : 100_000,
    ...(product0?.options ? { engineOptions: product0.options } : {}),
  };
  const s0 = step('benchEngine (the engine figure)');
  const external: { from: string | null; result: EngineBenchResult | undefined; error: string | null } = {
    from: null,
    result: undefined,
    error: null,
  };
  try {
    external.result = await benchEngine(externalOptions);
    external.from = 'createEngine of @pathwatch/reconciler';
  } catch (err) {
    external.error = `benchEngine failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
  }
  s0.done(external.from ? 'done' : 'failed');
  settings.push([
    'benchEngine options',
    JSON.stringify({
      ...externalOptions,
      engineOptions: externalOptions.engineOptions ? "the service's" : 'engine defaults',
    }),
  ]);
  if (external.from)
    tables.push(
      ...tablesFromUnknown(external.result, `benchEngine() over ${external.from} (the engine figure)`),
    );
  if (external.error) notes.push(`benchEngine: ${external.error.split('\n')[0] ?? ''}`);
  // The missing baselines of the engine figure (issue 9): same options, same process, right after it.
  const baselines = await runEngineBaselines(externalOptions);
  tables.push(baselineTable(external.result ?? null, baselines));
  settings.push([
    'engine baselines',
    `${baselines.map((b) => b.label).join(', ')}: benchEngine with the options above (headline figures only), run after the engine figure`,
  ]);
  for (const b of baselines) if (b.error) notes.push(`${b.label}: FAILED: ${b.error}`);

  const create = engineFactory();
  const passes = ctx.quick ? 2 : 3;
  const inproc = runEngineInproc(create, {
    events: ctx.sizes.e2eEvents,
    openRequests: ctx.sizes.engineOpenRequests,
    passes,
  });
  settings.push([
    'engine input',
    `${formatNumber(inproc.events)} simulated events (bench preset, seed 1, 25% JSON; ${inproc.invalid} invalid records skipped as dead letters), ${PARTITIONS} partitions by key hash`,
  ]);
  settings.push([
    'engine passes',
    `warm-up on a quarter of the events, then ${passes} measured passes (1 when a pass would take over 10 s), median shown; tick + drain every 100 ms of wall time`,
  ]);
  const decodeRow = inproc.throughput[0];
  tables.push({
    title: '(a) Engine in-process, one thread (harness measurement through createEngine)',
    headers: [
      'run',
      'events',
      'passes',
      'events/s (wall)',
      'events per CPU-second',
      'best pass events/s',
      'verdicts',
      'peak RSS MiB',
      'peak heap MiB',
    ],
    rows: inproc.throughput.map((r) => [
      r.label,
      r.events,
      r.passes,
      r.eventsPerSec,
      r.eventsPerCpuSec,
      r.bestEventsPerSec,
      r.verdicts,
      Math.round(r.peakRssMiB),
      Math.round(r.peakHeapMiB),
    ]),
    caption:
      'Baseline: decode + validate only (the same bytes through the schemas codec). "Events per CPU-second" divides by the CPU time of this process during the pass (user + system, GC threads included), ' +
      'which is what one dedicated core would do; wall-clock rates on this shared 2-core machine also depend on what else runs.',
  });
  const withDecode = inproc.throughput.find((r) => r.label === 'decode + validate + engine');
  const extRate = figure(external.result, ['eventsPerSec']);
  const extNoDecode = figure(external.result, ['eventsPerSecWithoutDecoding']);
  targets.push({
    name: 'engine incl. decoding, events/s on one core (benchEngine)',
    kind: 'atLeast',
    goal: ENGINE_TARGET_EVENTS_PER_SEC,
    unit: 'events/s',
    measured: extRate,
    note: external.from
      ? `engine only: ${extNoDecode === null ? '?' : formatNumber(extNoDecode)}/s; decode only: ${formatNumber(figure(external.result, ['decodeOnlyEventsPerSec']) ?? NaN)}/s`
      : (external.error ?? 'benchEngine failed'),
  });
  // One engine figure (benchEngine, above); the harness run on simulated wire events is a cross-check table only.
  if (withDecode)
    notes.push(
      `harness cross-check on simulated input: decode + engine ${formatNumber(withDecode.eventsPerCpuSec)} per CPU-s (wall ${formatNumber(withDecode.eventsPerSec)}/s); decode alone ${formatNumber(decodeRow?.eventsPerCpuSec ?? NaN)} per CPU-s`,
    );
  const m = inproc.memory;
  if (m) {
    tables.push({
      title: `(a) Retained memory at ${formatNumber(m.openRequests)} open requests (request + accepted dispatch each, no callback)`,
      headers: [
        'holder',
        'bytes per open request (retained, after full GC)',
        'engine-reported bytes per open request',
        'open requests reported',
      ],
      rows: [
        [
          'engine (createEngine)',
          m.engineRetainedBytesPerRequest === null
            ? 'not available'
            : Math.round(m.engineRetainedBytesPerRequest),
          m.engineReportedBytesPerRequest === null ? null : Math.round(m.engineReportedBytesPerRequest),
          m.engineOpenReported,
        ],
        [
          `baseline: Map of the decoded events (${formatNumber(m.naiveOpenRequests)} requests)`,
          Math.round(m.naiveMapBytesPerRequest),
          null,
          null,
        ],
      ],
      caption:
        'Retained = growth of V8 heap used + external memory (ArrayBuffers) across the fill, after a forced full GC. Inputs are decoded copies, as a consumer sees them.',
    });
  }
  const extBytes = figure(external.result, ['bytesPerOpenRequest']);
  const extOpen = figure(external.result, ['openRequests']);
  targets.splice(1, 0, {
    name: `bytes per open request at ${formatNumber(TARGET_OPEN_REQUESTS)} open (benchEngine)`,
    kind: 'atMost',
    goal: BYTES_PER_OPEN_TARGET,
    unit: 'B',
    measured: extBytes,
    note: external.from
      ? `at ${extOpen === null ? '?' : formatNumber(extOpen)} open requests${extOpen !== null && extOpen !== TARGET_OPEN_REQUESTS ? ' (not 1M)' : ''}`
      : (external.error ?? 'benchEngine failed'),
  });

  // ------------------------------------------------------------------------------------ (b) end to end
  const logger = createRootLogger({ level: 'warn', name: 'bench', destination: process.stderr });
  const broker = await openBroker(ctx.brokers);
  let kafkaVersion = broker.description;
  const runId = `${new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(2).toString('hex')}`;
  const product = productEngine();
  let raw: ThroughputRun | null = null;
  const runs: ThroughputRun[] = [];
  let delay: DelayResult | null = null;
  let recovery: { engine: 'stub' | 'product'; rows: RecoveryRow[] } | null = null;
  try {
    const kafka = createKafka({ brokers: broker.brokers, clientId: 'pathwatch-bench', logger });
    const admin = await kafka.admin();
    const producer = await kafka.producer();
    const env: E2eEnv = { brokers: broker.brokers, kafka, admin, producer, runId };
    try {
      const load = await preProduce(env, ctx.sizes.e2eEvents);
      settings.push([
        'end-to-end load',
        `${formatNumber(load.records)} simulated events (${formatNumber(load.eventsPerUnit, 2)} per request, mean ${Math.round(load.bytes / load.records)} bytes), pre-produced at ${formatNumber((load.records * 1000) / load.produceMs)} records/s; ${PARTITIONS} partitions per input topic`,
      ]);
      settings.push([
        'reconciler service',
        `buildReconciler in a child process; commit interval ${COMMIT_INTERVAL_MS} ms, tick ${TICK_INTERVAL_MS} ms, pino level info to a pipe`,
      ]);
      const runTimeout = ctx.quick ? 60_000 : 120_000;
      // One failing scenario must not cost the figures of the others: record why and carry on.
      const attempt = async <T>(what: string, fn: () => Promise<T>): Promise<T | null> => {
        try {
          return await fn();
        } catch (err) {
          const e = err as { code?: string; message?: string };
          const first = (e.message ?? String(err)).split('\n')[0] ?? '';
          notes.push(`${what} FAILED${e.code ? ` [${e.code}]` : ''}: ${first}`);
          process.stderr.write(`✗ ${what} failed: ${e.message ?? String(err)}\n`);
          return null;
        }
      };
      // The ceiling takes about a second per run, so it is measured three times and the median is used.
      const raws: ThroughputRun[] = [];
      for (let i = 1; i <= RAW_RUNS; i++) {
        const r = await attempt(`raw consume run ${i}`, () => rawConsumeRun(env, load, runTimeout, i));
        if (r) raws.push(r);
      }
      raws.sort((a, b) => a.eventsPerSec - b.eventsPerSec);
      const median = raws[Math.floor((raws.length - 1) / 2)];
      if (median) {
        raw = {
          ...median,
          label: `raw consume (ceiling), median of ${raws.length}: ${raws.map((x) => formatNumber(x.eventsPerSec)).join(' / ')} events/s`,
        };
        runs.push(raw);
      }
      const stubRun = await attempt('stub-engine reconciler run', () =>
        reconcilerRun(env, load, 'stub', runTimeout),
      );
      if (stubRun) runs.push(stubRun);
      if (product) {
        const productRun = await attempt('product-engine reconciler run', () =>
          reconcilerRun(env, load, 'product', runTimeout),
        );
        if (productRun) runs.push(productRun);
        // Half the measured capacity, capped; the configured rate when the throughput run did not finish.
        const capacity = productRun?.completed
          ? productRun.eventsPerSec / load.eventsPerUnit
          : 2 * ctx.sizes.delayLoadRatePerSec;
        const unitsPerSec = Math.max(50, Math.min(ctx.sizes.delayLoadRatePerSec, Math.round(capacity / 2)));
        settings.push([
          'verdict delay load',
          `${formatNumber(unitsPerSec)} requests/s for ${ctx.sizes.delayLoadSeconds} s: half the product service's measured capacity, capped at ${formatNumber(ctx.sizes.delayLoadRatePerSec)}/s${productRun?.completed ? '' : ' (the throughput run did not finish, so the cap is used)'}`,
        ]);
        delay = await attempt('verdict delay run', () =>
          verdictDelayRun(env, {
            unitsPerSec,
            seconds: ctx.sizes.delayLoadSeconds,
            idleRequests: ctx.quick ? 500 : 2000,
          }),
        );
      } else note('product engine not available: skipping the product end-to-end runs');
      const recEngine = product ? 'product' : 'stub';
      const recRows = await attempt(`recovery run (${recEngine} engine)`, () =>
        recoveryRun(env, recEngine, ctx.sizes.recoveryOpenRequests, ctx.quick ? 90_000 : 150_000),
      );
      if (recRows) recovery = { engine: recEngine, rows: recRows };
    } finally {
      await producer.close().catch(() => undefined);
      await admin.close().catch(() => undefined);
    }
    const brokerMem = broker.pid === null ? null : procMemory(broker.pid);
    if (brokerMem) kafkaVersion += `; broker peak RSS ${Math.round(mib(brokerMem.peakRssBytes) ?? 0)} MiB`;
  } finally {
    await broker.stop();
  }

  for (const r of runs) if (r.problems) notes.push(`${r.label}: the child logged ${r.problems}`);
  // Throughput table and target.
  if (raw) {
    const rawRate = raw.eventsPerSec;
    tables.push({
      title: '(b) End to end through the broker: sustained consumption',
      headers: [
        'run',
        'events',
        'seconds',
        'events/s',
        '% of raw',
        'child CPU s',
        'events per CPU-second',
        'child peak RSS MiB',
        'verdicts',
        'transactions',
        'finished',
      ],
      rows: runs.map((r) => [
        r.label,
        r.events,
        formatNumber(r.ms / 1000, 1),
        Math.round(r.eventsPerSec),
        `${formatNumber((100 * r.eventsPerSec) / rawRate, 1)}%`,
        r.cpuMs === null ? null : formatNumber(r.cpuMs / 1000, 1),
        r.cpuMs ? Math.round((r.events * 1000) / r.cpuMs) : null,
        mibCell(r.peakRssBytes),
        r.verdicts,
        r.transactions,
        r.completed ? 'yes' : 'NO (timed out)',
      ]),
      caption:
        'Raw consume = the same Kafka client (createKafka from @pathwatch/core), a consumer group over the same three topics, counting records (first record to last). ' +
        `Reconciler runs = from the first input seen to the moment the group's committed offsets cover every input record (outputs, changelog and offsets commit in one transaction). ` +
        `The stub engine (${STUB_STATE_BYTES}-byte state record per open request, one verdict per final callback) shows what the wiring costs without the engine. Child CPU counts from its first input (start-up excluded).`,
    });
    const productRun = runs.find((r) => r.label.includes('product'));
    targets.push({
      name: 'end to end, % of the raw consume rate',
      kind: 'atLeast',
      goal: 50,
      unit: '%',
      measured: productRun ? (100 * productRun.eventsPerSec) / rawRate : null,
      note: productRun
        ? `${formatNumber(productRun.eventsPerSec)} vs raw ${formatNumber(rawRate)} events/s`
        : `product engine not wired; stub engine (wiring only) reached ${formatNumber((100 * (runs[1]?.eventsPerSec ?? 0)) / rawRate, 1)}% of raw`,
    });
  }

  // Verdict delay.
  const delayRow = (v: string, p: string): Summary | null => {
    const r = delay?.rows.find((x) => x.verdict === v && x.phase === p);
    return r && r.emitted.count > 0 ? r.emitted : null;
  };
  if (delay) {
    tables.push({
      title: '(b) Verdict delay after the deadline (ms)',
      headers: [
        'verdict',
        'input',
        'count',
        'p50',
        'p90',
        'p99',
        'max',
        'visible p50',
        'visible p99',
        'watermark lag p50',
        'fired by',
      ],
      rows: delay.rows.map((r) => [
        r.verdict === 'overdue' ? 'overdue (provisional, at SLA)' : 'missing_outcome (at give-up)',
        r.phase === 'load'
          ? `under load (${formatNumber(delay?.loadUnitsPerSec ?? 0)} req/s)`
          : 'all input idle',
        r.emitted.count,
        ms(r.emitted.p50),
        ms(r.emitted.p90),
        ms(r.emitted.p99),
        ms(r.emitted.max),
        ms(r.visible.p50),
        ms(r.visible.p99),
        ms(r.watermarkLag.p50),
        r.firedBy,
      ]),
      caption:
        `Delay = emitted_at of the first version of that class per request (later versions that stay overdue, and corrections, are not deadline firings) - (accepted_at + give_up_ms) for missing_outcome, - (accepted_at + sla_ms) for overdue; "visible" = when the bench's read_committed consumer received it. ` +
        `Load: the simulator live at speed 1 (event time = wall time), SLA ${delay.slaMs} ms / give-up ${delay.giveUpMs} ms on every operation, 5% dropped final callbacks and 5% late deliveries, ` +
        `${formatNumber(delay.loadEventsSent)} events over ${formatNumber(delay.loadSeconds, 1)} s; only deadlines between 2 s after the start and the end of the load count as "under load" (${delay.excluded} in the drain after it are left out). ` +
        `The generator (in the bench process) lagged at most ${formatNumber(delay.maxBehindScheduleMs)} ms behind its schedule. ` +
        `Idle: ${delay.idleRequests} requests + accepted dispatches produced at once, then no input at all.`,
    });
  }
  // The generator runs in this process: when it could not keep its schedule, events carried event times older
  // than their publish time, the watermark lagged by as much, and the under-load figures measure the bench.
  const generatorLagged = delay !== null && delay.maxBehindScheduleMs > GENERATOR_LAG_LIMIT_MS;
  if (delay && generatorLagged) {
    notes.push(
      `The load generator fell up to ${formatNumber(delay.maxBehindScheduleMs)} ms behind its schedule during the verdict-delay load: the under-load delays are not judged (they include that lag).`,
    );
  }
  if (delay?.problems) notes.push(`verdict delay run: the reconciler logged ${delay.problems}`);
  if (delay && delay.tail.slowest > 0) {
    const ms = (x: number | null): string => (x === null ? '?' : formatNumber(Math.round(x)));
    notes.push(
      `Verdict-delay tail: the slowest 1% under load (${delay.tail.slowest} verdicts) were emitted within ${delay.tail.distinctSeconds} distinct second(s) of the run` +
        ` (few seconds = stalls, not a steady cost); the reconciler's event-loop delay over the run was p99 ${ms(delay.tail.loopDelayP99Ms)} ms, max ${ms(delay.tail.loopDelayMaxMs)} ms;` +
        ` its longest GC pause ${ms(delay.tail.gcMaxMs)} ms (${ms(delay.tail.gcTotalMs)} ms in total).`,
    );
  }
  for (const [v, p, label] of [
    ['missing_outcome', 'load', 'missing_outcome delay p99, under load'],
    ['missing_outcome', 'idle', 'missing_outcome delay p99, all input idle'],
    ['overdue', 'load', 'overdue (provisional) delay p99, under load'],
    ['overdue', 'idle', 'overdue (provisional) delay p99, all input idle'],
  ] as const) {
    const s = delayRow(v, p);
    targets.push({
      name: label,
      kind: 'atMost',
      goal: DELAY_TARGET_MS,
      unit: 'ms',
      measured: s && !(p === 'load' && generatorLagged) ? s.p99 : null,
      note: s
        ? `p50 ${Math.round(s.p50)} ms, n = ${s.count}${p === 'load' && generatorLagged ? `; NOT JUDGED: the load generator lagged ${formatNumber(delay?.maxBehindScheduleMs ?? 0)} ms (p99 ${Math.round(s.p99)} ms includes it)` : ''}`
        : product
          ? 'no such verdicts seen'
          : 'needs the product engine in the service',
    });
  }

  // Recovery.
  if (recovery) {
    const rows = recovery.rows;
    tables.push({
      title: `(b) Recovery after kill -9 (${recovery.engine === 'product' ? 'product engine' : 'STUB engine: changelog restore of the wiring only, not the product'})`,
      headers: [
        'open requests',
        'RSS before kill MiB',
        'state restored (ms)',
        'service restore ms',
        'state images restored',
        'changelog records read',
        'changelog MiB read',
        'started (ms)',
        'consuming again (ms)',
        'caught up (ms)',
        'open after restore',
        'RSS after restore MiB',
        'note',
      ],
      rows: rows.map((r) => [
        r.openRequests,
        mibCell(r.rssBeforeKillBytes),
        ms(r.restoredMs),
        ms(r.serviceRestoreMs),
        r.restoredRecords,
        r.changelogRecordsRead,
        mibCell(r.changelogBytesRead),
        ms(r.startedMs),
        ms(r.consumingMs),
        ms(r.caughtUpMs),
        r.openAfterRestore,
        mibCell(r.rssAfterRestoreBytes),
        r.note ?? '',
      ]),
      caption:
        'State images = requests, tombstones and clock records the engine restored; changelog records read = the packed Kafka records that held them (snapshot pieces and change batches since the last snapshot). ' +
        'Times from spawning the restarted process: "state restored" = its log line after reading the changelog; "consuming again" = the group first commits input written while it was down ' +
        '(500 new requests); "caught up" = all of it committed. Same group, same transactional id (fences the killed instance).',
    });
    const { ms: measured, how } = estimateRecovery(rows, TARGET_OPEN_REQUESTS);
    targets.push({
      name: 'recovery after kill -9 at 1M open requests (consuming again)',
      kind: 'atMost',
      goal: RECOVERY_TARGET_MS,
      unit: 'ms',
      measured: recovery.engine === 'product' ? measured : null,
      note:
        recovery.engine === 'product'
          ? how
          : `product engine not wired; the stub (wiring + changelog only) would be ${measured === null ? '?' : `${formatNumber(measured)} ms`} (${how})`,
    });
  }
  if (!product) {
    notes.push(
      '@pathwatch/reconciler exports neither createEnginePort nor createEngine: the product engine could not be wired into the service, so end-to-end product rows are missing.',
    );
  } else {
    notes.push(`Product engine in the service: ${product.how}.`);
  }
  notes.push(
    'Machine shared with other work while measuring: absolute rates move with the load average; ratios measured in the same run (vs raw, vs decode, vs naive Map, vs the object-per-request baselines) are steadier.',
  );
  return { targets, tables, settings, notes, kafkaVersion };
}
