// End-to-end runs through a real broker: the raw consume ceiling, the reconciler service (stub or product
// engine) over the same pre-produced load, verdict delay after deadlines under load and with all input idle,
// and recovery after kill -9 with many open requests. Each reconciler runs as its own child process.
import type { Admin, KafkaClient, OutgoingMessage, Producer } from '@pathwatch/core';
import * as reconcilerPkg from '@pathwatch/reconciler';
import { createCodec, DEFAULT_TOPICS } from '@pathwatch/schemas';
import type { Codec, TopicNames, Verdict } from '@pathwatch/schemas';
import { createSimulator, resolveGeneratorOptions } from '@pathwatch/simulator';
import type { OutboundRecord } from '@pathwatch/simulator';
import type { ChildConfig } from '../child-protocol.js';
import { spawnChild, summarizeProblems } from '../child-process.js';
import type { ChildHandle } from '../child-process.js';
import {
  createInputTopics,
  committedOffsets,
  endOffsets,
  pollUntil,
  produceAll,
  scenarioTopics,
  topicMapper,
} from '../kafka-util.js';
import type { ScenarioTopics } from '../kafka-util.js';
import { NO_FAULTS } from '@pathwatch/simulator';
import { openRequestEvents, simulatedRecords } from '../load.js';
import { watchProcMemory } from '../memory.js';
import { note, step } from '../progress.js';
import { summarize } from '../stats.js';
import type { Summary } from '../stats.js';
import { createWireEncoder } from '@pathwatch/simulator';

/** The service's configuration defaults (its own config module, an empty environment), else the values below. */
function serviceDefaults(): { commitIntervalMs: number; tickIntervalMs: number; topicPartitions: number } {
  const load = (reconcilerPkg as Record<string, unknown>)['loadReconcilerConfig'];
  const fallback = { commitIntervalMs: 100, tickIntervalMs: 100, topicPartitions: 4 };
  if (typeof load !== 'function') return fallback;
  const c = (load as (env: Record<string, string>) => Partial<typeof fallback>)({});
  return {
    commitIntervalMs: c.commitIntervalMs ?? fallback.commitIntervalMs,
    tickIntervalMs: c.tickIntervalMs ?? fallback.tickIntervalMs,
    topicPartitions: c.topicPartitions ?? fallback.topicPartitions,
  };
}
const DEFAULTS = serviceDefaults();
export const PARTITIONS = DEFAULTS.topicPartitions;
export const COMMIT_INTERVAL_MS = DEFAULTS.commitIntervalMs;
export const TICK_INTERVAL_MS = DEFAULTS.tickIntervalMs;

export interface E2eEnv {
  readonly brokers: readonly string[];
  readonly kafka: KafkaClient;
  readonly admin: Admin;
  readonly producer: Producer;
  readonly runId: string;
}

function childConfig(
  env: E2eEnv,
  t: ScenarioTopics,
  over: Partial<ChildConfig> & Pick<ChildConfig, 'mode' | 'groupId'>,
): ChildConfig {
  return {
    brokers: env.brokers,
    topics: t.topics,
    changelogTopic: t.changelog,
    instanceId: '0',
    engine: 'stub',
    partitions: PARTITIONS,
    commitIntervalMs: COMMIT_INTERVAL_MS,
    tickIntervalMs: TICK_INTERVAL_MS,
    expected: 0,
    statsIntervalMs: 100,
    logLevel: 'info',
    ...over,
  };
}

/** The same inputs with outputs (verdicts, actions, changelog) private to one run. */
function withOwnOutputs(t: ScenarioTopics, run: string): ScenarioTopics {
  const p = t.topics.request.replace(/\.requests$/, `.${run}`);
  const topics: TopicNames = {
    ...t.topics,
    verdict: `${p}.verdicts`,
    action: `${p}.actions`,
    dead_letter: `${p}.dead-letter`,
  };
  return { topics, changelog: `${p}.changelog`, inputs: t.inputs };
}

