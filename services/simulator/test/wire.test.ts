import { DEFAULT_TOPICS, DecodeError, createCodec } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import { generateUnits } from '../src/generator.js';
import type { DeadLetterExpectation, ScriptedEvent } from '../src/model.js';
import { createWireEncoder } from '../src/wire.js';

const T0 = Date.UTC(2026, 0, 1);
const codec = createCodec();
const encoder = createWireEncoder(codec);
const units = generateUnits(
  { preset: 'chaos', seed: 77, startEventTime: T0, faults: { invalidRecord: 0.1 } },
  2_000,
);
const events: ScriptedEvent[] = units.flatMap((u) => u.events);

describe('wire encoding', () => {
  it('encodes every scripted event so the codec decodes it back unchanged (Avro and JSON)', () => {
    const formats = new Set<string>();
    const mismatches: string[] = [];
    for (const e of events) {
      if (e.kind === 'invalid') continue;
      const rec = encoder.encode(e);
      expect(rec.topic).toBe(DEFAULT_TOPICS[e.kind]);
      formats.add(`${e.format}:${rec.value[0] === 0 ? 'avro' : 'json'}`);
      const back = codec.decode(e.kind, rec.value);
      if (JSON.stringify(back) !== JSON.stringify(e.value)) mismatches.push(`${e.unit}/${e.seq}`);
    }
    expect(mismatches).toEqual([]);
    expect([...formats].sort()).toEqual(['avro:avro', 'json:json']);
  });

  it('sends one W3C trace per unit, keyed like the event', () => {
    for (const u of units.slice(0, 300)) {
      const records = u.events.map((e) => encoder.encode(e));
      const traceIds = new Set(records.map((r) => r.headers['traceparent']?.split('-')[1]));
      expect(traceIds.size).toBe(1);
      for (const [i, r] of records.entries()) {
        expect(r.headers['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
        expect(r.key).toBe(u.events[i]?.key);
      }
    }
  });

  it('makes invalid records that the codec rejects with the expected dead-letter reason', () => {
    const invalid = units.filter((u) => u.kind === 'invalid');
    const kinds = new Set<string>();
    for (const u of invalid) {
      const exp = u.expectation as DeadLetterExpectation;
      const e = u.events[0] as ScriptedEvent;
      const rec = encoder.encode(e);
      expect(rec.topic).toBe(DEFAULT_TOPICS[exp.topicKind]);
      let error: unknown;
      try {
        codec.decode(exp.topicKind, rec.value);
      } catch (err) {
        error = err;
      }
      expect(error, `${exp.invalidKind} on ${exp.topicKind} decoded`).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).code).toBe(exp.reasonCode);
      kinds.add(exp.invalidKind);
    }
    expect(kinds.size).toBe(7);
  });
});
