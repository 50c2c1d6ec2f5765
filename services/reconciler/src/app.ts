/**
 * The reconciler service: consumes requests, dispatches and callbacks, feeds the engine, and every
 * `commitIntervalMs` commits — in ONE Kafka transaction — the verdict and action versions produced, the state
 * changes (packed batches on the changelog topic, see changelog.ts) and the input offsets they derive from. A crash at any point therefore
 * either loses nothing or repeats nothing visible: after a restart the state comes back from the changelog and
 * input resumes exactly after the last committed transaction (read_committed consumers never see an aborted
 * one). Builds without side effects; `start()` connects.
 */
import {
  Counter,
  Gauge,
  StageHealth,
  TopologyError,
  STAGE_RETRY_POLICY,
  combineHealth,
  describeFatal,
  isRetryStopped,
  retry,
  runStage,
  resolveDeadLetterMaxBytes,
  DEFAULT_DEAD_LETTER_MAX_BYTES,
  type Consumer,
  type IncomingMessage,
  type Admin,
  type DecodeResult,
  type OutgoingMessage,
  type TopicPartitionOffset,
  type TransactionalProducer,
  initCodec,
} from '@pathwatch/core';
import {
  SchemaError,
  type DispatchAttempted,
  type ProviderCallback,
  type RequestAccepted,
} from '@pathwatch/schemas';
import type { ReconcilerApp, ReconcilerAppConfig, ReconcilerDeps, ReconcilerStats } from './app-types.js';
import { TransactionalDeadLetters } from './dead-letters.js';
import { checkTopology } from './topology.js';
import { registerPipelineGauges } from './pipeline-gauges.js';
import { INGEST_STATUS_NAMES, IngestStatus, type IngestStatusCode, type InputKind } from './engine/index.js';
import { INPUT_ORDER, InputMerger, type MergeSink } from './input-merger.js';
import { packChangelog, readChangelog, type RestoredChangelog } from './changelog.js';
import { EXPORT_START, META_KEY, type ExportCursor } from './engine/index.js';

export type { ReconcilerApp, ReconcilerAppConfig, ReconcilerDeps, ReconcilerStats } from './app-types.js';

/** Stable stage names (logs, metrics, dead-letter headers). */
export const STAGES = {
  decode: 'reconciler.decode',
  apply: 'reconciler.apply',
  commit: 'reconciler.commit',
  restore: 'reconciler.restore',
  snapshot: 'reconciler.snapshot',
} as const;

const INPUT_KINDS: readonly InputKind[] = ['request', 'dispatch', 'callback'];