async function stopChild(child: ChildHandle, graceMs = 20_000): Promise<void> {
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(t);
}

// ---------------------------------------------------------------------------------------------- throughput

export interface LoadInfo {
  readonly topics: ScenarioTopics;
  readonly records: number;
  readonly bytes: number;
  readonly produceMs: number;
  readonly eventsPerUnit: number;
}

/** Pre-produces `records` simulated events (bench preset) to the `load` scenario's inputs. */
export async function preProduce(env: E2eEnv, records: number): Promise<LoadInfo> {
  const t = scenarioTopics(env.runId, 'load');
  await createInputTopics(env.admin, t, PARTITIONS);
  const codec = createCodec();
  let requests = 0;
  const it = (function* () {
    for (const { event, record } of simulatedRecords(codec, { records })) {
      if (event.kind === 'request') requests++;
      yield record;
    }
  })();
  const r = await produceAll(env.producer, it, {
    total: records,
    label: `producing ${records.toLocaleString('en-US')} simulated events (bench preset)`,
    topicFor: topicMapper(DEFAULT_TOPICS, t),
  });
  return {
    topics: t,
    records: r.records,
    bytes: r.bytes,
    produceMs: r.ms,
    eventsPerUnit: r.records / Math.max(1, requests),
  };
}

export interface ThroughputRun {
  readonly label: string;
  readonly events: number;
  readonly completed: boolean;
  readonly ms: number;
  readonly eventsPerSec: number;
  readonly cpuMs: number | null;
  readonly peakRssBytes: number | null;
  readonly verdicts: number | null;
  readonly transactions: number | null;
  /** Distinct warn/error log lines of the child (last 20), when it had any. */
  readonly problems: string;
}

export async function rawConsumeRun(
  env: E2eEnv,
  load: LoadInfo,
  timeoutMs: number,
  attempt = 1,
): Promise<ThroughputRun> {
  const total = await endOffsets(env.admin, load.topics.inputs);
  const s = step(`raw consume (ceiling) #${attempt}: our Kafka client, consumer group, no processing`);
  const child = spawnChild(
    childConfig(env, load.topics, {
      mode: 'raw-consume',
      groupId: `pwbench-${env.runId}-raw-${attempt}`,
      expected: total,
    }),
  );
  const mem = watchProcMemory(child.pid);
  const timer = setInterval(() => s.update(child.last('stats')?.inputs ?? 0, total), 500);
  try {
    const done = await child.waitFor('done', timeoutMs);
    const ms = done.lastAt - done.firstAt;
    const peak = mem.stop();
    s.done(`${Math.round((done.count * 1000) / ms).toLocaleString('en-US')} events/s`);
    return {
      label: 'raw consume (ceiling)',
      events: done.count,
      completed: true,
      ms,
      eventsPerSec: (done.count * 1000) / ms,
      cpuMs: done.cpuMs - done.cpuAtFirstInputMs,
      peakRssBytes: peak?.peakRssBytes ?? null,
      verdicts: null,
      transactions: null,
      problems: summarizeProblems(child.problems()),
    };
  } finally {
    clearInterval(timer);
    mem.stop();
    child.kill('SIGKILL');
  }
}

