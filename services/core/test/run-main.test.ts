import { describe, expect, it } from 'vitest';
import { ConfigError, KafkaError, fatalExit, requiredStandalone, runMain } from '@pathwatch/core';

function capture(): {
  codes: number[];
  lines: string[];
  opts: { exit: (c: number) => void; write: (l: string) => void };
} {
  const codes: number[] = [];
  const lines: string[] = [];
  return { codes, lines, opts: { exit: (c) => void codes.push(c), write: (l) => void lines.push(l) } };
}

describe('runMain', () => {
  it('exits 2 with every configuration problem, without the service name or a stack', async () => {
    const io = capture();
    await runMain(
      'svc',
      () =>
        Promise.reject(
          new ConfigError([
            { variable: 'A_MS', problem: 'not an integer', raw: 'x' },
            { variable: 'B', problem: 'required', raw: undefined },
          ]),
        ),
      io.opts,
    );
    expect(io.codes).toEqual([2]);
    expect(io.lines.join('')).toBe(
      'Invalid configuration:\n  A_MS: not an integer (got "x")\n  B: required\n',
    );
  });

  it('exits 1 naming the service, the code and the fix of a Kafka error', async () => {
    const io = capture();
    await runMain(
      'svc',
      () => Promise.reject(KafkaError.nonRetriable('CORE_KAFKA_PRODUCER_FENCED', 'fenced')),
      io.opts,
    );
    expect(io.codes).toEqual([1]);
    expect(io.lines.join('')).toMatch(/^svc: CORE_KAFKA_PRODUCER_FENCED: fenced\n {2}fix: another process/);
  });

  it('prints the stack of a programmer error and exits 1; a resolved main exits nothing', async () => {
    const io = capture();
    await runMain('svc', () => Promise.reject(new TypeError('boom')), io.opts);
    expect(io.codes).toEqual([1]);
    expect(io.lines.join('')).toMatch(/^svc: TypeError: boom\n\s+at /);
    const ok = capture();
    await runMain('svc', () => Promise.resolve(), ok.opts);
    expect(ok.codes).toEqual([]);
    expect(ok.lines).toEqual([]);
  });
});

describe('fatalExit', () => {
  it('prints once, closes, then exits 1 (a failing close still exits)', async () => {
    const io = capture();
    let closes = 0;
    const onFatal = fatalExit(
      'svc',
      () => {
        closes++;
        return Promise.reject(new Error('close failed'));
      },
      60_000,
      io.opts,
    );
    onFatal(new Error('first'));
    onFatal(new Error('second'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(closes).toBe(1);
    expect(io.codes).toEqual([1]);
    expect(io.lines).toHaveLength(1);
    expect(io.lines[0]).toMatch(/^svc: Error: first/);
  });
});

describe('requiredStandalone', () => {
  it('returns a set value and names the variable of a missing one', () => {
    expect(requiredStandalone(['b:9092'], 'KAFKA_BROKERS', 'on its own')).toEqual(['b:9092']);
    expect(() => requiredStandalone(undefined, 'KAFKA_BROKERS', 'on its own')).toThrow(
      /KAFKA_BROKERS: required on its own/,
    );
    expect(() => requiredStandalone([], 'KAFKA_BROKERS', 'on its own')).toThrow(ConfigError);
  });
});
