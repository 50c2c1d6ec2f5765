import { describe, expect, it } from 'vitest';
import { PathwatchError, isRetriable, type CodeTable } from '@pathwatch/errors';

const CODES = {
  X_DOWN: { retriable: true, doc: 'may recover' },
  X_BAD: { retriable: false, doc: 'never succeeds' },
} as const satisfies CodeTable;

class XError extends PathwatchError<keyof typeof CODES> {
  constructor(code: keyof typeof CODES, message: string, opts: { retriable?: boolean } = {}) {
    super(code, message, opts, CODES);
  }
}

describe('PathwatchError', () => {
  it('takes retriable from the code table unless the instance says otherwise', () => {
    expect(new XError('X_DOWN', 'm').retriable).toBe(true);
    expect(new XError('X_BAD', 'm').retriable).toBe(false);
    expect(new XError('X_DOWN', 'm', { retriable: false }).retriable).toBe(false);
    expect(new PathwatchError('ANY', 'no table').retriable).toBe(false);
  });

  it('names the subclass, keeps the cause; isRetriable honours the flag and never retries programmer errors', () => {
    const cause = new Error('inner');
    const e = new PathwatchError('X_DOWN', 'outer', { cause, retriable: true, context: { n: 1 } });
    expect(new XError('X_BAD', 'm').name).toBe('XError');
    expect(e.cause).toBe(cause);
    expect(e.context).toEqual({ n: 1 });
    expect(isRetriable(e)).toBe(true);
    expect(isRetriable(new XError('X_BAD', 'm'))).toBe(false);
    expect(isRetriable(new TypeError('bug'))).toBe(false);
    expect(isRetriable({ retriable: true })).toBe(true);
    expect(isRetriable('string')).toBe(false);
  });
});
