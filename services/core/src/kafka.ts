/**
 * The only module that touches kafkajs. Everything else speaks these small interfaces, so the client can be
 * replaced (kafkajs is unmaintained) without touching services.
 */
// Must run before kafkajs loads (ES modules evaluate their imports in order).
import { kafkajsPatched } from './kafkajs-patch.js';
import {
  Kafka,
  logLevel as KafkaLogLevel,
  CompressionTypes,
  type Consumer as KjsConsumer,
  type EachBatchPayload,
  type IHeaders,
  type LogEntry,
  type Message,
  type Producer as KjsProducer,
  type SASLOptions,
} from 'kafkajs';
import type { Logger } from './logger.js';
import { KafkaError, TopologyError } from './errors.js';
import { classifyKafka, toKafkaError } from './kafka-errors.js';
import { retry } from './retry.js';
import { coPartitionedAssigner } from './co-partitioned-assigner.js';
import type { KafkaSecurity } from './connect-config.js';

export interface KafkaOptions {
  brokers: readonly string[];
  clientId: string;
  logger: Logger;
  /** @default 3000 */
  connectionTimeoutMs?: number;
  /** @default 30000 */
  requestTimeoutMs?: number;
  /** TLS and SASL for every client this creates (see `kafkaSecurityFromConfig`). @default plaintext, no SASL */
  security?: KafkaSecurity;
}

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers?: Readonly<Record<string, string>>;
  partition?: number;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  /** int64 as a decimal string. */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Kafka record timestamp (CreateTime or LogAppendTime), epoch ms. */
  timestampMs: number;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** @default the broker's default.replication.factor */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  /** The next offset to consume (last processed + 1), decimal string. */
  offset: string;
}

export interface SendOptions {
  /**
   * Upper bound of one produce request's record batch per partition (a topic's `max.message.bytes` applies to the
   * whole batch). @default 524288
   */
  maxBatchBytes?: number;
}

export interface Producer {
  send(topic: string, messages: readonly OutgoingMessage[], opts?: SendOptions): Promise<void>;
  close(): Promise<void>;
}

