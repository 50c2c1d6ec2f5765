// In-process engine figures through the reconciler package's public API (the engine the service builds): events/s on one core
// with and without decoding, against decode alone; retained bytes per open request against a naive Map of the
// decoded events. The engine engineer's own benchEngine, when exported, is reported next to these.
import { createRootLogger } from '@pathwatch/core';
import { createCodec } from '@pathwatch/schemas';
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import { retainedBytes } from '../gc.js';
import { openRequestEvents, simulatedRecords } from '../load.js';
import { sampleOwnMemory } from '../memory.js';
import { productEngine } from '../product-engine.js';
import { step } from '../progress.js';
import { summarize } from '../stats.js';

type InputKind = 'request' | 'dispatch' | 'callback';

interface Position {
  partition: number;
  offset: string;
}

/** What the harness uses of the engine (structural, so the harness survives renames of the engine's types). */
export interface InprocEngine {
  onRequest(ev: RequestAccepted, at: Position): unknown;
  onDispatch(ev: DispatchAttempted, at: Position): unknown;
  onCallback(ev: ProviderCallback, at: Position): unknown;
  tick(): void;
  drainOutputs(): { verdicts: readonly unknown[]; actions: readonly unknown[] };
  drainChangelog(): readonly unknown[];
  stats?(): { openRequests: number; bytes?: { total: number } };
}

export type EngineFactory = (now: () => number) => InprocEngine;

/** The engine exactly as the service builds it (see product-engine.ts), driven directly. */
export function engineFactory(): EngineFactory | null {
  const product = productEngine();
  if (!product) return null;
  const logger = createRootLogger({ level: 'warn', name: 'bench-engine', destination: process.stderr });
  return (now) => product.create({ now, logger });
}

const PARTITIONS = 4;

function partitionOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PARTITIONS;
}

interface WireInput {
  readonly kind: InputKind;
  readonly bytes: Buffer;
  readonly at: Position;
}

export interface ThroughputRow {
  readonly label: string;
  readonly events: number;
  /** Median over the passes of events per second of wall time. */
  readonly eventsPerSec: number;
  /** Median over the passes of events per CPU-second of this process (what one dedicated core would do). */
  readonly eventsPerCpuSec: number;
  readonly bestEventsPerSec: number;
  /** Measured passes (1 when a pass takes longer than LONG_PASS_MS). */
  readonly passes: number;
  readonly verdicts: number;
  readonly peakRssMiB: number;
  readonly peakHeapMiB: number;
}

export interface EngineInprocResult {
  readonly throughput: ThroughputRow[];
  readonly memory: {
    readonly openRequests: number;
    readonly engineRetainedBytesPerRequest: number | null;
    readonly engineReportedBytesPerRequest: number | null;
    readonly engineOpenReported: number | null;
    readonly naiveMapBytesPerRequest: number;
    readonly naiveOpenRequests: number;
  } | null;
  readonly events: number;
  readonly invalid: number;
  readonly passes: number;
}

/** Passes are bounded in time: when the warm-up says one pass takes longer than this, only one is measured. */
const LONG_PASS_MS = 10_000;

function runPasses(
  label: string,
  passes: number,
  n: number,
  body: (limit: number) => { ms: number; verdicts: number },
): ThroughputRow {
  const rates: number[] = [];
  const cpuRates: number[] = [];
  let verdicts = 0;
  const mem = sampleOwnMemory(50);
  // Warm-up on a quarter of the events: lets the JIT settle; not counted, but it sizes the number of passes.
  const warmN = Math.max(1, Math.ceil(n / 4));
  const warm = body(warmN);
  const count = (warm.ms * n) / warmN > LONG_PASS_MS ? 1 : passes;
  for (let p = 0; p < count; p++) {
    const c0 = process.cpuUsage();
    const r = body(n);
    const c = process.cpuUsage(c0);
    rates.push((n * 1000) / r.ms);
    cpuRates.push((n * 1e6) / (c.user + c.system));
    verdicts = r.verdicts;
  }
  const peaks = mem.stop();
  const s = summarize(rates);
  return {
    label,
    events: n,
    passes: count,
    eventsPerSec: Math.round(s.p50),
    eventsPerCpuSec: Math.round(summarize(cpuRates).p50),
    bestEventsPerSec: Math.round(s.max),
    verdicts,
    peakRssMiB: peaks.rssBytes / 2 ** 20,
    peakHeapMiB: peaks.heapUsedBytes / 2 ** 20,
  };
}

