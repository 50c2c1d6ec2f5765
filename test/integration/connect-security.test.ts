/**
 * Kafka TLS and SASL against the real local broker started with a SASL_SSL listener (throwaway CA made with
 * openssl, SCRAM credentials stored when the storage was formatted) and an SSL listener requiring a client
 * certificate. The reconciler, configured through its own config loader (KAFKA_SSL*, KAFKA_SASL*), runs end to
 * end over SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN: admin, transactional producer, consumer and
 * dead-letter producer all authenticate. Mutual TLS works with a client certificate. A wrong password fails fast
 * with a non-retriable CORE_KAFKA_AUTHENTICATION_FAILED that does not show the password.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KafkaError,
  codecFromConfig,
  createKafka,
  createMetrics,
  kafkaSecurityFromConfig,
  topicNamesFromConfig,
  type KafkaClient,
} from '@pathwatch/core';
import { localKafkaToolsFromEnv, startLocalKafka, type LocalKafka } from '@pathwatch/local-kafka';
import {
  buildReconciler,
  createEngine,
  engineOptionsFrom,
  loadReconcilerConfig,
  reconcilerAppConfigFrom,
  type ReconcilerConfig,
} from '@pathwatch/reconciler';
import { collect, testLogger } from '../support/pipeline.js';
import { uniqueName, waitFor } from '../support/kafka.js';
import { deliveredRequest } from '../support/events.js';

const logger = testLogger();
const USER = 'pathwatch-svc';
const PASSWORD = randomBytes(12).toString('hex');
let broker: LocalKafka;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  broker = await startLocalKafka({
    ...localKafkaToolsFromEnv(),
    secure: { users: [{ name: USER, password: PASSWORD }] },
    onProgress: (p) => process.stderr.write(`[secure broker] ${p.message}\n`),
  });
  cleanups.push(() => broker.stop());
}, 180_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
});

function secureEnv(mechanism: string, password = PASSWORD): Record<string, string> {
  const base = uniqueName(`sec-${mechanism}`);
  const s = broker.secure;
  if (!s) throw new Error('broker started without secure listeners');
  return {
    KAFKA_BROKERS: s.saslSslBrokers.join(','),
    KAFKA_SSL: 'true',
    KAFKA_SSL_CA_FILE: s.caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: USER,
    KAFKA_SASL_PASSWORD: password,
    PATHWATCH_TOPIC_REQUESTS: `${base}.requests`,
    PATHWATCH_TOPIC_DISPATCHES: `${base}.dispatches`,
    PATHWATCH_TOPIC_CALLBACKS: `${base}.callbacks`,
    PATHWATCH_TOPIC_VERDICTS: `${base}.verdicts`,
    PATHWATCH_TOPIC_ACTIONS: `${base}.actions`,
    PATHWATCH_TOPIC_DEAD_LETTER: `${base}.dead-letter`,
    RECONCILER_CHANGELOG_TOPIC: `${base}.state`,
    RECONCILER_GROUP_ID: `${base}-rc`,
    PATHWATCH_TOPIC_PARTITIONS: '2',
  };
}

function kafkaFor(config: ReconcilerConfig): KafkaClient {
  return createKafka({
    brokers: config.brokers ?? [],
    clientId: uniqueName('sec'),
    logger,
    security: kafkaSecurityFromConfig(config),
  });
}

describe('Kafka TLS and SASL (local broker with SASL_SSL and SSL listeners)', () => {
  it.each(['scram-sha-256', 'scram-sha-512', 'plain'])(
    'the reconciler runs end to end over SASL_SSL with %s',
    async (mechanism) => {
      const config = loadReconcilerConfig(secureEnv(mechanism));
      const kafka = kafkaFor(config);
      const topics = topicNamesFromConfig(config);
      const codec = codecFromConfig(config);
      const app = buildReconciler(
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
      const producer = await kafka.producer();
      cleanups.push(() => producer.close());
      const id = `sec-${mechanism}`;
      const ev = deliveredRequest(id, Date.now() - 20_000);
      await producer.send(topics.request, [{ key: id, value: codec.encode('request', ev.request) }]);
      await producer.send(topics.dispatch, [{ key: id, value: codec.encode('dispatch', ev.dispatch) }]);
      await producer.send(topics.callback, [{ key: id, value: codec.encode('callback', ev.callback) }]);
      // A record that must be dead-lettered: the dead-letter producer authenticates too.
      await producer.send(topics.request, [{ key: 'junk', value: Buffer.from('not a record') }]);
      const verdicts = await collect(kafka, topics.verdict);
      cleanups.push(() => verdicts.close());
      const final = await waitFor(
        () =>
          verdicts.messages
            .map((m) => codec.decode('verdict', m.value))
            .find((v) => v.request_id === id && !v.provisional),
        { description: `the verdict of ${id} over SASL_SSL`, timeoutMs: 60_000 },
      );
      expect(final.verdict).toBe('delivered_on_time');
      const dead = await collect(kafka, topics.dead_letter);
      cleanups.push(() => dead.close());
      const letter = await waitFor(() => dead.messages.map((m) => codec.decode('dead_letter', m.value))[0], {
        description: 'the dead letter over SASL_SSL',
        timeoutMs: 60_000,
      });
      expect(letter.reason_code).toBe('SCHEMA_DECODE_BAD_MAGIC');
    },
  );

  it('mutual TLS: the SSL listener accepts the client certificate', async () => {
    const s = broker.secure;
    if (!s) throw new Error('no secure listeners');
    const config = loadReconcilerConfig({
      KAFKA_BROKERS: s.sslBrokers.join(','),
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: s.caFile,
      KAFKA_SSL_CERT_FILE: s.clientCertFile,
      KAFKA_SSL_KEY_FILE: s.clientKeyFile,
    });
    const kafka = kafkaFor(config);
    const admin = await kafka.admin();
    cleanups.push(() => admin.close());
    const topic = uniqueName('mtls');
    await admin.ensureTopics([{ topic, partitions: 1 }]);
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    await producer.send(topic, [{ key: 'k', value: Buffer.from('over mutual TLS') }]);
    const got = await collect(kafka, topic);
    cleanups.push(() => got.close());
    const first = await waitFor(() => got.messages[0], { description: 'the record over mTLS' });
    expect(first.value?.toString()).toBe('over mutual TLS');
  });

  it('a wrong password fails fast with a non-retriable CORE_KAFKA_AUTHENTICATION_FAILED, password not shown', async () => {
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const config = loadReconcilerConfig(secureEnv('scram-sha-256', wrong));
    const kafka = kafkaFor(config);
    const err = await kafka.admin().then(
      async (a) => {
        await a.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('CORE_KAFKA_AUTHENTICATION_FAILED');
    expect((err as KafkaError).retriable).toBe(false);
    expect((err as Error).message).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
  });

  it('a broker certificate the client does not trust fails with a non-retriable CORE_KAFKA_TLS_FAILED', async () => {
    const env = secureEnv('scram-sha-256');
    delete env['KAFKA_SSL_CA_FILE'];
    const kafka = kafkaFor(loadReconcilerConfig(env));
    const err = await kafka.admin().then(
      async (a) => {
        await a.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('CORE_KAFKA_TLS_FAILED');
    expect((err as KafkaError).retriable).toBe(false);
  });

  it('the SSL listener refuses a client without a certificate: CORE_KAFKA_TLS_FAILED, not retried', async () => {
    const s = broker.secure;
    if (!s) throw new Error('no secure listeners');
    const kafka = kafkaFor(
      loadReconcilerConfig({
        KAFKA_BROKERS: s.sslBrokers.join(','),
        KAFKA_SSL: 'true',
        KAFKA_SSL_CA_FILE: s.caFile,
      }),
    );
    const err = await kafka.admin().then(
      async (a) => {
        await a.close();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('CORE_KAFKA_TLS_FAILED');
    expect((err as KafkaError).retriable).toBe(false);
  });
});