/** The reconciler service over the pre-produced load: rate = inputs / (all offsets committed - first input seen). */
export async function reconcilerRun(
  env: E2eEnv,
  load: LoadInfo,
  engine: 'stub' | 'product',
  timeoutMs: number,
): Promise<ThroughputRun> {
  const label =
    engine === 'stub'
      ? 'reconciler service, stub engine (wiring only)'
      : 'reconciler service, product engine';
  const total = await endOffsets(env.admin, load.topics.inputs);
  const groupId = `pwbench-${env.runId}-rec-${engine}`;
  const topics = withOwnOutputs(load.topics, `out-${engine}`);
  // Created here, not by the service: its start-up reads the fresh changelog's offsets at once, which can hit
  // NOT_LEADER while the new partitions elect their leader (reported to the reconciler's owner).
  await createInputTopics(env.admin, topics, PARTITIONS);
  const s = step(label);
  const child = spawnChild(childConfig(env, topics, { mode: 'reconciler', groupId, engine }));
  const mem = watchProcMemory(child.pid);
  try {
    await child.waitFor('started', 90_000);
    let committed = 0;
    const doneAt = await pollUntil(
      async () => {
        committed = await committedOffsets(env.admin, groupId, load.topics.inputs);
        s.update(committed, total, 'committed');
        return committed >= total ? Date.now() : undefined;
      },
      200,
      timeoutMs,
    );
    const stats = child.last('stats');
    const first = stats?.firstInputAt ?? child.spawnedAt;
    const end = doneAt ?? Date.now();
    const events = doneAt === null ? committed : total;
    const ms = end - first;
    const peak = mem.stop();
    s.done(
      `${Math.round((events * 1000) / ms).toLocaleString('en-US')} events/s${doneAt === null ? ` (NOT finished in ${timeoutMs / 1000} s)` : ''}`,
    );
    return {
      label,
      events,
      completed: doneAt !== null,
      ms,
      eventsPerSec: (events * 1000) / ms,
      cpuMs: stats && stats.cpuAtFirstInputMs !== null ? stats.cpuMs - stats.cpuAtFirstInputMs : null,
      peakRssBytes: peak?.peakRssBytes ?? null,
      verdicts: stats?.verdicts ?? null,
      transactions: stats?.transactions ?? null,
      problems: summarizeProblems(child.problems()),
    };
  } finally {
    mem.stop();
    await stopChild(child);
  }
}

// ---------------------------------------------------------------------------------------------- verdict delay

export interface DelayRow {
  readonly verdict: 'missing_outcome' | 'overdue';
  readonly phase: 'load' | 'idle';
  /** emitted_at - deadline (the engine's emission, processing time). */
  readonly emitted: Summary;
  /** Time the verdict became readable on the verdicts topic (committed transaction) - deadline. */
  readonly visible: Summary;
  /** The verdicts' own watermark_lag_ms (processing time minus the clock when decided). */
  readonly watermarkLag: Summary;
  /** Which clock fired them, e.g. `wall_clock: 1990, watermark: 10`. */
  readonly firedBy: string;
}

export interface DelayResult {
  readonly rows: DelayRow[];
  readonly loadUnitsPerSec: number;
  readonly loadSeconds: number;
  readonly loadEventsSent: number;
  readonly idleRequests: number;
  readonly verdictsSeen: number;
  readonly excluded: number;
  readonly slaMs: number;
  readonly giveUpMs: number;
  /** Most the load generator (this process) lagged behind its schedule: above 1 s the under-load figures are not judged. */
  readonly maxBehindScheduleMs: number;
  /** Distinct warn/error lines the reconciler logged during the run. */
  readonly problems: string;
  /**
   * Where the slowest 1% of the under-load verdicts fell: how many distinct seconds of the run hold them (few =
   * stalls, many = a steady cost), and the reconciler's event-loop delay and GC pauses over the run.
   */
  readonly tail: {
    readonly slowest: number;
    readonly distinctSeconds: number;
    readonly loopDelayP99Ms: number | null;
    readonly loopDelayMaxMs: number | null;
    readonly gcMaxMs: number | null;
    readonly gcTotalMs: number | null;
  };
}

const SHORT_SLA_MS = 3_000;
// The simulator needs give-up >= SLA + ~7.5 s so failure receipts decided after its retry grace land before it.
const SHORT_GIVE_UP_MS = 12_000;

