/**
 * The path writer service: consumes verdict versions, lands them in the path store through the batching
 * PathWriter (commit after the insert), dead-letters what cannot be decoded or stored, and keeps rollups fresh on
 * a timer. Builds without side effects; `start()` connects. The store is passed in (in the all-in-one process it
 * is shared with the query API) and is not closed here.
 *
 * Dead letters are at least once: the writer has no Kafka transaction, so a crash after a dead letter is written
 * and before its offset is committed writes it again after the restart (schemas/README.md, "Dead letters").
 */
import {
  Counter,
  Gauge,
  Histogram,
  StageHealth,
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  createDeadLetterPublisher,
  deadLetterTopicConfigs,
  resolveDeadLetterMaxBytes,
  describeFatal,
  runStage,
  type Consumer,
  type CoreMetrics,
  type DeadLetterPublisher,
  type DecodeResult,
  type KafkaClient,
  type Logger,
  type Producer,
  type TopicCreation,
  initCodec,
} from '@pathwatch/core';
import { type PathStore } from '@pathwatch/path-store';
import { SchemaError, type Codec, type TopicNames, type Verdict } from '@pathwatch/schemas';
import { PathWriter, STAGES, type WriterMetrics, type WriterStatus } from './writer.js';

export interface PathWriterAppConfig {
  topics: Pick<TopicNames, 'verdict' | 'dead_letter'>;
  groupId: string;
  maxBatchRows: number;
  flushIntervalMs: number;
  maxBufferedRows: number;
  retryInitialMs: number;
  retryMaxMs: number;
  maxRetries: number;
  rollupIntervalMs: number;
  topicPartitions: number;
  createTopics: boolean;
  /** Replication factor and configs (e.g. `retention.ms`) of the topics it creates. @default broker defaults */
  topicCreation?: TopicCreation;
  /** Consumer group session timeout: how long a crashed member holds its partitions. @default 6000 */
  sessionTimeoutMs?: number;
  /** @default a third of the session timeout, at most 3000 */
  heartbeatIntervalMs?: number | undefined;
  /** @default the session timeout */
  rebalanceTimeoutMs?: number | undefined;
  /** Verdicts pending (lag or buffered) with no batch written, or writes failing, this long: unhealthy. @default 60000 */
  stallTimeoutMs?: number;
  /** Largest dead letter written (PATHWATCH_DEAD_LETTER_MAX_BYTES); the topic's smaller limit wins. @default 1000000 */
  deadLetterMaxBytes?: number;
}

export interface PathWriterAppDeps {
  kafka: KafkaClient;
  store: Pick<PathStore, 'insertVerdicts' | 'refreshRollups'>;
  codec: Codec;
  logger: Logger;
  metrics: CoreMetrics;
  /** Processing (wall) time. */
  now: () => number;
  /** @default setTimeout-based */
  setTimer?: (fn: () => void, ms: number) => () => void;
  /**
   * The writer stopped on a failure no retry can fix (the broker refuses its dead letters, its consumer crashed
   * for good); it has logged it with code and fix. The process should exit non-zero. @default none
   */
  onFatal?: (err: Error) => void;
}

export interface PathWriterAppStatus extends WriterStatus {
  running: boolean;
  /** Wall time of the last successful rollup refresh (null: none yet). */
  lastRollupAtMs: number | null;
  lastRollupError: string | null;
}

export interface PathWriterApp {
  start(): Promise<void>;
  /** Stops consuming, writes and commits what is buffered, refreshes rollups once more. Idempotent. */
  close(): Promise<void>;
  status(): PathWriterAppStatus;
  /** Ready: consuming and ClickHouse accepting inserts. */
  ready(): boolean;
  /** Readiness with the reason: running, no fatal error, and writing while verdicts are pending. */
  health(): { ok: boolean; detail: string };
  /** Writes what is buffered now (tests, shutdown). */
  flush(): Promise<void>;
  /** Re-aggregates rollups now. */
  refreshRollups(): Promise<void>;
}

