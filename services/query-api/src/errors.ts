/**
 * Errors of @pathwatch/query-api. Every HTTP error body has one shape, `{ error, message, retriable }`: a stable
 * `error` code, a message naming the parameter or limit, and whether the same request can succeed later.
 */
export type QueryApiErrorCode =
  | 'QUERY_API_BAD_REQUEST'
  | 'QUERY_API_UNAUTHORIZED'
  | 'QUERY_API_NOT_FOUND'
  | 'QUERY_API_NOT_ACCEPTABLE'
  | 'QUERY_API_TIMEOUT'
  | 'QUERY_API_AMBIGUOUS'
  | 'QUERY_API_PAYLOAD_TOO_LARGE'
  | 'QUERY_API_UNSUPPORTED_MEDIA_TYPE'
  | 'QUERY_API_LIMIT_EXCEEDED'
  | 'QUERY_API_HEADERS_TOO_LARGE'
  | 'QUERY_API_SQL_DISABLED'
  | 'QUERY_API_STORE_UNAVAILABLE'
  | 'QUERY_API_INTERNAL';

const STATUS: Record<QueryApiErrorCode, number> = {
  QUERY_API_BAD_REQUEST: 400,
  QUERY_API_UNAUTHORIZED: 401,
  QUERY_API_NOT_FOUND: 404,
  QUERY_API_NOT_ACCEPTABLE: 406,
  QUERY_API_TIMEOUT: 408,
  QUERY_API_AMBIGUOUS: 409,
  QUERY_API_PAYLOAD_TOO_LARGE: 413,
  QUERY_API_UNSUPPORTED_MEDIA_TYPE: 415,
  QUERY_API_LIMIT_EXCEEDED: 422,
  QUERY_API_HEADERS_TOO_LARGE: 431,
  QUERY_API_SQL_DISABLED: 404,
  QUERY_API_STORE_UNAVAILABLE: 503,
  QUERY_API_INTERNAL: 500,
};

/** The status a code is answered with (one table, so the OpenAPI document and the server agree). */
export function statusOf(code: QueryApiErrorCode): number {
  return STATUS[code];
}

export interface ErrorBody {
  error: QueryApiErrorCode;
  message: string;
  retriable: boolean;
}

export class QueryApiError extends Error {
  override readonly name = 'QueryApiError';
  readonly code: QueryApiErrorCode;
  readonly statusCode: number;
  readonly retriable: boolean;

  constructor(code: QueryApiErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.statusCode = STATUS[code];
    // Only an unavailable store can recover by itself; a timed-out upload may succeed when sent again.
    this.retriable = code === 'QUERY_API_STORE_UNAVAILABLE' || code === 'QUERY_API_TIMEOUT';
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, retriable: this.retriable };
  }
}
