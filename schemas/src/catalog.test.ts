import avsc from 'avsc';
import type { Schema } from 'avsc';
import { describe, expect, it } from 'vitest';
import { AVSC_OPTIONS, DEFAULT_TOPICS, KINDS, createCatalog, kindForTopic, recordKey } from './catalog.js';
import { sampleEvent } from './samples.js';
import {
  ACTION_KINDS,
  ATTEMPT_REASONS,
  CALLBACK_STATUSES,
  CLOCK_SOURCES,
  ERROR_CATEGORIES,
  EVIDENCE_LEVELS,
  SUBMIT_OUTCOMES,
  VERDICT_CLASSES,
  REVISION_KINDS,
} from './generated/types.js';

describe('catalog', () => {
  const catalog = createCatalog();

  it('assigns the documented stable local ids', () => {
    const ids = Object.fromEntries(KINDS.map((k) => [k, catalog.versions(k).map((v) => v.id)]));
    expect(ids).toEqual({
      request: [101, 102],
      dispatch: [201],
      callback: [301],
      verdict: [401, 402],
      action: [501, 502],
      dead_letter: [601],
    });
    expect(catalog.current('request')).toMatchObject({
      id: 102,
      version: 2,
      current: true,
      subject: 'pathwatch.requests-value',
    });
    expect(catalog.byId(101)).toMatchObject({ kind: 'request', version: 1, current: false });
    expect(catalog.byId(100)).toBeUndefined();
  });

  it('uses the default topic names', () => {
    expect(DEFAULT_TOPICS).toEqual({
      request: 'pathwatch.requests',
      dispatch: 'pathwatch.dispatches',
      callback: 'pathwatch.callbacks',
      verdict: 'pathwatch.verdicts',
      action: 'pathwatch.actions',
      dead_letter: 'pathwatch.dead-letter',
    });
    for (const k of KINDS) expect(kindForTopic(DEFAULT_TOPICS[k])).toBe(k);
    expect(kindForTopic('acme.requests', { ...DEFAULT_TOPICS, request: 'acme.requests' })).toBe('request');
    expect(kindForTopic('nope')).toBeUndefined();
  });

  it.each(KINDS)('%s: schema text stands alone and equals the parsed type, logical types kept', (kind) => {
    for (const v of catalog.versions(kind)) {
      const alone = avsc.Type.forSchema(JSON.parse(v.schemaText) as Schema, {
        ...AVSC_OPTIONS,
        registry: {},
      });
      expect(alone.equals(v.type)).toBe(true);
    }
    if (kind !== 'dead_letter') expect(catalog.current(kind).schemaText).toContain('timestamp-millis');
  });

  it('generated enum constants match the schemas', () => {
    // Every enum, wherever it is defined, by short name.
    const enums = new Map<string, readonly string[]>();
    for (const kind of KINDS) {
      const registry: Record<string, avsc.Type> = {};
      avsc.Type.forSchema(JSON.parse(catalog.current(kind).schemaText) as Schema, {
        ...AVSC_OPTIONS,
        registry,
      });
      for (const [name, t] of Object.entries(registry)) {
        if (t.typeName === 'enum')
          enums.set(name.replace('io.pathwatch.', ''), (t as avsc.types.EnumType).symbols);
      }
    }
    const symbols = (name: string) => enums.get(name);
    expect(ATTEMPT_REASONS).toEqual(symbols('AttemptReason'));
    expect(SUBMIT_OUTCOMES).toEqual(symbols('SubmitOutcome'));
    expect(CALLBACK_STATUSES).toEqual(symbols('CallbackStatus'));
    expect(EVIDENCE_LEVELS).toEqual(symbols('EvidenceLevel'));
    expect(VERDICT_CLASSES).toEqual(symbols('VerdictClass'));
    expect(CLOCK_SOURCES).toEqual(symbols('ClockSource'));
    expect(ACTION_KINDS).toEqual(symbols('ActionKind'));
    expect(ERROR_CATEGORIES).toEqual(symbols('ErrorCategory'));
    expect(REVISION_KINDS).toEqual(symbols('RevisionKind'));
    expect(enums.size).toBe(9);
    expect(Object.isFrozen(ATTEMPT_REASONS)).toBe(true);
  });
});

describe('recordKey', () => {
  const now = Date.UTC(2025, 0, 1);
  it('keys by request_id, callbacks without one by provider:provider_message_id', () => {
    expect(recordKey('request', sampleEvent('request', now, 5))).toBe('req-5');
    expect(recordKey('dispatch', sampleEvent('dispatch', now, 5))).toBe('req-5');
    const cb = sampleEvent('callback', now, 5);
    expect(recordKey('callback', cb)).toBe('p1:pm-5');
    expect(recordKey('callback', { ...cb, envelope: { ...cb.envelope, request_id: 'req-5' } })).toBe('req-5');
    expect(recordKey('verdict', sampleEvent('verdict', now, 5))).toBe('req-5');
    expect(recordKey('action', sampleEvent('action', now, 5))).toBe('req-5');
    expect(recordKey('dead_letter', sampleEvent('dead_letter', now, 5))).toBeNull();
  });
});
