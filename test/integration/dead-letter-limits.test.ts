/**
 * Oversized and absurd input on the real broker with its stock 1 MB record limit (message.max.bytes 1048588):
 * - a record just under 1 MB and one with a 1,000,000-character request id (both accepted by the Avro schema) are
 *   dead-lettered — cut to fit, with original size, SHA-256, source coordinates, stage and reason in headers — and
 *   the reconciler keeps consuming: the requests behind them on the same partition get their correct verdicts, with
 *   no false overdue or missing_* version, and /readyz stays ready;
 * - the path writer dead-letters a verdict-topic record just under 1 MB the same way and goes on writing rows;
 * - a graceful restart and repeated SIGKILLs under load do not duplicate a reconciler dead letter (they go out in
 *   its Kafka transaction with the input offsets), read_committed like any downstream consumer.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMetrics, type IncomingMessage, type KafkaClient } from '@pathwatch/core';
import { openPathStore } from '@pathwatch/path-store';
import { buildPathWriter, loadPathWriterConfig } from '@pathwatch/path-writer';
import {
  createCodec,
  type Codec,
  type DeadLetter,
  type DispatchAttempted,
  type ProviderCallback,
  type RequestAccepted,
  type Verdict,
} from '@pathwatch/schemas';
import { createSimulator, producerSink, type DeadLetterExpectation } from '@pathwatch/simulator';
import {
  collect,
  pipelineTopics,
  startReconciler,
  testKafkaClient,
  testLogger,
} from '../support/pipeline.js';
import { testKafka, uniqueName, waitFor } from '../support/kafka.js';
import { ReconcilerChild } from '../support/child-control.js';

/** Broker default for a topic without its own max.message.bytes (Kafka 4.1). */
const STOCK_MAX_MESSAGE_BYTES = 1_048_588;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

let events = 0;

function envelope(requestId: string, at: number, n: string): RequestAccepted['envelope'] {
  events += 1;
  return {
    event_id: `ev-${n.slice(0, 100)}-${events}`,
    source: '//it/dead-letter-limits',
    occurred_at: at,
    recorded_at: at,
    tenant_id: 'tenant-a',
    request_id: requestId,
    schema_version: 1,
  };
}

function request(requestId: string, at: number, patch: Partial<RequestAccepted> = {}): RequestAccepted {
  return {
    envelope: { ...envelope(requestId, at, `${requestId}-req`), schema_version: 2 },
    operation: 'otp.send',
    channel: 'sms',
    idempotency_key: null,
    input_fingerprint: `fp-${requestId.slice(0, 64)}`,
    sla_ms: 20_000,
    give_up_ms: 60_000,
    api_status: 202,
    api_latency_ms: 12,
    attributes: { country: 'DE' },
    ...patch,
  };
}

function dispatch(requestId: string, at: number): DispatchAttempted {
  return {
    envelope: envelope(requestId, at, `${requestId}-dsp`),
    attempt_id: `${requestId}-a1`,
    attempt_no: 1,
    attempt_reason: 'initial',
    parent_attempt_id: null,
    route: 'r1',
    provider: 'p1',
    provider_message_id: `pm-${requestId}`,
    submit_outcome: 'accepted',
    submit_latency_ms: 30,
    error_code: null,
  };
}

function callback(requestId: string, at: number): ProviderCallback {
  return {
    envelope: envelope(requestId, at, `${requestId}-cb`),
    provider: 'p1',
    provider_message_id: `pm-${requestId}`,
    provider_event_id: null,
    attempt_id: `${requestId}-a1`,
    status_raw: 'DELIVRD',
    status: 'delivered',
    is_final: true,
    error_code: null,
    error_category: null,
    evidence_level: 'handset',
    provider_event_time: null,
    provider_sequence: null,
  };
}

