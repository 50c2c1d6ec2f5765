/**
 * Classification of real kafkajs errors (the client's own classes and broker error codes, wrapped the way its
 * retrier wraps them) into Pathwatch codes and retriable flags.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  KAFKA_ERROR_CODES,
  KAFKA_FIX_HINTS,
  KafkaError,
  classifyKafka,
  describeFatal,
  isProducerFenced,
  isRecordTooLarge,
  isRetriable,
  toKafkaError,
} from '@pathwatch/core';

const require = createRequire(import.meta.url);
const kjs = require('kafkajs/src/errors.js') as Record<string, new (...args: unknown[]) => Error>;
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => Error;
};
const K = (name: string): new (...args: unknown[]) => Error => {
  const c = kjs[name];
  if (!c) throw new Error(`kafkajs has no ${name}`);
  return c;
};
/** How kafkajs's retrier hands back a failure it does not retry. */
const bailed = (e: Error): Error => new (K('KafkaJSNonRetriableError'))(e, { cause: e });
/** How it hands back a retriable failure once its retries are used up. */
const exhausted = (e: Error): Error =>
  new (K('KafkaJSNumberOfRetriesExceeded'))(e, { retryCount: 5, retryTime: 1000 });

describe('classifyKafka', () => {
  it.each([
    'SELF_SIGNED_CERT_IN_CHAIN',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
  ])(
    'a TLS failure (%s) is CORE_KAFKA_TLS_FAILED, not retriable, though kafkajs calls it a connection error',
    (tlsCode) => {
      const conn = new (K('KafkaJSConnectionError'))(`Connection error: ${tlsCode}`, { code: tlsCode });
      for (const err of [conn, exhausted(conn)])
        expect(classifyKafka(err)).toMatchObject({ code: 'CORE_KAFKA_TLS_FAILED', retriable: false });
      // A refused or reset connection stays retriable.
      const reset = new (K('KafkaJSConnectionError'))('Connection error: ECONNREFUSED', {
        code: 'ECONNREFUSED',
      });
      expect(classifyKafka(reset)).toMatchObject({ code: 'CORE_KAFKA_UNAVAILABLE', retriable: true });
    },
  );
  const fatal: [number, string][] = [
    [47, 'CORE_KAFKA_PRODUCER_FENCED'], // INVALID_PRODUCER_EPOCH
    [90, 'CORE_KAFKA_PRODUCER_FENCED'], // PRODUCER_FENCED (unknown to kafkajs 2.2.4)
    [53, 'CORE_KAFKA_AUTHORIZATION_FAILED'], // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    [29, 'CORE_KAFKA_AUTHORIZATION_FAILED'], // TOPIC_AUTHORIZATION_FAILED
    [30, 'CORE_KAFKA_AUTHORIZATION_FAILED'], // GROUP_AUTHORIZATION_FAILED
    [31, 'CORE_KAFKA_AUTHORIZATION_FAILED'], // CLUSTER_AUTHORIZATION_FAILED
    [58, 'CORE_KAFKA_AUTHENTICATION_FAILED'], // SASL_AUTHENTICATION_FAILED
    [10, 'CORE_KAFKA_RECORD_TOO_LARGE'], // MESSAGE_TOO_LARGE
    [18, 'CORE_KAFKA_RECORD_TOO_LARGE'], // RECORD_LIST_TOO_LARGE
    [40, 'CORE_KAFKA_INVALID_CONFIG'], // INVALID_CONFIG
    [50, 'CORE_KAFKA_INVALID_CONFIG'], // INVALID_TRANSACTION_TIMEOUT
    [42, 'CORE_KAFKA_UNSUPPORTED'], // INVALID_REQUEST
    [35, 'CORE_KAFKA_UNSUPPORTED'], // UNSUPPORTED_VERSION
  ];
  it.each(fatal)('broker error %i -> %s, not retriable, bare or wrapped by the retrier', (code, expected) => {
    const e = createErrorFromCode(code);
    for (const err of [e, bailed(e), new Error('outer', { cause: bailed(e) })]) {
      expect(classifyKafka(err)).toMatchObject({ code: expected, retriable: false });
      const k = toKafkaError(err, 'op');
      expect(k).toBeInstanceOf(KafkaError);
      expect(k.code).toBe(expected);
      expect(isRetriable(k)).toBe(false);
      expect(k.hint.length).toBeGreaterThan(10);
    }
  });

  it('keeps the producer-state errors retriable (a new producer clears them)', () => {
    for (const code of [48, 59, 45]) {
      expect(classifyKafka(bailed(createErrorFromCode(code)))).toMatchObject({
        code: 'CORE_KAFKA_PRODUCER_STATE',
        retriable: true,
      });
    }
    const stuck = new (K('KafkaJSNonRetriableError'))(
      'Transaction state exception: Cannot call "beginTransaction" in state "COMMITTING"',
    );
    expect(classifyKafka(stuck)).toEqual({ code: 'CORE_KAFKA_PRODUCER_STATE', retriable: true });
  });

  it('treats a broker that is down as retriable, even after kafkajs gave up retrying', () => {
    const conn = new (K('KafkaJSConnectionError'))('Connection error: connect ECONNREFUSED 127.0.0.1:9092', {
      broker: '127.0.0.1:9092',
      code: 'ECONNREFUSED',
    });
    const timeout = new (K('KafkaJSRequestTimeoutError'))('Request Produce(key: 0, version: 7) timed out');
    const notLeader = createErrorFromCode(6); // NOT_LEADER_FOR_PARTITION, retriable in kafkajs
    for (const e of [
      conn,
      timeout,
      notLeader,
      exhausted(conn),
      exhausted(notLeader),
      new (K('KafkaJSLockTimeout'))('x'),
    ])
      expect(classifyKafka(e)).toMatchObject({ code: 'CORE_KAFKA_UNAVAILABLE', retriable: true });
  });

  it('calls SASL, unsupported APIs, unknown non-retriable codes and programmer errors non-retriable', () => {
    expect(
      classifyKafka(new (K('KafkaJSSASLAuthenticationError'))('SASL PLAIN authentication failed')),
    ).toMatchObject({ code: 'CORE_KAFKA_AUTHENTICATION_FAILED', retriable: false });
    expect(classifyKafka(new (K('KafkaJSServerDoesNotSupportApiKey'))('nope'))).toMatchObject({
      code: 'CORE_KAFKA_UNSUPPORTED',
      retriable: false,
    });
    expect(classifyKafka(bailed(createErrorFromCode(1234)))).toMatchObject({
      code: 'CORE_KAFKA_FAILED',
      retriable: false,
    });
    expect(classifyKafka(new TypeError('x is undefined'))).toMatchObject({
      code: 'CORE_KAFKA_FAILED',
      retriable: false,
    });
  });

  it('finds the broker code inside aggregate and per-partition errors', () => {
    const agg = new (K('KafkaJSAggregateError'))('several', [
      createErrorFromCode(6),
      createErrorFromCode(10),
    ]);
    expect(classifyKafka(agg).code).toBe('CORE_KAFKA_RECORD_TOO_LARGE');
    const del = new (K('KafkaJSDeleteTopicRecordsError'))({
      partitions: [{ partition: 0, error: createErrorFromCode(29) }],
    });
    expect(classifyKafka(del).code).toBe('CORE_KAFKA_AUTHORIZATION_FAILED');
  });

  it('offers predicates and a fatal line with the fix', () => {
    const tooLarge = toKafkaError(bailed(createErrorFromCode(10)), 'send to dlq failed', { topic: 'dlq' });
    expect(isRecordTooLarge(tooLarge)).toBe(true);
    expect(isProducerFenced(tooLarge)).toBe(false);
    expect(tooLarge.context).toMatchObject({ topic: 'dlq', brokerError: 'MESSAGE_TOO_LARGE' });
    const fenced = toKafkaError(createErrorFromCode(47), 'transaction failed');
    expect(isProducerFenced(fenced)).toBe(true);
    expect(describeFatal(fenced)).toMatch(
      /^CORE_KAFKA_PRODUCER_FENCED: transaction failed: .*\n {2}fix: .*RECONCILER_INSTANCE_ID/s,
    );
    expect(toKafkaError(fenced, 'again')).toBe(fenced);
    // Every code is documented (README table) and has a hint.
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const code of Object.keys(KAFKA_ERROR_CODES) as (keyof typeof KAFKA_ERROR_CODES)[]) {
      // A table row of its own, however the table is aligned.
      expect(readme, code).toMatch(new RegExp(`^\\| \`${code}\` +\\|`, 'm'));
      expect(KAFKA_FIX_HINTS[code].length, code).toBeGreaterThan(10);
    }
  });
});