/** Feeds one event to the engine by kind. */
function feed(engine: InprocEngine, kind: InputKind, value: unknown, at: Position): void {
  if (kind === 'request') engine.onRequest(value as RequestAccepted, at);
  else if (kind === 'dispatch') engine.onDispatch(value as DispatchAttempted, at);
  else engine.onCallback(value as ProviderCallback, at);
}

export function runEngineInproc(
  create: EngineFactory | null,
  opts: { events: number; openRequests: number; passes: number },
): EngineInprocResult {
  const codec = createCodec();
  const s0 = step(
    `simulating ${opts.events.toLocaleString('en-US')} input events (bench preset, as encoded on the topics)`,
  );
  const inputs: WireInput[] = [];
  let invalid = 0;
  for (const { event, record } of simulatedRecords(codec, { records: opts.events })) {
    const kind: InputKind = event.kind === 'invalid' ? event.topicKind : event.kind;
    if (event.kind === 'invalid') invalid++;
    inputs.push({
      kind,
      bytes: record.value,
      at: { partition: partitionOf(record.key), offset: String(inputs.length) },
    });
    s0.update(inputs.length, opts.events);
  }
  s0.done(`${inputs.length.toLocaleString('en-US')} events (${invalid} deliberately invalid)`);
  const n = inputs.length;
  const throughput: ThroughputRow[] = [];

  const s1 = step('decode only (baseline)');
  let sink = 0;
  throughput.push(
    runPasses('decode + validate only (baseline)', opts.passes, n, (limit) => {
      const t0 = performance.now();
      for (let i = 0; i < limit; i++) {
        const inp = inputs[i] as WireInput;
        try {
          sink += codec.decode(inp.kind, inp.bytes) === undefined ? 0 : 1;
        } catch {
          sink++;
        }
      }
      return { ms: performance.now() - t0, verdicts: 0 };
    }),
  );
  s1.done(`${(throughput[0] as ThroughputRow).eventsPerSec.toLocaleString('en-US')} events/s`);

  if (create) {
    // Decoded once up front for the engine-only row.
    const decoded: { kind: InputKind; value: unknown; at: Position }[] = [];
    for (const inp of inputs) {
      try {
        decoded.push({ kind: inp.kind, value: codec.decode(inp.kind, inp.bytes), at: inp.at });
      } catch {
        /* dead letter in the service: never reaches the engine */
      }
    }
    const drive =
      (withDecode: boolean) =>
      (limit: number): { ms: number; verdicts: number } => {
        let wall = Date.now();
        const engine = create(() => wall);
        let verdicts = 0;
        let lastTick = performance.now();
        const t0 = performance.now();
        const total = Math.min(limit, withDecode ? n : decoded.length);
        for (let i = 0; i < total; i++) {
          if (withDecode) {
            const inp = inputs[i] as WireInput;
            let value: unknown;
            try {
              value = codec.decode(inp.kind, inp.bytes);
            } catch {
              continue;
            }
            feed(engine, inp.kind, value, inp.at);
          } else {
            const d = decoded[i] as (typeof decoded)[number];
            feed(engine, d.kind, d.value, d.at);
          }
          // The service ticks and drains every ~100 ms of wall time; so does this loop.
          if ((i & 1023) === 0) {
            const now = performance.now();
            if (now - lastTick >= 100) {
              lastTick = now;
              wall = Date.now();
              engine.tick();
              verdicts += engine.drainOutputs().verdicts.length;
              sink += engine.drainChangelog().length;
            }
          }
        }
        engine.tick();
        verdicts += engine.drainOutputs().verdicts.length;
        sink += engine.drainChangelog().length;
        return { ms: performance.now() - t0, verdicts };
      };
    const s2 = step('engine only (events decoded up front)');
    throughput.push(runPasses('engine only (pre-decoded)', opts.passes, decoded.length, drive(false)));
    s2.done(`${(throughput[1] as ThroughputRow).eventsPerSec.toLocaleString('en-US')} events/s`);
    const s3 = step('decode + engine (the target)');
    throughput.push(runPasses('decode + validate + engine', opts.passes, n, drive(true)));
    s3.done(`${(throughput[2] as ThroughputRow).eventsPerSec.toLocaleString('en-US')} events/s`);
  }
  inputs.length = 0;
  if (sink === -1) throughput.length = 0;

  // Retained memory at N open requests: the engine vs a Map of the decoded events.
  const N = opts.openRequests;
  const naiveN = N;
  const s4 = step(`naive baseline: Map of decoded events, ${naiveN.toLocaleString('en-US')} open requests`);
  // Fresh objects per event, as a consumer's decoder hands them over (clones share nested objects otherwise).
  const decodedCopy = <K extends 'request' | 'dispatch'>(
    kind: K,
    v: K extends 'request' ? RequestAccepted : DispatchAttempted,
  ) => codec.decode(kind, codec.encode(kind, v as never));
  let before = retainedBytes();
  const naive = new Map<string, { request?: RequestAccepted; dispatches: DispatchAttempted[] }>();
  let i = 0;
  for (const e of openRequestEvents(naiveN, { idPrefix: 'naive' })) {
    if (e.kind === 'request') naive.set(e.key, { request: decodedCopy('request', e.value), dispatches: [] });
    else if (e.kind === 'dispatch') naive.get(e.key)?.dispatches.push(decodedCopy('dispatch', e.value));
    if ((++i & 4095) === 0) s4.update(i >> 1, naiveN);
  }
  const naiveBytes = (retainedBytes() - before) / naive.size;
  s4.done(`${Math.round(naiveBytes)} bytes per open request`);
  naive.clear();

  let memory: EngineInprocResult['memory'] = null;
  if (create) {
    const s5 = step(`engine: ${N.toLocaleString('en-US')} open requests`);
    before = retainedBytes();
    const wall = Date.now();
    const engine = create(() => wall);
    let k = 0;
    for (const e of openRequestEvents(N, { idPrefix: 'eng' })) {
      const at = { partition: partitionOf(e.key), offset: String(k) };
      if (e.kind === 'request') engine.onRequest(decodedCopy('request', e.value), at);
      else if (e.kind === 'dispatch') engine.onDispatch(decodedCopy('dispatch', e.value), at);
      if ((++k & 4095) === 0) {
        s5.update(k >> 1, N);
        // Drain like the service does, so pending changelog records are not counted as state.
        engine.drainOutputs();
        engine.drainChangelog();
      }
    }
    engine.drainOutputs();
    engine.drainChangelog();
    const retained = (retainedBytes() - before) / N;
    const st = engine.stats?.();
    memory = {
      openRequests: N,
      engineRetainedBytesPerRequest: retained,
      engineReportedBytesPerRequest: st?.bytes ? st.bytes.total / N : null,
      engineOpenReported: st ? st.openRequests : null,
      naiveMapBytesPerRequest: naiveBytes,
      naiveOpenRequests: naiveN,
    };
    s5.done(
      `${Math.round(retained)} bytes per open request retained${st?.bytes ? `, engine reports ${Math.round(st.bytes.total / N)}` : ''}`,
    );
    // Keeps the engine alive until after the measurement.
    if (engine.stats?.().openRequests === -1) memory = null;
  } else {
    memory = {
      openRequests: N,
      engineRetainedBytesPerRequest: null,
      engineReportedBytesPerRequest: null,
      engineOpenReported: null,
      naiveMapBytesPerRequest: naiveBytes,
      naiveOpenRequests: naiveN,
    };
  }
  return { throughput, memory, events: n, invalid, passes: opts.passes };
}
