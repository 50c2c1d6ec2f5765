/**
 * Reconciler configuration: the only place it reads the environment. Every default is documented here and in
 * the README's configuration table.
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
import type { ReconcilerAppConfig } from './app.js';
import type { EngineOptions } from './engine/index.js';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;

export const reconcilerConfigSpec = {
  brokers: v<string[] | undefined>({
    env: 'KAFKA_BROKERS',
    doc: 'Kafka bootstrap servers, comma-separated host:port. Unset: `npm start` runs a local broker.',
    default: undefined,
    optional: true,
    defaultDoc: 'local broker',
    parse: parse.brokers,
  }),
  groupId: v({
    env: 'RECONCILER_GROUP_ID',
    doc: 'Consumer group of the reconciler.',
    default: 'pathwatch-reconciler',
    parse: parse.string,
  }),
  instanceId: v({
    env: 'RECONCILER_INSTANCE_ID',
    doc: 'Stable id of this instance; its transactional id is `<group>-<instance>`, so a restarted instance fences its zombie.',
    default: '0',
    parse: parse.string,
  }),
  sessionTimeoutMs: v({
    env: 'RECONCILER_SESSION_TIMEOUT_MS',
    doc: 'Consumer group session timeout. A killed instance holds its partitions this long, so it bounds recovery time.',
    default: 6000,
    parse: parse.int(1000, 300_000),
  }),
  heartbeatIntervalMs: v<number | undefined>({
    env: 'RECONCILER_HEARTBEAT_INTERVAL_MS',
    doc: 'Consumer heartbeat interval; must be below the session timeout.',
    default: undefined,
    optional: true,
    defaultDoc: 'session / 3, at most 3000',
    parse: parse.int(100, 100_000),
  }),
  rebalanceTimeoutMs: v<number | undefined>({
    env: 'RECONCILER_REBALANCE_TIMEOUT_MS',
    doc: 'How long a rebalance waits for members to rejoin; at least the session timeout.',
    default: undefined,
    optional: true,
    defaultDoc: 'session timeout',
    parse: parse.int(1000, 600_000),
  }),
  stallTimeoutMs: v({
    env: 'RECONCILER_STALL_TIMEOUT_MS',
    doc: 'Input pending with no committed transaction (or transactions failing) for this long makes `/readyz` fail naming the reconciler stage, and the outage is logged at error level.',
    default: 30_000,
    parse: parse.int(1000, 3_600_000),
  }),
  commitIntervalMs: v({
    env: 'RECONCILER_COMMIT_INTERVAL_MS',
    doc: 'How often verdicts, state changes and input offsets are committed together in one Kafka transaction.',
    default: 100,
    parse: parse.int(10, 60_000),
  }),
  tickIntervalMs: v({
    env: 'RECONCILER_TICK_INTERVAL_MS',
    doc: 'How often the clock is advanced when no input arrives (wall-clock deadline firing).',
    default: 100,
    parse: parse.int(10, 10_000),
  }),
  maxOutOfOrdernessMs: v({
    env: 'RECONCILER_MAX_OUT_OF_ORDERNESS_MS',
    doc: 'Bounded out-of-orderness of event time per input partition (watermark = max event time - this).',
    default: 500,
    parse: parse.int(0, 3_600_000),
  }),
  idleTimeoutMs: v({
    env: 'RECONCILER_IDLE_TIMEOUT_MS',
    doc: 'A partition with no input for this long (processing time) stops holding the event-time clock back.',
    default: 1000,
    parse: parse.int(10, 3_600_000),
  }),
  defaultSlaMs: v({
    env: 'RECONCILER_DEFAULT_SLA_MS',
    doc: 'Outcome SLA when neither the request nor the operation table sets one.',
    default: 30_000,
    parse: parse.int(1, 30 * 86_400_000),
  }),
  defaultGiveUpMs: v({
    env: 'RECONCILER_DEFAULT_GIVE_UP_MS',
    doc: 'Give-up horizon (absence becomes missing_*) when neither the request nor the operation table sets one.',
    default: 600_000,
    parse: parse.int(1, 365 * 86_400_000),
  }),
  correctionHorizonMs: v({
    env: 'RECONCILER_CORRECTION_HORIZON_MS',
    doc: 'How long (event time) a closed request is remembered so late evidence becomes a correction, not an orphan.',
    default: 3_600_000,
    parse: parse.int(0, 30 * 86_400_000),
  }),
  retryGraceMs: v({
    env: 'RECONCILER_RETRY_GRACE_MS',
    doc: 'After the last attempt failed finally, how long (event time) a retry or failover may still arrive before `failed`.',
    default: 5000,
    parse: parse.int(0, 86_400_000),
  }),
  orphanGraceMs: v({
    env: 'RECONCILER_ORPHAN_GRACE_MS',
    doc: 'How long (event time) a dispatch or callback waits for its request before it is an orphan.',
    default: 60_000,
    parse: parse.int(0, 30 * 86_400_000),
  }),
  recoveryReleasePerSec: v({
    env: 'RECONCILER_RECOVERY_RELEASE_PER_SEC',
    doc: 'After a restart, verdicts overdue because Pathwatch was down are released at most this fast (no storm).',
    default: 2000,
    parse: parse.int(1, 10_000_000),
  }),
  changelogTopic: v({
    env: 'RECONCILER_CHANGELOG_TOPIC',
    doc: 'Topic with the reconciler state (packed change batches and snapshots; cleanup.policy=delete, purged by the reconciler after each snapshot), co-partitioned with the inputs.',
    default: 'pathwatch.reconciler-state-v2',
    parse: parse.string,
  }),
  snapshotMinBytes: v({
    env: 'RECONCILER_SNAPSHOT_MIN_BYTES',
    doc: 'A state snapshot starts once the changelog since its start holds this many bytes and twice the last snapshot; the log below a finished snapshot is then deleted.',
    default: 64 * 1_048_576,
    parse: parse.int(1024, 64 * 1_073_741_824),
  }),
  snapshotRecordsPerCommit: v({
    env: 'RECONCILER_SNAPSHOT_RECORDS_PER_COMMIT',
    doc: 'Request images a running snapshot adds to each output transaction (spreads its cost over commits).',
    default: 20_000,
    parse: parse.int(100, 10_000_000),
  }),
  maxInputRecordBytes: v({
    env: 'RECONCILER_MAX_INPUT_RECORD_BYTES',
    doc: 'Input records larger than this (key, value and headers) are dead-lettered (`CORE_INPUT_RECORD_TOO_LARGE`) without being decoded. Every valid record is far smaller: the string fields have length limits (schemas/README.md).',
    default: 262_144,
    parse: parse.int(16_384, 64 * 1_048_576),
  }),
  deadLetterMaxBytes: sharedVars.deadLetterMaxBytes,
  topicPartitions: sharedVars.topicPartitions,
  createTopics: sharedVars.createTopics,
  ...connectConfigSpec,
  shutdownTimeoutMs: sharedVars.shutdownTimeoutMs,
  logLevel: sharedVars.logLevel,
};

export type ReconcilerConfig = ConfigOf<typeof reconcilerConfigSpec>;

export function loadReconcilerConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ReconcilerConfig {
  const config = readConfig(env, reconcilerConfigSpec);
  const problems = [
    ...consumerTimeoutProblems('RECONCILER', config),
    ...connectProblems(config, { RECONCILER_CHANGELOG_TOPIC: config.changelogTopic }),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** The engine options this configuration sets (the rest keep the engine's documented defaults). */
