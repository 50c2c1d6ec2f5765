/**
 * Errors of @pathwatch/query-api. Every HTTP error body has one shape, `{ error, message, retriable }`: a stable
 * `error` code, a message naming the parameter or limit, and whether the same request can succeed later.
 */
import { PathwatchError, type CodeInfo } from '@pathwatch/errors';

/** Every code: its HTTP status, whether the same request can succeed later, what it means. */
export const QUERY_API_ERROR_CODES = {
  QUERY_API_BAD_REQUEST: {
    status: 400,
    retriable: false,
    doc: 'a parameter or body the API does not accept',
  },
  QUERY_API_UNAUTHORIZED: { status: 401, retriable: false, doc: 'missing or wrong bearer token' },
  QUERY_API_NOT_FOUND: { status: 404, retriable: false, doc: 'no such route or request' },
  QUERY_API_NOT_ACCEPTABLE: {
    status: 406,
    retriable: false,
    doc: 'an Accept header the route cannot answer',
  },
  QUERY_API_TIMEOUT: { status: 408, retriable: true, doc: 'the request body did not arrive in time' },
  QUERY_API_AMBIGUOUS: { status: 409, retriable: false, doc: 'the request names more than one thing' },
  QUERY_API_PAYLOAD_TOO_LARGE: { status: 413, retriable: false, doc: 'a body above the size limit' },
  QUERY_API_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    doc: 'a body content type the route does not take',
  },
  QUERY_API_LIMIT_EXCEEDED: {
    status: 422,
    retriable: false,
    doc: 'a time range or result size above its cap',
  },
  QUERY_API_HEADERS_TOO_LARGE: { status: 431, retriable: false, doc: 'request headers above the size limit' },
  QUERY_API_SQL_DISABLED: { status: 404, retriable: false, doc: 'analyst SQL is turned off' },
  QUERY_API_STORE_UNAVAILABLE: {
    status: 503,
    retriable: true,
    doc: 'the path store cannot answer right now',
  },
  QUERY_API_INTERNAL: { status: 500, retriable: false, doc: 'a bug: the log has the details' },
} as const satisfies Readonly<Record<string, CodeInfo & { readonly status: number }>>;

export type QueryApiErrorCode = keyof typeof QUERY_API_ERROR_CODES;

/** The status a code is answered with (one table, so the OpenAPI document and the server agree). */
export function statusOf(code: QueryApiErrorCode): number {
  return QUERY_API_ERROR_CODES[code].status;
}

export interface ErrorBody {
  error: QueryApiErrorCode;
  message: string;
  retriable: boolean;
}

export class QueryApiError extends PathwatchError<QueryApiErrorCode> {
  override readonly name = 'QueryApiError';
  readonly statusCode: number;

  constructor(code: QueryApiErrorCode, message: string, opts: { cause?: unknown } = {}) {
    // Only an unavailable store can recover by itself; a timed-out upload may succeed when sent again.
    super(code, message, opts, QUERY_API_ERROR_CODES);
    this.statusCode = QUERY_API_ERROR_CODES[code].status;
  }

  body(): ErrorBody {
    return { error: this.code, message: this.message, retriable: this.retriable };
  }
}
