/**
 * Simulator configuration (own process): the only place it reads the environment. Every default is documented
 * here and in the README's configuration table (configDocRows(simulatorConfigSpec)).
 */
import {
  ConfigError,
  connectConfigSpec,
  connectProblems,
  parse,
  readConfig,
  type ConfigOf,
  type VarSpec,
  sharedVars,
} from '@pathwatch/core';
import { PRESET_NAMES, type PresetName } from './options.js';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

const number =
  (min: number, max: number) =>
  (raw: string): number => {
    const n = Number(raw);
    if (!/^-?\d+(\.\d+)?$/.test(raw) || !Number.isFinite(n) || n < min || n > max)
      throw new Error(`must be a number between ${min} and ${max}`);
    return n;
  };

const speed = (raw: string): number | 'max' => {
  if (raw === 'max') return 'max';
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000)
    throw new Error("must be a positive number (virtual ms per wall ms) or 'max'");
  return n;
};

export const simulatorConfigSpec = {
  brokers: v<string[]>({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers, comma-separated host:port (e.g. the ones `npm run kafka:up` prints).',
    default: undefined,
    parse: parse.brokers,
  }),
  preset: v<PresetName>({
    env: 'SIM_PRESET',
    doc: `Traffic preset: ${PRESET_NAMES.join(', ')} (fault rates and default rate).`,
    default: 'demo',
    parse: parse.oneOf(PRESET_NAMES),
  }),
  ratePerSec: v<number | undefined>({
    env: 'SIM_RATE_PER_SEC',
    doc: 'Mean arrivals per second (requests, orphans and invalid records). Unset: the preset (demo 20, chaos 50, bench 5000).',
    default: undefined,
    optional: true,
    defaultDoc: 'preset',
    parse: number(0.001, 1_000_000),
  }),
  seed: v<number | undefined>({
    env: 'SIM_SEED',
    doc: 'Seed of the traffic; the same seed and options give the same events. Unset: derived from the wall clock (logged).',
    default: undefined,
    optional: true,
    defaultDoc: 'wall clock',
    parse: parse.int(0, 2 ** 48),
  }),
  speed: v<number | 'max'>({
    env: 'SIM_SPEED',
    doc: "Virtual ms per wall ms: 1 = real time, 10 = ten times compressed, 'max' = as fast as the broker accepts.",
    default: 1,
    parse: speed,
  }),
  units: v<number | undefined>({
    env: 'SIM_UNITS',
    doc: 'Stop after this many arrivals, then exit. Unset: run until stopped.',
    default: undefined,
    optional: true,
    defaultDoc: 'unbounded',
    parse: parse.int(1),
  }),
  jsonShare: v({
    env: 'SIM_JSON_SHARE',
    doc: 'Share of events encoded as JSON; the rest are Confluent-framed Avro.',
    default: 0.25,
    parse: number(0, 1),
  }),
  safetyMarginMs: v({
    env: 'SIM_SAFETY_MARGIN_MS',
    doc: 'No deciding time is generated within this margin of an SLA or give-up horizon (exact ground truth).',
    default: 500,
    parse: parse.int(0, 600_000),
  }),
  watermarkBoundMs: v({
    env: 'SIM_WATERMARK_BOUND_MS',
    doc: 'Assumed reconciler out-of-orderness bound; keep >= RECONCILER_MAX_OUT_OF_ORDERNESS_MS (its default 500).',
    default: 1_000,
    parse: parse.int(0, 3_600_000),
  }),
  retryGraceMs: v({
    env: 'SIM_RETRY_GRACE_MS',
    doc: "Assumed reconciler retry grace (a failure receipt is decided this long after it occurred); keep equal to the reconciler's.",
    default: 5_000,
    parse: parse.int(0, 3_600_000),
  }),
  statsIntervalMs: v({
    env: 'SIM_STATS_INTERVAL_MS',
    doc: 'How often the counters are logged (0: never).',
    default: 10_000,
    parse: parse.int(0, 3_600_000),
  }),
  topicPartitions: v({
    env: 'PATHWATCH_TOPIC_PARTITIONS',
    doc: 'Partitions for input topics the simulator creates (must match the reconciler: inputs are co-partitioned).',
    default: 4,
    parse: parse.int(1, 1024),
  }),
  createTopics: v({
    env: 'PATHWATCH_CREATE_TOPICS',
    doc: 'Create missing input topics at start.',
    default: true,
    parse: parse.bool,
  }),
  ...connectConfigSpec,
  logLevel: sharedVars.logLevel,
};

export type SimulatorConfig = ConfigOf<typeof simulatorConfigSpec>;

export function loadSimulatorConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): SimulatorConfig {
  const config = readConfig(env, simulatorConfigSpec);
  const problems = connectProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
