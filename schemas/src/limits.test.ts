import { describe, expect, it } from 'vitest';
import type { Kind, KindMap } from './catalog.js';
import { createCodec } from './codec.js';
import { DecodeError } from './errors.js';
import { sampleEvent } from './samples.js';
import { ATTRIBUTE_LIMITS, FIELD_LIMITS, type LimitedField } from './validate.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const codec = createCodec({ now: () => NOW });

type InputKind = 'request' | 'dispatch' | 'callback';

/** Where each limited field lives: kind, and how to set it on a sample. */
const FIELDS: readonly [LimitedField, InputKind, (v: never, s: string) => unknown][] = [
  [
    'envelope.event_id',
    'request',
    (v: KindMap['request'], s) => ({ ...v, envelope: { ...v.envelope, event_id: s } }),
  ],
  [
    'envelope.source',
    'dispatch',
    (v: KindMap['dispatch'], s) => ({ ...v, envelope: { ...v.envelope, source: s } }),
  ],
  [
    'envelope.tenant_id',
    'callback',
    (v: KindMap['callback'], s) => ({ ...v, envelope: { ...v.envelope, tenant_id: s } }),
  ],
  [
    'envelope.request_id',
    'request',
    (v: KindMap['request'], s) => ({ ...v, envelope: { ...v.envelope, request_id: s } }),
  ],
  [
    'envelope.request_id',
    'callback',
    (v: KindMap['callback'], s) => ({ ...v, envelope: { ...v.envelope, request_id: s } }),
  ],
  ['operation', 'request', (v: KindMap['request'], s) => ({ ...v, operation: s })],
  ['channel', 'request', (v: KindMap['request'], s) => ({ ...v, channel: s })],
  ['idempotency_key', 'request', (v: KindMap['request'], s) => ({ ...v, idempotency_key: s })],
  ['input_fingerprint', 'request', (v: KindMap['request'], s) => ({ ...v, input_fingerprint: s })],
  ['attempt_id', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, attempt_id: s })],
  ['parent_attempt_id', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, parent_attempt_id: s })],
  ['route', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, route: s })],
  ['provider', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, provider: s })],
  ['provider_message_id', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, provider_message_id: s })],
  ['error_code', 'dispatch', (v: KindMap['dispatch'], s) => ({ ...v, error_code: s })],
  ['provider', 'callback', (v: KindMap['callback'], s) => ({ ...v, provider: s })],
  ['provider_message_id', 'callback', (v: KindMap['callback'], s) => ({ ...v, provider_message_id: s })],
  ['provider_event_id', 'callback', (v: KindMap['callback'], s) => ({ ...v, provider_event_id: s })],
  ['attempt_id', 'callback', (v: KindMap['callback'], s) => ({ ...v, attempt_id: s })],
  ['status_raw', 'callback', (v: KindMap['callback'], s) => ({ ...v, status_raw: s })],
  ['error_code', 'callback', (v: KindMap['callback'], s) => ({ ...v, error_code: s })],
] as never;

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
  it.each(FIELDS.map(([field, kind, set]) => ({ field, kind, set })))(
    '$kind $field: at the limit decodes, one more is SCHEMA_FIELD_TOO_LONG naming it',
    ({ field, kind, set }) => {
      const max = FIELD_LIMITS[field];
      const sample = sampleEvent(kind, NOW);
      expect(decodeBoth(kind, set(sample as never, 'x'.repeat(max)))).toEqual([undefined, undefined]);
      for (const err of decodeBoth(kind, set(sample as never, 'x'.repeat(max + 1)))) {
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
