// Errors of the benchmark harness: stable BENCH_* codes so a failed run names its cause.
export type BenchErrorCode =
  | 'BENCH_USAGE'
  | 'BENCH_REPORT_MARKERS'
  | 'BENCH_CONFIG'
  | 'BENCH_TIMEOUT'
  | 'BENCH_CHILD_FAILED'
  | 'BENCH_LOAD_FAILED';

export class BenchError extends Error {
  readonly code: BenchErrorCode;
  readonly retriable: boolean;

  constructor(code: BenchErrorCode, message: string, options: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BenchError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}
