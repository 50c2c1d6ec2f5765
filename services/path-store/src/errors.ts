/**
 * Errors of @pathwatch/path-store. The codes keep their CORE_STORE_ prefix (stable: logs, metrics and HTTP
 * bodies carry them).
 */
import { PathwatchError, type CodeTable, type ErrorContext } from '@pathwatch/errors';

export const STORE_ERROR_CODES = {
  CORE_STORE_UNAVAILABLE: {
    retriable: true,
    doc: 'server, network, disk or memory trouble that may recover',
  },
  CORE_STORE_QUERY_FAILED: {
    retriable: false,
    doc: 'a query ClickHouse refused (a bug or a schema mismatch)',
  },
  CORE_STORE_MIGRATION_CHANGED: {
    retriable: false,
    doc: 'an applied migration was edited (checksum differs)',
  },
  CORE_STORE_MIGRATION_UNKNOWN: {
    retriable: false,
    doc: 'the database has migrations this code does not know',
  },
  CORE_STORE_DATA_DIR_LOCKED: { retriable: false, doc: 'another process holds the embedded data directory' },
  CORE_STORE_SQL_REJECTED: {
    retriable: false,
    doc: 'analyst SQL that is not a read-only query within the limits',
  },
  CORE_STORE_INVALID_ROW: { retriable: false, doc: 'a row the table cannot take' },
} as const satisfies CodeTable;

export type StoreErrorCode = keyof typeof STORE_ERROR_CODES;

/** A path-store (ClickHouse) operation failed; `retriable` defaults to the code table's. */
export class StoreError extends PathwatchError<StoreErrorCode> {
  constructor(
    code: StoreErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown; context?: ErrorContext } = {},
  ) {
    super(code, message, opts, STORE_ERROR_CODES);
  }
}
