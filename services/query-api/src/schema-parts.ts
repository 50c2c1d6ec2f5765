/**
 * The pieces the route schemas (schemas.ts, dashboard-schemas.ts) are built from: bounded request strings, the
 * window filters, response field types, object/array builders and the error answers. Plain JSON Schema objects
 * (validation, serialization and the OpenAPI document all read them); shared by reference, never mutated.
 */
import { GROUP_DIMENSION_NAMES } from '@pathwatch/path-store';

export const str = { type: 'string', minLength: 1, maxLength: 256 } as const;
export const text = { type: 'string' } as const;
export const int = { type: 'integer' } as const;
export const bool = { type: 'boolean' } as const;
export const strings = { type: 'array', items: { type: 'string' } } as const;
export const nullableNumber = { type: ['number', 'null'] } as const;
export const nullableInt = { type: ['integer', 'null'] } as const;
export const nullableString = { type: ['string', 'null'] } as const;
export const nullableBool = { type: ['boolean', 'null'] } as const;

export const object = <const P>(properties: P) => ({ type: 'object', properties }) as const;
/** An array of objects with these properties. */
export const objects = <const P>(properties: P) => ({ type: 'array', items: object(properties) }) as const;
/** A querystring: exactly these parameters. */
export const query = <const P>(properties: P) =>
  ({ type: 'object', additionalProperties: false, properties }) as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error', 'message', 'retriable'],
  properties: {
    error: { type: 'string', description: 'Stable code, e.g. QUERY_API_BAD_REQUEST.' },
    message: { type: 'string', description: 'What is wrong, naming the parameter or the limit.' },
    retriable: { type: 'boolean', description: 'Whether the same request can succeed later.' },
  },
} as const;

export const errorRef = { $ref: 'Error#' } as const;

/** Answers every route can give: malformed input (400), an Accept header excluding JSON (406), a bug (500). */
export const commonErrors = { 400: errorRef, 406: errorRef, 500: errorRef } as const;

export const errorResponses = { ...commonErrors, 401: errorRef, 503: errorRef } as const;

/** A data route's answers: 200 with an object of these properties, any errors of its own, and `errorResponses`. */
export const answers = <const P, const E extends object = object>(properties: P, errors?: E) =>
  ({ 200: object(properties), ...(errors as E), ...errorResponses }) as const;

const timeRange = 'Between 1970-01-01T00:00:00Z and 2299-12-31T23:59:59.999Z.';
export const windowProps = {
  from: {
    type: 'string',
    format: 'date-time',
    description: `Start (inclusive), RFC 3339. Default: \`to\` minus 24 h. ${timeRange}`,
  },
  to: {
    type: 'string',
    format: 'date-time',
    description: `End (exclusive), RFC 3339. Default: now. ${timeRange} The range is capped (raw-record queries: QUERY_API_MAX_RAW_RANGE_HOURS; dashboard queries: QUERY_API_MAX_ROLLUP_RANGE_DAYS).`,
  },
  tenant: { ...str, description: 'Only this tenant.' },
  operation: { ...str, description: 'Only this operation (e.g. otp.send).' },
  channel: { ...str, description: 'Only this channel.' },
  route: { ...str, description: 'Only this (final) route.' },
  provider: { ...str, description: 'Only this (final) provider.' },
} as const;

export const limit = (dflt: number) =>
  ({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000,
    default: dflt,
    description: "Maximum rows returned (the maximum is the server's QUERY_API_MAX_RESULT_ROWS).",
  }) as const;

/** Where a request went, as request search and open anomalies list it. */
export const pathFields = {
  operation: text,
  channel: text,
  route: text,
  provider: text,
  attempts: int,
} as const;

/** The leading fields of a rollup row (latency, flip rate): its bucket and its group. */
export const rowKey = {
  bucket_start_ms: nullableInt,
  group: {
    type: 'object',
    properties: Object.fromEntries(GROUP_DIMENSION_NAMES.map((d) => [d, text])),
    additionalProperties: false,
  },
} as const;
