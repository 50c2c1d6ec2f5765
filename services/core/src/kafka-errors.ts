/**
 * Turns whatever kafkajs threw into a KafkaError that keeps the client's own classification: the broker's error
 * code (a KafkaJSProtocolError's `type`/`code`, found anywhere in the cause chain, since kafkajs wraps errors in
 * KafkaJSNonRetriableError / KafkaJSNumberOfRetriesExceeded), kafkajs's error class and its `retriable` flag.
 * Retries that kafkajs gave up on with a retriable cause (broker down) stay retriable here: Pathwatch's own retry
 * policy decides how long to go on. Duck-typed on names and fields, so this module does not load kafkajs.
 */
import { KafkaError, type ErrorContext, type KafkaErrorCode } from './errors.js';

/** Broker error types (kafkajs `type`, Kafka protocol name) that no retry can fix, by Pathwatch code. */
const BROKER_TYPES: Readonly<Record<string, KafkaErrorCode>> = {
  INVALID_PRODUCER_EPOCH: 'CORE_KAFKA_PRODUCER_FENCED',
  PRODUCER_FENCED: 'CORE_KAFKA_PRODUCER_FENCED',
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 'CORE_KAFKA_AUTHORIZATION_FAILED',
  TOPIC_AUTHORIZATION_FAILED: 'CORE_KAFKA_AUTHORIZATION_FAILED',
  GROUP_AUTHORIZATION_FAILED: 'CORE_KAFKA_AUTHORIZATION_FAILED',
  CLUSTER_AUTHORIZATION_FAILED: 'CORE_KAFKA_AUTHORIZATION_FAILED',
  DELEGATION_TOKEN_AUTHORIZATION_FAILED: 'CORE_KAFKA_AUTHORIZATION_FAILED',
  SASL_AUTHENTICATION_FAILED: 'CORE_KAFKA_AUTHENTICATION_FAILED',
  UNSUPPORTED_SASL_MECHANISM: 'CORE_KAFKA_AUTHENTICATION_FAILED',
  ILLEGAL_SASL_STATE: 'CORE_KAFKA_AUTHENTICATION_FAILED',
  MESSAGE_TOO_LARGE: 'CORE_KAFKA_RECORD_TOO_LARGE',
  RECORD_LIST_TOO_LARGE: 'CORE_KAFKA_RECORD_TOO_LARGE',
  INVALID_CONFIG: 'CORE_KAFKA_INVALID_CONFIG',
  INVALID_TRANSACTION_TIMEOUT: 'CORE_KAFKA_INVALID_CONFIG',
  POLICY_VIOLATION: 'CORE_KAFKA_INVALID_CONFIG',
  INVALID_TOPIC_EXCEPTION: 'CORE_KAFKA_INVALID_CONFIG',
  INVALID_REPLICATION_FACTOR: 'CORE_KAFKA_INVALID_CONFIG',
  INVALID_PARTITIONS: 'CORE_KAFKA_INVALID_CONFIG',
  INVALID_REQUEST: 'CORE_KAFKA_UNSUPPORTED',
  UNSUPPORTED_VERSION: 'CORE_KAFKA_UNSUPPORTED',
  UNSUPPORTED_FOR_MESSAGE_FORMAT: 'CORE_KAFKA_UNSUPPORTED',
  // The producer's own state is off (the Java client calls these abortable or fatal for the producer): a new
  // producer — a fresh InitProducerId — clears them.
  INVALID_TXN_STATE: 'CORE_KAFKA_PRODUCER_STATE',
  UNKNOWN_PRODUCER_ID: 'CORE_KAFKA_PRODUCER_STATE',
  OUT_OF_ORDER_SEQUENCE_NUMBER: 'CORE_KAFKA_PRODUCER_STATE',
  INVALID_PRODUCER_ID_MAPPING: 'CORE_KAFKA_PRODUCER_STATE',
};

/** Kafka protocol error codes kafkajs 2.2.4 does not name (it reports `Unknown error code N`). */
const BROKER_CODES: Readonly<Record<number, KafkaErrorCode>> = {
  90: 'CORE_KAFKA_PRODUCER_FENCED', // PRODUCER_FENCED
};

/** kafkajs error classes that say what went wrong without a broker code. */
const CLASS_CODES: Readonly<Record<string, KafkaErrorCode>> = {
  KafkaJSSASLAuthenticationError: 'CORE_KAFKA_AUTHENTICATION_FAILED',
  KafkaJSServerDoesNotSupportApiKey: 'CORE_KAFKA_UNSUPPORTED',
};

/** kafkajs classes that mean "not now": the broker, the network or the group may recover. */
const TRANSIENT_CLASSES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
  'KafkaJSBrokerNotFound',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
]);

