/**
 * Errors of @pathwatch/core. Codes are stable (never reused); `retriable` tells callers whether trying
 * again can help. Programmer errors (TypeError, RangeError) are never wrapped as retriable.
 */
export interface ErrorContext {
  readonly [key: string]: string | number | boolean | undefined;
}

export class PathwatchError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(
    code: string,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }
}

/** Thrown at start-up when configuration is invalid; lists every bad variable at once. */
export class ConfigError extends PathwatchError {
  readonly problems: readonly { variable: string; problem: string; raw: string | undefined }[];

  constructor(problems: readonly { variable: string; problem: string; raw: string | undefined }[]) {
    super(
      'CORE_CONFIG_INVALID',
      `Invalid configuration:\n${problems
        .map(
          (p) =>
            `  ${p.variable}: ${p.problem}${p.raw === undefined ? '' : ` (got ${JSON.stringify(p.raw)})`}`,
        )
        .join('\n')}`,
    );
    this.problems = problems;
  }
}

/**
 * Stable codes of Kafka failures (README "Errors"). Only CORE_KAFKA_UNAVAILABLE and CORE_KAFKA_PRODUCER_STATE are
 * retriable (the second only with a new producer, which the transactional sender creates itself); the rest can
 * never succeed by trying again and end the stage with the hint below.
 */
export const KAFKA_ERROR_CODES = {
  CORE_KAFKA_UNAVAILABLE: 'broker or network unavailable, leader moving, request timed out',
  CORE_KAFKA_PRODUCER_STATE:
    'the producer is in a state it cannot leave (failed transaction end, unknown producer id, sequence gap)',
  CORE_KAFKA_PRODUCER_FENCED: 'another producer with the same transactional id took over',
  CORE_KAFKA_AUTHORIZATION_FAILED:
    'the broker refused an operation (topic, group, cluster or transactional id ACL)',
  CORE_KAFKA_AUTHENTICATION_FAILED: 'SASL authentication failed',
  CORE_KAFKA_TLS_FAILED:
    'the TLS handshake failed: the broker certificate is not trusted or not for this host, or the broker refused the client certificate',
  CORE_KAFKA_RECORD_TOO_LARGE: 'a record or batch exceeds the broker or topic size limit',
  CORE_KAFKA_INVALID_CONFIG:
    'the broker rejected a configuration (topic settings, transaction timeout, policy)',
  CORE_KAFKA_UNSUPPORTED: 'the broker does not support a request or version this client sends',
  CORE_KAFKA_FAILED: 'any other Kafka failure that retrying cannot fix',
} as const;
export type KafkaErrorCode = keyof typeof KAFKA_ERROR_CODES;

/** What an operator does about each non-retriable code (printed with the fatal exit). */
export const KAFKA_FIX_HINTS: Readonly<Record<KafkaErrorCode, string>> = {
  CORE_KAFKA_UNAVAILABLE: 'check that KAFKA_BROKERS is reachable; Pathwatch retries on its own',
  CORE_KAFKA_PRODUCER_STATE: 'none needed: the producer is replaced and the transaction retried',
  CORE_KAFKA_PRODUCER_FENCED:
    'another process uses the same transactional id (group id + RECONCILER_INSTANCE_ID): stop it, or give each instance its own id; then restart',
  CORE_KAFKA_AUTHORIZATION_FAILED:
    'grant the principal the ACLs it needs (read/write on the Pathwatch topics, read on its groups, write/describe on its transactional id, idempotent write on the cluster)',
  CORE_KAFKA_AUTHENTICATION_FAILED: 'check the SASL mechanism, user name and password of the Kafka client',
  CORE_KAFKA_TLS_FAILED:
    "set KAFKA_SSL_CA_FILE to the CA that signed the brokers' certificates, check that KAFKA_BROKERS names the hosts in them, and give KAFKA_SSL_CERT_FILE/KAFKA_SSL_KEY_FILE when the listener requires a client certificate",
  CORE_KAFKA_RECORD_TOO_LARGE:
    "raise the topic's max.message.bytes (and the broker's message.max.bytes) or lower the input size limits; the record is dead-lettered where the stage can",
  CORE_KAFKA_INVALID_CONFIG:
    "fix the named setting (e.g. transaction timeout above the broker's transaction.max.timeout.ms, a topic config the broker refuses)",
  CORE_KAFKA_UNSUPPORTED: 'use a Kafka broker of version 2.5 or later (the local broker is 3.x/4.x)',
  CORE_KAFKA_FAILED: 'see the cause in the log line; restart once it is fixed',
};

/**
 * A Kafka operation failed. `code` is one of KAFKA_ERROR_CODES, derived from the client's own classification
 * (kafkajs error types, their `retriable` flag and the broker's error code, see kafka-errors.ts); `hint` says what to
 * do when it is not retriable.
 */
export class KafkaError extends PathwatchError {
  declare readonly code: KafkaErrorCode;
  readonly hint: string;

  constructor(
    code: KafkaErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(code, message, opts);
    this.hint = KAFKA_FIX_HINTS[code];
  }

  static retriable(message: string, cause: unknown, context?: ErrorContext): KafkaError {
    return new KafkaError('CORE_KAFKA_UNAVAILABLE', message, {
      retriable: true,
      cause,
      ...(context ? { context } : {}),
    });
  }
  static nonRetriable(
    code: KafkaErrorCode,
    message: string,
    cause?: unknown,
    context?: ErrorContext,
  ): KafkaError {
    return new KafkaError(code, message, { retriable: false, cause, ...(context ? { context } : {}) });
  }
}

/** A record (or the batch holding it) is larger than the broker or topic accepts: dead-letter it, do not retry. */
export function isRecordTooLarge(err: unknown): boolean {
  return err instanceof KafkaError && err.code === 'CORE_KAFKA_RECORD_TOO_LARGE';
}

/** A producer was fenced by a newer one with the same transactional id: this instance must stop. */
export function isProducerFenced(err: unknown): boolean {
  return err instanceof KafkaError && err.code === 'CORE_KAFKA_PRODUCER_FENCED';
}

/** One line for a fatal exit: code, message and what to do. */
export function describeFatal(err: unknown): string {
  if (err instanceof KafkaError) return `${err.code}: ${err.message}\n  fix: ${err.hint}`;
  if (err instanceof PathwatchError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Start-up checks of topic layout failed (e.g. co-partitioning). */
export class TopologyError extends PathwatchError {
  constructor(message: string, context?: ErrorContext) {
    super('CORE_TOPOLOGY_INVALID', message, { retriable: false, ...(context ? { context } : {}) });
  }
}

/**
 * Whether trying again can help: a PathwatchError says so itself; a client error (kafkajs, @clickhouse/client) that
 * carries a boolean `retriable` is taken at its word; anything else (programmer errors included) is not retriable.
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof PathwatchError) return err.retriable;
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) return false;
  const r = (err as { retriable?: unknown } | null)?.retriable;
  return typeof r === 'boolean' ? r : false;
}
