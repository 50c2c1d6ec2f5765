/**
 * Path writer configuration: the only place it reads the environment. Every default is documented here and in
 * the README's configuration table (configDocRows(pathWriterConfigSpec)).
 */
import {
  ConfigError,
  connectConfigSpec,
  connectProblems,
  consumerTimeoutProblems,
  parse,
  readConfig,
  type ConfigOf,
  type VarSpec,
  sharedVars,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '@pathwatch/core';
import { clickhouseConfigSpec, type PathStoreOptions } from '@pathwatch/path-store';
import type { PathWriterAppConfig } from './app.js';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

export const pathWriterConfigSpec = {
  brokers: v<string[] | undefined>({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers, comma-separated host:port. Unset: `npm start` runs a local broker.',
    default: undefined,
    optional: true,
    defaultDoc: 'local broker',
    parse: parse.brokers,
  }),
  groupId: v({
    env: 'PATH_WRITER_GROUP_ID',
    doc: 'Consumer group of the path writer.',
    default: 'pathwatch-path-writer',
    parse: parse.string,
  }),
  sessionTimeoutMs: v({
    env: 'PATH_WRITER_SESSION_TIMEOUT_MS',
    doc: 'Consumer group session timeout: a crashed or restarted writer holds its partitions this long, so it bounds how long verdicts wait after a restart.',
    default: 6000,
    parse: parse.int(1000, 300_000),
  }),
  heartbeatIntervalMs: v<number | undefined>({
    env: 'PATH_WRITER_HEARTBEAT_INTERVAL_MS',
    doc: 'Consumer heartbeat interval; must be below the session timeout.',
    default: undefined,
    optional: true,
    defaultDoc: 'session / 3, at most 3000',
    parse: parse.int(100, 100_000),
  }),
  rebalanceTimeoutMs: v<number | undefined>({
    env: 'PATH_WRITER_REBALANCE_TIMEOUT_MS',
    doc: 'How long a rebalance waits for members to rejoin; at least the session timeout.',
    default: undefined,
    optional: true,
    defaultDoc: 'session timeout',
    parse: parse.int(1000, 600_000),
  }),
  stallTimeoutMs: v({
    env: 'PATH_WRITER_STALL_TIMEOUT_MS',
    doc: 'Verdicts pending (lag or buffered) with no batch written for this long, or writes failing this long, make `/readyz` fail naming the path-writer stage.',
    default: 60_000,
    parse: parse.int(1000, 3_600_000),
  }),
  maxBatchRows: v({
    env: 'PATH_WRITER_MAX_BATCH_ROWS',
    doc: 'Rows per ClickHouse insert: a full batch is written at once (large batches cost less CPU per row when catching up).',
    default: 50_000,
    parse: parse.int(1, 1_000_000),
  }),
  flushIntervalMs: v({
    env: 'PATH_WRITER_FLUSH_INTERVAL_MS',
    doc: 'A partial batch is written after at most this long.',
    default: 1000,
    parse: parse.int(10, 600_000),
  }),
  maxBufferedRows: v({
    env: 'PATH_WRITER_MAX_BUFFERED_ROWS',
    doc: 'Consumption pauses while this many rows wait for ClickHouse (memory bound during an outage).',
    default: 100_000,
    parse: parse.int(1, 10_000_000),
  }),
  retryInitialMs: v({
    env: 'PATH_WRITER_RETRY_INITIAL_MS',
    doc: 'Cap of the first retry delay after a failed insert; the cap doubles on each failure and each delay is drawn uniformly below it (full jitter).',
    default: 200,
    parse: parse.int(1, 60_000),
  }),
  retryMaxMs: v({
    env: 'PATH_WRITER_RETRY_MAX_MS',
    doc: 'Cap on the retry delay.',
    default: 10_000,
    parse: parse.int(1, 600_000),
  }),
  maxRetries: v({
    env: 'PATH_WRITER_MAX_RETRIES',
    doc: 'Consecutive failed inserts before consumption is paused (retries continue; nothing is dropped).',
    default: 3,
    parse: parse.int(1, 1000),
  }),
  rollupIntervalMs: v({
    env: 'PATH_WRITER_ROLLUP_INTERVAL_MS',
    doc: 'How often rollup buckets touched by new rows are re-aggregated (dashboard freshness).',
    default: 15_000,
    parse: parse.int(1000, 3_600_000),
  }),
  rollupCorrectionWindowHours: v({
    env: 'PATH_WRITER_ROLLUP_CORRECTION_WINDOW_HOURS',
    doc: 'Buckets older than this are not re-aggregated (corrections older stay correct in raw queries only).',
    default: 168,
    parse: parse.int(1, 24 * 366),
  }),
  deadLetterMaxBytes: sharedVars.deadLetterMaxBytes,
  topicPartitions: sharedVars.topicPartitions,
  createTopics: sharedVars.createTopics,
  ...connectConfigSpec,
  shutdownTimeoutMs: sharedVars.shutdownTimeoutMs,
  ...clickhouseConfigSpec,
  logLevel: sharedVars.logLevel,
};

export type PathWriterConfig = ConfigOf<typeof pathWriterConfigSpec>;

export function loadPathWriterConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): PathWriterConfig {
  const config = readConfig(env, pathWriterConfigSpec);
  const problems = [...consumerTimeoutProblems('PATH_WRITER', config), ...connectProblems(config)];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The wiring's configuration from this configuration: the one mapping, used by main.ts and the all-in-one runner. */
export function pathWriterAppConfigFrom(config: PathWriterConfig): PathWriterAppConfig {
  return { ...config, topics: topicNamesFromConfig(config), topicCreation: topicCreationFromConfig(config) };
}

/** The path store options the writer's configuration sets (the rollups' correction window). */
export function pathStoreOptionsFrom(config: PathWriterConfig): PathStoreOptions {
  return { rollups: { correctionWindowMs: config.rollupCorrectionWindowHours * 3_600_000 } };
}
