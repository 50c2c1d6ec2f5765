// Public API of @pathwatch/schemas. Names are listed explicitly (no `export *`).
export type {
  Action,
  ActionKind,
  AttemptReason,
  AttemptSummary,
  CallbackStatus,
  ClockSource,
  DeadLetter,
  DispatchAttempted,
  Envelope,
  ErrorCategory,
  EvidenceLevel,
  Hop,
  ProviderCallback,
  RequestAccepted,
  SubmitOutcome,
  Verdict,
  VerdictClass,
} from './generated/types.js';
export {
  ACTION_KINDS,
  ATTEMPT_REASONS,
  CALLBACK_STATUSES,
  CLOCK_SOURCES,
  ERROR_CATEGORIES,
  EVIDENCE_LEVELS,
  SUBMIT_OUTCOMES,
  VERDICT_CLASSES,
} from './generated/types.js';
export { DEFAULT_TOPICS, KINDS, createCatalog, kindForTopic, recordKey } from './catalog.js';
export type { CatalogOptions, Kind, KindMap, SchemaCatalog, SchemaVersion, TopicNames } from './catalog.js';
export { DEFAULT_MAX_PAYLOAD_BYTES, createCodec } from './codec.js';
export type { Codec, CodecOptions, EncodeOptions, WireFormat } from './codec.js';
export { DecodeError, EncodeError, RegistryError, SchemaError } from './errors.js';
export type { SchemaErrorCode } from './errors.js';
export { createSchemaRegistryClient } from './registry.js';
export type {
  RegistrySchema,
  SchemaReference,
  SchemaRegistryClient,
  SchemaRegistryOptions,
} from './registry.js';
export {
  ATTRIBUTE_LIMITS,
  DEFAULT_MAX_FUTURE_SKEW_MS,
  DEFAULT_MIN_TIMESTAMP_MS,
  FIELD_LIMITS,
  FIELD_TOO_LONG,
} from './validate.js';
export type { LimitedField, ValidationOptions } from './validate.js';
export { benchCodec } from './bench.js';
export type { CodecBenchOptions, CodecBenchResult } from './bench.js';