export function engineOptionsFrom(config: ReconcilerConfig): EngineOptions {
  return {
    defaultDeadlines: { slaMs: config.defaultSlaMs, giveUpMs: config.defaultGiveUpMs },
    maxOutOfOrdernessMs: config.maxOutOfOrdernessMs,
    idleTimeoutMs: config.idleTimeoutMs,
    correctionHorizonMs: config.correctionHorizonMs,
    retryGraceMs: config.retryGraceMs,
    orphanGraceMs: config.orphanGraceMs,
    recoveryReleasePerSec: config.recoveryReleasePerSec,
  };
}

/** The wiring's configuration from this configuration: the one mapping, used by main.ts and the all-in-one runner. */
export function reconcilerAppConfigFrom(config: ReconcilerConfig): ReconcilerAppConfig {
  return {
    topics: topicNamesFromConfig(config),
    topicCreation: topicCreationFromConfig(config),
    changelogTopic: config.changelogTopic,
    snapshotMinBytes: config.snapshotMinBytes,
    snapshotRecordsPerCommit: config.snapshotRecordsPerCommit,
    groupId: config.groupId,
    instanceId: config.instanceId,
    commitIntervalMs: config.commitIntervalMs,
    tickIntervalMs: config.tickIntervalMs,
    sessionTimeoutMs: config.sessionTimeoutMs,
    ...(config.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
    ...(config.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: config.rebalanceTimeoutMs }),
    stallTimeoutMs: config.stallTimeoutMs,
    deadLetterMaxBytes: config.deadLetterMaxBytes,
    maxInputRecordBytes: config.maxInputRecordBytes,
    topicPartitions: config.topicPartitions,
    createTopics: config.createTopics,
  };
}
