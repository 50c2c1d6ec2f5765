/**
 * Errors of @pathwatch/path-writer. Codes are stable (dead-letter reason codes and metrics use them).
 */
export type PathWriterErrorCode =
  /** A verdict decoded but cannot be stored as-is (a value outside what the table accepts). Dead-lettered. */
  | 'PATH_WRITER_INVALID_ROW'
  /** The writer was stopped while rows were still waiting for ClickHouse. */
  | 'PATH_WRITER_STOPPED';

export class PathWriterError extends Error {
  override readonly name = 'PathWriterError';
  readonly code: PathWriterErrorCode;
  readonly retriable: boolean;

  constructor(
    code: PathWriterErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}
