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
