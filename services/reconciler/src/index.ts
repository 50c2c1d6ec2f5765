// Public API of @pathwatch/reconciler. Names are listed explicitly (no `export *`).
export {
  benchEngine,
  createEngine,
  DEFAULT_ACTION_RULES,
  EngineError,
  EXPORT_START,
  FLAG_NAMES,
  IngestStatus,
  INGEST_STATUS_NAMES,
  META_KEY,
  PSEUDO_KEY_PREFIX,
  resolveOptions,
} from './engine/index.js';
export type {
  ActionRule,
  BenchCodec,
  EngineBenchOptions,
  EngineBenchResult,
  ChangelogRecord,
  ClockView,
  DeadlineRule,
  Engine,
  EngineOptions,
  EngineOutputs,
  EngineStats,
  ExportCursor,
  IngestStatusCode,
  InputKind,
  InputPosition,
  InputWatermark,
  ResolvedOptions,
  WallClock,
} from './engine/index.js';
// Kafka wiring (app.ts) and the port it drives: for main.ts and the benchmark harness (@pathwatch/bench).
export { buildReconciler, STAGES } from './app.js';
export type { ReconcilerApp, ReconcilerAppConfig, ReconcilerDeps, ReconcilerStats } from './app.js';
export type { EnginePort } from './engine-port.js';
export { CHANGELOG_TOPIC_CONFIGS, packChangelog, readChangelog, unpackInto } from './changelog.js';
export type { RestoredChangelog } from './changelog.js';
export {
  loadReconcilerConfig,
  engineOptionsFrom,
  reconcilerAppConfigFrom,
  reconcilerConfigSpec,
} from './config.js';
export type { ReconcilerConfig } from './config.js';