export async function verdictDelayRun(
  env: E2eEnv,
  opts: { unitsPerSec: number; seconds: number; idleRequests: number },
): Promise<DelayResult> {
  const t = scenarioTopics(env.runId, 'delay');
  await createInputTopics(env.admin, t, PARTITIONS);
  const groupId = `pwbench-${env.runId}-delay`;
  const child = spawnChild(childConfig(env, t, { mode: 'reconciler', groupId, engine: 'product' }));
  const codec: Codec = createCodec({ topics: t.topics });
  const seen: { v: Verdict; receivedAt: number }[] = [];
  const consumer = await env.kafka.consumer({
    groupId: `${groupId}-verdicts`,
    topics: [t.topics.verdict],
    fromBeginning: true,
    maxWaitTimeMs: 20,
  });
  try {
    const s0 = step('verdict delay: starting the reconciler (product engine)');
    await child.waitFor('started', 90_000);
    s0.done('consuming');
    await consumer.run(async (batch, control) => {
      const receivedAt = Date.now();
      for (const m of batch.messages) {
        try {
          seen.push({ v: codec.decode('verdict', m.value), receivedAt });
        } catch {
          /* not ours to judge here */
        }
      }
      const last = batch.messages[batch.messages.length - 1];
      if (last) control.markProcessed(last.offset);
      return Promise.resolve();
    });

    // Phase 1: paced live load with event time = wall time, short horizons so deadlines fall inside the run.
    const base = resolveGeneratorOptions({ preset: 'bench' });
    const map = topicMapper(DEFAULT_TOPICS, t);
    // One produce request per topic per batch, the three in parallel: order is kept within a topic (all that
    // Kafka keeps anyway), and the generator is not held back by many tiny sequential requests.
    const sink = async (records: readonly OutboundRecord[]): Promise<void> => {
      const byTopic = new Map<string, OutgoingMessage[]>();
      for (const r of records) {
        let list = byTopic.get(r.topic);
        if (!list) byTopic.set(r.topic, (list = []));
        list.push({ key: r.key, value: r.value, headers: r.headers });
      }
      await Promise.all([...byTopic].map(([topic, msgs]) => env.producer.send(map(topic), msgs)));
    };
    const sim = createSimulator({
      generatorOptions: {
        preset: 'bench',
        seed: 7,
        ratePerSec: opts.unitsPerSec,
        operations: base.operations.map((o) => ({ ...o, slaMs: SHORT_SLA_MS, giveUpMs: SHORT_GIVE_UP_MS })),
        faults: { dropFinalCallback: 0.05, delayBeyondSla: 0.05 },
      },
      send: (r) => sink([r]),
      sendBatch: sink,
      expectationRetention: 1000,
    });
    const s1 = step(
      `verdict delay: live load at ${opts.unitsPerSec.toLocaleString('en-US')} requests/s for ${opts.seconds} s`,
    );
    const loadStart = Date.now();
    sim.start({ speed: 1 });
    let maxBehindMs = 0;
    while (Date.now() - loadStart < opts.seconds * 1000) {
      await new Promise((r) => setTimeout(r, 500));
      const st = sim.stats();
      maxBehindMs = Math.max(maxBehindMs, st.behindScheduleMs);
      s1.update(
        st.eventsSent,
        undefined,
        `events sent, ${seen.length} verdicts seen, behind schedule ${Math.round(st.behindScheduleMs)} ms`,
      );
    }
    await sim.stop();
    const loadEnd = Date.now();
    const simStats = sim.stats();
    s1.done(
      `${simStats.eventsSent.toLocaleString('en-US')} events sent, behind schedule ${Math.round(simStats.behindScheduleMs)} ms at the end`,
    );

    // Let the load's remaining deadlines pass, then a burst of requests that never get a callback, then silence.
    const s2 = step('verdict delay: draining the load, then an idle burst');
    await new Promise((r) => setTimeout(r, SHORT_GIVE_UP_MS + 4000));
    const idleIds = new Set<string>();
    const encoder = createWireEncoder(createCodec());
    const idleStart = Date.now();
    const burst = (function* () {
      for (const e of openRequestEvents(opts.idleRequests, {
        idPrefix: `idle-${env.runId}`,
        startEventTime: idleStart,
        slaMs: SHORT_SLA_MS,
        giveUpMs: SHORT_GIVE_UP_MS,
      })) {
        if (e.kind === 'request') idleIds.add(e.key);
        yield encoder.encode(e);
      }
    })();
    await produceAll(env.producer, burst, {
      total: opts.idleRequests * 2,
      label: `idle burst: ${opts.idleRequests} requests + dispatches, no callbacks`,
      topicFor: map,
    });
    await new Promise((r) => setTimeout(r, SHORT_GIVE_UP_MS + 5000));
    s2.done(`${seen.length} verdicts seen in total`);

    type Sample = { emitted: number; visible: number; lag: number; firedBy: string; at: number };
    const acc = {
      missing_outcome: { load: [] as Sample[], idle: [] as Sample[] },
      overdue: { load: [] as Sample[], idle: [] as Sample[] },
    };
    let excluded = 0;
    // The delay is when a request was FIRST said to be overdue / missing: later versions of the same class (a
    // status report that keeps it overdue, a correction) are not deadline firings.
    const firstOf = new Set<string>();
    for (const { v, receivedAt } of seen) {
      const cls =
        v.verdict === 'missing_outcome' && !v.provisional
          ? 'missing_outcome'
          : v.verdict === 'overdue' && v.provisional
            ? 'overdue'
            : null;
      if (cls === null || v.accepted_at === null) continue;
      const firstKey = `${cls}:${v.request_id}`;
      if (firstOf.has(firstKey)) continue;
      firstOf.add(firstKey);
      const deadline = v.accepted_at + (cls === 'overdue' ? v.sla_ms : v.give_up_ms);
      const phase = idleIds.has(v.request_id)
        ? 'idle'
        : deadline >= loadStart + 2000 && deadline <= loadEnd
          ? 'load'
          : null;
      if (phase === null) {
        excluded++;
        continue;
      }
      acc[cls][phase].push({
        emitted: v.emitted_at - deadline,
        visible: receivedAt - deadline,
        lag: v.watermark_lag_ms,
        firedBy: v.fired_by,
        at: v.emitted_at,
      });
    }
    const rows: DelayRow[] = [];
    for (const verdict of ['missing_outcome', 'overdue'] as const) {
      for (const phase of ['load', 'idle'] as const) {
        const xs = acc[verdict][phase];
        const fired = new Map<string, number>();
        for (const x of xs) fired.set(x.firedBy, (fired.get(x.firedBy) ?? 0) + 1);
        rows.push({
          verdict,
          phase,
          emitted: summarize(xs.map((x) => x.emitted)),
          visible: summarize(xs.map((x) => x.visible)),
          watermarkLag: summarize(xs.map((x) => x.lag)),
          firedBy: [...fired].map(([k, n]) => `${k}: ${n}`).join(', '),
        });
      }
    }
    const underLoad = [...acc.missing_outcome.load, ...acc.overdue.load].sort(
      (a, b) => b.emitted - a.emitted,
    );
    const slowest = underLoad.slice(0, Math.max(1, Math.ceil(underLoad.length / 100)));
    const stats = child.last('stats');
    return {
      rows,
      tail: {
        slowest: underLoad.length > 0 ? slowest.length : 0,
        distinctSeconds: new Set(slowest.map((x) => Math.floor(x.at / 1000))).size,
        loopDelayP99Ms: stats?.loopDelayP99Ms ?? null,
        loopDelayMaxMs: stats?.loopDelayMaxMs ?? null,
        gcMaxMs: stats?.gcMaxMs ?? null,
        gcTotalMs: stats?.gcTotalMs ?? null,
      },
      loadUnitsPerSec: opts.unitsPerSec,
      loadSeconds: (loadEnd - loadStart) / 1000,
      loadEventsSent: simStats.eventsSent,
      idleRequests: idleIds.size,
      verdictsSeen: seen.length,
      excluded,
      slaMs: SHORT_SLA_MS,
      giveUpMs: SHORT_GIVE_UP_MS,
      maxBehindScheduleMs: Math.max(maxBehindMs, simStats.behindScheduleMs),
      problems: summarizeProblems(child.problems()),
    };
  } finally {
    await consumer.close().catch(() => undefined);
    await stopChild(child);
  }
}

