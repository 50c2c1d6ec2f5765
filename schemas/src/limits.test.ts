import { describe, expect, it } from 'vitest';
import type { Kind, KindMap } from './catalog.js';
import { createCodec } from './codec.js';
import { DecodeError } from './errors.js';
import { sampleEvent } from './samples.js';
import { ATTRIBUTE_LIMITS, FIELD_LIMITS, type LimitedField } from './validate.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const codec = createCodec({ now: () => NOW });

type InputKind = 'request' | 'dispatch' | 'callback';

/** Builds a sample of a kind with one field set. */
type Make = { kind: InputKind; make: (s: string) => unknown };
const on = {
  request: (f: (v: KindMap['request'], s: string) => KindMap['request']): Make => ({
    kind: 'request',
    make: (s) => f(sampleEvent('request', NOW), s),
  }),
  dispatch: (f: (v: KindMap['dispatch'], s: string) => KindMap['dispatch']): Make => ({
    kind: 'dispatch',
    make: (s) => f(sampleEvent('dispatch', NOW), s),
  }),
  callback: (f: (v: KindMap['callback'], s: string) => KindMap['callback']): Make => ({
    kind: 'callback',
    make: (s) => f(sampleEvent('callback', NOW), s),
  }),
};

/** Where each limited field lives. */
const FIELDS: readonly [LimitedField, Make][] = [
  ['envelope.event_id', on.request((v, s) => ({ ...v, envelope: { ...v.envelope, event_id: s } }))],
  ['envelope.source', on.dispatch((v, s) => ({ ...v, envelope: { ...v.envelope, source: s } }))],
  ['envelope.tenant_id', on.callback((v, s) => ({ ...v, envelope: { ...v.envelope, tenant_id: s } }))],
  ['envelope.request_id', on.request((v, s) => ({ ...v, envelope: { ...v.envelope, request_id: s } }))],
  ['envelope.request_id', on.callback((v, s) => ({ ...v, envelope: { ...v.envelope, request_id: s } }))],
  ['operation', on.request((v, s) => ({ ...v, operation: s }))],
  ['channel', on.request((v, s) => ({ ...v, channel: s }))],
  ['idempotency_key', on.request((v, s) => ({ ...v, idempotency_key: s }))],
  ['input_fingerprint', on.request((v, s) => ({ ...v, input_fingerprint: s }))],
  ['attempt_id', on.dispatch((v, s) => ({ ...v, attempt_id: s }))],
  ['parent_attempt_id', on.dispatch((v, s) => ({ ...v, parent_attempt_id: s }))],
  ['route', on.dispatch((v, s) => ({ ...v, route: s }))],
  ['provider', on.dispatch((v, s) => ({ ...v, provider: s }))],
  ['provider_message_id', on.dispatch((v, s) => ({ ...v, provider_message_id: s }))],
  ['error_code', on.dispatch((v, s) => ({ ...v, error_code: s }))],
  ['provider', on.callback((v, s) => ({ ...v, provider: s }))],
  ['provider_message_id', on.callback((v, s) => ({ ...v, provider_message_id: s }))],
  ['provider_event_id', on.callback((v, s) => ({ ...v, provider_event_id: s }))],
  ['attempt_id', on.callback((v, s) => ({ ...v, attempt_id: s }))],
  ['status_raw', on.callback((v, s) => ({ ...v, status_raw: s }))],
  ['error_code', on.callback((v, s) => ({ ...v, error_code: s }))],
];

function decodeBoth(kind: Kind, value: unknown): (DecodeError | undefined)[] {
  return (['avro', 'json'] as const).map((format) => {
    const bytes = codec.encode(kind, value as KindMap[typeof kind], { format });
    try {
      codec.decode(kind, bytes);
      return undefined;
    } catch (err) {
      if (err instanceof DecodeError) return err;
      throw err;
    }
  });
}

describe('length limits at decode', () => {
  it.each(FIELDS.map(([field, { kind, make }]) => ({ field, kind, make })))(
    '$kind $field: at the limit decodes, one more is SCHEMA_FIELD_TOO_LONG naming it',
    ({ field, kind, make }) => {
      const max = FIELD_LIMITS[field];
      expect(decodeBoth(kind, make('x'.repeat(max)))).toEqual([undefined, undefined]);
      for (const err of decodeBoth(kind, make('x'.repeat(max + 1)))) {
        expect(err?.code).toBe('SCHEMA_FIELD_TOO_LONG');
        expect(err?.retriable).toBe(false);
        expect(err?.reason).toBe(`field_too_long:${field}: ${max + 1} characters, limit ${max}`);
      }
    },
  );

  it('an absurdly long request id (1 000 000 characters, accepted by the Avro schema) is refused', () => {
    const r = sampleEvent('request', NOW);
    const [avro] = decodeBoth('request', {
      ...r,
      envelope: { ...r.envelope, request_id: 'r'.repeat(1_000_000) },
    });
    expect(avro?.code).toBe('SCHEMA_FIELD_TOO_LONG');
    expect(avro?.reason).toMatch(/^field_too_long:envelope\.request_id: 1000000 characters, limit 512$/);
  });

  it('request ids fit the query API (512 characters, as its OpenAPI document says)', () => {
    expect(FIELD_LIMITS['envelope.request_id']).toBe(512);
    // Query filters (tenant, operation, channel, route, provider) take up to 256 characters.
    for (const f of ['envelope.tenant_id', 'operation', 'channel', 'route', 'provider'] as const)
      expect(FIELD_LIMITS[f]).toBeLessThanOrEqual(256);
  });

  it('attributes: entry count, key length and value length are bounded', () => {
    const r = sampleEvent('request', NOW);
    const many = Object.fromEntries(
      Array.from({ length: ATTRIBUTE_LIMITS.entries + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    const atLimit = Object.fromEntries(
      Array.from({ length: ATTRIBUTE_LIMITS.entries }, (_, i) => [
        `k${i}`.padEnd(ATTRIBUTE_LIMITS.keyLength, 'k'),
        'v'.repeat(ATTRIBUTE_LIMITS.valueLength),
      ]),
    );
    expect(decodeBoth('request', { ...r, attributes: atLimit })).toEqual([undefined, undefined]);
    const cases: [Record<string, string>, RegExp][] = [
      [many, /^field_too_long:attributes: 65 entries, limit 64$/],
      [
        { ['k'.repeat(ATTRIBUTE_LIMITS.keyLength + 1)]: 'v' },
        /^field_too_long:attributes \(a key\): 129 characters/,
      ],
      [
        { country: 'v'.repeat(ATTRIBUTE_LIMITS.valueLength + 1) },
        /^field_too_long:attributes\.country: 513 characters/,
      ],
    ];
    for (const [attributes, reason] of cases)
      for (const err of decodeBoth('request', { ...r, attributes })) {
        expect(err?.code).toBe('SCHEMA_FIELD_TOO_LONG');
        expect(err?.reason).toMatch(reason);
      }
  });

  it('empty ids are still SCHEMA_VALIDATION_FAILED (not a length problem)', () => {
    const d = sampleEvent('dispatch', NOW);
    const [err] = decodeBoth('dispatch', { ...d, provider: '' });
    expect(err?.code).toBe('SCHEMA_VALIDATION_FAILED');
  });
});
