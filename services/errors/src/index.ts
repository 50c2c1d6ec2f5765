/**
 * The one error base class of Pathwatch. Every package declares its codes in one table (`code -> { retriable,
 * doc }`, e.g. SCHEMA_ERROR_CODES, KAFKA_ERROR_CODES) and throws a subclass of PathwatchError with one of them.
 * Codes are stable (never reused: dead letters, metrics labels and HTTP bodies carry them). `retriable` says
 * whether trying the same thing again can succeed; every retry loop asks `isRetriable(err)` and never retries
 * anything else. Programmer errors (TypeError, RangeError, ReferenceError) are never retriable.
 */
export interface ErrorContext {
  readonly [key: string]: string | number | boolean | undefined;
}

/** One row of a package's code table. */
export interface CodeInfo {
  /** The default of `retriable` for this code (an instance may say otherwise, e.g. an HTTP 503 vs 404). */
  readonly retriable: boolean;
  /** What the code means (README "Errors" tables are written from these). */
  readonly doc: string;
}

export type CodeTable<C extends string = string> = Readonly<Record<C, CodeInfo>>;

export interface PathwatchErrorOptions {
  /** @default the code table's value, else false */
  retriable?: boolean | undefined;
  cause?: unknown;
  context?: ErrorContext | undefined;
}

export class PathwatchError<C extends string = string> extends Error {
  readonly code: C;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: C, message: string, opts: PathwatchErrorOptions = {}, table?: CodeTable<C>) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? table?.[code]?.retriable ?? false;
    this.context = opts.context ?? {};
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
