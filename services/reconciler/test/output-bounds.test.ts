// The input length limits (schemas FIELD_LIMITS / ATTRIBUTE_LIMITS) bound every output: the largest inputs that
// still decode, at every per-request bound of the engine (attempts, callbacks, hops), give verdicts, actions and
// changelog records far below a produce chunk (512 KiB) and the broker's stock 1 MB record limit.
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTE_LIMITS,
  FIELD_LIMITS,
  createCodec,
  type Kind,
  type KindMap,
  type LimitedField,
} from '@pathwatch/schemas';
import { EXPORT_START, createEngine } from '../src/engine/index.js';
import { packChangelog } from '../src/changelog.js';
import { ManualClock, callback, dispatch, request } from './events.js';

const T0 = 1_760_000_000_000;
const codec = createCodec({ now: () => T0 + 3_600_000 });
const CHUNK_BYTES = 512 * 1024;

/** A string of exactly the field's limit, distinct per `tag`. */
const max = (field: LimitedField, tag: string | number): string => {
  const t = `${tag}-`;
  return t + 'x'.repeat(FIELD_LIMITS[field] - t.length);
};

/** Proves the value decodes (it is valid input) and returns the decoded value. */
function valid<K extends Kind>(kind: K, v: KindMap[K]): KindMap[K] {
  return codec.decode(kind, codec.encode(kind, v));
}

describe('output size bounds from the input limits', () => {
  it('a request at every length limit, with 32 attempts and 64 callbacks, gives records well under 512 KiB', () => {
    const clock = new ManualClock(T0);
    const e = createEngine({ maxOutOfOrdernessMs: 0, idleTimeoutMs: 1_000 }, clock);
    const rid = max('envelope.request_id', 'r');
    const attributes = Object.fromEntries(
      Array.from({ length: ATTRIBUTE_LIMITS.entries }, (_, i) => [
        `${i}-`.padEnd(ATTRIBUTE_LIMITS.keyLength, 'k'),
        'v'.repeat(ATTRIBUTE_LIMITS.valueLength),
      ]),
    );
    const base = request({ rid, at: T0, slaMs: 600_000, giveUpMs: 1_200_000, attributes });
    const req = valid('request', {
      ...base,
      envelope: {
        ...base.envelope,
        event_id: max('envelope.event_id', 'e'),
        source: max('envelope.source', 's'),
        tenant_id: max('envelope.tenant_id', 't'),
      },
      operation: max('operation', 'o'),
      channel: max('channel', 'c'),
      idempotency_key: max('idempotency_key', 'i'),
      input_fingerprint: max('input_fingerprint', 'f'),
    });
    const pos = (n: number) => ({ partition: 0, offset: String(n) });
    e.onRequest(req, pos(0));
    const verdictBytes: number[] = [];
    const actionBytes: number[] = [];
    const changelog: ReturnType<typeof e.drainChangelog> = [];
    const drain = () => {
      const o = e.drainOutputs();
      for (const v of o.verdicts) verdictBytes.push(codec.encode('verdict', v).length);
      for (const a of o.actions) actionBytes.push(codec.encode('action', a).length);
      changelog.push(...e.drainChangelog());
    };
    for (let n = 1; n <= 40; n++) {
      const d = dispatch({ rid, at: T0 + n * 10, attemptNo: n, reason: n === 1 ? 'initial' : 'failover' });
      e.onDispatch(
        valid('dispatch', {
          ...d,
          envelope: { ...d.envelope, event_id: max('envelope.event_id', `d${n}`) },
          attempt_id: max('attempt_id', `a${n}`),
          parent_attempt_id: n === 1 ? null : max('parent_attempt_id', `a${n - 1}`),
          route: max('route', `r${n}`),
          provider: max('provider', `p${n}`),
          provider_message_id: max('provider_message_id', `m${n}`),
          submit_outcome: 'accepted',
          error_code: max('error_code', `x${n}`),
        }),
        pos(n),
      );
      drain();
    }
    for (let n = 1; n <= 80; n++) {
      const c = callback({
        rid,
        at: T0 + 1000 + n * 10,
        status: 'sent',
        pmid: max('provider_message_id', `m${(n % 32) + 1}`),
      });
      e.onCallback(
        valid('callback', {
          ...c,
          envelope: { ...c.envelope, event_id: max('envelope.event_id', `c${n}`) },
          provider: max('provider', `p${(n % 32) + 1}`),
          provider_event_id: max('provider_event_id', `pe${n}`),
          attempt_id: max('attempt_id', `a${(n % 32) + 1}`),
          status_raw: max('status_raw', `raw${n}`),
          status: n === 80 ? 'failed' : 'sent',
          is_final: n === 80,
          error_code: max('error_code', `ce${n}`),
        }),
        pos(n),
      );
      drain();
    }
    // Past the give-up horizon: the final verdict with everything the request gathered.
    clock.advance(2_000_000);
    e.tick();
    drain();

    expect(verdictBytes.length).toBeGreaterThan(0);
    const largestVerdict = Math.max(...verdictBytes);
    // The verdict carries all 32 attempts and 32 hops at full length (~83 KB), yet stays far below the chunk.
    expect(largestVerdict).toBeGreaterThan(50_000);
    expect(largestVerdict).toBeLessThan(CHUNK_BYTES / 2);
    if (actionBytes.length > 0) expect(Math.max(...actionBytes)).toBeLessThan(16 * 1024);
    const packed = packChangelog(changelog, 'delta').messages;
    for (const m of packed) expect((m.value?.length ?? 0) + (m.key?.length ?? 0)).toBeLessThan(1_000_000);
    const images = e.exportState(EXPORT_START, 1_000_000).records;
    for (const m of packChangelog(images, 'snapshot').messages)
      expect((m.value?.length ?? 0) + (m.key?.length ?? 0)).toBeLessThan(1_000_000);
  });
});