/**
 * Node TLS failures (the socket error's `code`, which kafkajs keeps on its KafkaJSConnectionError): certificates
 * no retry will make trusted. kafkajs calls them connection errors (retriable); they are not.
 */
const TLS_CODE =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_(GET|VERIFY|DECRYPT)|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED|HOSTNAME_MISMATCH)/;

/** kafkajs's transaction state machine refusing a call: the producer cannot leave its state. */
const PRODUCER_STATE_MESSAGE =
  /Transaction state exception|Cannot continue to use transaction once ended|already an ongoing transaction/;

interface ErrorLike {
  name?: unknown;
  message?: unknown;
  type?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
  originalError?: unknown;
  errors?: unknown;
  partitions?: unknown;
}

/** The error and everything it wraps (causes, aggregate members, per-partition errors), breadth first. */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const queue: unknown[] = [err];
  const seen = new Set<unknown>();
  while (queue.length > 0 && out.length < 32) {
    const e = queue.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    const x = e as ErrorLike;
    out.push(x);
    queue.push(x.cause, x.originalError);
    if (Array.isArray(x.errors)) queue.push(...(x.errors as unknown[]));
    if (Array.isArray(x.partitions))
      for (const p of x.partitions as { error?: unknown }[]) queue.push(p?.error);
  }
  return out;
}

/** The Pathwatch code and retriable flag of a kafkajs failure. */
export function classifyKafka(err: unknown): {
  code: KafkaErrorCode;
  retriable: boolean;
  brokerType?: string;
} {
  const all = chain(err);
  for (const e of all) {
    const type = typeof e.type === 'string' ? e.type : undefined;
    const byType = type === undefined ? undefined : BROKER_TYPES[type];
    if (byType !== undefined && type !== undefined)
      return { code: byType, retriable: byType === 'CORE_KAFKA_PRODUCER_STATE', brokerType: type };
    // kafkajs reports a code it does not know as type KAFKAJS_UNKNOWN_ERROR_CODE, "Unknown error code N".
    const unknown =
      type === 'KAFKAJS_UNKNOWN_ERROR_CODE' && typeof e.message === 'string'
        ? /Unknown error code (\d+)/.exec(e.message)?.[1]
        : undefined;
    const brokerCode = unknown === undefined ? undefined : Number(unknown);
    const byCode = brokerCode === undefined ? undefined : BROKER_CODES[brokerCode];
    if (byCode !== undefined)
      return { code: byCode, retriable: false, brokerType: `code ${String(brokerCode)}` };
    const byClass = typeof e.name === 'string' ? CLASS_CODES[e.name] : undefined;
    if (byClass !== undefined) return { code: byClass, retriable: false };
  }
  if (all.some((e) => typeof e.code === 'string' && TLS_CODE.test(e.code)))
    return { code: 'CORE_KAFKA_TLS_FAILED', retriable: false };
  if (all.some((e) => typeof e.message === 'string' && PRODUCER_STATE_MESSAGE.test(e.message)))
    return { code: 'CORE_KAFKA_PRODUCER_STATE', retriable: true };
  const top = all[0];
  if (top === undefined) return { code: 'CORE_KAFKA_FAILED', retriable: false };
  const isKafkajs = (e: ErrorLike): boolean => typeof e.name === 'string' && e.name.startsWith('KafkaJS');
  // kafkajs gave up (retries exhausted, or it wrapped the cause as non-retriable): what counts is the cause.
  const transient = all.some(
    (e) =>
      (typeof e.name === 'string' && TRANSIENT_CLASSES.has(e.name)) ||
      (isKafkajs(e) && e.retriable === true && typeof e.type === 'string'),
  );
  if (transient) return { code: 'CORE_KAFKA_UNAVAILABLE', retriable: true };
  // A kafkajs error without a broker code that kafkajs itself calls retriable (e.g. a rebalance in progress).
  if (isKafkajs(top) && top.retriable !== false && all.every((e) => !isKafkajs(e) || e.retriable !== false))
    return { code: 'CORE_KAFKA_UNAVAILABLE', retriable: true };
  return { code: 'CORE_KAFKA_FAILED', retriable: false };
}

/** Wraps a kafkajs failure of `what` with its classification (a KafkaError is returned unchanged). */
export function toKafkaError(err: unknown, what: string, context?: ErrorContext): KafkaError {
  if (err instanceof KafkaError) return err;
  const { code, retriable, brokerType } = classifyKafka(err);
  const msg = err instanceof Error ? err.message : String(err);
  return new KafkaError(code, `${what}: ${msg}`, {
    retriable,
    cause: err,
    context: { ...context, ...(brokerType === undefined ? {} : { brokerError: brokerType }) },
  });
}
