// Public API of @pathwatch/bench (the pure parts; the suites run through bin.ts). Names listed explicitly.
export { percentile, summarize, perSecond, linearFit } from './stats.js';
export type { Summary } from './stats.js';
export {
  BENCHMARKS_HEADER,
  formatNumber,
  formatValue,
  judge,
  markdownTable,
  renderMarkdown,
  renderText,
  rewriteSection,
  sectionMarkers,
  textTable,
} from './report.js';
export type { Judgement, Machine, SuiteName, SuiteReport, Table, Target, TargetStatus } from './report.js';
export { parseArgs, SUITES } from './args.js';
export type { BenchArgs } from './args.js';
export { BenchError } from './errors.js';
export type { BenchErrorCode } from './errors.js';
export { benchEngine } from './engine-bench.js';
export type { BenchCodec, EngineBenchOptions, EngineBenchResult, EngineFactory } from './engine-bench.js';
export { benchStore } from './store-bench.js';
export type { InsertFigure, QueryFigure, StoreBenchOptions, StoreBenchResult } from './store-bench.js';
export { benchCodec } from './codec-bench.js';
export type { CodecBenchOptions, CodecBenchResult } from './codec-bench.js';
export { benchSimulator } from './simulator-bench.js';
export type { SimulatorBenchOptions, SimulatorBenchResult } from './simulator-bench.js';
