/**
 * Schema Registry mode against a real registry: Apicurio Registry (fetched from Maven Central by the harness,
 * Confluent-compatible API) and the standard third-party client @kafkajs/confluent-schema-registry.
 *   - the reconciler, configured with SCHEMA_REGISTRY_URL through its own config loader, registers every subject
 *     under TopicNameStrategy (`<topic>-value`) and writes registry ids;
 *   - input encoded by the third-party client with a NEW writer version (an added optional field) is read;
 *   - Pathwatch's verdicts decode with the third-party client;
 *   - a registry outage while an unknown writer id arrives holds the record (retriable, health says why) and it
 *     is processed once the registry answers again: never a dead letter.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import {
  codecFromConfig,
  createMetrics,
  topicNamesFromConfig,
  type Admin,
  type Producer,
} from '@pathwatch/core';
import { startLocalRegistry, type LocalRegistry } from '@pathwatch/local-kafka';
import { openPathStore, type PathStore } from '@pathwatch/path-store';
import { buildPathWriter, loadPathWriterConfig, pathWriterAppConfigFrom } from '@pathwatch/path-writer';
import {
  buildReconciler,
  createEngine,
  engineOptionsFrom,
  loadReconcilerConfig,
  reconcilerAppConfigFrom,
  type ReconcilerApp,
} from '@pathwatch/reconciler';
import type { Codec, TopicNames, Verdict } from '@pathwatch/schemas';
import { collect, testKafkaClient, testLogger } from '../support/pipeline.js';
import { kafkaBrokers, uniqueName, waitFor } from '../support/kafka.js';
import { deliveredRequest } from '../support/events.js';

const logger = testLogger();
const kafka = testKafkaClient(logger);
const cleanups: (() => Promise<void>)[] = [];
let registry: LocalRegistry;
let thirdParty: SchemaRegistry;
let app: ReconcilerApp;
let codec: Codec;
let topics: TopicNames;
let producer: Producer;
let admin: Admin;
let verdicts: Awaited<ReturnType<typeof collect>>;
let store: PathStore;

beforeAll(async () => {
  registry = await startLocalRegistry({
    onProgress: (p) => process.stderr.write(`[registry] ${p.message}\n`),
  });
  cleanups.push(() => registry.stop());
  thirdParty = new SchemaRegistry({ host: registry.url });
  const base = uniqueName('reg');
  const env = {
    KAFKA_BROKERS: kafkaBrokers().join(','),
    SCHEMA_REGISTRY_URL: registry.url,
    SCHEMA_REGISTRY_TIMEOUT_MS: '500',
    PATHWATCH_TOPIC_REQUESTS: `${base}.requests`,
    PATHWATCH_TOPIC_DISPATCHES: `${base}.dispatches`,
    PATHWATCH_TOPIC_CALLBACKS: `${base}.callbacks`,
    PATHWATCH_TOPIC_VERDICTS: `${base}.verdicts`,
    PATHWATCH_TOPIC_ACTIONS: `${base}.actions`,
    PATHWATCH_TOPIC_DEAD_LETTER: `${base}.dead-letter`,
    RECONCILER_CHANGELOG_TOPIC: `${base}.state`,
    RECONCILER_GROUP_ID: `${base}-rc`,
    RECONCILER_STALL_TIMEOUT_MS: '1000',
    PATHWATCH_TOPIC_PARTITIONS: '2',
    PATH_WRITER_GROUP_ID: `${base}-pw`,
    PATH_WRITER_FLUSH_INTERVAL_MS: '200',
    CLICKHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'pw-reg-')),
    CLICKHOUSE_DATABASE: 'registry_it',
  };
  const config = loadReconcilerConfig(env);
  topics = topicNamesFromConfig(config);
  codec = codecFromConfig(config);
  app = buildReconciler(
    {
      kafka,
      codec,
      engine: createEngine(engineOptionsFrom(config)),
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      now: Date.now,
    },
    reconcilerAppConfigFrom(config),
  );
  await app.start();
  cleanups.push(() => app.close());
  producer = await kafka.producer();
  cleanups.push(() => producer.close());
  admin = await kafka.admin();
  cleanups.push(() => admin.close());
  verdicts = await collect(kafka, topics.verdict);
  cleanups.push(() => verdicts.close());
  // The path writer as its own service would run it: its own config loader and its own registry-mode codec.
  const pwConfig = loadPathWriterConfig(env);
  store = await openPathStore(
    { mode: 'embedded', dataDir: pwConfig.clickhouseDataDir, database: pwConfig.clickhouseDatabase },
    { logger, now: Date.now },
  );
  cleanups.push(() => store.close());
  const writer = buildPathWriter(
    {
      kafka,
      store,
      codec: codecFromConfig(pwConfig),
      logger,
      metrics: createMetrics({ defaultMetrics: false }),
      now: Date.now,
    },
    pathWriterAppConfigFrom(pwConfig),
  );
  await writer.start();
  cleanups.push(() => writer.close());
}, 240_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

/** The current request schema plus one optional field: a new writer version a producer team might roll out. */
function evolvedRequestSchema(field: string): string {
  const schema = JSON.parse(codec.catalog.current('request').schemaText) as {
    fields: { name: string; type: unknown; default?: unknown }[];
  };
  schema.fields.push({ name: field, type: ['null', 'string'], default: null });
  return JSON.stringify(schema);
}