export interface Admin {
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** Committed offsets of a group for a topic (`-1` where nothing is committed). */
  committedOffsets(groupId: string, topic: string): Promise<{ partition: number; offset: string }[]>;
  /** Earliest/latest offsets per partition. */
  topicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  /** Current values of the named configuration entries of a topic (entries the broker does not report are absent). */
  topicConfig(topic: string, names: readonly string[]): Promise<Record<string, string>>;
  /** Deletes every record below `offset` in each partition given (the log start moves up; for purging). */
  deleteRecords(topic: string, partitions: readonly { partition: number; offset: string }[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumerBatch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** Offset of the next message the broker will append to this partition. */
  highWatermark: string;
}

export interface BatchControl {
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was revoked: stop processing the batch. */
  isRunning(): boolean;
  /**
   * Marks messages up to and including `offset` as processed, so they are not fetched again in this session.
   * Processing position only: durable progress is `Consumer.commit`.
   */
  markProcessed(offset: string): void;
}

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group without committed offsets starts. @default true */
  fromBeginning?: boolean;
  /** Group session: a member silent this long loses its partitions. @default 30000 */
  sessionTimeoutMs?: number;
  /** Heartbeat interval. @default a third of the session timeout, at most 3000 (as the Java client) */
  heartbeatIntervalMs?: number;
  /** How long a rebalance waits for members to rejoin. @default the session timeout */
  rebalanceTimeoutMs?: number;
  /** Upper bound on bytes fetched per partition per request. @default 1048576 */
  maxBytesPerPartition?: number;
  /** How long the broker may wait to fill a fetch. @default 100 */
  maxWaitTimeMs?: number;
  /**
   * Assign partition N of every subscribed topic to the same member (required when the topics are
   * co-partitioned and state is per key). @default false (kafkajs round robin)
   */
  coPartitioned?: boolean;
  /** Called after partitions are (re)assigned to this member. */
  onAssigned?: (assignment: Record<string, number[]>) => void;
  /**
   * Called after every fetched batch with the last offset it covered, including batches the handler never sees
   * because they held only transaction markers or aborted records (so a reader can tell it reached the end).
   */
  onBatchEnd?: (topic: string, partition: number, lastOffset: string, highWatermark: string) => void;
  /**
   * Called when a fetch from every broker came back without a single record: the consumer is at the end of all
   * its partitions and the sources are quiet right now (unlike a pause in batches, which a slow consumer shows
   * too).
   */
  onCaughtUp?: () => void;
  /**
   * Called when the consumer's fetch loop crashed; `restarting` false means kafkajs gave up on it (a non-retriable
   * failure such as GROUP_AUTHORIZATION_FAILED): nothing will be consumed any more, so the stage should stop.
   */
  onCrash?: (err: KafkaError, restarting: boolean) => void;
}

export type BatchHandler = (batch: ConsumerBatch, control: BatchControl) => Promise<void>;

export interface Consumer {
  /** Starts consuming; resolves once the consumer is running. Offsets are never committed automatically. */
  run(handler: BatchHandler): Promise<void>;
  /** Durably commits progress (offset = next offset to consume). */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  pause(topics: readonly string[]): void;
  resume(topics: readonly string[]): void;
  /** Re-positions a partition (e.g. to replay after restoring state). Only valid while running. */
  seek(topic: string, partition: number, offset: string): void;
  close(): Promise<void>;
}

/**
 * One atomic unit of output: records to any topics plus the consumer progress they derive from. Either all of
 * it becomes visible (to read_committed consumers) and the offsets are committed, or none of it.
 */
export interface TransactionalBatch {
  messages: readonly { topic: string; messages: readonly OutgoingMessage[]; maxBatchBytes?: number }[];
  offsets?: { groupId: string; offsets: readonly TopicPartitionOffset[] };
}

export interface TransactionalProducer {
  /**
   * Sends and commits one transaction; on failure the transaction is aborted and the error rethrown, classified
   * (KafkaError). A producer whose transaction end failed, or that kafkajs left in a state it cannot leave, is
   * replaced before the next commit: a new producer with the same transactional id, whose InitProducerId fences the
   * old epoch and aborts its open transaction.
   */
  commit(batch: TransactionalBatch): Promise<void>;
  /** Producers created so far (1 at start; each replacement adds one). */
  generation(): number;
  close(): Promise<void>;
}

export interface KafkaClient {
  producer(opts?: { idempotent?: boolean; compression?: 'none' | 'gzip' }): Promise<Producer>;
  /**
   * Exactly-once output: a producer with a stable transactional id (one per instance; a new instance with the same
   * id fences the old one).
   */
  transactionalProducer(opts: {
    transactionalId: string;
    transactionTimeoutMs?: number;
    /** Stage name for log lines. */
    stage?: string;
  }): Promise<TransactionalProducer>;
  consumer(opts: ConsumerOptions): Promise<Consumer>;
  admin(): Promise<Admin>;
}

function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    if (first !== undefined) out[k] = typeof first === 'string' ? first : first.toString('utf8');
  }
  return out;
}

/** Routes kafkajs' own log lines into the pino logger (child `kafkajs`). */
function kafkaLogCreator(root: Logger) {
  const log = root.child({ module: 'kafkajs' });
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      const { message, ...rest } = entry;
      const obj = { namespace, ...rest };
      // Back-to-back transactions routinely meet CONCURRENT_TRANSACTIONS for a few ms; kafkajs retries it.
      if (String(rest['error'] ?? message).includes('concurrent operation on the same transaction'))
        log.debug(obj, message);
      else if (level === KafkaLogLevel.ERROR) log.error(obj, message);
      else if (level === KafkaLogLevel.WARN) log.warn(obj, message);
      else if (level === KafkaLogLevel.INFO) log.debug(obj, message);
      else log.trace(obj, message);
    };
}

/**
 * Splits messages into produce requests whose record batch for any one partition stays under `maxBytes`: the
 * broker refuses a batch above its `message.max.bytes` (1 MiB by default) as a whole, however many records it
 * holds. Messages with an explicit partition count toward that partition only; the others may all land on one
 * partition, so they count toward every partition.
 */