export function buildReconciler(deps: ReconcilerDeps, config: ReconcilerAppConfig): ReconcilerApp {
  const log = deps.logger.child({ module: 'reconciler' });
  const { engine, codec } = deps;
  const inputTopics = INPUT_KINDS.map((k) => config.topics[k]);
  const kindByTopic = new Map<string, InputKind>(INPUT_KINDS.map((k) => [config.topics[k], k]));

  const verdictCounter = new Counter({
    name: 'pathwatch_reconciler_verdicts_total',
    help: 'Verdict versions emitted, by class, lifecycle, whether it corrects a final verdict (changes its class) and how it relates to the previous version (initial, progress, correction, revision).',
    labelNames: ['verdict', 'provisional', 'correction', 'revision_kind', 'fired_by'],
    registers: [deps.metrics.registry],
  });
  const txSeconds = new Gauge({
    name: 'pathwatch_reconciler_last_commit_seconds',
    help: 'Duration of the last output transaction.',
    registers: [deps.metrics.registry],
  });

  const changelogBytes = new Gauge({
    name: 'pathwatch_reconciler_changelog_bytes',
    help: 'Bytes in the state changelog since its log start (what a restore reads); snapshots bound it.',
    registers: [deps.metrics.registry],
  });

  const stats: ReconcilerStats = {
    inputs: 0,
    verdicts: {},
    corrections: 0,
    revisions: 0,
    actions: 0,
    transactions: 0,
    snapshots: 0,
  };
  const snapshotMinBytes = config.snapshotMinBytes ?? 64 * 1_048_576;
  const snapshotRecordsPerCommit = config.snapshotRecordsPerCommit ?? 20_000;
  /** Bytes in the changelog from its log start (as read at restore, plus what we appended since). */
  let logBytes = 0;
  /** Live state bytes at the last snapshot (or restore): the next snapshot waits for twice this much log. */
  let lastSnapshotBytes = 0;
  /** A snapshot in progress: export cursor, the log end before its first piece, bytes written by it. */
  let snapshot:
    | {
        cursor: ExportCursor;
        from: { partition: number; offset: string }[];
        partitions: Set<number>;
        bytes: number;
        startedAt: number;
        images: number;
        logBytesAtStart: number;
      }
    | undefined;
  let admin: Admin | undefined;
  type Input = RequestAccepted | DispatchAttempted | ProviderCallback;
  /** A fetched record, or the marker standing for a batch's decode dead letters at its last one's offset. */
  type Entry = { msg: IncomingMessage; value: Input } | { release: () => void };
  /**
   * Fetched records wait here, per input partition, and reach the engine in one merged event-time order
   * (input-merger.ts): the same per-partition input gives the same verdicts whatever the fetch interleaving.
   */
  const merger = new InputMerger<Entry>({ maxTaskIdleMs: config.maxTaskIdleMs ?? 10_000, now: deps.now });
  const maxBufferedPerTopic = config.maxBufferedPerTopic ?? 20_000;
  const paused = new Set<string>();
  let consumer: Consumer | undefined;
  let tx: TransactionalProducer | undefined;
  const deadLetters = new TransactionalDeadLetters({
    codec,
    topic: config.topics.dead_letter,
    metrics: deps.metrics,
    logger: deps.logger,
    now: deps.now,
    maxRecordBytes: config.deadLetterMaxBytes,
  });
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  let closed = false;
  let lastTickAt = 0;
  let lastFlushAt = 0;
  /** Partitions of each input topic (checked equal at start). */
  let inputPartitions = 0;
  let failed: Error | undefined;
  /** Inputs applied to the engine since the last drain (not in any transaction yet). */
  let inputsSinceDrain = 0;
  const maxUncommittedInputs = config.maxUncommittedInputs ?? 50_000;
  const stallTimeoutMs = config.stallTimeoutMs ?? 30_000;
  /** Consuming: the consumer runs; pending = input lag (records behind the high watermark). */
  const consumeHealth = new StageHealth({
    stage: STAGES.decode,
    stallAfterMs: stallTimeoutMs,
    now: deps.now,
  });
  /** Committing: pending = inputs consumed whose transaction has not landed. */
  const commitHealth = new StageHealth({ stage: STAGES.commit, stallAfterMs: stallTimeoutMs, now: deps.now });
  /** Records behind the high watermark per input topic-partition, as of its last batch. */
  const lag = new Map<string, number>();
  registerPipelineGauges(deps.metrics.registry, lag, () => engine.watermarks(), deps.now);
  /** Inputs applied whose transaction has not committed yet (since the drain, plus the one in flight). */
  let uncommittedInputs = 0;
  /** Stops transaction retries at shutdown. */
  const stopRetries = new AbortController();
  /**
   * A drained transaction was given up at shutdown: its outputs exist nowhere now, so nothing may be committed
   * after it (later offsets would skip its inputs). A restart replays them from the last committed offsets.
   */
  let abandoned = false;
  function updatePending(): void {
    let behind = 0;
    for (const n of lag.values()) behind += n;
    consumeHealth.setPending(behind);
    commitHealth.setPending(uncommittedInputs + behind);
  }

  // Statuses the engine refuses: they change no state and go to the dead-letter topic with the reason.
  const REJECTED: Partial<Record<IngestStatusCode, string>> = {
    [IngestStatus.INVALID]:
      'missing or absurd required field for reconciliation (request_id on requests and dispatches, finite times, provider ids)',
    [IngestStatus.TOO_LATE]:
      'request arrived after it can be judged: give-up plus correction horizon passed, or its key was forgotten',
    [IngestStatus.REFUSED]: 'per-request bound exceeded (attempts, callbacks or state size)',
  };

  /** Engine refusals of the records fed by the current pump (dead-lettered in the same transaction). */
  let refused: { msg: IncomingMessage; rejection: { code: string; reason: string } }[] = [];
  /** Applies merged records to the engine; a marker releases its batch's decode dead letters. */
  const sink: MergeSink<Entry> = {
    feed(kind, partition, r) {
      const e = r.value;
      if ('release' in e) {
        e.release();
        return;
      }
      // Received when fetched: the merge's hold does not count as the input's silence (clock extrapolation).
      const at = { partition, offset: r.offset, receivedAt: r.receivedAt ?? deps.now() };
      let status: IngestStatusCode;
      if (kind === 'request') status = engine.onRequest(e.value as RequestAccepted, at);
      else if (kind === 'dispatch') status = engine.onDispatch(e.value as DispatchAttempted, at);
      else status = engine.onCallback(e.value as ProviderCallback, at);
      const reason = REJECTED[status];
      if (reason !== undefined)
        refused.push({
          msg: e.msg,
          rejection: { code: `RECONCILER_${INGEST_STATUS_NAMES[status].toUpperCase()}`, reason },
        });
      stats.inputs++;
      inputsSinceDrain++;
      uncommittedInputs++;
    },
    setBacklog: (kind, partition, records) => engine.setBacklog(kind, partition, records),
  };

  /**
   * Feeds what the merge allows. No await from the engine calls to the next drain's offsets: a transaction takes
   * the outputs, dead letters and offsets of these inputs all together or none of them. Then pauses/resumes
   * topics by their buffers.
   */
  function pump(): void {
    if (failed || closed) return;
    merger.pump(sink);
    if (refused.length > 0) {
      deadLetters.settleRefused(STAGES.apply, refused);
      refused = [];
    }
    for (const kind of INPUT_ORDER) {
      const topic = config.topics[kind];
      const n = merger.buffered(kind);
      // A topic one of whose partitions the merge waits on is never held back: pausing it would stall the merge
      // until maxTaskIdleMs (measured: 200,000 backlog events at 4,730/s instead of ~45,000/s).
      const starving = merger.starving(kind);
      if (n > maxBufferedPerTopic && !starving && !paused.has(topic)) {
        paused.add(topic);
        consumer?.pause([topic]);
      } else if ((n <= maxBufferedPerTopic / 2 || starving) && paused.has(topic)) {
        paused.delete(topic);
        consumer?.resume([topic]);
      }
    }
  }

  function decode(
    topic: string,
    value: Buffer | null,
  ): DecodeResult<RequestAccepted | DispatchAttempted | ProviderCallback> {
    const kind = kindByTopic.get(topic);
    if (kind === undefined)
      return {
        ok: false,
        rejection: { code: 'RECONCILER_UNKNOWN_TOPIC', reason: `not an input topic: ${topic}` },
      };
    try {
      return { ok: true, value: codec.decode(kind, value) };
    } catch (err) {
      // A retriable schema error (registry not answering) is not the record's fault: thrown, so the batch waits.
      if (err instanceof SchemaError && !err.retriable)
        return { ok: false, rejection: { code: err.code, reason: err.reason } };
      throw err;
    }
  }

  /**
   * Commits one drained transaction under the core retry policy. Not landing within stallTimeoutMs (failing or
   * hanging) is an outage: logged at error level with the stage, every stallTimeoutMs while it lasts, and its end
   * logged (at error level too) when the commit lands.
   * Returns false when the transaction was given up (fatal error, or shutdown).
   */
  async function commitUntilDone(
    producer: TransactionalProducer,
    batch: Parameters<TransactionalProducer['commit']>[0],
    final: boolean,
  ): Promise<boolean> {
    const startedAt = deps.now();
    let failures = 0;
    let stalled = false;
    // Timed, not per failure: one attempt can hang inside the client for many seconds while the broker is down.
    const watch = setInterval(() => {
      stalled = true;
      log.error(
        {
          stage: STAGES.commit,
          waitingMs: deps.now() - startedAt,
          failures,
          producers: producer.generation(),
        },
        'output transactions keep failing or hanging: reconciler stalled (input waits; retrying)',
      );
    }, stallTimeoutMs);
    watch.unref();
    try {
      await retry(
        async () => {
          const t0 = performance.now();
          await producer.commit(batch);
          txSeconds.set((performance.now() - t0) / 1000);
        },
        {
          // At shutdown, a few tries only: the process has a hard deadline, and a restart replays what is lost.
          policy: final ? { ...STAGE_RETRY_POLICY, maxAttempts: 3, maxElapsedMs: 5000 } : STAGE_RETRY_POLICY,
          ...(final ? {} : { signal: stopRetries.signal }),
          onRetry: ({ err, attempt, delayMs }) => {
            failures = attempt;
            commitHealth.failure(err);
            log.warn(
              { err, stage: STAGES.commit, attempt, delayMs, producers: producer.generation() },
              'output transaction failed: retrying',
            );
          },
        },
      );
    } catch (err) {
      if (isRetryStopped(err) || final) {
        abandoned = true;
        log.warn(
          { err, stage: STAGES.commit },
          'output transaction given up at shutdown: its inputs are replayed after the restart',
        );
        return false;
      }
      fatal(err, STAGES.commit);
      return false;
    } finally {
      clearInterval(watch);
    }
    if (failures > 0 || stalled)
      log[stalled ? 'error' : 'info'](
        {
          stage: STAGES.commit,
          outageMs: deps.now() - startedAt,
          failures,
          producers: producer.generation(),
        },
        'output transactions recovered: committing again',
      );
    commitHealth.progress();
    return true;
  }

  async function flush(final = false): Promise<void> {
    if (tx === undefined || abandoned || failed) return;
    const now = deps.now();
    lastFlushAt = now;
    if (now - lastTickAt >= config.tickIntervalMs) {
      engine.tick();
      lastTickAt = now;
    }
    const outputs = engine.drainOutputs();
    const changelog = engine.drainChangelog();
    // What the engine holds now: everything before each input's first unfed record (no await since the feed
    // that settled these dead letters).
    const offsets: TopicPartitionOffset[] = merger
      .takePositions()
      .map((p) => ({ topic: config.topics[p.kind], partition: p.partition, offset: p.offset }));
    const dead = deadLetters.drain();
    inputsSinceDrain = 0;
    // Nothing to write: the inputs so far are as good as committed (their offsets wait for the next transaction).
    if (offsets.length === 0) uncommittedInputs = 0;
    if (
      outputs.verdicts.length === 0 &&
      outputs.actions.length === 0 &&
      changelog.length === 0 &&
      offsets.length === 0 &&
      dead.count === 0 &&
      !snapshot
    )
      return;

    const verdictMsgs: OutgoingMessage[] = outputs.verdicts.map((v) => ({
      key: v.request_id,
      value: codec.encode('verdict', v),
      headers: { 'pw-verdict-id': v.verdict_id },
    }));
    const actionMsgs: OutgoingMessage[] = outputs.actions.map((a) => ({
      key: a.request_id,
      value: codec.encode('action', a),
      headers: { 'pw-action-id': a.action_id },
    }));
    const delta = packChangelog(changelog, 'delta');
    const changelogMsgs: OutgoingMessage[] = delta.messages;
    let written = delta.bytes;
    let snapshotDone = false;
    if (snapshot) {
      // Exported now, in the same synchronous step as the drain: the piece reflects exactly the inputs whose
      // offsets this transaction commits.
      const { records, next } = engine.exportState(snapshot.cursor, snapshotRecordsPerCommit);
      snapshot.cursor = next;
      snapshot.images += records.length;
      for (const r of records) if (r.key === META_KEY) snapshot.partitions.add(r.partition);
      const piece = packChangelog(records, 'snapshot');
      changelogMsgs.push(...piece.messages);
      snapshot.bytes += piece.bytes;
      written += piece.bytes;
      snapshotDone = next.phase === 'done';
    }
    const batch = {
      messages: [
        { topic: config.topics.verdict, messages: verdictMsgs },
        { topic: config.topics.action, messages: actionMsgs },
        { topic: config.changelogTopic, messages: changelogMsgs },
        dead.entry,
      ],
      offsets: { groupId: config.groupId, offsets },
    };
    const inputsInBatch = uncommittedInputs;
    // The outputs are already drained from the engine: retry the same transaction until it lands (the producer
    // replaces itself when it is stuck), or stop on a failure no retry can fix.
    if (!(await commitUntilDone(tx, batch, final))) return;
    uncommittedInputs = Math.max(0, uncommittedInputs - inputsInBatch);
    updatePending();
    stats.transactions++;
    dead.committed();
    logBytes += written;
    changelogBytes.set(logBytes);
    if (snapshot && snapshotDone) await finishSnapshot(snapshot);
    else if (!snapshot && logBytes >= Math.max(snapshotMinBytes, 2 * lastSnapshotBytes))
      await beginSnapshot();
    for (const v of outputs.verdicts) {
      stats.verdicts[v.verdict] = (stats.verdicts[v.verdict] ?? 0) + 1;
      if (v.is_correction) stats.corrections++;
      else if (v.revision_kind === 'revision') stats.revisions++;
      verdictCounter.inc({
        verdict: v.verdict,
        provisional: String(v.provisional),
        correction: String(v.is_correction),
        revision_kind: v.revision_kind ?? 'unknown',
        fired_by: v.fired_by,
      });
      // On-time deliveries are the bulk and say nothing new: debug. Everything else (absence, failure,
      // lateness, corrections) is what an operator watches for.
      log[v.verdict === 'delivered_on_time' && !v.is_correction ? 'debug' : 'info'](
        {
          requestId: v.request_id,
          version: v.version,
          verdict: v.verdict,
          provisional: v.provisional,
          correction: v.is_correction,
          revisionKind: v.revision_kind,
          firedBy: v.fired_by,
          watermarkLagMs: v.watermark_lag_ms,
          flags: v.flags,
        },
        'verdict',
      );
    }
    stats.actions += outputs.actions.length;
    deps.metrics.eventsOut.inc({ stage: STAGES.commit, topic: config.topics.verdict }, verdictMsgs.length);
    deps.metrics.eventsOut.inc({ stage: STAGES.commit, topic: config.topics.action }, actionMsgs.length);
  }

  /**
   * Notes where the log ends now, between transactions (we are its only writer), so the next transaction's
   * records — the snapshot's first piece included — all lie at or after it.
   */
  async function beginSnapshot(): Promise<void> {
    if (!admin) return;
    try {
      const ends = await admin.topicOffsets(config.changelogTopic);
      snapshot = {
        cursor: EXPORT_START,
        from: ends.map((e) => ({ partition: e.partition, offset: e.high })),
        partitions: new Set<number>(),
        bytes: 0,
        startedAt: deps.now(),
        images: 0,
        logBytesAtStart: logBytes,
      };
      log.info({ stage: STAGES.snapshot, logBytes, lastSnapshotBytes }, 'state snapshot started');
    } catch (err) {
      log.warn({ err, stage: STAGES.snapshot }, 'cannot read the changelog end: snapshot postponed');
    }
  }

  /** The snapshot is committed: the log below its start is no longer needed by a restore. */
  async function finishSnapshot(done: NonNullable<typeof snapshot>): Promise<void> {
    snapshot = undefined;
    stats.snapshots++;
    const purge = done.from.filter((f) => done.partitions.has(f.partition));
    lastSnapshotBytes = done.bytes;
    try {
      await admin?.deleteRecords(config.changelogTopic, purge);
      logBytes -= done.logBytesAtStart;
    } catch (err) {
      // Harmless: the log is longer than needed until the next snapshot purges it.
      log.warn({ err, stage: STAGES.snapshot }, 'purging the changelog below the snapshot failed');
    }
    changelogBytes.set(logBytes);
    log.info(
      {
        stage: STAGES.snapshot,
        images: done.images,
        bytes: done.bytes,
        ms: deps.now() - done.startedAt,
        purgedPartitions: purge.length,
      },
      'state snapshot finished; changelog purged below it',
    );
  }

  /**
   * Runs flushes one at a time; callers share the one in flight. Consumption goes on while a transaction is in
   * flight; when one ends after a full interval, the next starts at once with what arrived meanwhile.
   */
  function scheduleFlush(final = false): Promise<void> {
    flushing ??= flush(final).finally(() => {
      flushing = undefined;
      if (!closed && inputsSinceDrain > 0 && deps.now() - lastFlushAt >= config.commitIntervalMs)
        void scheduleFlush();
    });
    return flushing;
  }

  /**
   * One instance per consumer group for now: the engine holds the state of every partition it restored, and
   * kafkajs cannot fence a previous owner's transactions per partition (no KIP-447), so a second member would
   * make two instances judge the same requests. Stop at once — no flush, no commit: whatever was consumed is
   * replayed by the instance that keeps the partitions — and say what to do.
   */
  function onAssigned(assignment: Record<string, number[]>): void {
    const mine = assignment[config.topics.request] ?? [];
    if (failed || mine.length >= inputPartitions) return;
    failed = new TopologyError(
      `another reconciler instance joined consumer group ${config.groupId}: this one (${config.instanceId}) was ` +
        `assigned ${mine.length} of ${inputPartitions} partitions (${mine.join(',') || 'none'}). Pathwatch runs ONE ` +
        'reconciler per group for now; stop the others, or give each its own RECONCILER_GROUP_ID, topics and ' +
        'RECONCILER_CHANGELOG_TOPIC. This instance stopped without committing anything more.',
      { groupId: config.groupId, instanceId: config.instanceId, assigned: mine.join(',') },
    );
    stopOnFatal(failed, STAGES.decode, 'reconciler stopped: not the only instance in its group');
  }

  /** A failure no retry can fix: stop consuming and committing, say what and how to fix it, hand it to onFatal. */
  function fatal(err: unknown, stage: string): void {
    if (failed) return;
    failed = err instanceof Error ? err : new Error(String(err));
    stopOnFatal(failed, stage, `reconciler stopped: ${describeFatal(err)}`);
  }

  function stopOnFatal(err: Error, stage: string, message: string): void {
    closed = true;
    if (timer) clearInterval(timer);
    stopRetries.abort();
    consumeHealth.fatalError(err);
    commitHealth.fatalError(err);
    log.fatal({ err, stage }, message);
    void consumer?.close().catch(() => undefined);
    deps.onFatal?.(err);
  }

  return {
    async start() {
      // One admin client for the topology check, the restore and the snapshots (closed by close()).
      const a = (admin = await deps.kafka.admin());
      let t0 = 0;
      let restored: RestoredChangelog;
      try {
        // With a Schema Registry: registers the output subjects and learns their ids (no-op without one).
        await initCodec(codec, ['verdict', 'action', 'dead_letter'], stopRetries.signal);
        inputPartitions = await checkTopology(a, {
          inputTopics,
          topics: config.topics,
          changelogTopic: config.changelogTopic,
          createTopics: config.createTopics,
          topicPartitions: config.topicPartitions,
          topicCreation: config.topicCreation,
          deadLetterMaxBytes: config.deadLetterMaxBytes,
        });
        deadLetters.setMaxRecordBytes(
          await resolveDeadLetterMaxBytes(
            a,
            config.topics.dead_letter,
            config.deadLetterMaxBytes ?? DEFAULT_DEAD_LETTER_MAX_BYTES,
            deps.logger,
          ),
        );
        // Created first: a producer with our transactional id fences a zombie of this instance and aborts its
        // open transaction, so the restore below sees only committed state.
        tx = await deps.kafka.transactionalProducer({
          transactionalId: `${config.groupId}-${config.instanceId}`,
          stage: STAGES.commit,
        });
        t0 = deps.now();
        restored = await readChangelog(
          deps.kafka,
          a,
          config.changelogTopic,
          `${config.groupId}-restore-${config.instanceId}`,
        );
      } catch (err) {
        admin = undefined;
        await a.close().catch(() => undefined);
        throw err;
      }
      const readMs = deps.now() - t0;
      let images = 0;
      for (const [partition, records] of restored.partitions) {
        engine.restore(partition, records);
        images += records.length;
      }
      // Every assigned input is registered with its backlog before anything is fetched (one instance holds every
      // partition): one with unread records holds the clock and the merge until the consumer has actually read
      // up to its end — after a restart too — and one at its end holds nothing.
      for (const kind of INPUT_KINDS) {
        const topic = config.topics[kind];
        const [committed, ends] = await Promise.all([
          a.committedOffsets(config.groupId, topic),
          a.topicOffsets(topic),
        ]);
        for (const e of ends) {
          const c = BigInt(committed.find((x) => x.partition === e.partition)?.offset ?? '-1');
          const pos = c >= BigInt(e.low) ? c.toString() : e.low;
          merger.assign(kind, e.partition, pos, e.high, sink);
        }
      }
      logBytes = restored.bytesRead;
      lastSnapshotBytes = restored.liveBytes;
      changelogBytes.set(logBytes);
      log.info(
        {
          stage: STAGES.restore,
          records: images,
          packedRecords: restored.records,
          bytes: restored.bytesRead,
          readMs,
          ms: deps.now() - t0,
        },
        'state restored from changelog',
      );
      consumer = await deps.kafka.consumer({
        groupId: config.groupId,
        topics: inputTopics,
        fromBeginning: true,
        coPartitioned: true,
        sessionTimeoutMs: config.sessionTimeoutMs ?? 6000,
        ...(config.heartbeatIntervalMs === undefined
          ? {}
          : { heartbeatIntervalMs: config.heartbeatIntervalMs }),
        ...(config.rebalanceTimeoutMs === undefined ? {} : { rebalanceTimeoutMs: config.rebalanceTimeoutMs }),
        onAssigned,
        onCrash: (err, restarting) => {
          if (restarting) consumeHealth.failure(err);
          else fatal(err, STAGES.decode);
        },
        // Traffic stopped (a fetch found nothing anywhere): deadlines go on firing on wall time at once.
        onCaughtUp: () => engine.inputsCaughtUp(),
        // Every fetch's end, markers and dead-lettered records included: an input at its end stops holding the
        // clock and the merge.
        onBatchEnd: (topic, partition, lastOffset, highWatermark) => {
          const kind = kindByTopic.get(topic);
          if (kind === undefined || failed) return;
          merger.fetchedThrough(kind, partition, lastOffset, highWatermark, sink);
          pump();
        },
      });
      await runStage({
        stage: STAGES.decode,
        consumer,
        decode: (msg) => decode(msg.topic, msg.value),
        maxRecordBytes: config.maxInputRecordBytes ?? 262_144,
        maxRecordBytesSetting: 'RECONCILER_MAX_INPUT_RECORD_BYTES',
        prepare: async (batch) => {
          const kind = kindByTopic.get(batch.topic);
          if (kind !== undefined)
            await codec.prepare(
              kind,
              batch.messages.map((m) => m.value),
            );
        },
        deadLetters: deadLetters.publisher,
        metrics: deps.metrics,
        logger: deps.logger,
        signal: stopRetries.signal,
        onFatal: (err, what) => fatal(err, what === 'handle' ? STAGES.apply : STAGES.decode),
        onRetrying: (err) => consumeHealth.failure(err),
        onRecovered: () => consumeHealth.progress(),
        handle: async (records, batch) => {
          if (failed) return;
          const kind = kindByTopic.get(batch.topic);
          const last = batch.messages[batch.messages.length - 1];
          if (kind === undefined || !last) return;
          const entries: { offset: string; eventTime: number; value: Entry }[] = records.map((r) => ({
            offset: r.msg.offset,
            eventTime: r.value.envelope.occurred_at,
            value: r,
          }));
          // This batch's decode dead letters wait in the merge behind the records before them, so the offsets
          // that pass them are committed in their transaction.
          const release = deadLetters.detachStaged();
          if (release) {
            const good = new Set(records.map((r) => r.msg.offset));
            const lastBad = [...batch.messages].reverse().find((m) => !good.has(m.offset));
            const at = lastBad?.offset ?? last.offset;
            let k = entries.length;
            while (k > 0 && BigInt(entries[k - 1]!.offset) > BigInt(at)) k--;
            entries.splice(k, 0, { offset: at, eventTime: -Infinity, value: { release } });
          }
          merger.add(kind, batch.partition, entries, last.offset, batch.highWatermark, sink);
          pump();
          const behind = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n));
          lag.set(`${batch.topic}:${batch.partition}`, behind);
          deps.metrics.consumerLag.set(
            { stage: STAGES.decode, topic: batch.topic, partition: String(batch.partition) },
            behind,
          );
          consumeHealth.progress();
          updatePending();
          // Back-pressure: consumption overlaps the transaction in flight, up to a bound of uncommitted inputs.
          if (flushing && inputsSinceDrain >= maxUncommittedInputs) await flushing;
        },
      });
      timer = setInterval(
        () => {
          if (closed) return;
          // An input passed over after maxTaskIdleMs lets the merge go on without a fetch.
          pump();
          void scheduleFlush();
        },
        Math.min(config.commitIntervalMs, config.tickIntervalMs),
      );
      consumeHealth.setRunning(true);
      commitHealth.setRunning(true);
      log.info({ groupId: config.groupId, topics: inputTopics }, 'reconciler started');
    },

    async close() {
      if (failed) {
        // Stopped on a fatal error: release the clients, commit nothing.
        await tx?.close().catch(() => undefined);
        await admin?.close().catch(() => undefined);
        return;
      }
      if (closed) return;
      closed = true;
      consumeHealth.setRunning(false);
      commitHealth.setRunning(false);
      if (timer) clearInterval(timer);
      // A transaction being retried (broker down) would hold the consumer's close, which waits for the batch
      // handler: stop retrying first; the last flush below then gets a few bounded tries.
      stopRetries.abort();
      if (flushing) await flushing;
      await consumer?.close();
      if (flushing) await flushing;
      await scheduleFlush(true);
      await tx
        ?.close()
        .catch((err: unknown) => log.warn({ err }, 'closing the transactional producer failed'));
      await admin?.close().catch((err: unknown) => log.warn({ err }, 'closing the admin client failed'));
      log.info({ stats }, 'reconciler closed');
    },

    stats: () => stats,

    health: () => combineHealth([consumeHealth.report(), commitHealth.report()]),
  };
}
