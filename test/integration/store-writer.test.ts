/**
 * The path writer on real chdb (and, for the crash test, the real broker): idempotent under retries and
 * redelivery, batches by size and time, commits only after the insert, pauses during a ClickHouse failure and
 * catches up without losing a row.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodec, DEFAULT_TOPICS, type Verdict } from '@pathwatch/schemas';
import {
  createKafka,
  createMetrics,
  createRootLogger,
  type IncomingMessage,
  type TopicPartitionOffset,
} from '@pathwatch/core';
import { openClickHouse, openPathStore, type ClickHouse, type PathStore } from '@pathwatch/path-store';
import {
  PathWriter,
  batchToken,
  buildPathWriter,
  syntheticVerdict,
  type WriterRecord,
} from '@pathwatch/path-writer';
import {
  consumeMessages,
  createTopics,
  kafkaBrokers,
  produce,
  testKafka,
  uniqueGroupId,
} from '../support/kafka.js';
import { readJsonLine, spawnTs } from '../support/spawn-ts.js';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const now = (): number => Date.now();
const HOUR = 3_600_000;
const start = Math.floor((Date.now() - 3 * HOUR) / HOUR) * HOUR;
const dataDir = mkdtempSync(join(tmpdir(), 'pw-store-writer-'));
const CHILD = fileURLToPath(
  new URL('../../services/path-writer/test/fixtures/writer-child.ts', import.meta.url),
);

function verdicts(from: number, count: number, version = 1): Verdict[] {
  return Array.from({ length: count }, (_, k) =>
    syntheticVerdict(from + k, { startMs: start, spacingMs: 100 }, version),
  );
}

function records(vs: readonly Verdict[], partition = 0, firstOffset = 0): WriterRecord[] {
  return vs.map((verdict, k) => ({
    verdict,
    msg: {
      topic: 't',
      partition,
      offset: String(firstOffset + k),
      key: null,
      value: null,
      headers: {},
      timestampMs: 0,
    } satisfies IncomingMessage,
  }));
}

async function waitFor(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const count = async (ch: ClickHouse, sql: string): Promise<number> =>
  Number((await ch.query<{ n: string }>(sql))[0]?.n);

describe('path writer (embedded ClickHouse)', () => {
  let store: PathStore;
  let admin: ClickHouse;
  beforeAll(async () => {
    store = await openPathStore({ mode: 'embedded', dataDir, database: 'writer' }, { logger, now });
    admin = await openClickHouse({ mode: 'embedded', dataDir, database: 'writer' }, { logger });
  });
  afterAll(async () => {
    await admin.close();
    await store.close();
  });

  it('the same batch twice is stored once; a re-batched redelivery collapses to one row per request and version', async () => {
    const rows = verdicts(0, 500);
    const token = batchToken(rows);
    expect(batchToken([...rows])).toBe(token);
    expect(batchToken([...rows].reverse())).not.toBe(token);
    await admin.command('TRUNCATE TABLE path_records');
    await admin.command('TRUNCATE TABLE path_versions');
    await store.insertVerdicts(rows, token);
    await store.insertVerdicts(rows, token);
    expect(await count(admin, 'SELECT count() AS n FROM path_records')).toBe(500);
    expect(await count(admin, 'SELECT count() AS n FROM path_versions')).toBe(500);
    // Redelivered in other batches (other tokens): raw duplicates exist, every read path sees each version once.
    await store.insertVerdicts(rows.slice(0, 250), batchToken(rows.slice(0, 250)));
    await store.insertVerdicts(rows.slice(250), batchToken(rows.slice(250)));
    expect(await count(admin, 'SELECT count() AS n FROM path_records')).toBe(1000);
    expect(await count(admin, 'SELECT count() AS n FROM path_records FINAL')).toBe(500);
    expect(await count(admin, 'SELECT count() AS n FROM paths')).toBe(500);
    expect(await count(admin, 'SELECT count() AS n FROM path_versions FINAL')).toBe(500);
  });

  it('batches by size and by time, and commits each batch only after its insert returned', async () => {
    await admin.command('TRUNCATE TABLE path_records');
    const events: string[] = [];
    const sizes: number[] = [];
    const writer = new PathWriter({
      sink: {
        insert: async (rows, token) => {
          events.push(`insert-start ${rows.length}`);
          await store.insertVerdicts(rows, token);
          sizes.push(rows.length);
          events.push(`insert-done ${rows.length}`);
        },
      },
      source: {
        commit: (offsets: readonly TopicPartitionOffset[]) => {
          events.push(`commit ${offsets.map((o) => `${o.partition}:${o.offset}`).join(',')}`);
          return Promise.resolve();
        },
        pause: () => events.push('pause'),
        resume: () => events.push('resume'),
        deadLetter: () => Promise.resolve(),
      },
      logger,
      maxBatchRows: 100,
      flushIntervalMs: 300,
    });
    const t0 = Date.now();
    await writer.enqueue(records(verdicts(1000, 250)));
    await waitFor('two full batches', () => sizes.length >= 2, 10_000);
    expect(sizes).toEqual([100, 100]);
    await waitFor('the partial batch', () => sizes.length >= 3, 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(sizes).toEqual([100, 100, 50]);
    await waitFor('last commit', () => events.includes('commit 0:250'));
    expect(events).toEqual([
      'insert-start 100',
      'insert-done 100',
      'commit 0:100',
      'insert-start 100',
      'insert-done 100',
      'commit 0:200',
      'insert-start 50',
      'insert-done 50',
      'commit 0:250',
    ]);
    expect(await count(admin, 'SELECT count() AS n FROM path_records FINAL')).toBe(250);
    await writer.stop();
  });

  it('pauses while ClickHouse fails, never commits unwritten rows, then catches up without losing any', async () => {
    await admin.command('TRUNCATE TABLE path_records');
    const commits: string[] = [];
    const log: string[] = [];
    const writer = new PathWriter({
      sink: { insert: (rows, token) => store.insertVerdicts(rows, token) },
      source: {
        commit: (offsets) => {
          commits.push(offsets.map((o) => `${o.partition}:${o.offset}`).join(','));
          return Promise.resolve();
        },
        pause: () => log.push('pause'),
        resume: () => log.push('resume'),
        deadLetter: () => Promise.resolve(),
      },
      logger,
      maxBatchRows: 100,
      flushIntervalMs: 50,
      maxBufferedRows: 400,
      retryInitialMs: 20,
      retryMaxMs: 100,
      maxRetries: 2,
    });
    await admin.command('DETACH TABLE path_records'); // the table is gone: every insert fails
    try {
      await writer.enqueue(records(verdicts(2000, 300), 1));
      await waitFor('pause after repeated failures', () => writer.status().paused, 10_000);
      expect(log).toEqual(['pause']);
      expect(writer.status().consecutiveFailures).toBeGreaterThanOrEqual(2);
      // More input while paused: the bounded buffer holds the source back.
      let enqueued = false;
      const pending = writer.enqueue(records(verdicts(2300, 200), 1, 300)).then(() => {
        enqueued = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(commits).toEqual([]);
      expect(enqueued).toBe(false);
      await admin.command('ATTACH TABLE path_records');
      await pending;
    } finally {
      await admin.command('ATTACH TABLE path_records').catch(() => undefined);
    }
    await writer.flushAll();
    expect(commits.at(-1)).toBe('1:500');
    expect(log).toEqual(['pause', 'resume']);
    expect(writer.status()).toMatchObject({
      paused: false,
      consecutiveFailures: 0,
      buffered: 0,
      rowsWritten: 500,
    });
    expect(await count(admin, 'SELECT count() AS n FROM path_records FINAL')).toBe(500);
    await writer.stop();
  });

  it('an explicit flush while the timer flushes and queries run completes, and later rows still flush', async () => {
    await admin.command('TRUNCATE TABLE path_records');
    const writer = new PathWriter({
      sink: { insert: (rows, token) => store.insertVerdicts(rows, token) },
      source: {
        commit: () => Promise.resolve(),
        pause: () => undefined,
        resume: () => undefined,
        deadLetter: () => Promise.resolve(),
      },
      logger,
      maxBatchRows: 1000,
      flushIntervalMs: 100,
    });
    // An explicit flush drains the buffer before the armed timer fires; the timer then finds nothing to do.
    // That once left a settled promise as "flush in progress": the next flushAll spun on it forever (the event
    // loop starved) and the timer never flushed again.
    for (let round = 0; round < 5; round++) {
      await writer.enqueue(records(verdicts(4000 + round * 10, 10), 2, round * 10));
      await Promise.all([
        writer.flushAll(),
        count(admin, 'SELECT count() AS n FROM path_records FINAL'),
        store.ch.query('SELECT count() AS n FROM paths'),
      ]);
      await new Promise((r) => setTimeout(r, 200));
    }
    await writer.enqueue(records(verdicts(4100, 10), 2, 100));
    await waitFor('the timer flushes again', () => writer.status().buffered === 0, 10_000);
    await writer.flushAll();
    expect(writer.status()).toMatchObject({ buffered: 0, rowsWritten: 60 });
    expect(await count(admin, 'SELECT count() AS n FROM path_records FINAL')).toBe(60);
    await writer.stop();
  });

  it('dead-letters rows the table cannot hold instead of dropping or half-writing them', async () => {
    const bad = { ...verdicts(3000, 1)[0]!, decided_at: Date.UTC(2400, 0, 1) };
    const dead: { offset: string; code: string; reason: string }[] = [];
    const commits: string[] = [];
    const writer = new PathWriter({
      sink: { insert: (rows, token) => store.insertVerdicts(rows, token) },
      source: {
        commit: (offsets) => {
          commits.push(offsets.map((o) => `${o.partition}:${o.offset}`).join(','));
          return Promise.resolve();
        },
        pause: () => undefined,
        resume: () => undefined,
        deadLetter: (items) => {
          for (const i of items)
            dead.push({ offset: i.msg.offset, code: i.rejection.code, reason: i.rejection.reason });
          return Promise.resolve();
        },
      },
      logger,
      maxBatchRows: 10,
    });
    await writer.enqueue(records([...verdicts(3001, 2), bad], 0, 40));
    await writer.stop();
    expect(dead).toEqual([
      {
        offset: '42',
        code: 'PATH_WRITER_INVALID_ROW',
        reason: expect.stringContaining('decided_at') as string,
      },
    ]);
    expect(commits).toEqual(['0:43']);
  });
});

describe('path writer service with Kafka: crash after insert, before commit', () => {
  it('loses nothing and double-counts nothing after a SIGKILL between insert and offset commit', async () => {
    const crashDir = mkdtempSync(join(tmpdir(), 'pw-store-crash-'));
    const [topic, dlq] = await createTopics([{ prefix: 'verdicts', partitions: 2 }, { prefix: 'dlq' }]);
    if (!topic || !dlq) throw new Error('topics');
    const codec = createCodec();
    // 1200 requests, 300 of them with a second version (corrections), plus an undecodable record.
    const v1 = verdicts(10_000, 1200);
    const v2 = v1.slice(0, 300).map((v) => ({
      ...v,
      version: 2,
      verdict_id: `${v.request_id}:v2`,
      verdict: 'delivered_late' as const,
      is_correction: true,
      previous_verdict: v.verdict,
    }));
    const all = [...v1, ...v2];
    const msgs = all.map((v) => ({ key: v.request_id, value: codec.encode('verdict', v) }));
    // An undecodable record in the middle of a partition: dead-lettered, and committed past in order.
    msgs.splice(700, 0, { key: 'garbage', value: Buffer.from([0, 0, 0, 0, 42, 1, 2, 3]) });
    await produce(topic, msgs);
    const groupId = uniqueGroupId('pw-writer');
    const childArgs = {
      brokers: kafkaBrokers(),
      topic,
      deadLetterTopic: dlq,
      groupId,
      dataDir: crashDir,
      database: 'crash',
      crashAfterInserts: 3,
      maxBatchRows: 200,
    };
    const child = spawnTs(CHILD, [JSON.stringify(childArgs)]);
    const exited = new Promise<string | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    await readJsonLine(child, 120_000);
    expect(await exited).toBe('SIGKILL');

    const store = await openPathStore(
      { mode: 'embedded', dataDir: crashDir, database: 'crash' },
      { logger, now },
    );
    try {
      const beforeRestart = await count(store.ch, 'SELECT count() AS n FROM path_records');
      expect(beforeRestart).toBeGreaterThanOrEqual(3 * 200 - 200); // three inserts landed (the last partition batch may be short)
      const kafkaAdmin = testKafka().admin();
      await kafkaAdmin.connect();
      const committed = async (): Promise<number> =>
        (await kafkaAdmin.fetchOffsets({ groupId, topics: [topic] }))[0]?.partitions.reduce(
          (a, p) => a + Math.max(0, Number(p.offset)),
          0,
        ) ?? 0;
      expect(await committed()).toBeLessThan(all.length); // the crash happened before the last insert's commit

      const app = buildPathWriter(
        {
          kafka: createKafka({ brokers: kafkaBrokers(), clientId: 'it-writer', logger }),
          store,
          codec,
          logger,
          metrics: createMetrics({ defaultMetrics: false }),
          now,
        },
        {
          topics: { ...DEFAULT_TOPICS, verdict: topic, dead_letter: dlq },
          groupId,
          maxBatchRows: 200,
          flushIntervalMs: 50,
          maxBufferedRows: 10_000,
          retryInitialMs: 50,
          retryMaxMs: 500,
          maxRetries: 3,
          rollupIntervalMs: 60_000,
          topicPartitions: 2,
          createTopics: false,
          sessionTimeoutMs: 6000,
        },
      );
      await app.start();
      await waitFor('every record committed', async () => (await committed()) === all.length + 1, 90_000);
      await app.close();
      await kafkaAdmin.disconnect();

      expect(await count(store.ch, 'SELECT count() AS n FROM path_records FINAL')).toBe(1200);
      expect(await count(store.ch, 'SELECT count() AS n FROM path_versions FINAL')).toBe(1500);
      expect(
        await count(
          store.ch,
          "SELECT countIf(version = 2 AND verdict = 'delivered_late') AS n FROM path_records FINAL",
        ),
      ).toBe(300);
      // Rollups (refreshed on close) count each request once despite the redelivered batch.
      const lat = await store.latency({
        from_ms: start - HOUR,
        to_ms: start + 5 * HOUR,
        group_by: [],
        bucket: 'none',
        stage: 'e2e',
        limit: 10,
      });
      expect(lat[0]?.requests).toBe(1200);
      expect(lat[0]?.corrected).toBe(300);
      // The undecodable record went to the dead-letter topic, and its offset was committed past it. Dead letters
      // are at-least-once: if the crash came before the commit covering it, the restarted writer publishes it
      // again, with the same source position (the key a dead-letter consumer dedups on).
      const dlqOffsets = await (async () => {
        const a = testKafka().admin();
        await a.connect();
        try {
          return await a.fetchTopicOffsets(dlq);
        } finally {
          await a.disconnect();
        }
      })();
      const deadCount = dlqOffsets.reduce((sum, p) => sum + Number(p.high), 0);
      expect(deadCount).toBeGreaterThanOrEqual(1);
      expect(deadCount).toBeLessThanOrEqual(2);
      const dead = await consumeMessages(dlq, deadCount);
      const positions = new Set(
        dead.map(
          (m) => `${String(m.headers['pw-source-partition'])}/${String(m.headers['pw-source-offset'])}`,
        ),
      );
      expect(positions.size).toBe(1);
      expect(
        dead.every((m) => String(m.headers['pw-reason-code']) === 'SCHEMA_DECODE_UNKNOWN_SCHEMA_ID'),
      ).toBe(true);
    } finally {
      await store.close();
    }
  });
});
