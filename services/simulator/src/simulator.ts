// The runner: pulls units from the generator, sends their events at their publish times through an injected
// `send`, and keeps the ground truth and counters. Time is injected (`now`, `setTimer`), so tests drive it.
//
// Clocks: events carry event times on a virtual timeline that starts at `startEventTime` (default: now() when
// the run starts). A paced run maps virtual time to wall time at `speed` virtual ms per wall ms (1 = real time);
// `speed: 'max'` sends in publish order as fast as `send` accepts.
import type { Logger } from '@pathwatch/core';
import { createCodec } from '@pathwatch/schemas';
import type { Codec, VerdictClass } from '@pathwatch/schemas';
import { SimulatorError } from './errors.js';
import { createEventStream, createGenerator } from './generator.js';
import type { EventStream, Generator } from './generator.js';
import type { Expectation, ScriptedEvent, ScriptedUnit } from './model.js';
import type { GeneratorOptions, GeneratorOptionsInput } from './options.js';
import { createWireEncoder } from './wire.js';
import type { OutboundRecord, WireEncoder } from './wire.js';

/** Schedules `fn` after `delayMs`; returns a cancel function. */
export type SetTimer = (fn: () => void, delayMs: number) => () => void;

export interface SimulatorDeps {
  /** Preset and overrides; `startEventTime` defaults to now() when a run starts. */
  readonly generatorOptions?: GeneratorOptionsInput;
  /** Sends one record (the lead wires it to the Kafka producer). Awaited in publish order. */
  readonly send: (record: OutboundRecord) => Promise<void> | void;
  /** Optional batch form; when given it is used instead of `send` (records are in publish order). */
  readonly sendBatch?: (records: readonly OutboundRecord[]) => Promise<void>;
  /** Processing-time clock (epoch ms). @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout/clearTimeout */
  readonly setTimer?: SetTimer;
  /** @default createCodec() (local catalog ids, default topic names) */
  readonly codec?: Codec;
  readonly logger?: Logger;
  /**
   * Ground-truth entries kept for expectations(); older ones are dropped first (counters keep counting).
   * @default 100000
   */
  readonly expectationRetention?: number;
  /** @default 500 */
  readonly maxBatchRecords?: number;
  /** Longest a paced run sleeps before re-checking the schedule. @default 250 */
  readonly maxSleepMs?: number;
}

export interface RunOptions {
  /** Virtual ms per wall ms (1 = real time), or 'max' for as fast as possible. @default 1 */
  readonly speed?: number | 'max';
  /** Stop after this many arrivals (requests, orphans, invalid records); unbounded when omitted. */
  readonly units?: number;
}

export interface RunReport {
  readonly units: number;
  readonly eventsSent: number;
  readonly sendErrors: number;
  /** Wall-clock duration of the run. */
  readonly durationMs: number;
  /** Virtual (event/publish) time span covered: first arrival to last publish. */
  readonly virtualStart: number;
  readonly virtualEnd: number;
  readonly stopped: boolean;
}

export interface SimulatorStats {
  readonly running: boolean;
  readonly unitsGenerated: number;
  /** Units by expected final verdict class; invalid records count as `dead_letter`. */
  readonly unitsByExpectedClass: Readonly<Record<string, number>>;
  readonly faults: Readonly<Record<string, number>>;
  readonly eventsSent: number;
  readonly eventsByTopic: Readonly<Record<string, number>>;
  /** e.g. `request`, `dispatch:timeout`, `callback:delivered`, `callback:duplicate`, `invalid:bad_magic`. */
  readonly eventsByLabel: Readonly<Record<string, number>>;
  /** Generated but not yet sent. */
  readonly eventsPending: number;
  readonly sendErrors: number;
  /** Units whose events could not all be sent (their expectations are withheld). */
  readonly unitsWithLostEvents: number;
  /** Drafts discarded because a deciding time fell inside a safety margin. */
  readonly redrafts: number;
  /** Publish time of the last event sent (virtual clock). */
  readonly virtualTime: number | null;
  /** Paced runs: how late the last batch went out against its schedule (wall ms). */
  readonly behindScheduleMs: number;
}