/** Valid units: request, accepted dispatch, delivered callback well within the SLA. */
async function produceUnits(
  codec: Codec,
  topics: { request: string; dispatch: string; callback: string },
  ids: readonly string[],
): Promise<void> {
  const now = Date.now();
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const send = (topic: string, values: Buffer[]) =>
      producer.send({
        topic,
        acks: -1,
        messages: values.map((value, i) => ({ key: ids[i] ?? null, value })),
      });
    await send(
      topics.request,
      ids.map((id) => codec.encode('request', request(id, now))),
    );
    await send(
      topics.dispatch,
      ids.map((id) => codec.encode('dispatch', dispatch(id, now + 20))),
    );
    await send(
      topics.callback,
      ids.map((id) => codec.encode('callback', callback(id, now + 200))),
    );
  } finally {
    await producer.disconnect();
  }
}

/** Produces one record and returns its partition and offset. */
async function produceOne(
  topic: string,
  key: string,
  value: Buffer,
): Promise<{ partition: string; offset: string }> {
  const producer = testKafka().producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value }] });
    return { partition: String(meta?.partition ?? -1), offset: meta?.baseOffset ?? '-1' };
  } finally {
    await producer.disconnect();
  }
}

/** Every record of `topic` read (read_committed), and the offset after the last record or marker seen. */
async function collectToEnd(
  kafka: KafkaClient,
  topic: string,
): Promise<{ messages: IncomingMessage[]; next: Map<number, bigint>; close: () => Promise<void> }> {
  const messages: IncomingMessage[] = [];
  const next = new Map<number, bigint>();
  const consumer = await kafka.consumer({
    groupId: uniqueName('dlq-reader'),
    topics: [topic],
    fromBeginning: true,
    onBatchEnd: (_t, partition, lastOffset) => {
      const n = BigInt(lastOffset) + 1n;
      if (n > (next.get(partition) ?? 0n)) next.set(partition, n);
    },
  });
  await consumer.run((batch, control) => {
    messages.push(...batch.messages);
    const last = batch.messages[batch.messages.length - 1];
    if (last) control.markProcessed(last.offset);
    return Promise.resolve();
  });
  return { messages, next, close: () => consumer.close() };
}

function versionsByRequest(codec: Codec, messages: readonly IncomingMessage[]): Map<string, Verdict[]> {
  const out = new Map<string, Verdict[]>();
  for (const m of messages) {
    const v = codec.decode('verdict', m.value);
    out.set(v.request_id, [...(out.get(v.request_id) ?? []), v]);
  }
  return out;
}

const dlReader = createCodec({ maxPayloadBytes: 64 * 1_048_576 });