function writerMetrics(m: CoreMetrics): WriterMetrics {
  const rows = new Counter({
    name: 'pathwatch_path_writer_rows_total',
    help: 'Path rows inserted into ClickHouse.',
    registers: [m.registry],
  });
  const batchSeconds = new Histogram({
    name: 'pathwatch_path_writer_batch_seconds',
    help: 'Duration of one batch: insert plus dead letters, retries included.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [m.registry],
  });
  const failures = new Counter({
    name: 'pathwatch_path_writer_insert_failures_total',
    help: 'Failed insert attempts (each is retried).',
    registers: [m.registry],
  });
  const buffered = new Gauge({
    name: 'pathwatch_path_writer_buffered_rows',
    help: 'Rows waiting for ClickHouse.',
    registers: [m.registry],
  });
  const paused = new Gauge({
    name: 'pathwatch_path_writer_paused',
    help: '1 while consumption is paused (ClickHouse failing or buffer full).',
    registers: [m.registry],
  });
  return {
    rowsWritten: (n) => rows.inc(n),
    batchFlushed: (_rows, seconds) => batchSeconds.observe(seconds),
    insertFailed: () => failures.inc(),
    buffered: (n) => buffered.set(n),
    paused: (p) => paused.set(p ? 1 : 0),
  };
}

