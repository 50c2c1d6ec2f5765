/**
 * Errors of @pathwatch/query-api. Every HTTP error body is `{ error, message }` with a stable `error` code.
 */
export type QueryApiErrorCode =
  | 'QUERY_API_BAD_REQUEST'
  | 'QUERY_API_UNAUTHORIZED'
  | 'QUERY_API_NOT_FOUND'
  | 'QUERY_API_AMBIGUOUS'
  | 'QUERY_API_SQL_DISABLED'
  | 'QUERY_API_STORE_UNAVAILABLE'
  | 'QUERY_API_INTERNAL';

const STATUS: Record<QueryApiErrorCode, number> = {
  QUERY_API_BAD_REQUEST: 400,
  QUERY_API_UNAUTHORIZED: 401,
  QUERY_API_NOT_FOUND: 404,
  QUERY_API_AMBIGUOUS: 409,
  QUERY_API_SQL_DISABLED: 404,
  QUERY_API_STORE_UNAVAILABLE: 503,
  QUERY_API_INTERNAL: 500,
};

export class QueryApiError extends Error {
  override readonly name = 'QueryApiError';
  readonly code: QueryApiErrorCode;
  readonly statusCode: number;
  readonly retriable: boolean;

  constructor(code: QueryApiErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.statusCode = STATUS[code];
    this.retriable = code === 'QUERY_API_STORE_UNAVAILABLE';
  }
}