// ---------------------------------------------------------------------------------------------- recovery

export interface RecoveryRow {
  readonly openRequests: number;
  /** Inputs committed by the reconciler before the kill (events). */
  readonly fillEvents: number;
  readonly fillMs: number;
  readonly rssBeforeKillBytes: number | null;
  /** From the restarted process's spawn. */
  readonly restoredMs: number | null;
  /** Restore duration the service logged, the state images it restored, and the changelog it read. */
  readonly serviceRestoreMs: number | null;
  readonly restoredRecords: number | null;
  readonly changelogRecordsRead: number | null;
  readonly changelogBytesRead: number | null;
  readonly startedMs: number | null;
  readonly consumingMs: number | null;
  readonly caughtUpMs: number | null;
  readonly openAfterRestore: number | null;
  readonly rssAfterRestoreBytes: number | null;
  readonly note: string | null;
}

const PROBE_REQUESTS = 500;

function emptyRow(openRequests: number): RecoveryRow {
  return {
    openRequests,
    fillEvents: 0,
    fillMs: 0,
    rssBeforeKillBytes: null,
    restoredMs: null,
    serviceRestoreMs: null,
    restoredRecords: null,
    changelogRecordsRead: null,
    changelogBytesRead: null,
    startedMs: null,
    consumingMs: null,
    caughtUpMs: null,
    openAfterRestore: null,
    rssAfterRestoreBytes: null,
    note: null,
  };
}

