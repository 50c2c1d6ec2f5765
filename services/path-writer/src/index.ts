export { buildPathWriter } from './app.js';
export type { PathWriterApp, PathWriterAppConfig, PathWriterAppDeps, PathWriterAppStatus } from './app.js';
export {
  loadPathWriterConfig,
  pathStoreOptionsFrom,
  pathWriterAppConfigFrom,
  pathWriterConfigSpec,
} from './config.js';
export type { PathWriterConfig } from './config.js';
export { PathWriterError } from './errors.js';
export type { PathWriterErrorCode } from './errors.js';
export { PathWriter, STAGES, batchToken, commitOffsets } from './writer.js';
export type {
  PathWriterOptions,
  WriterMetrics,
  WriterRecord,
  WriterSink,
  WriterSource,
  WriterStatus,
} from './writer.js';
export { syntheticVerdict } from './synthetic.js';
export type { SyntheticOptions } from './synthetic.js';
export { benchStore } from './bench/store-bench.js';
export type { InsertFigure, QueryFigure, StoreBenchOptions, StoreBenchResult } from './bench/store-bench.js';
