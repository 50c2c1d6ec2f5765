/**
 * The query API's HTTP defences, in one place so the limits, the error bodies and SECURITY.md agree: server
 * and router limits, the bearer check (run inside the /v1 plugin scope, after routing), Accept negotiation,
 * the mapping of every framework and client error to the standard error body, and a response sanitiser that
 * keeps non-finite numbers from the store out of the serialiser.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { QueryApiError, type ErrorBody } from './errors.js';

/** Limits of the HTTP layer. Every one exceeded is a 4xx with the standard body naming it. */
export const HTTP_LIMITS = {
  /**
   * Largest request body. Covers the longest body the schema accepts (100,000 characters of SQL, each escaped
   * as up to 12 bytes of JSON), so the document's maxLength is what the server enforces.
   */
  bodyBytes: 2 * 1024 * 1024,
  /**
   * Request line plus headers (Node's http parser). Covers the longest URL the schema accepts (every query
   * string parameter at its maximum length, percent-encoded).
   */
  headerBytes: 64 * 1024,
  /**
   * The router's cap on one path parameter after decoding, in UTF-16 code units. Larger than any value the
   * schema accepts (512 characters, an astral character being 2 units), so the schema's maxLength decides.
   */
  pathParamUnits: 2048,
  /** Time to receive a whole request (slow uploads). */
  requestTimeoutMs: 60_000,
} as const;

/** Longest path parameter of the document (request ids), in characters. */
export const MAX_PATH_PARAM_CHARS = 512;

const BEARER_REALM = 'Bearer realm="pathwatch"';
const UNAUTHORIZED_MESSAGE = 'missing or invalid bearer token (Authorization: Bearer <token>)';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/**
 * An onRequest hook checking `Authorization: Bearer <token>`. Registered inside the plugin scope of the
 * protected routes, so it runs for exactly the routes the router matched, whatever the URL's encoding. The
 * scheme is case-insensitive (RFC 9110 §11.1); tokens are compared as SHA-256 digests with timingSafeEqual,
 * so neither the content nor the length of the expected token leaks through timing. One body for every
 * failure: a caller learns nothing about why a token was refused.
 */
export function bearerAuth(token: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  return (req, reply) => {
    const given = bearerToken(req.headers.authorization);
    const ok = timingSafeEqual(digest(given ?? ''), expected) && given !== undefined;
    if (ok) return Promise.resolve();
    void reply.header('www-authenticate', BEARER_REALM);
    return Promise.reject(new QueryApiError('QUERY_API_UNAUTHORIZED', UNAUTHORIZED_MESSAGE));
  };
}

/** The credentials of a Bearer Authorization header, or undefined (other scheme, none, or malformed). */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const m = /^([A-Za-z]+)[ ]+([^ ]+)[ ]*$/.exec(header);
  if (!m || m[1]?.toLowerCase() !== 'bearer') return undefined;
  return m[2];
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const QVALUE = /^(0(\.[0-9]{0,3})?|1(\.0{0,3})?)$/;

