// Errors of the reconciler engine. Codes are stable (RECONCILER_ prefix). The hot path never throws for bad
// input: it returns an IngestStatus the wiring turns into a dead letter. These are for programmer/config
// errors and unreadable snapshots.
// (The package's app/main will add src/errors.ts; this class can move there unchanged.)

export class EngineError extends Error {
  readonly code: string;
  readonly retriable: boolean;

  constructor(code: string, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'EngineError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
  }
}
