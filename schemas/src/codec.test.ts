import avsc from 'avsc';
import type { Schema } from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AVSC_OPTIONS, KINDS, createCatalog } from './catalog.js';
import type { Kind, KindMap } from './catalog.js';
import { createCodec } from './codec.js';
import type { Codec } from './codec.js';
import { DecodeError, EncodeError } from './errors.js';
import type { SchemaErrorCode } from './errors.js';
import { HISTORY_SCHEMAS } from './generated/schemas.js';
import type { RequestAccepted } from './generated/types.js';
import { sampleEvent } from './samples.js';

const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const codec = createCodec({ now: () => NOW });

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw err;
  }
  throw new Error('expected a DecodeError, nothing was thrown');
}

function expectCode(fn: () => unknown, code: SchemaErrorCode, reason?: RegExp): DecodeError {
  const err = decodeError(fn);
  expect(err.code).toBe(code);
  if (reason) expect(err.reason).toMatch(reason);
  return err;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** v1 request-accepted bytes, written with the history schema and framed with its local id. */
function v1RequestBytes(c: Codec, schemaId = c.catalog.versions('request')[0]?.id ?? -1): Buffer {
  const raw = HISTORY_SCHEMAS.find(([name]) => name === 'request-accepted.v1')?.[1];
  const v1 = avsc.Type.forSchema(raw as Schema, { ...AVSC_OPTIONS, registry: {} });
  const { give_up_ms: _g, api_latency_ms: _a, attributes: _at, ...v1Value } = sampleEvent('request', NOW);
  const body = v1.toBuffer(v1Value);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

describe('round trips', () => {
  it.each(KINDS)('%s survives Avro and JSON', (kind) => {
    const value = sampleEvent(kind, NOW);
    for (const format of ['avro', 'json'] as const) {
      const bytes = codec.encode(kind, value, { format });
      expect(bytes[0]).toBe(format === 'avro' ? 0 : 0x7b);
      expect(codec.decode(kind, bytes)).toEqual(value);
    }
  });

  it('frames Avro with magic 0 and the current local schema id (big-endian)', () => {
    const bytes = codec.encode('request', sampleEvent('request', NOW));
    expect(bytes.readUInt8(0)).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(codec.schemaId('request'));
    expect(codec.schemaId('request')).toBe(codec.catalog.current('request').id);
  });

  it('accepts a plain Uint8Array view', () => {
    const bytes = codec.encode('dispatch', sampleEvent('dispatch', NOW));
    const copy = new Uint8Array(new ArrayBuffer(bytes.length + 8), 4, bytes.length);
    copy.set(bytes);
    expect(codec.decode('dispatch', copy)).toEqual(sampleEvent('dispatch', NOW));
  });

  it('writes bytes fields as base64 in JSON', () => {
    const dl = sampleEvent('dead_letter', NOW);
    const text = codec.encode('dead_letter', dl, { format: 'json' }).toString();
    expect(JSON.parse(text)).toMatchObject({ source_key: 'cmVxLTE=', original_value: 'AQID/w==' });
  });

  // Property: any value avsc considers valid for the reader type survives both formats unchanged.
  it.each(KINDS)('random valid %s values survive both formats', (kind) => {
    const loose = createCodec({ validate: false });
    const type = loose.catalog.current(kind).type;
    fc.assert(
      fc.property(fc.integer(), () => {
        const value = type.random() as unknown as KindMap[typeof kind]; // avsc's typings say Type
        for (const format of ['avro', 'json'] as const) {
          expect(loose.decode(kind, loose.encode(kind, value, { format }))).toEqual(value);
        }
      }),
      { numRuns: 50 },
    );
  });
});

describe('schema evolution', () => {
  it('reads v1 request-accepted bytes with the current (v2) reader, filling the new fields', () => {
    const v1 = codec.catalog.versions('request').find((v) => v.version === 1);
    expect(v1?.id).toBe(101);
    const decoded = codec.decode('request', v1RequestBytes(codec));
    const { give_up_ms: _g, api_latency_ms: _a, attributes: _at, ...common } = sampleEvent('request', NOW);
    expect(decoded).toEqual({ ...common, give_up_ms: null, api_latency_ms: null, attributes: {} });
  });

  it('reads v1 action bytes (local id 501) with the current (v2) reader: no rule, no params', () => {
    const raw = HISTORY_SCHEMAS.find(([name]) => name === 'action.v1')?.[1];
    const v1 = avsc.Type.forSchema(raw as Schema, { ...AVSC_OPTIONS, registry: {} });
    const { rule_id: _r, params: _p, ...v1Value } = sampleEvent('action', NOW);
    const header = Buffer.alloc(5);
    header.writeUInt32BE(501, 1);
    const decoded = codec.decode('action', Buffer.concat([header, v1.toBuffer(v1Value)]));
    expect(decoded).toEqual({ ...v1Value, rule_id: null, params: {} });
    expect(codec.schemaId('action')).toBe(502);
  });

  it('rejects bytes of another kind as incompatible (request bytes on the callbacks topic)', () => {
    const bytes = codec.encode('request', sampleEvent('request', NOW));
    expectCode(
      () => codec.decode('callback', bytes),
      'SCHEMA_DECODE_INCOMPATIBLE_SCHEMA',
      /RequestAccepted.*ProviderCallback/,
    );
    // Cached negative result: same answer the second time.
    expectCode(() => codec.decode('callback', bytes), 'SCHEMA_DECODE_INCOMPATIBLE_SCHEMA');
  });
});

describe('JSON input', () => {
  it('fills defaults for missing optional fields, as Avro resolution would', () => {
    const full = sampleEvent('request', NOW);
    const {
      idempotency_key: _i,
      sla_ms: _s,
      give_up_ms: _g,
      api_latency_ms: _a,
      attributes: _at,
      ...rest
    } = full;
    const { request_id: _r, ...envelopeRest } = full.envelope;
    const decoded = createCodec({ now: () => NOW, validate: false }).decode(
      'request',
      json({ ...rest, envelope: envelopeRest }),
    );
    expect(decoded).toEqual({
      ...rest,
      envelope: { ...envelopeRest, request_id: null },
      idempotency_key: null,
      sla_ms: null,
      give_up_ms: null,
      api_latency_ms: null,
      attributes: {},
    });
  });

  it('fills defaults of arrays with fresh copies', () => {
    const { flags: _f, attempts: _a, hops: _h, ...rest } = sampleEvent('verdict', NOW);
    const a = codec.decode('verdict', json(rest));
    const b = codec.decode('verdict', json(rest));
    expect(a.flags).toEqual([]);
    a.flags.push('retried');
    expect(b.flags).toEqual([]);
  });

  it('drops fields the reader does not know and maps unknown enum symbols to the enum default', () => {
    const value = { ...sampleEvent('callback', NOW), status: 'read_by_human', extra: 42 };
    const decoded = codec.decode('callback', json(value));
    expect(decoded.status).toBe('unknown');
    expect(decoded).not.toHaveProperty('extra');
  });

  it('accepts leading whitespace', () => {
    const value = sampleEvent('action', NOW);
    expect(codec.decode('action', Buffer.from(`\n  ${JSON.stringify(value)}`))).toEqual(value);
  });

  it('treats a "__proto__" map key as data', () => {
    const text = JSON.stringify(sampleEvent('request', NOW)).replace('"country":"DE"', '"__proto__":"x"');
    const decoded = codec.decode('request', Buffer.from(text));
    expect(Object.getPrototypeOf(decoded.attributes)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(decoded.attributes, '__proto__')?.value).toBe('x');
  });
});

describe('decode errors (each code from a real bad input)', () => {
  const request = () => sampleEvent('request', NOW);
  const avro = () => codec.encode('request', request());

  it('SCHEMA_DECODE_EMPTY for tombstones and empty values', () => {
    expectCode(() => codec.decode('request', null), 'SCHEMA_DECODE_EMPTY', /tombstone/);
    expectCode(() => codec.decode('request', Buffer.alloc(0)), 'SCHEMA_DECODE_EMPTY', /0 bytes/);
  });

  it('SCHEMA_PAYLOAD_OVERSIZED before parsing', () => {
    const small = createCodec({ maxPayloadBytes: 64 });
    const err = expectCode(
      () => small.decode('request', avro()),
      'SCHEMA_PAYLOAD_OVERSIZED',
      /exceed the limit of 64/,
    );
    expect(err.retriable).toBe(false);
    // Also for JSON that would not even parse: the size check comes first.
    expectCode(() => small.decode('request', Buffer.from(`{${' '.repeat(100)}`)), 'SCHEMA_PAYLOAD_OVERSIZED');
  });

  it('SCHEMA_DECODE_BAD_MAGIC for a wrong first byte', () => {
    const bytes = avro();
    bytes[0] = 1;
    expectCode(() => codec.decode('request', bytes), 'SCHEMA_DECODE_BAD_MAGIC', /0x01/);
  });

  it('SCHEMA_DECODE_UNKNOWN_SCHEMA_ID for an id the catalog does not know', () => {
    const bytes = avro();
    bytes.writeUInt32BE(9999, 1);
    const err = expectCode(() => codec.decode('request', bytes), 'SCHEMA_DECODE_UNKNOWN_SCHEMA_ID', /9999/);
    expect(err.schemaId).toBe(9999);
    expect(err.retriable).toBe(false);
  });

  it('SCHEMA_DECODE_BAD_AVRO for truncated bodies, truncated headers, trailing bytes and garbage', () => {
    const bytes = avro();
    expectCode(
      () => codec.decode('request', bytes.subarray(0, bytes.length - 3)),
      'SCHEMA_DECODE_BAD_AVRO',
      /truncated/,
    );
    expectCode(
      () => codec.decode('request', bytes.subarray(0, 3)),
      'SCHEMA_DECODE_BAD_AVRO',
      /header truncated: 3 of 5/,
    );
    expectCode(
      () => codec.decode('request', Buffer.concat([bytes, Buffer.from([0, 0])])),
      'SCHEMA_DECODE_BAD_AVRO',
      /2 trailing bytes/,
    );
    const garbage = Buffer.concat([bytes.subarray(0, 5), Buffer.alloc(40, 0xff)]);
    expectCode(() => codec.decode('request', garbage), 'SCHEMA_DECODE_BAD_AVRO');
  });

  it('SCHEMA_DECODE_BAD_JSON for malformed JSON and non-objects', () => {
    expectCode(
      () => codec.decode('request', Buffer.from('{"envelope": ')),
      'SCHEMA_DECODE_BAD_JSON',
      /invalid JSON/,
    );
    expectCode(() => codec.decode('request', Buffer.from(' 42')), 'SCHEMA_DECODE_BAD_JSON');
  });

  it('SCHEMA_VALIDATION_FAILED names the missing or mistyped field', () => {
    const { event_id: _e, ...envelope } = request().envelope;
    expectCode(
      () => codec.decode('request', json({ ...request(), envelope })),
      'SCHEMA_VALIDATION_FAILED',
      /^envelope\.event_id: missing required field$/,
    );
    expectCode(
      () => codec.decode('request', json({ ...request(), sla_ms: '10s' })),
      'SCHEMA_VALIDATION_FAILED',
      /^sla_ms: expected int.*got string "10s"/,
    );
    const verdict = sampleEvent('verdict', NOW);
    const badAttempt = {
      ...verdict,
      attempts: [verdict.attempts[0], { ...verdict.attempts[1], dispatched_at: 1.5 }],
    };
    expectCode(
      () => codec.decode('verdict', json(badAttempt)),
      'SCHEMA_VALIDATION_FAILED',
      /^attempts\[1\]\.dispatched_at: expected long/,
    );
    expectCode(
      () =>
        codec.decode('dead_letter', json({ ...sampleEvent('dead_letter', NOW), source_key: 'not base64!' })),
      'SCHEMA_VALIDATION_FAILED',
      /^source_key: expected base64/,
    );
  });

  it('SCHEMA_VALIDATION_FAILED for absurd timestamps, in both formats, against the injected clock', () => {
    const at = (occurred_at: number): RequestAccepted => ({
      ...request(),
      envelope: { ...request().envelope, occurred_at },
    });
    for (const format of ['avro', 'json'] as const) {
      expectCode(
        () => codec.decode('request', codec.encode('request', at(0), { format })),
        'SCHEMA_VALIDATION_FAILED',
        /envelope\.occurred_at: 0 \(1970-01-01.*before 2000-01-01/,
      );
      expectCode(
        () => codec.decode('request', codec.encode('request', at(NOW + 2 * 86_400_000), { format })),
        'SCHEMA_VALIDATION_FAILED',
        /envelope\.occurred_at: .*after now/,
      );
      expect(
        codec.decode('request', codec.encode('request', at(NOW + 3_600_000), { format })).envelope
          .occurred_at,
      ).toBe(NOW + 3_600_000);
    }
    // The bound is injectable.
    const strict = createCodec({ now: () => NOW, maxFutureSkewMs: 1000, minTimestampMs: NOW - 60_000 });
    expectCode(
      () => strict.decode('request', codec.encode('request', at(NOW + 3_600_000))),
      'SCHEMA_VALIDATION_FAILED',
      /after now/,
    );
    expectCode(
      () => strict.decode('request', codec.encode('request', at(NOW - 120_000))),
      'SCHEMA_VALIDATION_FAILED',
      /before/,
    );
  });

  it('SCHEMA_VALIDATION_FAILED for empty ids, missing request_id, bad counters', () => {
    const r = request();
    const cases: Array<[Kind, unknown, RegExp]> = [
      [
        'request',
        { ...r, envelope: { ...r.envelope, event_id: '' } },
        /^envelope\.event_id: must not be empty/,
      ],
      ['request', { ...r, envelope: { ...r.envelope, request_id: null } }, /^envelope\.request_id: required/],
      ['request', { ...r, sla_ms: -1 }, /^sla_ms: -1 must be >= 0/],
      ['request', { ...r, give_up_ms: -5 }, /^give_up_ms: -5 must be >= 0/],
      ['dispatch', { ...sampleEvent('dispatch', NOW), attempt_no: 0 }, /^attempt_no: 0 must be >= 1/],
      [
        'dispatch',
        { ...sampleEvent('dispatch', NOW), envelope: { ...r.envelope, request_id: null } },
        /^envelope\.request_id: required/,
      ],
      [
        'callback',
        { ...sampleEvent('callback', NOW), provider_message_id: '' },
        /^provider_message_id: must not be empty/,
      ],
      ['verdict', { ...sampleEvent('verdict', NOW), version: 0 }, /^version: 0 must be >= 1/],
      ['action', { ...sampleEvent('action', NOW), action_id: '' }, /^action_id: must not be empty/],
    ];
    for (const [kind, value, reason] of cases) {
      for (const format of ['avro', 'json'] as const) {
        const bytes = codec.encode(kind, value as KindMap[typeof kind], { format });
        expectCode(() => codec.decode(kind, bytes), 'SCHEMA_VALIDATION_FAILED', reason);
      }
    }
  });

  it('callbacks may omit request_id (matched by provider message id)', () => {
    const cb = sampleEvent('callback', NOW);
    expect(cb.envelope.request_id).toBeNull();
    expect(codec.decode('callback', codec.encode('callback', cb)).envelope.request_id).toBeNull();
  });

  it('validate: false skips the semantic checks only', () => {
    const loose = createCodec({ validate: false });
    const r = request();
    const bytes = loose.encode('request', { ...r, envelope: { ...r.envelope, occurred_at: 0 } });
    expect(loose.decode('request', bytes).envelope.occurred_at).toBe(0);
    expect(codec.validate('request', { ...r, envelope: { ...r.envelope, occurred_at: 0 } })).toMatch(
      /occurred_at/,
    );
    expect(codec.validate('request', r)).toBeNull();
  });
});

describe('encode', () => {
  it('throws EncodeError naming the field when the value does not match', () => {
    const bad = {
      ...sampleEvent('dispatch', NOW),
      attempt_reason: 'because',
    } as unknown as KindMap['dispatch'];
    for (const format of ['avro', 'json'] as const) {
      let thrown: unknown;
      try {
        codec.encode('dispatch', bad, { format });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(EncodeError);
      expect((thrown as EncodeError).code).toBe('SCHEMA_ENCODE_INVALID');
      expect((thrown as EncodeError).reason).toMatch(/^attempt_reason: "because"/);
    }
  });

  it('grows its scratch buffer for large values', () => {
    const payload = Buffer.alloc(100_000, 7);
    const big = { ...sampleEvent('dead_letter', NOW), original_value: payload };
    const decoded = codec.decode('dead_letter', codec.encode('dead_letter', big));
    expect(decoded.original_value?.equals(payload)).toBe(true);
    // The next small encode is still framed correctly after the buffer grew.
    expect(codec.decode('action', codec.encode('action', sampleEvent('action', NOW)))).toEqual(
      sampleEvent('action', NOW),
    );
  });
});

describe('topics', () => {
  it('tells the kind from the topic, with overrides', () => {
    expect(codec.kindForTopic('pathwatch.callbacks')).toBe('callback');
    expect(codec.kindForTopic('pathwatch.dead-letter')).toBe('dead_letter');
    expect(codec.kindForTopic('other')).toBeUndefined();
    const custom = createCodec({ topics: { request: 'acme.requests' } });
    expect(custom.kindForTopic('acme.requests')).toBe('request');
    expect(custom.kindForTopic('pathwatch.requests')).toBeUndefined();
    expect(custom.catalog.current('request').subject).toBe('acme.requests-value');
  });

  it('refuses one topic for two kinds', () => {
    expect(() => createCatalog({ topics: { request: 'x', dispatch: 'x' } })).toThrow(
      /configured for two kinds/,
    );
  });
});