/** Splits on `sep` outside quoted strings (RFC 9110 §5.6.4), keeping escapes. */
function splitOutsideQuotes(s: string, sep: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (quoted && c === '\\') {
      cur += c + (s[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (quoted) return null;
  out.push(cur);
  return out;
}

/** Parses an Accept header (RFC 9110 §12.5.1); null when it is malformed. */
export function parseAccept(header: string): MediaRange[] | null {
  const elements = splitOutsideQuotes(header, ',');
  if (elements === null) return null;
  const ranges: MediaRange[] = [];
  for (const el of elements) {
    if (el.trim() === '') continue; // empty list elements are allowed
    const parts = splitOutsideQuotes(el, ';');
    if (parts === null) return null;
    const [type, subtype, ...rest] = (parts[0] ?? '').trim().split('/');
    if (type === undefined || subtype === undefined || rest.length > 0) return null;
    if (!TOKEN.test(type) || !TOKEN.test(subtype) || (type === '*' && subtype !== '*')) return null;
    let q = 1;
    for (const p of parts.slice(1)) {
      const eq = p.indexOf('=');
      if (eq < 0) return null;
      const name = p.slice(0, eq).trim().toLowerCase();
      const value = p.slice(eq + 1).trim();
      if (!TOKEN.test(name) || value === '') return null;
      if (name === 'q') {
        if (!QVALUE.test(value)) return null;
        q = Number(value);
      }
    }
    ranges.push({ type: type.toLowerCase(), subtype: subtype.toLowerCase(), q });
  }
  return ranges;
}

/** Whether a parsed Accept header allows `mediaType` (the most specific matching range decides). */
export function accepts(ranges: readonly MediaRange[], mediaType: string): boolean {
  if (ranges.length === 0) return true;
  const [type, subtype] = mediaType.toLowerCase().split('/');
  let best: MediaRange | undefined;
  let bestRank = -1;
  for (const r of ranges) {
    const rank =
      r.type === type && r.subtype === subtype
        ? 2
        : r.type === type && r.subtype === '*'
          ? 1
          : r.type === '*'
            ? 0
            : -1;
    if (rank > bestRank) {
      best = r;
      bestRank = rank;
    }
  }
  return best !== undefined && best.q > 0;
}

/**
 * An onRequest hook: 400 for a malformed Accept header, 406 when it excludes what the route produces (route
 * config `produces`, default application/json). Unmatched routes are left to the 404 handler.
 */
export function acceptCheck(req: FastifyRequest): Promise<void> {
  const header = req.headers.accept;
  if (header === undefined || req.routeOptions.url === undefined) return Promise.resolve();
  const produces = (req.routeOptions.config as { produces?: string }).produces ?? 'application/json';
  const ranges = parseAccept(header);
  if (ranges === null)
    return Promise.reject(new QueryApiError('QUERY_API_BAD_REQUEST', 'the Accept header is malformed'));
  if (!accepts(ranges, produces))
    return Promise.reject(
      new QueryApiError('QUERY_API_NOT_ACCEPTABLE', `this route produces ${produces}, which Accept excludes`),
    );
  return Promise.resolve();
}

/**
 * The standard body for a framework error (content-type parser, body limit, router), or undefined when the
 * error is not one of them. Never echoes the raw input back.
 */
export function frameworkErrorBody(err: FastifyError): { status: number; body: ErrorBody } | undefined {
  const make = (e: QueryApiError) => ({ status: e.statusCode, body: e.body() });
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return make(
        new QueryApiError('QUERY_API_UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json'),
      );
    case 'FST_ERR_CTP_INVALID_JSON_CHARSET':
      return make(new QueryApiError('QUERY_API_UNSUPPORTED_MEDIA_TYPE', 'the body charset must be utf-8'));
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return make(
        new QueryApiError(
          'QUERY_API_PAYLOAD_TOO_LARGE',
          `the request body exceeds the limit of ${HTTP_LIMITS.bodyBytes} bytes`,
        ),
      );
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return make(new QueryApiError('QUERY_API_BAD_REQUEST', 'the request body is not valid JSON'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return make(new QueryApiError('QUERY_API_BAD_REQUEST', 'the JSON request body is empty'));
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return make(
        new QueryApiError('QUERY_API_BAD_REQUEST', 'Content-Length does not match the body received'),
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return make(
        new QueryApiError(
          'QUERY_API_BAD_REQUEST',
          `a path parameter is longer than the maximum of ${MAX_PATH_PARAM_CHARS} characters`,
        ),
      );
    case 'FST_ERR_BAD_URL':
      return make(
        new QueryApiError('QUERY_API_BAD_REQUEST', 'the URL has an invalid percent-encoded component'),
      );
    default:
      break;
  }
  // The JSON body parser (secure-json-parse): a SyntaxError, or a prototype-poisoning key, with status 400.
  if (err instanceof SyntaxError || (err.statusCode === 400 && /prototype|constructor/i.test(err.message)))
    return make(new QueryApiError('QUERY_API_BAD_REQUEST', 'the request body is not valid JSON'));
  return undefined;
}

/**
 * Fastify's clientErrorHandler: errors Node's HTTP parser raises before a request exists (headers too large,
 * a request that takes too long, malformed HTTP). Answered with the standard body, then the socket is closed.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new QueryApiError(
          'QUERY_API_HEADERS_TOO_LARGE',
          `the request line and headers exceed the limit of ${HTTP_LIMITS.headerBytes} bytes`,
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new QueryApiError(
            'QUERY_API_TIMEOUT',
            `the request was not received within ${HTTP_LIMITS.requestTimeoutMs / 1000} s`,
          )
        : new QueryApiError('QUERY_API_BAD_REQUEST', 'malformed HTTP request');
  const body = JSON.stringify(e.body());
  if (socket.writable) {
    const reason =
      e.statusCode === 431
        ? 'Request Header Fields Too Large'
        : e.statusCode === 408
          ? 'Request Timeout'
          : 'Bad Request';
    socket.write(
      `HTTP/1.1 ${e.statusCode} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** The first parameter (querystring, params or body) holding NaN or ±Infinity, as `where/name`, or undefined. */
export function nonFiniteParameter(req: FastifyRequest): string | undefined {
  const scan = (x: unknown, path: string, depth: number): string | undefined => {
    if (typeof x === 'number') return Number.isFinite(x) ? undefined : path;
    if (depth > 8 || x === null || typeof x !== 'object') return undefined;
    for (const [k, v] of Object.entries(x)) {
      const found = scan(v, `${path}/${k}`, depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return scan(req.query, 'querystring', 0) ?? scan(req.params, 'params', 0) ?? scan(req.body, 'body', 0);
}

/**
 * JSON has no Infinity or NaN, and fastify's serialiser throws on them for number and integer fields: any that
 * come from the store are sent as null (the float fields of the document are nullable). Returns the payload
 * itself when nothing needed replacing, so the common case copies nothing.
 */
export function finiteOrNull(x: unknown): unknown {
  if (typeof x === 'number') return Number.isFinite(x) ? x : null;
  if (Array.isArray(x)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < x.length; i++) {
      const v = finiteOrNull(x[i]);
      if (v !== x[i]) (out ??= x.slice())[i] = v;
    }
    return out ?? x;
  }
  if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(x)) {
      const w = finiteOrNull(v);
      if (w !== v) (out ??= { ...(x as Record<string, unknown>) })[k] = w;
    }
    return out ?? x;
  }
  return x;
}
