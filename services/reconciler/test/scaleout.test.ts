// Scale-out (SEMANTICS.md §10): callbacks without request_id matched across reconciler instances through
// binding records (onRemoteBinding) and handoff records (drainHandoffs -> onHandoff). Two engines stand for two
// instances; the test moves the records between them by hand.
import fc from 'fast-check';
import type { Verdict } from '@pathwatch/schemas';
import { describe, expect, it } from 'vitest';
import type { ChangelogRecord, Engine, EngineOptions, ExportCursor } from '../src/engine/index.js';
import {
  createEngine,
  EXPORT_START,
  IngestStatus,
  INGEST_STATUS_NAMES,
  REMOTE_BINDING_KEY_PREFIX,
  resolveOptions,
} from '../src/engine/index.js';
import { decodeHandoff, encodeHandoff } from '../src/engine/handoff.js';
import { callback, dispatch, ManualClock, request } from './events.js';

const T0 = 1_760_000_000_000;
/** The request's partition (owned by instance A) and the callbacks' partition (owned by instance B). */
const PA = { partition: 0, offset: '0' };
const PB = { partition: 1, offset: '0' };

interface Binding {
  provider: string;
  pmid: string;
  rid: string;
}

function pair(options: EngineOptions = {}) {
  const clock = new ManualClock(T0);
  const bindings: Binding[] = [];
  const opts = { maxOutOfOrdernessMs: 0, idleTimeoutMs: 1_000, ...options };
  const a = createEngine(
    { ...opts, onBinding: (provider, pmid, rid) => bindings.push({ provider, pmid, rid }) },
    clock,
  );
  const b = createEngine(opts, clock);
  const out: Verdict[] = [];
  /** Delivers A's bindings to B and B's handoffs to A (what the wiring does through two internal topics). */
  const pump = (): number[] => {
    const statuses: number[] = [];
    for (const x of bindings.splice(0)) statuses.push(b.onRemoteBinding(x.provider, x.pmid, x.rid, PB));
    for (const h of b.drainHandoffs()) statuses.push(a.onHandoff(h.requestId, h.value, PA));
    out.push(...a.drainOutputs().verdicts);
    return statuses;
  };
  return { a, b, clock, bindings, out, pump };
}

function idle(clock: ManualClock, engines: Engine[], untilMs: number, stepMs = 100): void {
  while (clock.t < T0 + untilMs) {
    clock.advance(stepMs);
    for (const e of engines) e.tick();
  }
}

const keyOf = (provider: string, pmid: string) => `${REMOTE_BINDING_KEY_PREFIX}${provider}:${pmid}`;