describe('dead letters on a stock 1 MB broker limit (real broker)', () => {
  const logger = testLogger();
  const kafka = testKafkaClient(logger);
  const cleanups: (() => Promise<void>)[] = [];
  let child: ReconcilerChild | undefined;
  afterAll(async () => {
    await child?.kill();
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('dead-letters a record just under 1 MB and a huge id cut to fit, keeps consuming, no false overdue, and a restart repeats none', async () => {
    const t = pipelineTopics('dlq-limits');
    // One partition: every later record sits behind the oversized ones. The input cap is raised to 1 MiB so the
    // records reach the decoder and its length limits (the default cap would refuse them before decoding).
    const opts = { logger, partitions: 1, config: { maxInputRecordBytes: 1_048_576 } };
    let { app, codec } = startReconciler(t, opts);
    cleanups.push(() => app.close());
    await app.start();

    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    // The dead-letter topic Pathwatch created accepts its configured cap; the inputs have the broker's stock limit.
    expect(await admin.topicConfig(t.topics.dead_letter, ['max.message.bytes'])).toEqual({
      'max.message.bytes': '1000000',
    });
    expect(await admin.topicConfig(t.topics.request, ['max.message.bytes'])).toEqual({
      'max.message.bytes': String(STOCK_MAX_MESSAGE_BYTES),
    });

    const dlq = await collect(kafka, t.topics.dead_letter);
    cleanups.push(dlq.close);
    const verdicts = await collect(kafka, t.topics.verdict);
    cleanups.push(verdicts.close);

    const now = Date.now();
    // Just under the stock limit: a schema-valid request whose fingerprint is ~1 MB.
    const nearlyMb = codec.encode(
      'request',
      request('big-1', now, { input_fingerprint: 'f'.repeat(1_040_000) }),
    );
    expect(nearlyMb.length).toBeGreaterThan(1_040_000);
    expect(nearlyMb.length).toBeLessThan(STOCK_MAX_MESSAGE_BYTES - 1000);
    // An absurdly long id, accepted by the Avro schema.
    const hugeId = codec.encode('request', request('i'.repeat(1_000_000), now));
    const offBig = await produceOne(t.topics.request, 'big-1', nearlyMb);
    const offHuge = await produceOne(t.topics.request, 'huge-id', hugeId);
    const ids = Array.from({ length: 30 }, (_, i) => `after-${i}`);
    await produceUnits(codec, t.topics, ids);

    const settled = (want: readonly string[]) => () => {
      const by = versionsByRequest(codec, verdicts.messages);
      return want.every((id) => by.get(id)?.some((v) => !v.provisional)) ? by : undefined;
    };
    const by = await waitFor(settled(ids), {
      timeoutMs: 60_000,
      description: 'verdicts of the units behind',
    });
    for (const id of ids) {
      const vs = by.get(id) ?? [];
      // Correct verdict, and never a false overdue / missing_* while the oversized records were in front.
      expect(
        vs.map((v) => v.verdict).filter((c) => c === 'overdue' || c.startsWith('missing_')),
        id,
      ).toEqual([]);
      expect(
        vs.filter((v) => !v.provisional).map((v) => v.verdict),
        id,
      ).toEqual(['delivered_on_time']);
    }
    expect(app.health().ok).toBe(true);

    await waitFor(() => dlq.messages.length >= 2, { timeoutMs: 30_000, description: 'two dead letters' });
    const cases = [
      {
        offset: offBig.offset,
        original: nearlyMb,
        reason: /^field_too_long:input_fingerprint: 1040000 characters/,
      },
      {
        offset: offHuge.offset,
        original: hugeId,
        reason: /^field_too_long:envelope\.request_id: 1000000 characters/,
      },
    ];
    for (const { offset, original, reason } of cases) {
      const m = dlq.messages.find((x) => x.headers['pw-source-offset'] === offset);
      expect(m, `dead letter of offset ${offset}`).toBeDefined();
      if (!m) continue;
      expect(m.headers).toMatchObject({
        'pw-stage': 'reconciler.decode',
        'pw-reason-code': 'SCHEMA_FIELD_TOO_LONG',
        'pw-source-topic': t.topics.request,
        'pw-source-partition': '0',
        'pw-source-offset': offset,
        'pw-original-size': String(original.length),
        'pw-original-sha256': sha256(original),
        'pw-truncated': 'value',
      });
      expect(m.headers['pw-reason']).toMatch(reason);
      expect(m.value?.length).toBeLessThanOrEqual(1_000_000);
      const dl: DeadLetter = dlReader.decode('dead_letter', m.value);
      expect(dl.reason).toMatch(reason);
      expect(dl.source_offset).toBe(offset);
      const kept = dl.original_value ?? Buffer.alloc(0);
      expect(kept.length).toBeGreaterThan(900_000);
      expect(kept.equals(original.subarray(0, kept.length))).toBe(true);
      expect(sha256(kept)).not.toBe(sha256(original));
    }

    // Graceful restart, then more input (one more oversized record among it): nothing is dead-lettered twice.
    await app.close();
    ({ app, codec } = startReconciler(t, opts));
    cleanups.push(() => app.close());
    await app.start();
    const offThird = await produceOne(t.topics.request, 'big-2', Buffer.alloc(1_030_000, 0x41));
    const more = Array.from({ length: 10 }, (_, i) => `later-${i}`);
    await produceUnits(codec, t.topics, more);
    await waitFor(settled(more), { timeoutMs: 60_000, description: 'verdicts after the restart' });
    await waitFor(() => dlq.messages.length >= 3, { timeoutMs: 30_000, description: 'third dead letter' });
    const third = dlq.messages.find((x) => x.headers['pw-source-offset'] === offThird.offset);
    expect(third?.headers['pw-reason-code']).toBe('SCHEMA_DECODE_BAD_MAGIC');
    expect(third?.headers['pw-truncated']).toBe('value');
    const coords = dlq.messages.map(
      (m) => `${m.headers['pw-source-topic']}:${m.headers['pw-source-offset']}`,
    );
    expect(new Set(coords).size).toBe(coords.length);
    expect(dlq.messages).toHaveLength(3);
    for (const [id, vs] of versionsByRequest(codec, verdicts.messages))
      if (id.startsWith('after-') || id.startsWith('later-'))
        expect(
          vs.filter((v) => !v.provisional),
          id,
        ).toHaveLength(1);
  }, 180_000);

  it('repeated SIGKILLs under load leave every reconciler dead letter exactly once (read_committed)', async () => {
    const t = pipelineTopics('dlq-crash');
    const codec = createCodec({ topics: t.topics });
    const rc = new ReconcilerChild(t);
    child = rc;
    await rc.start();
    const dlq = await collectToEnd(kafka, t.topics.dead_letter);
    cleanups.push(dlq.close);
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    // Many invalid records (4 %) among valid traffic, plus records over the default 256 KiB input cap.
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 5, ratePerSec: 60, faults: { invalidRecord: 0.04 } },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    const run = sim.runBatch({ units: 600, speed: 1 });
    const oversized: { partition: string; offset: string }[] = [];
    await rc.killRepeatedly([2000, 2500, 3000], async (afterMs) => {
      oversized.push(await produceOne(t.topics.dispatch, `over-${afterMs}`, Buffer.alloc(300_000, 0x7b)));
    });
    await run;

    const invalid = sim.expectations().filter((e): e is DeadLetterExpectation => e.kind === 'invalid');
    expect(invalid.length).toBeGreaterThan(5);
    // The reconciler has committed every input (its dead letters commit in the same transactions as the offsets) …
    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    await waitFor(
      async () => {
        for (const topic of [t.topics.request, t.topics.dispatch, t.topics.callback]) {
          const ends = await admin.topicOffsets(topic);
          const committed = await admin.committedOffsets(t.groupId, topic);
          for (const e of ends)
            if (committed.find((c) => c.partition === e.partition)?.offset !== e.high) return false;
        }
        return true;
      },
      { timeoutMs: 120_000, intervalMs: 500, description: 'every input committed by the reconciler' },
    );
    // … and the reader has read the dead-letter topic up to its end: a duplicate would be among what it read.
    const dlEnds = await admin.topicOffsets(t.topics.dead_letter);
    await waitFor(() => dlEnds.every((e) => (dlq.next.get(e.partition) ?? 0n) >= BigInt(e.high)), {
      timeoutMs: 60_000,
      description: 'the dead-letter topic read to its end',
    });
    const coord = (m: IncomingMessage): string =>
      `${m.headers['pw-source-topic']}:${m.headers['pw-source-partition']}:${m.headers['pw-source-offset']}`;
    const coords = dlq.messages.map(coord);
    const dupes = coords.filter((c, i) => coords.indexOf(c) !== i);
    expect(dupes).toEqual([]);
    const decodeStage = dlq.messages.filter((m) => m.headers['pw-stage'] === 'reconciler.decode');
    expect(decodeStage).toHaveLength(invalid.length + oversized.length);
    const tooLarge = dlq.messages.filter(
      (m) => m.headers['pw-reason-code'] === 'CORE_INPUT_RECORD_TOO_LARGE',
    );
    expect(tooLarge.map(coord).sort()).toEqual(
      oversized.map((o) => `${t.topics.dispatch}:${o.partition}:${o.offset}`).sort(),
    );
    for (const m of tooLarge) {
      const dl = dlReader.decode('dead_letter', m.value);
      expect(dl.original_value?.length).toBe(300_000);
      expect(m.headers['pw-original-sha256']).toBe(sha256(Buffer.alloc(300_000, 0x7b)));
    }
    // Each simulated invalid record is there once, under its key.
    const keys = dlq.messages.map((m) => m.key?.toString());
    for (const e of invalid)
      expect(
        keys.filter((k) => k === e.key),
        e.key,
      ).toHaveLength(1);
  }, 300_000);

  it('the path writer dead-letters a record just under 1 MB cut to fit and goes on writing path rows', async () => {
    const t = pipelineTopics('dlq-writer');
    const { app, codec } = startReconciler(t, { logger, partitions: 1 });
    cleanups.push(() => app.close());
    await app.start();
    const store = await openPathStore(
      { mode: 'embedded', dataDir: mkdtempSync(join(tmpdir(), 'pw-dlq-')), database: 'dlq' },
      { logger, now: Date.now },
    );
    cleanups.push(() => store.close());
    const writerDlq = `${t.topics.dead_letter}.writer`;
    const writer = buildPathWriter(
      { kafka, store, codec, logger, metrics: createMetrics({ defaultMetrics: false }), now: Date.now },
      {
        ...loadPathWriterConfig({ KAFKA_BROKERS: '127.0.0.1:1' }),
        topics: { ...t.topics, dead_letter: writerDlq },
        groupId: `${t.groupId}-writer`,
        flushIntervalMs: 200,
        topicPartitions: 1,
      },
    );
    await writer.start();
    cleanups.push(() => writer.close());
    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    expect(await admin.topicConfig(writerDlq, ['max.message.bytes'])).toEqual({
      'max.message.bytes': '1000000',
    });
    const dlq = await collect(kafka, writerDlq);
    cleanups.push(dlq.close);

    // In front of the reconciler's verdicts on the verdict topic: ~1 MB that is no verdict.
    const junk = Buffer.concat([
      Buffer.from('{"verdict_id":"'),
      Buffer.alloc(1_040_000, 0x61),
      Buffer.from('"}'),
    ]);
    const at = await produceOne(t.topics.verdict, 'junk', junk);
    const ids = Array.from({ length: 5 }, (_, i) => `w-${i}`);
    await produceUnits(codec, t.topics, ids);

    await waitFor(
      async () => {
        const rows = await store.ch.query<{ request_id: string; verdict: string }>(
          'SELECT request_id, verdict FROM paths WHERE NOT provisional ORDER BY request_id',
        );
        return rows.length === ids.length && rows.every((r) => r.verdict === 'delivered_on_time');
      },
      { timeoutMs: 60_000, intervalMs: 500, description: 'path rows behind the oversized record' },
    );
    await waitFor(() => dlq.messages.length >= 1, {
      timeoutMs: 30_000,
      description: "the writer's dead letter",
    });
    const [m] = dlq.messages;
    expect(m?.headers).toMatchObject({
      'pw-stage': 'path-writer.decode',
      'pw-reason-code': 'SCHEMA_VALIDATION_FAILED',
      'pw-source-topic': t.topics.verdict,
      'pw-source-partition': at.partition,
      'pw-source-offset': at.offset,
      'pw-original-size': String(junk.length),
      'pw-original-sha256': sha256(junk),
      'pw-truncated': 'value',
    });
    const kept = dlReader.decode('dead_letter', m?.value ?? null).original_value ?? Buffer.alloc(0);
    expect(kept.length).toBeGreaterThan(900_000);
    expect(kept.equals(junk.subarray(0, kept.length))).toBe(true);
    expect(writer.health().ok).toBe(true);
  }, 180_000);
});
