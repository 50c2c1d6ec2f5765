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

/** A Kafka operation failed; retriable when the broker or network may recover. */
export class KafkaError extends PathwatchError {
  static retriable(message: string, cause: unknown, context?: ErrorContext): KafkaError {
    return new KafkaError('CORE_KAFKA_UNAVAILABLE', message, {
      retriable: true,
      cause,
      ...(context ? { context } : {}),
    });
  }
  static nonRetriable(code: string, message: string, cause?: unknown, context?: ErrorContext): KafkaError {
    return new KafkaError(code, message, { retriable: false, cause, ...(context ? { context } : {}) });
  }
}

/** Start-up checks of topic layout failed (e.g. co-partitioning). */
export class TopologyError extends PathwatchError {
  constructor(message: string, context?: ErrorContext) {
    super('CORE_TOPOLOGY_INVALID', message, { retriable: false, ...(context ? { context } : {}) });
  }
}

/**
 * A path-store (ClickHouse) operation failed. Codes: CORE_STORE_UNAVAILABLE (retriable: server, network, disk or
 * memory may recover), CORE_STORE_QUERY_FAILED, CORE_STORE_MIGRATION_CHANGED (an applied migration was edited),
 * CORE_STORE_MIGRATION_UNKNOWN (the database is newer than this code), CORE_STORE_DATA_DIR_LOCKED,
 * CORE_STORE_SQL_REJECTED (analyst SQL that is not read-only), CORE_STORE_INVALID_ROW.
 */
export class StoreError extends PathwatchError {}

export function isRetriable(err: unknown): boolean {
  return err instanceof PathwatchError ? err.retriable : false;
}
