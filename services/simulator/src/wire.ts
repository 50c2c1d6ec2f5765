// Scripted events -> Kafka records through the @pathwatch/schemas codec (Confluent-framed Avro or JSON), plus the
// deliberately broken records that must end in the dead-letter topic.
import type { Codec, DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import { SimulatorError } from './errors.js';
import type { InputKind, ScriptedEvent, ScriptedInvalid } from './model.js';

/** What the injected `send` receives. */
export interface OutboundRecord {
  readonly topic: string;
  /** request_id, or `provider:provider_message_id` for callbacks without one. */
  readonly key: string;
  readonly value: Buffer;
  /** W3C `traceparent` (one trace per request). */
  readonly headers: Readonly<Record<string, string>>;
}

export interface WireEncoder {
  /** The topic a kind is sent to (the codec catalog's names). */
  topicFor(kind: InputKind): string;
  encode(event: ScriptedEvent): OutboundRecord;
}

/** A schema id no catalog or registry hands out (locals are 100..699). */
const UNKNOWN_SCHEMA_ID = 0x7ffffff0;

export function createWireEncoder(codec: Codec): WireEncoder {
  const topics = codec.catalog.topics;
  const topicFor = (kind: InputKind): string => topics[kind];

  const encodeValue = (
    kind: InputKind,
    value: RequestAccepted | DispatchAttempted | ProviderCallback,
    format: 'avro' | 'json',
  ): Buffer => {
    try {
      if (kind === 'request') return codec.encode('request', value as RequestAccepted, { format });
      if (kind === 'dispatch') return codec.encode('dispatch', value as DispatchAttempted, { format });
      return codec.encode('callback', value as ProviderCallback, { format });
    } catch (err) {
      throw new SimulatorError(
        'SIM_ENCODE_FAILED',
        `cannot encode a ${kind} event as ${format}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  };

  const invalidBytes = (e: ScriptedInvalid): Buffer => {
    const noise = Buffer.from(e.noise, 'hex');
    switch (e.invalidKind) {
      case 'empty':
        return Buffer.alloc(0);
      case 'bad_magic': {
        // Neither the Confluent magic byte 0x00 nor '{' / JSON whitespace.
        const b = Buffer.from(noise);
        b[0] = 0x80 | ((b[0] ?? 0) & 0x7f);
        return b;
      }
      case 'unknown_schema_id': {
        const header = Buffer.alloc(5);
        header.writeUInt32BE(UNKNOWN_SCHEMA_ID, 1);
        return Buffer.concat([header, noise]);
      }
      case 'truncated_avro': {
        const full = encodeValue(e.topicKind, e.template, 'avro');
        return full.subarray(0, Math.max(6, Math.floor(full.length / 2)));
      }
      case 'malformed_json': {
        const full = encodeValue(e.topicKind, e.template, 'json');
        return full.subarray(0, Math.max(2, Math.floor(full.length / 2)));
      }
      case 'schema_invalid_json': {
        // Well-formed JSON without the required envelope.
        const obj = JSON.parse(encodeValue(e.topicKind, e.template, 'json').toString('utf8')) as Record<
          string,
          unknown
        >;
        delete obj['envelope'];
        return Buffer.from(JSON.stringify(obj), 'utf8');
      }
      case 'semantically_invalid_avro': {
        // Valid Avro, but an empty event id fails the codec's semantic validation.
        const broken = { ...e.template, envelope: { ...e.template.envelope, event_id: '' } };
        return encodeValue(e.topicKind, broken, 'avro');
      }
    }
  };

  return {
    topicFor,
    encode(e) {
      const headers = { traceparent: e.traceparent };
      if (e.kind === 'invalid')
        return { topic: topicFor(e.topicKind), key: e.key, value: invalidBytes(e), headers };
      return { topic: topicFor(e.kind), key: e.key, value: encodeValue(e.kind, e.value, e.format), headers };
    },
  };
}
