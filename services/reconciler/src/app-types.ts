/** The reconciler service's configuration, dependencies and public surface (built by app.ts). */
import type { CoreMetrics, KafkaClient, Logger, TopicCreation } from '@pathwatch/core';
import type { Codec, TopicNames } from '@pathwatch/schemas';
import type { EnginePort } from './engine-port.js';

export interface ReconcilerAppConfig {
  topics: TopicNames;
  /** Topic holding the state changelog (packed batches, cleanup.policy=delete), co-partitioned with the inputs. */
  changelogTopic: string;
  /** A snapshot starts when the log holds this many bytes and twice the last snapshot. @default 64 MiB */
  snapshotMinBytes?: number;
  /** Images a running snapshot adds per transaction. @default 20000 */
  snapshotRecordsPerCommit?: number;
  groupId: string;
  instanceId: string;
  commitIntervalMs: number;
  tickIntervalMs: number;
  /** Consumer group session timeout: how long a killed instance keeps its partitions. @default 6000 */
  sessionTimeoutMs?: number;
  /** Consumer heartbeat interval. @default a third of the session timeout, at most 3000 */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin. @default the session timeout */
  rebalanceTimeoutMs?: number;
  /**
   * Inputs pending (consumer lag or not yet committed) without a committed transaction for this long, or output
   * transactions failing this long, make the reconciler unhealthy (`/readyz` fails naming the stage); a failing
   * transaction is logged at error level from then on. @default 30000
   */
  stallTimeoutMs?: number;
  topicPartitions: number;
  createTopics: boolean;
  /**
   * Replication factor and configs (e.g. `retention.ms`) of the input, output and dead-letter topics it creates;
   * the changelog gets the replication factor only (its retention stays infinite). @default broker defaults
   */
  topicCreation?: TopicCreation;
  /**
   * Inputs applied but not yet handed to a transaction, above which consumption waits for the transaction in
   * flight (below it, consumption overlaps the commit). @default 50000
   */
  maxUncommittedInputs?: number;
  /** Largest dead letter written (PATHWATCH_DEAD_LETTER_MAX_BYTES); the topic's smaller limit wins. @default 1000000 */
  deadLetterMaxBytes?: number;
  /** Input records larger than this (key, value, headers) are dead-lettered undecoded. @default 262144 */
  maxInputRecordBytes?: number;
  /**
   * Deterministic input order (input-merger.ts): how long an input partition with unread records and nothing
   * fetched may hold back the merged sequence before it is passed over (the order then depends on timing).
   * @default 10000
   */
  maxTaskIdleMs?: number;
  /** Records buffered per input topic (fetched, waiting for the merge) above which that topic is paused. @default 20000 */
  maxBufferedPerTopic?: number;
}

export interface ReconcilerDeps {
  kafka: KafkaClient;
  codec: Codec;
  engine: EnginePort;
  logger: Logger;
  metrics: CoreMetrics;
  /** Processing (wall) time. */
  now: () => number;
  /**
   * Called when the reconciler stops itself on an error it cannot work around: another instance joined its consumer
   * group, its producer was fenced, the broker refuses it (authorization, a record too large, invalid config), or
   * its consumer crashed for good. It has already stopped consuming and committing and logged the error with its
   * code and fix at fatal level; the process should exit non-zero.
   */
  onFatal?: (err: Error) => void;
}

export interface ReconcilerStats {
  inputs: number;
  verdicts: Record<string, number>;
  /** Versions that changed the class of a final verdict (is_correction). */
  corrections: number;
  /** Versions of a final verdict that kept its class: flags, evidence or error details only. */
  revisions: number;
  actions: number;
  transactions: number;
  /** Snapshots finished (each lets the log below its start be deleted). */
  snapshots: number;
}

export interface ReconcilerApp {
  start(): Promise<void>;
  /** Stops consuming, commits what is pending, closes clients. Idempotent. */
  close(): Promise<void>;
  stats(): ReconcilerStats;
  /** Readiness: consuming, and committing while input is pending (see stallTimeoutMs). Names the failing stage. */
  health(): { ok: boolean; detail: string };
}