export function chunkMessages(
  messages: readonly OutgoingMessage[],
  maxBytes = 512 * 1024,
): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let current: OutgoingMessage[] = [];
  let unassigned = 0;
  let maxAssigned = 0;
  const perPartition = new Map<number, number>();
  for (const m of messages) {
    let size = 64 + (m.value?.length ?? 0) + (m.key === null ? 0 : m.key.length);
    if (m.headers) for (const [k, v] of Object.entries(m.headers)) size += k.length + v.length + 8;
    const p = m.partition;
    const fits =
      p === undefined
        ? unassigned + maxAssigned + size <= maxBytes
        : unassigned + (perPartition.get(p) ?? 0) + size <= maxBytes;
    if (current.length > 0 && !fits) {
      chunks.push(current);
      current = [];
      unassigned = 0;
      maxAssigned = 0;
      perPartition.clear();
    }
    current.push(m);
    if (p === undefined) unassigned += size;
    else {
      const b = (perPartition.get(p) ?? 0) + size;
      perPartition.set(p, b);
      if (b > maxAssigned) maxAssigned = b;
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** kafkajs `ConfigResourceTypes.TOPIC` (not visible as a named ESM export of the CommonJS package). */
const TOPIC_CONFIG_RESOURCE = 2;

function toKjsMessage(m: OutgoingMessage): Message {
  const out: Message = { key: m.key, value: m.value };
  if (m.headers) out.headers = { ...m.headers };
  if (m.partition !== undefined) out.partition = m.partition;
  return out;
}

/** Retries a metadata read that can race with leader election right after topics are created. */
function retryRetriable<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return retry(
    async () => {
      try {
        return await fn();
      } catch (err) {
        throw toKafkaError(err, what);
      }
    },
    { policy: { initialDelayMs: 100, maxDelayMs: 2000, maxAttempts: 10, maxElapsedMs: 30_000 } },
  );
}

/** Settles within `ms` (rejecting on timeout), so a dead broker cannot hold a replacement or a close. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(KafkaError.retriable(`${what}: no answer within ${ms} ms`, undefined)),
        ms,
      );
    }),
  ]);
}

function toKjsSasl(sasl: NonNullable<KafkaSecurity['sasl']>): SASLOptions {
  const { username, password } = sasl;
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', username, password };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', username, password };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', username, password };
  }
}

export function createKafka(opts: KafkaOptions): KafkaClient {
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: [...opts.brokers],
    connectionTimeout: opts.connectionTimeoutMs ?? 3000,
    requestTimeout: opts.requestTimeoutMs ?? 30_000,
    logLevel: KafkaLogLevel.WARN,
    logCreator: kafkaLogCreator(opts.logger),
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5000 },
    ...(opts.security?.ssl === undefined
      ? {}
      : { ssl: opts.security.ssl === true ? true : { ...opts.security.ssl } }),
    ...(opts.security?.sasl === undefined ? {} : { sasl: toKjsSasl(opts.security.sasl) }),
  });
  const log = opts.logger.child({ module: 'kafka' });
  if (!kafkajsPatched)
    log.warn('kafkajs grouping patch not applied: produce calls with many messages cost O(n²)');

  return {
    async producer(popts = {}) {
      const p: KjsProducer = kafka.producer({
        idempotent: popts.idempotent ?? false,
        maxInFlightRequests: popts.idempotent ? 1 : 5,
        allowAutoTopicCreation: false,
      });
      try {
        await p.connect();
      } catch (err) {
        throw toKafkaError(err, `cannot connect producer to ${opts.brokers.join(',')}`);
      }
      const compression = popts.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
      return {
        async send(topic, messages, sopts) {
          for (const chunk of chunkMessages(messages, sopts?.maxBatchBytes)) {
            try {
              await p.send({
                topic,
                acks: -1,
                compression,
                messages: chunk.map(toKjsMessage),
              });
            } catch (err) {
              throw toKafkaError(err, `send to ${topic} failed`, { topic });
            }
          }
        },
        close: () => p.disconnect(),
      };
    },

    async transactionalProducer(topts) {
      const tlog = log.child({
        transactionalId: topts.transactionalId,
        ...(topts.stage === undefined ? {} : { stage: topts.stage }),
      });
      async function open(): Promise<KjsProducer> {
        const p: KjsProducer = kafka.producer({
          idempotent: true,
          maxInFlightRequests: 1,
          transactionalId: topts.transactionalId,
          transactionTimeout: topts.transactionTimeoutMs ?? 60_000,
          // The broker answers CONCURRENT_TRANSACTIONS until the previous commit markers are written (a few ms);
          // a short first backoff keeps back-to-back transactions from idling 100 ms each.
          retry: { retries: 10, initialRetryTime: 5, maxRetryTime: 2000 },
          allowAutoTopicCreation: false,
        });
        try {
          await p.connect();
          // InitProducerId now, not at the first transaction: it fences an older producer with this id (a zombie,
          // or the stuck producer we replace) and aborts its open transaction. A transaction that registered no
          // partition ends without any request.
          const init = await p.transaction();
          await init.abort();
          return p;
        } catch (err) {
          await within(p.disconnect(), 5000, 'disconnect').catch(() => undefined);
          throw toKafkaError(err, `cannot start transactional producer on ${opts.brokers.join(',')}`);
        }
      }
      let p = await open();
      let generation = 1;
      /** Why the current producer must be replaced before the next transaction (undefined: it is usable). */
      let broken: string | undefined;
      let closed = false;
      /** Fenced for good: replacing it would fence the newer producer in turn, so every commit fails the same. */
      let fenced: KafkaError | undefined;

      async function replace(): Promise<void> {
        const old = p;
        await within(old.disconnect(), 5000, 'disconnect').catch(() => undefined);
        p = await open();
        generation++;
        tlog.error(
          { generation, reason: broken },
          'transactional producer replaced (new producer id epoch; the stuck one is fenced)',
        );
        broken = undefined;
      }

      return {
        async commit(batch) {
          if (closed) throw KafkaError.nonRetriable('CORE_KAFKA_FAILED', 'transactional producer is closed');
          if (fenced) throw fenced;
          if (broken !== undefined) await replace();
          let tx: Awaited<ReturnType<KjsProducer['transaction']>>;
          try {
            tx = await p.transaction();
          } catch (err) {
            const k = toKafkaError(err, 'cannot begin a transaction');
            if (k.code === 'CORE_KAFKA_PRODUCER_STATE') broken = k.message;
            throw k;
          }
          try {
            // One produce request per round, holding the next bounded chunk of every topic (a topic appears once
            // per request: kafkajs keys its per-request bookkeeping by topic name).
            const chunked = batch.messages.map(({ topic, messages, maxBatchBytes }) => ({
              topic,
              chunks: chunkMessages(messages, maxBatchBytes),
            }));
            const rounds = Math.max(0, ...chunked.map((c) => c.chunks.length));
            for (let round = 0; round < rounds; round++) {
              const topicMessages = [];
              for (const { topic, chunks } of chunked) {
                const chunk = chunks[round];
                if (chunk === undefined) continue;
                topicMessages.push({ topic, messages: chunk.map(toKjsMessage) });
              }
              await tx.sendBatch({ acks: -1, topicMessages });
            }
            if (batch.offsets && batch.offsets.offsets.length > 0) {
              const byTopic = new Map<string, { partition: number; offset: string }[]>();
              for (const o of batch.offsets.offsets) {
                const list = byTopic.get(o.topic) ?? [];
                list.push({ partition: o.partition, offset: o.offset });
                byTopic.set(o.topic, list);
              }
              await tx.sendOffsets({
                consumerGroupId: batch.offsets.groupId,
                topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
              });
            }
            await tx.commit();
          } catch (err) {
            const k = toKafkaError(err, 'transaction failed');
            // kafkajs can abort only a transaction still open (TRANSACTING). A failed EndTxn leaves it in
            // COMMITTING for good: every later transaction would fail with "Cannot call beginTransaction in state
            // COMMITTING", so such a producer is replaced instead.
            if (k.code === 'CORE_KAFKA_PRODUCER_FENCED') {
              fenced = k;
              tlog.error({ err: k }, 'transactional producer fenced by a newer one with the same id');
              throw k;
            }
            if (tx.isActive()) {
              try {
                await tx.abort();
              } catch (abortErr) {
                broken = `abort failed: ${abortErr instanceof Error ? abortErr.message : String(abortErr)}`;
                tlog.warn(
                  { err: abortErr },
                  'aborting the failed transaction failed: the producer will be replaced',
                );
              }
            } else broken = `transaction end failed: ${k.message}`;
            if (k.code === 'CORE_KAFKA_PRODUCER_STATE') broken ??= k.message;
            throw k;
          }
        },
        generation: () => generation,
        async close() {
          closed = true;
          await within(p.disconnect(), 10_000, 'disconnect');
        },
      };
    },

    async admin() {
      const a = kafka.admin();
      try {
        await a.connect();
      } catch (err) {
        throw toKafkaError(err, `cannot connect admin client to ${opts.brokers.join(',')}`);
      }
      async function ensure(specs: readonly TopicSpec[]): Promise<void> {
        const existing = new Set(await a.listTopics());
        const missing = specs.filter((s) => !existing.has(s.topic));
        if (missing.length > 0) {
          await a.createTopics({
            waitForLeaders: true,
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions,
              replicationFactor: s.replicationFactor ?? -1,
              configEntries: Object.entries(s.configs ?? {}).map(([name, value]) => ({ name, value })),
            })),
          });
          log.info({ topics: missing.map((s) => s.topic) }, 'topics created');
        }
        for (const s of specs.filter((x) => existing.has(x.topic))) {
          const meta = await a.fetchTopicMetadata({ topics: [s.topic] });
          const n = meta.topics[0]?.partitions.length ?? 0;
          if (n !== s.partitions) {
            log.warn(
              { topic: s.topic, expected: s.partitions, actual: n },
              'existing topic has a different partition count',
            );
          }
        }
      }
      return {
        async ensureTopics(specs) {
          try {
            await ensure(specs);
          } catch (err) {
            throw toKafkaError(err, 'creating or checking topics failed');
          }
        },
        async partitionCount(topic) {
          const meta = await retryRetriable(`metadata of ${topic}`, () =>
            a.fetchTopicMetadata({ topics: [topic] }),
          );
          const t = meta.topics[0];
          if (!t) throw new TopologyError(`topic ${topic} does not exist`, { topic });
          return t.partitions.length;
        },
        async committedOffsets(groupId, topic) {
          const res = await retryRetriable(`committed offsets of ${groupId}`, () =>
            a.fetchOffsets({ groupId, topics: [topic] }),
          );
          return (res[0]?.partitions ?? []).map((p) => ({ partition: p.partition, offset: p.offset }));
        },
        async topicOffsets(topic) {
          const res = await retryRetriable(`offsets of ${topic}`, () => a.fetchTopicOffsets(topic));
          return res.map((p) => ({ partition: p.partition, low: p.low, high: p.high }));
        },
        async deleteTopics(topics) {
          await a.deleteTopics({ topics: [...topics] });
        },
        async topicConfig(topic, names) {
          const res = await a.describeConfigs({
            includeSynonyms: false,
            resources: [{ type: TOPIC_CONFIG_RESOURCE, name: topic, configNames: [...names] }],
          });
          const out: Record<string, string> = {};
          for (const r of res.resources)
            for (const e of r.configEntries) if (e.configValue !== null) out[e.configName] = e.configValue;
          return out;
        },
        async deleteRecords(topic, partitions) {
          if (partitions.length === 0) return;
          try {
            await a.deleteTopicRecords({
              topic,
              partitions: partitions.map((p) => ({ partition: p.partition, offset: p.offset })),
            });
          } catch (err) {
            throw toKafkaError(err, `deleting records of ${topic} failed`, { topic });
          }
        },
        close: () => a.disconnect(),
      };
    },

    async consumer(copts) {
      const sessionTimeout = copts.sessionTimeoutMs ?? 30_000;
      const c: KjsConsumer = kafka.consumer({
        groupId: copts.groupId,
        sessionTimeout,
        // A third of the session, as the Java client recommends, capped at its 3 s default.
        heartbeatInterval: copts.heartbeatIntervalMs ?? Math.min(3000, Math.floor(sessionTimeout / 3)),
        rebalanceTimeout: copts.rebalanceTimeoutMs ?? sessionTimeout,
        maxBytesPerPartition: copts.maxBytesPerPartition ?? 1_048_576,
        maxWaitTimeInMs: copts.maxWaitTimeMs ?? 100,
        allowAutoTopicCreation: false,
        retry: {
          retries: 8,
          initialRetryTime: 100,
          maxRetryTime: 5000,
          // kafkajs restarts a crashed consumer on any failure it calls retriable; ours is stricter (an
          // authorization failure is not worth a restart loop).
          restartOnFailure: (e: Error) => Promise.resolve(classifyKafka(e).retriable),
        },
        ...(copts.coPartitioned ? { partitionAssigners: [coPartitionedAssigner] } : {}),
      });
      try {
        await c.connect();
        for (const topic of copts.topics) {
          await c.subscribe({ topic, fromBeginning: copts.fromBeginning ?? true });
        }
      } catch (err) {
        await within(c.disconnect(), 5000, 'disconnect').catch(() => undefined);
        throw toKafkaError(err, `cannot start consumer of group ${copts.groupId}`, {
          groupId: copts.groupId,
        });
      }
      if (copts.onCrash) {
        const cb = copts.onCrash;
        c.on(c.events.CRASH, (e) =>
          cb(toKafkaError(e.payload.error, `consumer of group ${copts.groupId} crashed`), e.payload.restart),
        );
      }
      if (copts.onAssigned) {
        const cb = copts.onAssigned;
        c.on(c.events.GROUP_JOIN, (e) => cb(e.payload.memberAssignment));
      }
      // kafkajs fetches from a broker, hands the batches to eachBatch (or, when every record was a transaction
      // marker or aborted, only emits END_BATCH_PROCESS), waits for them, and fetches again: a fetch start with
      // no batch since the previous fetch start of that broker means the previous fetch returned nothing.
      let batchSeq = 0;
      const seqAtFetch = new Map<number, number>();
      const lastFetchEmpty = new Map<number, boolean>();
      c.on(c.events.END_BATCH_PROCESS, (e) => {
        batchSeq++;
        const { topic, partition, lastOffset, highWatermark } = e.payload;
        if (lastOffset !== null) copts.onBatchEnd?.(topic, partition, lastOffset, highWatermark);
      });
      if (copts.onCaughtUp) {
        const cb = copts.onCaughtUp;
        c.on(c.events.FETCH_START, (e) => {
          const node = e.payload.nodeId;
          const before = seqAtFetch.get(node);
          seqAtFetch.set(node, batchSeq);
          lastFetchEmpty.set(node, before !== undefined && before === batchSeq);
          if ([...lastFetchEmpty.values()].every(Boolean)) cb();
        });
      }
      return {
        async run(handler) {
          await c.run({
            autoCommit: false,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: 1,
            eachBatch: async (payload: EachBatchPayload) => {
              const { batch } = payload;
              const messages: IncomingMessage[] = batch.messages.map((m) => ({
                topic: batch.topic,
                partition: batch.partition,
                offset: m.offset,
                key: m.key,
                value: m.value,
                headers: headersToRecord(m.headers),
                timestampMs: Number(m.timestamp),
              }));
              await handler(
                {
                  topic: batch.topic,
                  partition: batch.partition,
                  messages,
                  highWatermark: batch.highWatermark,
                },
                {
                  heartbeat: () => payload.heartbeat(),
                  isRunning: () => payload.isRunning() && !payload.isStale(),
                  markProcessed: (offset) => payload.resolveOffset(offset),
                },
              );
            },
          });
        },
        async commit(offsets) {
          if (offsets.length === 0) return;
          try {
            await c.commitOffsets(
              offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset })),
            );
          } catch (err) {
            throw toKafkaError(err, 'offset commit failed');
          }
        },
        pause: (topics) => c.pause(topics.map((topic) => ({ topic }))),
        resume: (topics) => c.resume(topics.map((topic) => ({ topic }))),
        seek: (topic, partition, offset) => c.seek({ topic, partition, offset }),
        close: () => c.disconnect(),
      };
    },
  };
}