export function buildPathWriter(deps: PathWriterAppDeps, config: PathWriterAppConfig): PathWriterApp {
  const log = deps.logger.child({ module: 'path-writer' });
  const setTimer =
    deps.setTimer ??
    ((fn: () => void, ms: number) => {
      const h = setTimeout(fn, ms);
      return () => clearTimeout(h);
    });
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let deadLetters: DeadLetterPublisher | undefined;
  let running = false;
  let closed = false;
  let cancelRollup: (() => void) | undefined;
  let rollupRun: Promise<void> | undefined;
  let lastRollupAtMs: number | null = null;
  let lastRollupError: string | null = null;
  const health = new StageHealth({
    stage: STAGES.insert,
    stallAfterMs: config.stallTimeoutMs ?? 60_000,
    now: deps.now,
  });
  /** Records behind the high watermark per partition, as of its last batch. */
  const lag = new Map<number, number>();
  let fatal: Error | undefined;
  function updatePending(): void {
    let behind = 0;
    for (const n of lag.values()) behind += n;
    health.setPending(behind + writer.status().buffered);
  }
  function stopOnFatal(err: unknown): void {
    if (fatal) return;
    fatal = err instanceof Error ? err : new Error(String(err));
    health.fatalError(err);
    log.fatal({ err, stage: STAGES.insert }, `path writer stopped: ${describeFatal(err)}`);
    consumer?.pause([config.topics.verdict]);
    deps.onFatal?.(fatal);
  }
  const baseMetrics = writerMetrics(deps.metrics);
  const metrics: WriterMetrics = {
    ...baseMetrics,
    batchFlushed: (rows, seconds) => {
      baseMetrics.batchFlushed(rows, seconds);
      health.progress();
      updatePending();
    },
    insertFailed: () => {
      baseMetrics.insertFailed();
      health.failure(writer.status().lastError ?? 'insert failed');
    },
  };

  const writer = new PathWriter({
    sink: { insert: (rows, token) => deps.store.insertVerdicts(rows, token) },
    source: {
      commit: async (offsets) => {
        if (consumer) await consumer.commit(offsets);
      },
      pause: () => consumer?.pause([config.topics.verdict]),
      resume: () => consumer?.resume([config.topics.verdict]),
      deadLetter: async (items) => {
        if (!deadLetters) throw new Error('dead-letter producer not started');
        await deadLetters.publish(STAGES.validate, items);
      },
    },
    logger: deps.logger,
    maxBatchRows: config.maxBatchRows,
    flushIntervalMs: config.flushIntervalMs,
    maxBufferedRows: config.maxBufferedRows,
    retryInitialMs: config.retryInitialMs,
    retryMaxMs: config.retryMaxMs,
    maxRetries: config.maxRetries,
    metrics,
    setTimer,
    onFatal: stopOnFatal,
  });

  function decode(value: Buffer | null): DecodeResult<Verdict> {
    try {
      return { ok: true, value: deps.codec.decode('verdict', value) };
    } catch (err) {
      // A retriable schema error (registry not answering) is not the record's fault: thrown, so the batch waits.
      if (err instanceof SchemaError && !err.retriable)
        return { ok: false, rejection: { code: err.code, reason: err.reason } };
      throw err;
    }
  }

  async function refreshRollups(): Promise<void> {
    rollupRun ??= (async () => {
      try {
        await deps.store.refreshRollups();
        lastRollupAtMs = deps.now();
        lastRollupError = null;
      } catch (err) {
        lastRollupError = err instanceof Error ? err.message : String(err);
        log.warn({ err, stage: STAGES.rollup }, 'rollup refresh failed: will retry on the next tick');
      } finally {
        rollupRun = undefined;
      }
    })();
    return rollupRun;
  }

  function scheduleRollups(): void {
    if (closed) return;
    cancelRollup = setTimer(() => {
      void refreshRollups().finally(scheduleRollups);
    }, config.rollupIntervalMs);
  }

  return {
    async start() {
      // With a Schema Registry: registers the subjects (dead letters are encoded with registry ids).
      await initCodec(deps.codec);
      const dlMaxBytes = config.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES;
      let deadLetterMaxBytes = dlMaxBytes;
      const admin = await deps.kafka.admin();
      try {
        if (config.createTopics) {
          const created = config.topicCreation;
          await admin.ensureTopics([
            { topic: config.topics.verdict, partitions: config.topicPartitions, ...created },
            {
              topic: config.topics.dead_letter,
              partitions: config.topicPartitions,
              ...created,
              configs: { ...created?.configs, ...deadLetterTopicConfigs(dlMaxBytes) },
            },
          ]);
        }
        deadLetterMaxBytes = await resolveDeadLetterMaxBytes(
          admin,
          config.topics.dead_letter,
          dlMaxBytes,
          deps.logger,
        );
      } finally {
        await admin.close();
      }
      producer = await deps.kafka.producer({ idempotent: true });
      consumer = await deps.kafka.consumer({
        groupId: config.groupId,
        topics: [config.topics.verdict],
        sessionTimeoutMs: config.sessionTimeoutMs ?? 6000,
        ...(config.heartbeatIntervalMs === undefined
          ? {}
          : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
        ...(config.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: config.rebalanceTimeoutMs }),
        onCrash: (err, restarting) => {
          if (restarting) health.failure(err);
          else stopOnFatal(err);
        },
      });
      deadLetters = createDeadLetterPublisher({
        producer,
        topic: config.topics.dead_letter,
        encode: (r) => deps.codec.encode('dead_letter', r),
        metrics: deps.metrics,
        logger: deps.logger,
        now: deps.now,
        maxRecordBytes: deadLetterMaxBytes,
      });
      await runStage<Verdict>({
        stage: STAGES.decode,
        consumer,
        decode: (msg) => decode(msg.value),
        prepare: (batch) =>
          deps.codec.prepare(
            'verdict',
            batch.messages.map((m) => m.value),
          ),
        deadLetters,
        onFatal: stopOnFatal,
        handle: (records, batch, control) => {
          const last = batch.messages[batch.messages.length - 1];
          if (last)
            lag.set(
              batch.partition,
              Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n)),
            );
          // Every message of the batch in offset order: the runner already dead-lettered the ones that did not
          // decode, so they go in as positions only and the committed offset moves past them in order.
          const good = new Map(records.map((r) => [r.msg.offset, r.value]));
          const queued = writer.enqueue(
            batch.messages.map((msg) => ({ verdict: good.get(msg.offset) ?? null, msg })),
            { heartbeat: () => control.heartbeat(), isRunning: () => control.isRunning() },
          );
          updatePending();
          return queued;
        },
        metrics: deps.metrics,
        logger: deps.logger,
      });
      running = true;
      health.setRunning(true);
      scheduleRollups();
      log.info({ topic: config.topics.verdict, groupId: config.groupId }, 'path writer started');
    },

    async close() {
      if (closed) return;
      closed = true;
      health.setRunning(false);
      cancelRollup?.();
      consumer?.pause([config.topics.verdict]);
      await writer.stop();
      await rollupRun;
      await refreshRollups();
      running = false;
      await consumer?.close();
      await producer?.close();
      log.info({ ...writer.status() }, 'path writer stopped');
    },

    status() {
      return { ...writer.status(), running, lastRollupAtMs, lastRollupError };
    },

    ready() {
      const s = writer.status();
      return running && !fatal && s.consecutiveFailures < config.maxRetries && health.report().ok;
    },

    health() {
      const r = health.report();
      const s = writer.status();
      if (r.ok && s.consecutiveFailures >= config.maxRetries)
        return {
          ok: false,
          detail: `${STAGES.insert}: ${s.consecutiveFailures} inserts failed in a row (consumption paused): ${s.lastError ?? ''}`,
        };
      return { ok: r.ok, detail: r.detail };
    },

    flush: () => writer.flushAll(),
    refreshRollups,
  };
}
