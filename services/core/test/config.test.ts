import { describe, expect, it } from 'vitest';
import { ConfigError, configDocRows, parse, readConfig, type VarSpec } from '@pathwatch/core';

const specs = {
  brokers: { env: 'KAFKA_BROKERS', doc: 'Kafka bootstrap servers', default: undefined, optional: true, parse: parse.brokers } as VarSpec<
    string[] | undefined
  >,
  flushIntervalMs: { env: 'FLUSH_INTERVAL_MS', doc: 'Flush interval', default: 1000, parse: parse.int(10, 60_000) } as VarSpec<number>,
  level: { env: 'LOG_LEVEL', doc: 'Log level', default: 'info', parse: parse.oneOf(['info', 'debug'] as const) } as VarSpec<
    'info' | 'debug'
  >,
  token: { env: 'API_TOKEN', doc: 'Bearer token', default: undefined, parse: parse.string } as VarSpec<string>,
};

describe('readConfig', () => {
  it('applies defaults and parses values', () => {
    const cfg = readConfig({ API_TOKEN: 'x', KAFKA_BROKERS: 'a:1, b:2' }, specs);
    expect(cfg).toEqual({ brokers: ['a:1', 'b:2'], flushIntervalMs: 1000, level: 'info', token: 'x' });
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('treats blank as unset', () => {
    const cfg = readConfig({ API_TOKEN: 'x', FLUSH_INTERVAL_MS: '  ' }, specs);
    expect(cfg.flushIntervalMs).toBe(1000);
  });

  it('names every bad variable with its raw value at once', () => {
    let caught: unknown;
    try {
      readConfig({ KAFKA_BROKERS: 'nohostport', FLUSH_INTERVAL_MS: '5', LOG_LEVEL: 'loud' }, specs);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.code).toBe('CORE_CONFIG_INVALID');
    expect(e.problems.map((p) => p.variable).sort()).toEqual(['API_TOKEN', 'FLUSH_INTERVAL_MS', 'KAFKA_BROKERS', 'LOG_LEVEL']);
    expect(e.message).toContain('FLUSH_INTERVAL_MS: must be between 10 and 60000 (got "5")');
    expect(e.message).toContain('"nohostport" is not host:port');
    expect(e.message).toContain('LOG_LEVEL: must be one of info, debug');
  });

  it('renders documentation rows', () => {
    const rows = configDocRows(specs);
    expect(rows[0]).toBe('| `KAFKA_BROKERS` | `unset` | Kafka bootstrap servers |');
    expect(rows[1]).toBe('| `FLUSH_INTERVAL_MS` | `1000` | Flush interval |');
    expect(rows[3]).toBe('| `API_TOKEN` | `required` | Bearer token |');
  });
});

describe('parse', () => {
  it('rejects non-integers and bad urls', () => {
    expect(() => parse.int(0)('1.5')).toThrow(/integer/);
    expect(() => parse.url('ftp://x')).toThrow(/http/);
    expect(parse.bool('YES')).toBe(true);
    expect(() => parse.bool('maybe')).toThrow(/true or false/);
  });
});
