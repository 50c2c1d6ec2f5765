// Errors of the reconciler. Codes are stable (RECONCILER_ prefix). The engine's hot path never throws for bad
// input: it returns an IngestStatus the wiring turns into a dead letter. These are for configuration errors,
// unreadable changelog records and a restore that cannot finish.
import { PathwatchError, type CodeTable } from '@pathwatch/errors';

export const RECONCILER_ERROR_CODES = {
  RECONCILER_OPTIONS_INVALID: { retriable: false, doc: 'engine options out of range or inconsistent' },
  RECONCILER_SNAPSHOT_INVALID: {
    retriable: false,
    doc: 'a state image in the changelog that cannot be read',
  },
  RECONCILER_CHANGELOG_FORMAT: {
    retriable: false,
    doc: 'a changelog record that is not a packed batch of this format',
  },
  RECONCILER_RESTORE_STALLED: {
    retriable: true,
    doc: 'reading the changelog made no progress for the stall time before reaching its end',
  },
} as const satisfies CodeTable;

export type ReconcilerErrorCode = keyof typeof RECONCILER_ERROR_CODES;

export class EngineError extends PathwatchError<ReconcilerErrorCode> {
  constructor(
    code: ReconcilerErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts, RECONCILER_ERROR_CODES);
    this.name = 'EngineError';
  }
}
