import { describe, expect, it } from 'vitest';
import { renderServerProperties } from './server-properties.js';

function parse(text: string): Map<string, string> {
  const entries = text
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l): [string, string] => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
  expect(new Set(entries.map(([k]) => k)).size).toBe(entries.length); // no duplicate keys
  return new Map(entries);
}

describe('renderServerProperties', () => {
  const base = { brokerPort: 41001, controllerPort: 41002, logDir: '/tmp/x/kraft-data' };

  it('binds and advertises 127.0.0.1 with a static single-voter quorum', () => {
    const props = parse(renderServerProperties(base));
    expect(props.get('listeners')).toBe('PLAINTEXT://127.0.0.1:41001,CONTROLLER://127.0.0.1:41002');
    expect(props.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:41001');
    expect(props.get('controller.quorum.voters')).toBe('1@127.0.0.1:41002');
    expect(props.get('process.roles')).toBe('broker,controller');
    expect(props.get('log.dirs')).toBe('/tmp/x/kraft-data');
  });

  it('makes every internal topic satisfiable by one node', () => {
    const props = parse(renderServerProperties(base));
    for (const key of [
      'offsets.topic.replication.factor',
      'transaction.state.log.replication.factor',
      'transaction.state.log.min.isr',
      'share.coordinator.state.topic.replication.factor',
      'share.coordinator.state.topic.min.isr',
      'default.replication.factor',
      'min.insync.replicas',
    ]) {
      expect(props.get(key), key).toBe('1');
    }
    expect(props.get('group.initial.rebalance.delay.ms')).toBe('0');
  });

  it('lets overrides replace defaults without duplicating keys', () => {
    const props = parse(
      renderServerProperties({ ...base, overrides: { 'auto.create.topics.enable': 'false', 'x.y': 'z' } }),
    );
    expect(props.get('auto.create.topics.enable')).toBe('false');
    expect(props.get('x.y')).toBe('z');
  });

  it('rejects overrides that would inject extra lines', () => {
    expect(() => renderServerProperties({ ...base, overrides: { 'a.b': 'c\nlisteners=evil' } })).toThrow(
      RangeError,
    );
    expect(() => renderServerProperties({ ...base, overrides: { 'a=b': 'c' } })).toThrow(RangeError);
  });

  it('escapes backslashes (Windows paths) as .properties requires', () => {
    const props = parse(renderServerProperties({ ...base, logDir: 'C:\\kafka\\data' }));
    expect(props.get('log.dirs')).toBe('C:\\\\kafka\\\\data');
  });
});
