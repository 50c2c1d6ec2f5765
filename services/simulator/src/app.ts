// Builds the simulator as a service around a Kafka producer, without side effects: nothing runs before start().
import type { Logger, OutgoingMessage, Producer } from '@pathwatch/core';
import type { Codec } from '@pathwatch/schemas';
import type { SimulatorConfig } from './config.js';
import type { GeneratorOptionsInput } from './options.js';
import { createSimulator } from './simulator.js';
import type { RunReport, SetTimer, Simulator } from './simulator.js';
import type { OutboundRecord } from './wire.js';

export interface SimulatorAppDeps {
  readonly config: Pick<
    SimulatorConfig,
    | 'preset'
    | 'ratePerSec'
    | 'seed'
    | 'speed'
    | 'units'
    | 'jsonShare'
    | 'safetyMarginMs'
    | 'watermarkBoundMs'
    | 'retryGraceMs'
    | 'statsIntervalMs'
  >;
  readonly producer: Pick<Producer, 'send'>;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
  readonly setTimer?: SetTimer;
  readonly codec?: Codec;
}

export interface SimulatorApp {
  readonly simulator: Simulator;
  /** The seed in use (logged at start, so a run can be reproduced). */
  readonly seed: number;
  /** Starts sending; resolves when a finite run (SIM_UNITS) ends, or when stop() ends a continuous one. */
  start(): Promise<RunReport>;
  stop(): Promise<void>;
}

/** Sends records in publish order: consecutive records of one topic go in one produce request. */
export function producerSink(
  producer: Pick<Producer, 'send'>,
): (records: readonly OutboundRecord[]) => Promise<void> {
  return async (records) => {
    let i = 0;
    while (i < records.length) {
      const topic = (records[i] as OutboundRecord).topic;
      const messages: OutgoingMessage[] = [];
      while (i < records.length && (records[i] as OutboundRecord).topic === topic) {
        const r = records[i] as OutboundRecord;
        messages.push({ key: r.key, value: r.value, headers: r.headers });
        i += 1;
      }
      await producer.send(topic, messages);
    }
  };
}

export function createSimulatorApp(deps: SimulatorAppDeps): SimulatorApp {
  const { config, logger } = deps;
  const now = deps.now ?? Date.now;
  const log = logger.child({ stage: 'simulator' });
  const seed = config.seed ?? now() % 2 ** 31;
  const generatorOptions: GeneratorOptionsInput = {
    preset: config.preset,
    seed,
    ...(config.ratePerSec === undefined ? {} : { ratePerSec: config.ratePerSec }),
    timing: {
      safetyMarginMs: config.safetyMarginMs,
      watermarkBoundMs: config.watermarkBoundMs,
      retryGraceMs: config.retryGraceMs,
    },
    wire: { jsonShare: config.jsonShare },
  };
  const sink = producerSink(deps.producer);
  const simulator = createSimulator({
    generatorOptions,
    send: (r) => sink([r]),
    sendBatch: sink,
    now,
    logger,
    // The process only logs counters; keep little ground truth in memory.
    expectationRetention: 10_000,
    ...(deps.setTimer ? { setTimer: deps.setTimer } : {}),
    ...(deps.codec ? { codec: deps.codec } : {}),
  });
  const setTimer: SetTimer =
    deps.setTimer ??
    ((fn, ms) => {
      const h = setTimeout(fn, ms);
      return () => clearTimeout(h);
    });
  let cancelStats: (() => void) | null = null;
  const logStats = (): void => {
    const s = simulator.stats();
    log.info(
      {
        units: s.unitsGenerated,
        eventsSent: s.eventsSent,
        eventsByTopic: s.eventsByTopic,
        expected: s.unitsByExpectedClass,
        sendErrors: s.sendErrors,
        behindScheduleMs: Math.round(s.behindScheduleMs),
      },
      'simulator stats',
    );
  };
  const scheduleStats = (): void => {
    if (config.statsIntervalMs <= 0) return;
    cancelStats = setTimer(() => {
      logStats();
      scheduleStats();
    }, config.statsIntervalMs);
  };

  return {
    simulator,
    seed,
    async start() {
      log.info(
        { seed, preset: config.preset, speed: config.speed, units: config.units ?? null },
        'simulator starting',
      );
      scheduleStats();
      try {
        return await simulator.runBatch({ speed: config.speed, units: config.units ?? Infinity });
      } finally {
        cancelStats?.();
        cancelStats = null;
        logStats();
      }
    },
    async stop() {
      await simulator.stop();
      cancelStats?.();
      cancelStats = null;
    },
  };
}
