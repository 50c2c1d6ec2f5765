// Errors of @pathwatch/schemas. Codes are stable: consumers put them into the dead-letter topic (reason_code)
// and into metrics labels, so renaming one is a contract change.

/** Every code this package throws. */
export type SchemaErrorCode =
  | 'SCHEMA_DECODE_EMPTY'
  | 'SCHEMA_PAYLOAD_OVERSIZED'
  | 'SCHEMA_DECODE_BAD_MAGIC'
  | 'SCHEMA_DECODE_UNKNOWN_SCHEMA_ID'
  | 'SCHEMA_DECODE_WRITER_NOT_LOADED'
  | 'SCHEMA_DECODE_INCOMPATIBLE_SCHEMA'
  | 'SCHEMA_DECODE_BAD_AVRO'
  | 'SCHEMA_DECODE_BAD_JSON'
  | 'SCHEMA_VALIDATION_FAILED'
  | 'SCHEMA_FIELD_TOO_LONG'
  | 'SCHEMA_REGISTRY_UNAVAILABLE'
  | 'SCHEMA_REGISTRY_BAD_RESPONSE'
  | 'SCHEMA_ENCODE_INVALID'
  | 'SCHEMA_ENCODE_NOT_INITIALISED'
  | 'SCHEMA_CATALOG_INVALID';

export interface SchemaErrorOptions {
  /** Whether the same input may succeed later (e.g. the registry was down). */
  retriable?: boolean;
  cause?: unknown;
}

/** Base class: stable `code`, `retriable`, and a `reason` naming the field, byte or offset at fault. */
export class SchemaError extends Error {
  override readonly name: string = 'SchemaError';
  readonly code: SchemaErrorCode;
  readonly retriable: boolean;
  /** Short, human-readable, names what is at fault (e.g. `envelope.occurred_at: 1970-01-01T00:00:00.000Z is before 2000-01-01T00:00:00.000Z`). */
  readonly reason: string;

  constructor(code: SchemaErrorCode, reason: string, message: string, options: SchemaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = reason;
    this.retriable = options.retriable ?? false;
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