export interface Simulator {
  /** Starts a run in the background (continuous unless `units` is given). */
  start(options?: RunOptions): void;
  /** Runs to completion (requires `units`) or until stop(). */
  runBatch(options: RunOptions & { readonly units: number }): Promise<RunReport>;
  /** Stops the active run after the batch in flight; resolves when it has ended. */
  stop(): Promise<void>;
  /** Resolves when the active (or last) run ends; rejects if it failed. */
  readonly done: Promise<RunReport> | null;
  /** Ground truth of every unit generated so far (within retention), in arrival order. */
  expectations(): Expectation[];
  /** Ground truth by key (request_id, or provider:provider_message_id, or invalid:<n>). */
  expectationFor(key: string): Expectation | undefined;
  stats(): SimulatorStats;
  /** The resolved generator options of the current run (null before the first run). */
  readonly options: GeneratorOptions | null;
}

function bump(map: Record<string, number>, key: string, by = 1): void {
  map[key] = (map[key] ?? 0) + by;
}

const defaultSetTimer: SetTimer = (fn, delayMs) => {
  const h = setTimeout(fn, delayMs);
  return () => clearTimeout(h);
};

export function createSimulator(deps: SimulatorDeps): Simulator {
  const now = deps.now ?? Date.now;
  const setTimer = deps.setTimer ?? defaultSetTimer;
  const encoder: WireEncoder = createWireEncoder(deps.codec ?? createCodec());
  const retention = deps.expectationRetention ?? 100_000;
  const maxBatch = Math.max(1, deps.maxBatchRecords ?? 500);
  const maxSleepMs = deps.maxSleepMs ?? 250;
  const log = deps.logger?.child({ stage: 'simulator.send' });

  const byUnit = new Map<number, Expectation>();
  const unitByKey = new Map<string, number>();
  const lostUnits = new Set<number>();
  const unitsByExpectedClass: Record<string, number> = {};
  const faults: Record<string, number> = {};
  const eventsByTopic: Record<string, number> = {};
  const eventsByLabel: Record<string, number> = {};
  let unitsGenerated = 0;
  let redrafts = 0;
  let eventsSent = 0;
  let sendErrors = 0;
  let virtualTime: number | null = null;
  let behindScheduleMs = 0;

  let generator: Generator | null = null;
  let stream: EventStream | null = null;
  let running = false;
  let stopping = false;
  let done: Promise<RunReport> | null = null;
  let wake: (() => void) | null = null;
  let cancelTimer: (() => void) | null = null;

  const onUnit = (unit: ScriptedUnit): void => {
    unitsGenerated += 1;
    redrafts += unit.redrafts;
    const e = unit.expectation;
    bump(unitsByExpectedClass, e.kind === 'invalid' ? 'dead_letter' : e.verdict);
    if (e.kind === 'invalid') bump(faults, 'invalid_record');
    else for (const f of e.faults) bump(faults, f);
    byUnit.set(unit.index, e);
    unitByKey.set(e.key, unit.index);
    while (byUnit.size > retention) {
      const oldest = byUnit.keys().next().value as number;
      const old = byUnit.get(oldest);
      byUnit.delete(oldest);
      if (old && unitByKey.get(old.key) === oldest) unitByKey.delete(old.key);
      lostUnits.delete(oldest);
    }
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      cancelTimer = setTimer(() => {
        cancelTimer = null;
        wake = null;
        resolve();
      }, ms);
    });

  async function sendEvents(events: readonly ScriptedEvent[]): Promise<void> {
    const records = events.map((e) => encoder.encode(e));
    try {
      if (deps.sendBatch) await deps.sendBatch(records);
      else for (const r of records) await deps.send(r);
    } catch (err) {
      sendErrors += records.length;
      for (const e of events) lostUnits.add(e.unit);
      log?.error(
        { err, records: records.length, firstKey: records[0]?.key },
        'send failed: events lost for this run',
      );
      return;
    }
    eventsSent += records.length;
    for (let i = 0; i < events.length; i++) {
      const e = events[i] as ScriptedEvent;
      bump(eventsByTopic, (records[i] as OutboundRecord).topic);
      bump(eventsByLabel, e.label);
    }
    virtualTime = (events.at(-1) as ScriptedEvent).publishAt;
  }

  async function loop(s: EventStream, options: GeneratorOptions, speed: number | 'max'): Promise<RunReport> {
    const wallStart = now();
    const virtualStart = options.startEventTime;
    const virtualNow = (): number =>
      speed === 'max' ? Infinity : virtualStart + (now() - wallStart) * speed;
    let virtualEnd = virtualStart;
    const sentBefore = eventsSent;
    const errorsBefore = sendErrors;
    while (!stopping) {
      const limit = virtualNow();
      const batch: ScriptedEvent[] = [];
      while (batch.length < maxBatch) {
        const head = s.peek();
        if (!head || head.publishAt > limit) break;
        batch.push(s.next() as ScriptedEvent);
      }
      if (batch.length > 0) {
        if (speed !== 'max')
          behindScheduleMs = Math.max(0, (limit - (batch[0] as ScriptedEvent).publishAt) / speed);
        await sendEvents(batch);
        virtualEnd = (batch.at(-1) as ScriptedEvent).publishAt;
      }
      const head = s.peek();
      if (!head) break;
      if (speed === 'max' || batch.length === maxBatch) {
        // Yield to timers and I/O between batches.
        await sleep(0);
        continue;
      }
      // Whole milliseconds, at least 1: sub-ms waits would not move an epoch-ms clock forward.
      await sleep(Math.max(1, Math.min(maxSleepMs, Math.ceil((head.publishAt - virtualNow()) / speed))));
    }
    return {
      units: s.unitsPulled,
      eventsSent: eventsSent - sentBefore,
      sendErrors: sendErrors - errorsBefore,
      durationMs: now() - wallStart,
      virtualStart,
      virtualEnd,
      stopped: stopping,
    };
  }

  function begin(options: RunOptions = {}): Promise<RunReport> {
    if (running || generator) {
      throw new SimulatorError(
        'SIM_ALREADY_RUNNING',
        'a simulator runs once; create another simulator for another run',
      );
    }
    const speed = options.speed ?? 1;
    if (speed !== 'max' && !(speed > 0))
      throw new SimulatorError('SIM_INVALID_OPTIONS', `speed must be > 0 or 'max' (got ${speed})`);
    generator = createGenerator(deps.generatorOptions, now());
    const opts = generator.options;
    stream = createEventStream(generator, {
      onUnit,
      ...(options.units === undefined ? {} : { maxUnits: options.units }),
    });
    running = true;
    stopping = false;
    log?.info(
      { seed: opts.seed, ratePerSec: opts.ratePerSec, speed, units: options.units ?? null },
      'simulator started',
    );
    const run = loop(stream, opts, speed).finally(() => {
      running = false;
    });
    done = run;
    return run;
  }

  return {
    start(options) {
      begin(options).then(
        (report) => log?.info({ ...report }, 'simulator finished'),
        (err: unknown) => log?.error({ err }, 'simulator failed'),
      );
    },
    runBatch(options) {
      return begin(options);
    },
    async stop() {
      if (!running || !done) return;
      stopping = true;
      cancelTimer?.();
      cancelTimer = null;
      const w = wake;
      wake = null;
      w?.();
      await done.catch(() => undefined);
    },
    get done() {
      return done;
    },
    expectations() {
      const out: Expectation[] = [];
      for (const [unit, e] of byUnit) if (!lostUnits.has(unit)) out.push(e);
      return out;
    },
    expectationFor(key) {
      const unit = unitByKey.get(key);
      return unit === undefined || lostUnits.has(unit) ? undefined : byUnit.get(unit);
    },
    stats() {
      return {
        running,
        unitsGenerated,
        unitsByExpectedClass: { ...unitsByExpectedClass },
        faults: { ...faults },
        eventsSent,
        eventsByTopic: { ...eventsByTopic },
        eventsByLabel: { ...eventsByLabel },
        eventsPending: stream?.pending ?? 0,
        sendErrors,
        unitsWithLostEvents: lostUnits.size,
        redrafts,
        virtualTime,
        behindScheduleMs,
      };
    },
    get options() {
      return generator?.options ?? null;
    },
  };
}

/** Expected verdict classes, for callers that tabulate unitsByExpectedClass. */
export type ExpectedClass = VerdictClass | 'dead_letter';
