import { describe, expect, it } from 'vitest';
import { KafkaError, PathwatchError, TopologyError, isRetriable } from '@pathwatch/core';

describe('errors', () => {
  it('keep code, retriable flag, cause and name', () => {
    const cause = new Error('ECONNREFUSED');
    const e = KafkaError.retriable('send failed', cause, { topic: 't' });
    expect(e).toBeInstanceOf(PathwatchError);
    expect(e.name).toBe('KafkaError');
    expect(e.code).toBe('CORE_KAFKA_UNAVAILABLE');
    expect(e.retriable).toBe(true);
    expect(e.cause).toBe(cause);
    expect(e.context).toEqual({ topic: 't' });
    expect(isRetriable(e)).toBe(true);
    const t = new TopologyError('mismatch');
    expect(t.name).toBe('TopologyError');
    expect(isRetriable(t)).toBe(false);
    expect(isRetriable(new TypeError('x'))).toBe(false);
  });
});
