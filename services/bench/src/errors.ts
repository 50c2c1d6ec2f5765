// Errors of the benchmark harness: stable BENCH_* codes so a failed run names its cause.
import { PathwatchError, type CodeTable } from '@pathwatch/errors';

export const BENCH_ERROR_CODES = {
  BENCH_USAGE: { retriable: false, doc: 'bad command line' },
  BENCH_REPORT_MARKERS: { retriable: false, doc: 'BENCHMARKS.md lacks the markers of a suite section' },
  BENCH_CONFIG: { retriable: false, doc: 'invalid harness configuration' },
  BENCH_TIMEOUT: { retriable: false, doc: 'a step ran past its bound' },
  BENCH_CHILD_FAILED: { retriable: false, doc: 'a child process of a run failed' },
  BENCH_LOAD_FAILED: { retriable: false, doc: 'producing the load failed' },
} as const satisfies CodeTable;

export type BenchErrorCode = keyof typeof BENCH_ERROR_CODES;

export class BenchError extends PathwatchError<BenchErrorCode> {
  constructor(code: BenchErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(code, message, options, BENCH_ERROR_CODES);
    this.name = 'BenchError';
  }
}
