/**
 * Errors of @pathwatch/path-writer. Codes are stable (dead-letter reason codes and metrics use them).
 */
import { PathwatchError, type CodeTable } from '@pathwatch/errors';

export const PATH_WRITER_ERROR_CODES = {
  PATH_WRITER_INVALID_ROW: {
    retriable: false,
    doc: 'a verdict decoded but cannot be stored as-is (a value outside what the table accepts); dead-lettered',
  },
  PATH_WRITER_STOPPED: {
    retriable: false,
    doc: 'the writer was stopped while rows were still waiting for ClickHouse',
  },
} as const satisfies CodeTable;

export type PathWriterErrorCode = keyof typeof PATH_WRITER_ERROR_CODES;

export class PathWriterError extends PathwatchError<PathWriterErrorCode> {
  override readonly name = 'PathWriterError';

  constructor(
    code: PathWriterErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts, PATH_WRITER_ERROR_CODES);
  }
}
