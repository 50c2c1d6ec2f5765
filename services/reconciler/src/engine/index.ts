// Public API of the reconciler engine (pure TypeScript: no Kafka, no I/O).
export { createEngine } from './engine.js';
export { EXPORT_START, IngestStatus, INGEST_STATUS_NAMES } from './types.js';
export type {
  ChangelogRecord,
  ClockView,
  Engine,
  EngineOutputs,
  EngineStats,
  ExportCursor,
  HandoffRecord,
  IngestStatusCode,
  InputKind,
  InputPosition,
  WallClock,
} from './types.js';
export { DEFAULT_ACTION_RULES, resolveOptions } from './options.js';
export type { ActionRule, DeadlineRule, EngineOptions, ResolvedOptions } from './options.js';
export type { InputWatermark } from './clock.js';
export {
  CompensationTable,
  DEFAULT_COMPENSATION_RULES,
  RULE_LIMITS,
  compensationRuleProblems,
  parseCompensationRules,
} from './compensation.js';
export type {
  CompensationActionSpec,
  CompensationKind,
  CompensationRule,
  MatchedAction,
} from './compensation.js';
export { EngineError, RECONCILER_ERROR_CODES } from './errors.js';
export type { ReconcilerErrorCode } from './errors.js';
export { META_KEY, PSEUDO_KEY_PREFIX, REMOTE_BINDING_KEY_PREFIX, TOMB_HASH_KEY_PREFIX } from './snapshot.js';
export { FLAG_NAMES } from './codes.js';
