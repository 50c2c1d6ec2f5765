// Errors of @pathwatch/schemas. Codes are stable: consumers put them into the dead-letter topic (reason_code)
// and into metrics labels, so renaming one is a contract change.

import { PathwatchError, type CodeTable } from '@pathwatch/errors';

/** Every code this package throws, whether it is retriable by default, and what it means. */
export const SCHEMA_ERROR_CODES = {
  SCHEMA_DECODE_EMPTY: { retriable: false, doc: 'a record with no value (null or zero bytes)' },
  SCHEMA_PAYLOAD_OVERSIZED: { retriable: false, doc: 'a payload above the decoder size limit' },
  SCHEMA_DECODE_BAD_MAGIC: { retriable: false, doc: 'neither a Confluent-framed Avro record nor JSON' },
  SCHEMA_DECODE_UNKNOWN_SCHEMA_ID: {
    retriable: false,
    doc: 'a writer schema id neither the catalog nor the registry knows',
  },
  SCHEMA_DECODE_WRITER_NOT_LOADED: {
    retriable: true,
    doc: 'a writer schema id not fetched from the registry yet (decodeAsync fetches it)',
  },
  SCHEMA_DECODE_INCOMPATIBLE_SCHEMA: {
    retriable: false,
    doc: 'a writer schema the reader schema cannot resolve',
  },
  SCHEMA_DECODE_BAD_AVRO: { retriable: false, doc: 'Avro bytes that do not decode with the writer schema' },
  SCHEMA_DECODE_BAD_JSON: { retriable: false, doc: 'JSON that does not parse or does not match the schema' },
  SCHEMA_VALIDATION_FAILED: { retriable: false, doc: 'a decoded value outside what the contract allows' },
  SCHEMA_FIELD_TOO_LONG: {
    retriable: false,
    doc: 'a string field over its length limit (reason field_too_long:<field>)',
  },
  SCHEMA_REGISTRY_UNAVAILABLE: {
    retriable: true,
    doc: 'the Schema Registry did not answer (network, timeout)',
  },
  SCHEMA_REGISTRY_BAD_RESPONSE: {
    retriable: false,
    doc: 'the Schema Registry answered an error or something unusable (retriable on 5xx, 408, 429)',
  },
  SCHEMA_ENCODE_INVALID: { retriable: false, doc: 'a value that does not match its schema' },
  SCHEMA_ENCODE_NOT_INITIALISED: {
    retriable: false,
    doc: 'encode before the codec registered its schemas (init)',
  },
  SCHEMA_CATALOG_INVALID: { retriable: false, doc: 'the local schema catalog is inconsistent' },
} as const satisfies CodeTable;

export type SchemaErrorCode = keyof typeof SCHEMA_ERROR_CODES;

export interface SchemaErrorOptions {
  /** Whether the same input may succeed later (e.g. the registry was down). @default the code table */
  retriable?: boolean;
  cause?: unknown;
}

/** Base class: stable `code`, `retriable`, and a `reason` naming the field, byte or offset at fault. */
export class SchemaError extends PathwatchError<SchemaErrorCode> {
  override readonly name: string = 'SchemaError';
  /** Short, human-readable, names what is at fault (e.g. `envelope.occurred_at: 1970-01-01T00:00:00.000Z is before 2000-01-01T00:00:00.000Z`). */
  readonly reason: string;

  constructor(code: SchemaErrorCode, reason: string, message: string, options: SchemaErrorOptions = {}) {
    super(code, message, options, SCHEMA_ERROR_CODES);
    this.reason = reason;
  }
}

/** An input could not be decoded or failed validation. Goes to the dead-letter topic unless `retriable`. */
export class DecodeError extends SchemaError {
  override readonly name: string = 'DecodeError';
  /** The kind the bytes were decoded as. */
  readonly kind: string;
  /** Confluent schema id of the writer, when the bytes carried one. */
  readonly schemaId: number | undefined;

  constructor(
    code: SchemaErrorCode,
    kind: string,
    reason: string,
    options: SchemaErrorOptions & { schemaId?: number | undefined } = {},
  ) {
    super(code, reason, `${kind}: ${reason}`, options);
    this.kind = kind;
    this.schemaId = options.schemaId;
  }
}

/** A value could not be encoded (it does not match the schema) or the codec is not ready to encode. */
export class EncodeError extends SchemaError {
  override readonly name: string = 'EncodeError';
  readonly kind: string;

  constructor(code: SchemaErrorCode, kind: string, reason: string, options: SchemaErrorOptions = {}) {
    super(code, reason, `${kind}: ${reason}`, options);
    this.kind = kind;
  }
}

/** The Schema Registry failed or answered something unusable. */
export class RegistryError extends SchemaError {
  override readonly name: string = 'RegistryError';
  /** HTTP status when the registry answered; undefined on network errors and timeouts. */
  readonly status: number | undefined;

  constructor(
    code: SchemaErrorCode,
    reason: string,
    options: SchemaErrorOptions & { status?: number | undefined } = {},
  ) {
    super(code, reason, `schema registry: ${reason}`, options);
    this.status = options.status;
  }
}