async function finalVerdict(requestId: string): Promise<{ verdict: Verdict; bytes: Buffer }> {
  return waitFor(
    () => {
      for (const m of verdicts.messages) {
        if (m.value === null) continue;
        const v = codec.decode('verdict', m.value);
        if (v.request_id === requestId && !v.provisional) return { verdict: v, bytes: m.value };
      }
      return undefined;
    },
    { description: `the final verdict of ${requestId}`, timeoutMs: 60_000 },
  );
}

async function registryGet(path: string): Promise<unknown> {
  const res = await fetch(`${registry.url}${path}`);
  expect(res.status, path).toBe(200);
  return res.json();
}

describe('Schema Registry mode (Apicurio Registry, Confluent API)', () => {
  it('registers every subject as <topic>-value and encodes with registry ids', async () => {
    const subjects = (await registryGet('/subjects')) as string[];
    for (const kind of ['request', 'dispatch', 'callback', 'verdict', 'action', 'dead_letter'] as const) {
      const subject = `${topics[kind]}-value`;
      expect(subjects).toContain(subject);
      const latest = (await registryGet(`/subjects/${encodeURIComponent(subject)}/versions/latest`)) as {
        id: number;
      };
      expect(codec.schemaId(kind), kind).toBe(latest.id);
    }
  });

  it('reads input a third-party producer encoded with a newer writer schema, and its verdicts decode with the third-party client', async () => {
    // Confluent's default rule for the subject: the registry itself checks the new version is BACKWARD compatible.
    const put = await fetch(`${registry.url}/config/${encodeURIComponent(`${topics.request}-value`)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ compatibility: 'BACKWARD' }),
    });
    expect(put.status).toBe(200);
    const { id: evolvedId } = await thirdParty.register(
      { type: SchemaType.AVRO, schema: evolvedRequestSchema('campaign_id') },
      { subject: `${topics.request}-value` },
    );
    expect(evolvedId).not.toBe(codec.schemaId('request'));
    const versions = (await registryGet(
      `/subjects/${encodeURIComponent(`${topics.request}-value`)}/versions`,
    )) as number[];
    expect(versions.length).toBeGreaterThanOrEqual(2);

    const ev = deliveredRequest('reg-1', Date.now() - 20_000);
    const dispatchId = codec.schemaId('dispatch');
    const callbackId = codec.schemaId('callback');
    await producer.send(topics.request, [
      { key: 'reg-1', value: await thirdParty.encode(evolvedId, { ...ev.request, campaign_id: 'spring' }) },
    ]);
    await producer.send(topics.dispatch, [
      { key: 'reg-1', value: await thirdParty.encode(dispatchId, ev.dispatch) },
    ]);
    await producer.send(topics.callback, [
      { key: 'reg-1', value: await thirdParty.encode(callbackId, ev.callback) },
    ]);

    const { verdict, bytes } = await finalVerdict('reg-1');
    expect(verdict.verdict).toBe('delivered_on_time');
    // Confluent framing with the registry's id of the verdict subject.
    expect(bytes[0]).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(codec.schemaId('verdict'));
    const decoded = (await thirdParty.decode(bytes)) as Record<string, unknown>;
    expect(decoded['request_id']).toBe('reg-1');
    expect(decoded['verdict']).toBe('delivered_on_time');
    expect(decoded['version']).toBe(verdict.version);
    expect(decoded['verdict_id']).toBe(verdict.verdict_id);
    // The path writer (its own codec, registry ids) stored the request's path.
    const row = await waitFor(
      async () =>
        (
          await store.ch.query<{ verdict: string; provisional: boolean }>(
            "SELECT verdict, provisional FROM paths WHERE request_id = 'reg-1'",
          )
        ).find((r) => !r.provisional),
      { description: 'the path row of reg-1', timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(row.verdict).toBe('delivered_on_time');
  });

  it('a registry outage holds a record with an unknown writer id (retriable), never a dead letter', async () => {
    const { id: newerId } = await thirdParty.register(
      { type: SchemaType.AVRO, schema: evolvedRequestSchema('cohort') },
      { subject: `${topics.request}-value` },
    );
    // The registry stops answering (the JVM is frozen): lookups time out.
    process.kill(registry.pid, 'SIGSTOP');
    let resumed = false;
    cleanups.push(() => {
      if (!resumed) process.kill(registry.pid, 'SIGCONT');
      return Promise.resolve();
    });
    const ev = deliveredRequest('reg-outage', Date.now() - 20_000);
    // Encoded while the registry is down: the third-party client cached the id it just registered.
    const value = await thirdParty.encode(newerId, { ...ev.request, cohort: 'b' });
    await producer.send(topics.request, [{ key: 'reg-outage', value }]);
    await producer.send(topics.dispatch, [
      { key: 'reg-outage', value: codec.encode('dispatch', ev.dispatch) },
    ]);
    await producer.send(topics.callback, [
      { key: 'reg-outage', value: codec.encode('callback', ev.callback) },
    ]);
    const unhealthy = await waitFor(
      () => {
        const h = app.health();
        return !h.ok && h.detail.includes(`writer schema id ${newerId}`) ? h.detail : undefined;
      },
      { description: 'the reconciler to report the registry outage', timeoutMs: 60_000 },
    );
    expect(unhealthy).toMatch(/SCHEMA_REGISTRY_UNAVAILABLE|timeout|aborted/i);

    process.kill(registry.pid, 'SIGCONT');
    resumed = true;
    const { verdict } = await finalVerdict('reg-outage');
    expect(verdict.verdict).toBe('delivered_on_time');
    await waitFor(() => app.health().ok, { description: 'the reconciler healthy again', timeoutMs: 30_000 });
    // Nothing was ever dead-lettered in this run.
    const dl = await admin.topicOffsets(topics.dead_letter);
    expect(dl.every((p) => p.low === p.high)).toBe(true);
  });

  it('an id the registry does not know is a dead letter with its reason and original bytes', async () => {
    const bogus = Buffer.concat([Buffer.from([0, 0x7f, 0xff, 0xff, 0x01]), Buffer.from('body')]);
    await producer.send(topics.request, [{ key: 'reg-bogus', value: bogus }]);
    const dead = await collect(kafka, topics.dead_letter);
    cleanups.push(() => dead.close());
    const letter = await waitFor(
      () => dead.messages.map((m) => codec.decode('dead_letter', m.value)).find((d) => d.reason_code !== ''),
      { description: 'the dead letter of the unknown schema id', timeoutMs: 60_000 },
    );
    expect(letter.reason_code).toBe('SCHEMA_DECODE_UNKNOWN_SCHEMA_ID');
    expect(Buffer.from(letter.original_value ?? []).equals(bogus)).toBe(true);
  });
});