export async function recoveryRun(
  env: E2eEnv,
  engine: 'stub' | 'product',
  sizes: readonly number[],
  timeoutMs: number,
): Promise<RecoveryRow[]> {
  const t = scenarioTopics(env.runId, `recovery-${engine}`);
  await createInputTopics(env.admin, t, PARTITIONS);
  const groupId = `pwbench-${env.runId}-recovery-${engine}`;
  const cfg = childConfig(env, t, { mode: 'reconciler', groupId, engine });
  const encoder = createWireEncoder(createCodec());
  const map = topicMapper(DEFAULT_TOPICS, t);
  const rows: RecoveryRow[] = [];
  let child = spawnChild(cfg);
  let filled = 0;
  let probes = 0;
  try {
    await child.waitFor('started', 90_000);
    for (const n of sizes) {
      try {
        const add = n - filled;
        const fill0 = Date.now();
        const events = (function* () {
          for (const e of openRequestEvents(add, { idPrefix: `open-${filled}`, seed: 11 + filled }))
            yield encoder.encode(e);
        })();
        await produceAll(env.producer, events, {
          total: add * 2,
          label: `recovery (${engine}): filling to ${n.toLocaleString('en-US')} open requests`,
          topicFor: map,
        });
        filled = n;
        const total = await endOffsets(env.admin, t.inputs);
        const s = step(`recovery (${engine}): reconciler consuming the fill`);
        const caught = await pollUntil(
          async () => {
            const c = await committedOffsets(env.admin, groupId, t.inputs);
            s.update(c, total, 'committed');
            return c >= total ? Date.now() : undefined;
          },
          250,
          timeoutMs,
        );
        if (caught === null) {
          s.done('NOT caught up in time: stopping the recovery runs here');
          rows.push({
            ...emptyRow(n),
            fillEvents: total,
            fillMs: Date.now() - fill0,
            note: `fill not consumed within ${timeoutMs / 1000} s`,
          });
          break;
        }
        s.done(`caught up (${total.toLocaleString('en-US')} input records)`);
        // Let one more commit interval pass so the changelog holds the last changes too.
        await new Promise((r) => setTimeout(r, 3 * COMMIT_INTERVAL_MS));
        const rssBefore = child.last('stats')?.rss ?? null;
        const committedBefore = await committedOffsets(env.admin, groupId, t.inputs);

        const s2 = step(
          `recovery (${engine}): kill -9 at ${n.toLocaleString('en-US')} open requests, restart`,
        );
        child.kill('SIGKILL');
        await child.exited;
        // New input while it is down, so "consuming again" is observable.
        const probe = (function* () {
          for (const e of openRequestEvents(PROBE_REQUESTS, {
            idPrefix: `probe-${probes}`,
            seed: 99 + probes,
          }))
            yield encoder.encode(e);
        })();
        probes++;
        await produceAll(env.producer, probe, {
          total: PROBE_REQUESTS * 2,
          label: 'probe input while down',
          topicFor: map,
        });
        const endAfterProbe = await endOffsets(env.admin, t.inputs);
        child = spawnChild(cfg);
        const spawned = child.spawnedAt;
        let restoredMs: number | null = null;
        let serviceRestoreMs: number | null = null;
        let restoredRecords: number | null = null;
        let changelogRecordsRead: number | null = null;
        let changelogBytesRead: number | null = null;
        let consumingMs: number | null = null;
        let caughtUpMs: number | null = null;
        let noteText: string | null = null;
        void child.waitForLog('state restored from changelog', timeoutMs).then(
          (l) => {
            restoredMs = l.t - spawned;
            serviceRestoreMs = typeof l.obj['ms'] === 'number' ? l.obj['ms'] : null;
            restoredRecords = typeof l.obj['records'] === 'number' ? l.obj['records'] : null;
            changelogRecordsRead = typeof l.obj['packedRecords'] === 'number' ? l.obj['packedRecords'] : null;
            changelogBytesRead = typeof l.obj['bytes'] === 'number' ? l.obj['bytes'] : null;
          },
          () => undefined,
        );
        const result = await pollUntil(
          async () => {
            const c = await committedOffsets(env.admin, groupId, t.inputs);
            if (consumingMs === null && c > committedBefore) consumingMs = Date.now() - spawned;
            s2.update(c - committedBefore, endAfterProbe - committedBefore, 'probe records committed');
            if (c >= endAfterProbe) {
              caughtUpMs = Date.now() - spawned;
              return true;
            }
            return undefined;
          },
          100,
          timeoutMs,
        );
        if (result === null) noteText = `restart did not catch up within ${timeoutMs / 1000} s`;
        const started = child.last('started');
        await new Promise((r) => setTimeout(r, 300));
        const st = child.last('stats');
        rows.push({
          openRequests: n,
          fillEvents: total,
          fillMs: caught - fill0,
          rssBeforeKillBytes: rssBefore,
          restoredMs,
          serviceRestoreMs,
          restoredRecords,
          changelogRecordsRead,
          changelogBytesRead,
          startedMs: started ? started.receivedAt - spawned : null,
          consumingMs,
          caughtUpMs,
          openAfterRestore: st?.open ?? null,
          rssAfterRestoreBytes: st?.rss ?? null,
          note: noteText,
        });
        s2.done(
          `state restored after ${restoredMs ?? '?'} ms, consuming again after ${consumingMs ?? '?'} ms`,
        );
        if (result === null) break;
        filled += PROBE_REQUESTS;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        rows.push({
          ...emptyRow(n),
          note: `failed${e.code ? ` [${e.code}]` : ''}: ${(e.message ?? String(err)).split('\n')[0] ?? ''}`,
        });
        process.stderr.write(`✗ recovery at ${n} open requests failed: ${e.message ?? String(err)}\n`);
        break;
      }
    }
  } finally {
    await stopChild(child);
  }
  note(`recovery (${engine}): ${rows.length} kill -9 cycles measured`);
  return rows;
}

export { NO_FAULTS };