describe('scale-out: callbacks without request_id across instances', () => {
  it('callback before the binding: it waits in a pseudo key, then is handed to the request owner', () => {
    const { a, b, out, pump } = pair();
    a.onRequest(request({ rid: 'r1', at: T0, slaMs: 10_000 }), PA);
    expect(b.onCallback(callback({ rid: null, pmid: 'SMx', at: T0 + 800, status: 'delivered' }), PB)).toBe(
      IngestStatus.APPLIED,
    );
    expect(b.stats().pendingCallbacks).toBe(1);
    b.drainChangelog();
    a.onDispatch(dispatch({ rid: 'r1', at: T0 + 100, pmid: 'SMx' }), PA);
    expect(pump()).toEqual([IngestStatus.APPLIED, IngestStatus.APPLIED]);
    expect(b.stats()).toMatchObject({ pendingCallbacks: 0, remoteBindings: 1, pendingHandoffs: 0 });
    expect(b.stats().counters).toMatchObject({ remoteMatched: 1, handoffsOut: 1 });
    // Exactly as one engine merging the pseudo key: callback_before_dispatch, attached to the attempt.
    expect(out.map((v) => [v.request_id, v.verdict, v.flags, v.callbacks])).toEqual([
      ['r1', 'delivered_on_time', ['callback_before_dispatch'], 1],
    ]);
    expect(out[0]!.attempts[0]!.last_status).toBe('delivered');
    // B's changelog: the pseudo key is deleted (it had no version), the remote binding is recorded.
    const log = b.drainChangelog();
    expect(log.filter((r) => r.key.startsWith('\u0000cb:')).map((r) => r.value)).toEqual([null]);
    expect(log.filter((r) => r.key === keyOf('p1', 'SMx')).map((r) => r.partition)).toEqual([PB.partition]);
    expect(b.lookupRequestId('p1', 'SMx')).toBe('r1');
  });

  it('binding before the callback: the callback is forwarded at once, no pseudo key', () => {
    const { a, b, out, pump } = pair();
    a.onRequest(request({ rid: 'r2', at: T0, slaMs: 10_000 }), PA);
    a.onDispatch(dispatch({ rid: 'r2', at: T0 + 100, pmid: 'SMy' }), PA);
    expect(pump()).toEqual([IngestStatus.APPLIED]);
    const cb = callback({ rid: null, pmid: 'SMy', at: T0 + 900, status: 'delivered' });
    expect(b.onCallback(cb, PB)).toBe(IngestStatus.FORWARDED);
    expect(b.stats()).toMatchObject({ pendingCallbacks: 0, openRequests: 0, pendingHandoffs: 1 });
    expect(pump()).toEqual([IngestStatus.APPLIED]);
    expect(out.map((v) => [v.request_id, v.verdict, v.flags])).toEqual([['r2', 'delivered_on_time', []]]);
    // The forwarded callback still moved B's clock (it is B's input); the records moved no clock.
    expect(b.watermarks().inputs.map((i) => [i.kind, i.partition])).toEqual([['callback', 1]]);
    expect(a.watermarks().inputs.map((i) => [i.kind, i.partition])).toEqual([
      ['request', 0],
      ['dispatch', 0],
    ]);
    // A redelivered callback is forwarded again and is an exact duplicate at the owner.
    expect(b.onCallback(cb, PB)).toBe(IngestStatus.FORWARDED);
    expect(pump()).toEqual([IngestStatus.DUPLICATE]);
    // A re-sent report (new event id, same natural key) is kept as a duplicate report, as locally.
    b.onCallback({ ...cb, envelope: { ...cb.envelope, event_id: 'again' } }, PB);
    pump();
    expect(out.map((v) => [v.version, v.flags, v.duplicate_callbacks])).toEqual([
      [1, [], 0],
      [2, ['duplicate_callback'], 1],
    ]);
  });

  it('binding after an orphan verdict: the pseudo key keeps its versions in a tombstone, the request is corrected', () => {
    const { a, b, clock, out, pump } = pair({ orphanGraceMs: 2_000 });
    a.onRequest(request({ rid: 'r3', at: T0, slaMs: 1_000, giveUpMs: 3_000 }), PA);
    b.onCallback(callback({ rid: null, pmid: 'SMz', at: T0 + 500, status: 'delivered' }), PB);
    idle(clock, [a, b], 6_000);
    out.push(...a.drainOutputs().verdicts);
    const orphan = b.drainOutputs().verdicts;
    expect(orphan.map((v) => [v.request_id, v.verdict])).toEqual([['p1:SMz', 'orphan_callback']]);
    expect(out.map((v) => v.verdict)).toEqual(['overdue', 'missing_dispatch']);
    a.onDispatch(dispatch({ rid: 'r3', at: T0 + 100, pmid: 'SMz' }), PA);
    pump();
    expect(b.stats()).toMatchObject({ tombstones: 1, closedTraces: 0, pendingCallbacks: 0 });
    // One engine would go straight to delivered_on_time (it merges inside the dispatch); across instances the
    // dispatch is evaluated first (missing_outcome) and the handed-off callback corrects it one hop later.
    expect(out.slice(2).map((v) => [v.verdict, v.is_correction, v.flags])).toEqual([
      ['missing_outcome', true, []],
      ['delivered_on_time', true, ['callback_before_dispatch']],
    ]);
  });

  it('a binding of a local request is ignored; a different request id for it is a conflict', () => {
    const { a } = pair();
    a.onRequest(request({ rid: 'r4', at: T0 }), PA);
    a.onDispatch(dispatch({ rid: 'r4', at: T0 + 10, pmid: 'SMl' }), PA);
    expect(a.onRemoteBinding('p1', 'SMl', 'r4', PA)).toBe(IngestStatus.IGNORED);
    expect(a.stats().counters['remoteBindingConflicts']).toBe(0);
    expect(a.onRemoteBinding('p1', 'SMl', 'other', PA)).toBe(IngestStatus.IGNORED);
    expect(a.stats().counters['remoteBindingConflicts']).toBe(1);
    expect(a.stats().remoteBindings).toBe(0);
    expect(a.drainHandoffs()).toEqual([]);
  });

  it('first remote binding wins: a repeat is a duplicate, another request id a conflict', () => {
    const { b } = pair();
    expect(b.onRemoteBinding('p1', 'SMc', 'first', PB)).toBe(IngestStatus.APPLIED);
    expect(b.onRemoteBinding('p1', 'SMc', 'first', PB)).toBe(IngestStatus.DUPLICATE);
    expect(b.onRemoteBinding('p1', 'SMc', 'second', PB)).toBe(IngestStatus.IGNORED);
    expect(b.stats().counters['remoteBindingConflicts']).toBe(1);
    expect(b.lookupRequestId('p1', 'SMc')).toBe('first');
    b.onCallback(callback({ rid: null, pmid: 'SMc', at: T0, status: 'sent' }), PB);
    expect(b.drainHandoffs().map((h) => h.requestId)).toEqual(['first']);
    // Other pairs and other providers are not bound.
    expect(b.lookupRequestId('p2', 'SMc')).toBeNull();
    expect(b.onRemoteBinding('', 'SMc', 'x', PB)).toBe(IngestStatus.INVALID);
    expect(b.onRemoteBinding('p1', 'SMc', '', PB)).toBe(IngestStatus.INVALID);
    expect(b.onRemoteBinding('p1', 'x'.repeat(5_000), 'r', PB)).toBe(IngestStatus.INVALID);
    // A later local dispatch of another request recording the same pair does not take it over.
    b.onRequest(request({ rid: 'local', at: T0 }), PB);
    b.onDispatch(dispatch({ rid: 'local', at: T0 + 5, pmid: 'SMc' }), PB);
    expect(b.stats().counters['pmidConflicts']).toBe(1);
    expect(b.lookupRequestId('p1', 'SMc')).toBe('first');
    expect(b.onCallback(callback({ rid: null, pmid: 'SMc', at: T0 + 9, status: 'sent' }), PB)).toBe(
      IngestStatus.FORWARDED,
    );
    expect(INGEST_STATUS_NAMES[IngestStatus.FORWARDED]).toBe('forwarded');
    expect(INGEST_STATUS_NAMES[IngestStatus.IGNORED]).toBe('ignored');
  });

  it('rejects a malformed handoff as INVALID without throwing or changing state', () => {
    const { a, b } = pair();
    b.onRemoteBinding('p1', 'SMm', 'r5', PB);
    b.onCallback(
      callback({ rid: null, pmid: 'SMm', at: T0, status: 'undelivered', errorCode: '30003', sequence: 2 }),
      PB,
    );
    const [h] = b.drainHandoffs();
    const good = h!.value;
    const decoded = decodeHandoff(good)!;
    expect(decoded).toHaveLength(1);
    expect(decoded[0]).toMatchObject({
      provider: 'p1',
      providerMessageId: 'SMm',
      tenant: 'tenant-a',
      errorCode: '30003',
      sequence: 2,
    });
    const bad: Uint8Array[] = [
      new Uint8Array(0),
      Uint8Array.from([0x48]),
      Uint8Array.from([0x48, 2, 0, 0]), // unknown format
      Uint8Array.from([0x53, 1, 0, 0]), // a changelog image, not a handoff
      Buffer.concat([good, Uint8Array.from([0])]), // trailing byte
      encodeHandoff([{ ...decoded[0]!, pmidHash: (decoded[0]!.pmidHash + 1) >>> 0 }]), // hash does not match the id
      encodeHandoff([{ ...decoded[0]!, status: 99 }]),
      encodeHandoff([{ ...decoded[0]!, providerMessageId: '' }]),
      encodeHandoff([{ ...decoded[0]!, time: Number.NaN }]),
      encodeHandoff([]), // no callback
    ];
    for (let n = 0; n < good.length; n++) bad.push(good.subarray(0, n));
    for (const v of bad) expect(a.onHandoff('r5', v, PA)).toBe(IngestStatus.INVALID);
    expect(a.onHandoff('', good, PA)).toBe(IngestStatus.INVALID);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(a.onHandoff('r5', bytes, PA)).toBe(IngestStatus.INVALID);
      }),
      { numRuns: 300 },
    );
    const st = a.stats();
    expect([st.openRequests, st.pendingCallbacks, st.counters['handoffsInvalid']]).toEqual([
      0,
      0,
      bad.length + 301,
    ]);
    expect(a.watermarks().inputs).toEqual([]);
    // The good record applies (an orphan r5 waiting for its request), once.
    expect(a.onHandoff('r5', good, PA)).toBe(IngestStatus.APPLIED);
    expect(a.onHandoff('r5', good, PA)).toBe(IngestStatus.DUPLICATE);
    fc.assert(
      fc.property(fc.nat({ max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const v = Buffer.from(good);
        v[at] = v[at]! ^ x;
        const s = a.onHandoff('r5', v, PA); // a flipped byte may still decode (a time, a hash): never a throw
        expect(INGEST_STATUS_NAMES[s]).toBeDefined();
      }),
      { numRuns: 300 },
    );
  });

  it('a handoff for an unknown request waits as an orphan; one for a forgotten request continues its versions', () => {
    const { a, b, clock, out, pump } = pair({ orphanGraceMs: 2_000, correctionHorizonMs: 5_000 });
    b.onRemoteBinding('p1', 'SMu', 'r6', PB);
    b.onCallback(callback({ rid: null, pmid: 'SMu', at: T0 + 100, status: 'delivered' }), PB);
    pump();
    expect(a.stats().openRequests).toBe(1);
    expect(a.onRequest(request({ rid: 'r6', at: T0, slaMs: 10_000 }), PA)).toBe(IngestStatus.APPLIED);
    out.push(...a.drainOutputs().verdicts);
    expect(out.map((v) => [v.request_id, v.verdict])).toEqual([['r6', 'delivered_on_time']]);
    idle(clock, [a, b], 20_000);
    expect(a.stats()).toMatchObject({ openRequests: 0, closedTraces: 0, tombstones: 1 });
    b.onCallback(
      callback({ rid: null, pmid: 'SMu', at: T0 + 19_000, status: 'failed', eventId: 'late' }),
      PB,
    );
    pump();
    idle(clock, [a, b], 30_000);
    out.push(...a.drainOutputs().verdicts);
    expect(out[1]).toMatchObject({
      request_id: 'r6',
      version: 2,
      verdict: 'orphan_callback',
      previous_verdict: 'delivered_on_time',
      flags: ['beyond_correction_horizon'],
    });
  });

  it('remote bindings expire after their TTL (default: longest give-up + correction horizon)', () => {
    expect(resolveOptions({}).remoteBindingTtlMs).toBe(600_000 + 3_600_000);
    expect(
      resolveOptions({
        defaultDeadlines: { slaMs: 1_000, giveUpMs: 2_000 },
        deadlineRules: [{ channel: 'voice', slaMs: 5_000, giveUpMs: 9_000 }],
        correctionHorizonMs: 100,
      }).remoteBindingTtlMs,
    ).toBe(9_100);
    expect(() => resolveOptions({ remoteBindingTtlMs: -1 })).toThrow(/remoteBindingTtlMs/);
    expect(() => resolveOptions({ maxRemoteBindings: 0 })).toThrow(/maxRemoteBindings/);

    const { b, clock } = pair({ remoteBindingTtlMs: 5_000, orphanGraceMs: 60_000 });
    b.onCallback(callback({ rid: null, pmid: 'SMother', at: T0, status: 'sent' }), PB); // B's clock starts
    b.onRemoteBinding('p1', 'SMt', 'r7', PB);
    b.drainChangelog();
    idle(clock, [b], 3_000);
    expect(b.lookupRequestId('p1', 'SMt')).toBe('r7');
    idle(clock, [b], 8_000);
    expect(b.stats().remoteBindings).toBe(0);
    expect(b.stats().counters['remoteBindingsExpired']).toBe(1);
    expect(b.lookupRequestId('p1', 'SMt')).toBeNull();
    expect(b.drainChangelog().filter((r) => r.key === keyOf('p1', 'SMt'))).toEqual([
      { partition: PB.partition, key: keyOf('p1', 'SMt'), value: null },
    ]);
    // After the TTL a callback for the pair waits in a pseudo key again.
    expect(b.onCallback(callback({ rid: null, pmid: 'SMt', at: clock.t, status: 'sent' }), PB)).toBe(
      IngestStatus.APPLIED,
    );
    expect(b.drainHandoffs()).toEqual([]);
  });

  it('keeps at most maxRemoteBindings (oldest dropped, counted, deleted from the changelog)', () => {
    const { b } = pair({ maxRemoteBindings: 3 });
    for (let i = 0; i < 5; i++) b.onRemoteBinding('p1', `SMb${i}`, `r${i}`, PB);
    const st = b.stats();
    expect(st.remoteBindings).toBe(3);
    expect(st.counters['evictedRemoteBindings']).toBe(2);
    expect(st.bytes.remoteBindings).toBeGreaterThan(0);
    expect(b.lookupRequestId('p1', 'SMb0')).toBeNull();
    expect(b.lookupRequestId('p1', 'SMb4')).toBe('r4');
    const log = b.drainChangelog().filter((r) => r.key.startsWith(REMOTE_BINDING_KEY_PREFIX));
    expect(log.filter((r) => r.value === null).map((r) => r.key)).toEqual([
      keyOf('p1', 'SMb0'),
      keyOf('p1', 'SMb1'),
    ]);
  });

  it('dropPartitions forgets the remote bindings of those partitions, silently', () => {
    const { b } = pair();
    b.onRemoteBinding('p1', 'SMd2', 'r2', { partition: 2, offset: '1' });
    b.onRemoteBinding('p1', 'SMd3', 'r3', { partition: 3, offset: '1' });
    b.dropPartitions([2]);
    expect(b.stats().remoteBindings).toBe(1);
    expect(b.lookupRequestId('p1', 'SMd2')).toBeNull();
    expect(b.lookupRequestId('p1', 'SMd3')).toBe('r3');
    const log = b.drainChangelog().filter((r) => r.key.startsWith(REMOTE_BINDING_KEY_PREFIX));
    expect(log.map((r) => [r.partition, r.key])).toEqual([[3, keyOf('p1', 'SMd3')]]);
    // A callback for the dropped pair is no longer forwarded here.
    expect(b.onCallback(callback({ rid: null, pmid: 'SMd2', at: T0, status: 'sent' }), PB)).toBe(
      IngestStatus.APPLIED,
    );
  });

  it('remote bindings survive a restart: drainChangelog / exportState -> restore into a fresh engine', () => {
    const clock = new ManualClock(T0);
    const opts = { maxOutOfOrdernessMs: 0, remoteBindingTtlMs: 60_000 };
    const b = createEngine(opts, clock);
    const log = new Map<number, Map<string, Buffer>>();
    const commit = (records: ChangelogRecord[]) => {
      for (const r of records) {
        let m = log.get(r.partition);
        if (!m) log.set(r.partition, (m = new Map<string, Buffer>()));
        if (r.value === null) m.delete(r.key);
        else m.set(r.key, Buffer.from(r.value));
      }
    };
    b.onCallback(callback({ rid: null, pmid: 'SMwait', at: T0, status: 'sent' }), PB);
    b.onRemoteBinding('p1', 'SMr1', 'req-1', { partition: 1, offset: '1' });
    b.onRemoteBinding('pX', 'SM0123456789abcdef0123456789abcdef', '6f1c2b9e-8d7a-4b3c-9e1f-0a2b3c4d5e6f', {
      partition: 3,
      offset: '1',
    });
    commit(b.drainChangelog());
    const restoreInto = (e: Engine) => {
      for (const [partition, m] of log)
        e.restore(
          partition,
          [...m].map(([key, value]) => ({ key, value })),
        );
    };
    clock.advance(5_000);
    const c = createEngine(opts, clock);
    restoreInto(c);
    expect(c.stats()).toMatchObject({ remoteBindings: 2, pendingCallbacks: 1 });
    expect(c.lookupRequestId('p1', 'SMr1')).toBe('req-1');
    expect(c.lookupRequestId('pX', 'SM0123456789abcdef0123456789abcdef')).toBe(
      '6f1c2b9e-8d7a-4b3c-9e1f-0a2b3c4d5e6f',
    );
    // The restored engine forwards exactly what the original would.
    const cb = callback({ rid: null, pmid: 'SMr1', at: T0 + 1_000, status: 'delivered', eventId: 'e1' });
    expect(b.onCallback(cb, PB)).toBe(IngestStatus.FORWARDED);
    expect(c.onCallback(cb, PB)).toBe(IngestStatus.FORWARDED);
    const [hb] = b.drainHandoffs();
    const [hc] = c.drainHandoffs();
    expect(hc!.requestId).toBe(hb!.requestId);
    expect(decodeHandoff(hc!.value)).toEqual(decodeHandoff(hb!.value));
    // The restored pseudo key is handed off when its binding comes.
    expect(c.onRemoteBinding('p1', 'SMwait', 'req-w', PB)).toBe(IngestStatus.APPLIED);
    expect(c.drainHandoffs().map((h) => [h.requestId, decodeHandoff(h.value)!.length])).toEqual([
      ['req-w', 1],
    ]);
    // Restoring a partition twice keeps one binding per pair.
    const c2 = createEngine(opts, clock);
    restoreInto(c2);
    restoreInto(c2);
    expect(c2.stats().remoteBindings).toBe(2);

    // A snapshot export carries them too (the log below it may be deleted).
    const exported = new Map<number, Map<string, Buffer>>();
    let cursor: ExportCursor = EXPORT_START;
    while (cursor.phase !== 'done') {
      const { records, next } = b.exportState(cursor, 1);
      for (const r of records) {
        let m = exported.get(r.partition);
        if (!m) exported.set(r.partition, (m = new Map<string, Buffer>()));
        if (r.value !== null) m.set(r.key, Buffer.from(r.value));
      }
      cursor = next;
    }
    const d = createEngine(opts, clock);
    for (const [partition, m] of exported)
      d.restore(
        partition,
        [...m].map(([key, value]) => ({ key, value })),
      );
    expect(d.stats().remoteBindings).toBe(2);
    expect(d.lookupRequestId('p1', 'SMr1')).toBe('req-1');

    // Past the TTL, a restore skips them.
    clock.advance(120_000);
    const e = createEngine(opts, clock);
    e.onRequest(request({ rid: 'clock', at: clock.t }), PA); // the clock is past the expiry
    restoreInto(e);
    expect(e.stats().remoteBindings).toBe(0);
  });
});
