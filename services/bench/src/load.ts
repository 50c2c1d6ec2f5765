// Realistic input from the simulator: scripted events in publish order, encoded as the wire records producers
// send (Confluent Avro, 25% JSON in the bench preset), with optional filters for special loads.
import type { Codec } from '@pathwatch/schemas';
import { NO_FAULTS, createEventStream, createGenerator, createWireEncoder } from '@pathwatch/simulator';
import type { GeneratorOptionsInput, OutboundRecord, ScriptedEvent } from '@pathwatch/simulator';

export interface LoadOptions {
  /** Stop after this many records. */
  readonly records: number;
  /** Generator input; `startEventTime` defaults to now. @default { preset: 'bench', seed: 1 } */
  readonly generator?: GeneratorOptionsInput;
  /** Keep only events this returns true for (e.g. no callbacks, for open requests). @default all */
  readonly filter?: (e: ScriptedEvent) => boolean;
}

export interface EncodedEvent {
  readonly event: ScriptedEvent;
  readonly record: OutboundRecord;
}

/** Generates and encodes up to `records` events (lazily, so a big load is never all in memory twice). */
export function* simulatedRecords(codec: Codec, opts: LoadOptions): Generator<EncodedEvent> {
  const input: GeneratorOptionsInput = { preset: 'bench', seed: 1, ...opts.generator };
  const gen = createGenerator(input, Date.now());
  const stream = createEventStream(gen);
  const encoder = createWireEncoder(codec);
  let n = 0;
  while (n < opts.records) {
    const e = stream.next();
    if (e === undefined) return;
    if (opts.filter && !opts.filter(e)) continue;
    n++;
    yield { event: e, record: encoder.encode(e) };
  }
}

/** Horizons far beyond any bench run, so filled requests stay open. */
export const LONG_SLA_MS = 600_000;
export const LONG_GIVE_UP_MS = 1_200_000;

/**
 * Events that leave `count` requests open: per request its `request` and its initial `dispatch` (accepted by the
 * provider), never a callback, with horizons far in the future. Built by cloning a pool of simulated units with
 * fresh ids (request, event, attempt and provider message ids unique per clone), which is ~20x faster than
 * generating every unit and keeps the simulator's field distributions. Arrivals continue at the pool's rate.
 */
export function* openRequestEvents(
  count: number,
  opts: { seed?: number; startEventTime?: number; idPrefix?: string; slaMs?: number; giveUpMs?: number } = {},
): Generator<ScriptedEvent> {
  const start = opts.startEventTime ?? Date.now();
  const prefix = opts.idPrefix ?? 'open';
  const gen = createGenerator({ preset: 'bench', seed: opts.seed ?? 11, faults: NO_FAULTS }, start);
  const pool: {
    request: Extract<ScriptedEvent, { kind: 'request' }>;
    dispatch: Extract<ScriptedEvent, { kind: 'dispatch' }>;
  }[] = [];
  const POOL = Math.min(count, 5000);
  while (pool.length < POOL) {
    const u = gen.next();
    const request = u.events.find((e) => e.kind === 'request');
    const dispatch = u.events.find((e) => e.kind === 'dispatch');
    if (request?.kind === 'request' && dispatch?.kind === 'dispatch') pool.push({ request, dispatch });
  }
  const first = pool[0] as (typeof pool)[number];
  const last = pool[pool.length - 1] as (typeof pool)[number];
  const span = Math.max(1, last.request.occurredAt - first.request.occurredAt + 1);
  for (let i = 0; i < count; i++) {
    const round = Math.floor(i / POOL);
    const { request, dispatch } = pool[i % POOL] as (typeof pool)[number];
    const shift = round * span;
    const rid = `${prefix}-${i}`;
    const r = request.value;
    yield {
      ...request,
      key: rid,
      occurredAt: request.occurredAt + shift,
      publishAt: request.publishAt + shift,
      value: {
        ...r,
        envelope: {
          ...r.envelope,
          request_id: rid,
          event_id: `${rid}-r`,
          occurred_at: r.envelope.occurred_at + shift,
          recorded_at: r.envelope.recorded_at + shift,
        },
        sla_ms: opts.slaMs ?? LONG_SLA_MS,
        give_up_ms: opts.giveUpMs ?? LONG_GIVE_UP_MS,
      },
    };
    const d = dispatch.value;
    yield {
      ...dispatch,
      key: rid,
      occurredAt: dispatch.occurredAt + shift,
      publishAt: dispatch.publishAt + shift,
      value: {
        ...d,
        envelope: {
          ...d.envelope,
          request_id: rid,
          event_id: `${rid}-d`,
          occurred_at: d.envelope.occurred_at + shift,
          recorded_at: d.envelope.recorded_at + shift,
        },
        attempt_id: `${rid}-a1`,
        provider_message_id: d.provider_message_id === null ? null : `${rid}-m`,
      },
    };
  }
}
