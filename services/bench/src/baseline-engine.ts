// Baselines for the engine figure (issue 9): the engine state as one plain JS object per open request, to
// set the hand-rolled arena, hash index and string codec of @pathwatch/reconciler against numbers from the
// same run. Bench-only code; it decides far less than the engine (see OBJECT_ENGINE_CAPTION) and is never a
// product figure.
//
// Per event it does the correlation work of the engine's hot path: lookup/insert by request id (Map), a
// provider-message-id index (Map of `provider:pmid`), parked callbacks without a known request, duplicate
// detection of attempts and callbacks, deadlines in a binary heap (SLA, give-up), a verdict at a final
// callback or a deadline, and a changelog image (v8.serialize) of every request touched since the last drain.
// The provider-message-id index is a Map per provider keyed by the decoded provider_message_id string.
//
// `codedStrings: false` keeps every string as the JS string of the decoded event. `codedStrings: true` keeps
// low-cardinality strings as interned small ints and the ids (fingerprint, attempt ids, provider message ids,
// event ids) packed into one one-byte JS string per request (UTF-8 prefix + hex tail two chars per byte),
// rebuilt on append; only the Map keys (request id, provider_message_id) stay JS strings.
import v8 from 'node:v8';
import { IngestStatus } from '@pathwatch/reconciler';
import type { IngestStatusCode, InputPosition, WallClock } from '@pathwatch/reconciler';
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';

/** What benchEngine drives: the engine's ingest/drain surface and its open-request count. */
export interface BenchedEngine {
  onRequest(ev: RequestAccepted, at: InputPosition): IngestStatusCode;
  onDispatch(ev: DispatchAttempted, at: InputPosition): IngestStatusCode;
  onCallback(ev: ProviderCallback, at: InputPosition): IngestStatusCode;
  tick(): void;
  drainOutputs(): {
    readonly verdicts: readonly { readonly verdict: string }[];
    readonly actions: readonly unknown[];
  };
  drainChangelog(): readonly unknown[];
  stats(): { readonly openRequests: number; readonly bytes: { readonly total: number } };
}

export const OBJECT_ENGINE_CAPTION =
  'Object-per-request baselines (services/bench/src/baseline-engine.ts), fed the same decoded events by the same benchEngine passes: one plain object per open request in a Map<string, object> ' +
  '(attempts and callbacks as nested arrays of objects, keeping the fields correlation and a verdict need: tenant, operation, channel, fingerprint, attributes, accepted time, SLA and give-up; per attempt id, number, provider, route, provider_message_id, outcome, error; per callback event ids, status, finality, evidence, error), ' +
  'a Map per provider of provider_message_id to the request, parked callbacks without a known request, duplicate detection of requests, attempts and callbacks, ' +
  'SLA and give-up deadlines in a binary heap of objects (10 s / 60 s when the request has none), a small verdict object at a final callback or a deadline, and a v8.serialize image of each request touched since the last drain. ' +
  'It does not do what the engine also does: per-input watermarks (its clock is the largest event time seen, or wall time - 2 s), the SEMANTICS.md classification and full Verdict objects, ' +
  'actions, tombstones of closed requests, caps, scale-out bindings and handoffs. "JS strings" keeps each string of the decoded event; "coded strings" interns tenant, operation, channel, provider, ' +
  'route, status, evidence, error codes and attribute maps to small ints and packs the ids into one one-byte string per request (UTF-8 prefix + hex tail at two chars a byte, no shared-prefix form), ' +
  'the Map keys (request id, provider_message_id) staying JS strings. So, with the engine doing more per event than either baseline: engine vs "JS strings" is what arena + hash index + string codec buy together; ' +
  '"coded strings" vs "JS strings" is what coding the strings buys inside an object model; engine vs "coded strings" is what the arena and hash index buy on top. ' +
  'The engine cannot store JS strings without changing production code, so the "without the string codec" figure is this baseline\'s.';

// ------------------------------------------------------------------------------------------ packed ids

const utf8 = new TextEncoder();
/** Where an id is packed before it is compared or appended (grown for long ids). */
let scratch = Buffer.allocUnsafeSlow(1024);
/** Where a request's ids string is rebuilt on append. */
let build = Buffer.allocUnsafeSlow(4096);

function isLowerHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102);
}

/**
 * Packs `s` into `scratch`: u16 prefix bytes, the prefix (ASCII bytes, UTF-8 when it has other chars), u16 hex
 * bytes, the even-length lower-case hex tail at two chars a byte. Returns the size. Deterministic, so two ids are
 * equal iff their packed forms are.
 */
function pack(s: string): number {
  const len = s.length;
  if (4 + 3 * len > scratch.length) scratch = Buffer.allocUnsafeSlow(2 * (4 + 3 * len));
  const out = scratch;
  let t = len;
  while (t > 0 && isLowerHex(s.charCodeAt(t - 1))) t--;
  if ((len - t) % 2 === 1) t++;
  let o = 4;
  for (let i = 0; i < t; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      o = 4 + utf8.encodeInto(s.slice(0, t), out.subarray(4)).written;
      break;
    }
    out[o++] = c;
  }
  const prefix = o - 4;
  const nHex = (len - t) >> 1;
  out[0] = prefix & 0xff;
  out[1] = prefix >> 8;
  out[2] = nHex & 0xff;
  out[3] = nHex >> 8;
  for (let i = t; i < len; i += 2) {
    const hi = s.charCodeAt(i);
    const lo = s.charCodeAt(i + 1);
    out[o++] = ((hi <= 57 ? hi - 48 : hi - 87) << 4) | (lo <= 57 ? lo - 48 : lo - 87);
  }
  return o;
}

/**
 * The packed ids of one request as one one-byte JS string (a char per byte: 16 bytes of header, the cheapest
 * byte container V8 has; a Uint8Array of 48 bytes retains about 250), rebuilt flat on every append.
 */
function appendId(ids: string, s: string): string {
  const n = pack(s);
  const total = ids.length + n;
  if (total > build.length) build = Buffer.allocUnsafeSlow(2 * total);
  build.write(ids, 0, 'latin1');
  scratch.copy(build, ids.length, 0, n);
  return build.toString('latin1', 0, total);
}

/** Whether the id packed at `at` of `ids` equals `s`. */
function idEquals(ids: string, at: number, s: string): boolean {
  const n = pack(s);
  if (at + n > ids.length) return false;
  for (let i = 0; i < n; i++) if (ids.charCodeAt(at + i) !== scratch[i]) return false;
  return true;
}

class Interner {
  private readonly ids = new Map<string, number>();
  id(s: string | null): number {
    if (s === null) return 0;
    let id = this.ids.get(s);
    if (id === undefined) this.ids.set(s, (id = this.ids.size + 1));
    return id;
  }
}

// ------------------------------------------------------------------------------------------ records

type Str = string | number | null; // a JS string, or an interned id / packed-id offset

interface Attempt {
  attemptId: Str;
  attemptNo: number;
  provider: Str;
  route: Str;
  pmid: Str;
  outcome: Str;
  errorCode: Str;
  at: number;
  /** The provider_message_id as the key of byPmid's map for `provider` (that Map's own string), to unindex at close. */
  key: string | null;
}

interface Callback {
  eventId: Str;
  providerEventId: Str;
  status: Str;
  isFinal: boolean;
  evidence: Str;
  errorCode: Str;
  at: number;
}

interface Rec {
  id: string;
  partition: number;
  tenant: Str;
  operation: Str;
  channel: Str;
  fingerprint: Str;
  attributes: Record<string, string> | number | null;
  acceptedAt: number | null;
  slaMs: number;
  giveUpMs: number;
  attempts: Attempt[];
  callbacks: Callback[];
  verdict: string | null;
  version: number;
  /** Coded strings: the packed ids (see appendId); id fields hold their offsets. */
  ids: string | null;
}

interface Deadline {
  at: number;
  rec: Rec;
  giveUp: boolean;
}

interface BaselineVerdict {
  request_id: string;
  version: number;
  verdict: string;
  provisional: boolean;
  decided_at: number;
  emitted_at: number;
  attempts: number;
  callbacks: number;
}

class DeadlineHeap {
  private readonly a: Deadline[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Deadline | undefined {
    return this.a[0];
  }
  push(d: Deadline): void {
    const a = this.a;
    let i = a.push(d) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= d.at) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = d;
  }
  pop(): Deadline | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= a.length) break;
      const c = l + 1 < a.length && a[l + 1]!.at < a[l]!.at ? l + 1 : l;
      if (a[c]!.at >= last.at) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

const DEFAULT_SLA_MS = 10_000;
const DEFAULT_GIVE_UP_MS = 60_000;
const WALL_FALLBACK_MS = 2_000;

/** The object-per-request baseline (see the file header). */
export function createObjectEngine(codedStrings: boolean, wall: WallClock): BenchedEngine {
  const open = new Map<string, Rec>();
  // provider (string, or its interned id) -> provider_message_id -> request: keyed by the decoded pmid string
  // itself, so no concatenated key (a rope that would also retain the pmid and provider strings) is kept.
  const byPmid = new Map<Str, Map<string, Rec>>();
  const parked = new Map<string, ProviderCallback[]>();
  const heap = new DeadlineHeap();
  const dirty = new Map<string, Rec | null>();
  const interner = new Interner();
  let verdicts: BaselineVerdict[] = [];
  let eventTime = -Infinity;

  const low = (s: string | null): Str => (codedStrings ? interner.id(s) : s);
  const idOf = (rec: Rec, s: string | null): Str => {
    if (s === null || !codedStrings) return s;
    const at = rec.ids!.length;
    rec.ids = appendId(rec.ids!, s);
    return at;
  };
  const sameId = (rec: Rec, stored: Str, s: string | null): boolean =>
    s === null || stored === null
      ? s === stored
      : codedStrings
        ? idEquals(rec.ids!, stored as number, s)
        : stored === s;
  const pmidIndex = (provider: Str, create: boolean): Map<string, Rec> | undefined => {
    let m = byPmid.get(provider);
    if (m === undefined && create) byPmid.set(provider, (m = new Map<string, Rec>()));
    return m;
  };

  const newRec = (id: string, partition: number): Rec => {
    const rec: Rec = {
      id,
      partition,
      tenant: null,
      operation: null,
      channel: null,
      fingerprint: null,
      attributes: null,
      acceptedAt: null,
      slaMs: DEFAULT_SLA_MS,
      giveUpMs: DEFAULT_GIVE_UP_MS,
      attempts: [],
      callbacks: [],
      verdict: null,
      version: 0,
      ids: codedStrings ? '' : null,
    };
    open.set(id, rec);
    return rec;
  };

  const emit = (rec: Rec, verdict: string, provisional: boolean): void => {
    rec.verdict = verdict;
    rec.version++;
    verdicts.push({
      request_id: rec.id,
      version: rec.version,
      verdict,
      provisional,
      decided_at: eventTime,
      emitted_at: wall.now(),
      attempts: rec.attempts.length,
      callbacks: rec.callbacks.length,
    });
  };

  const close = (rec: Rec): void => {
    open.delete(rec.id);
    for (const a of rec.attempts) if (a.key !== null) byPmid.get(a.provider)?.delete(a.key);
    dirty.set(rec.id, null);
  };

  const lookupKey = (provider: string, pmid: string): string => `${provider}:${pmid}`;

  const addCallback = (rec: Rec, ev: ProviderCallback): IngestStatusCode => {
    for (const c of rec.callbacks)
      if (
        sameId(rec, c.eventId, ev.envelope.event_id) ||
        (ev.provider_event_id !== null && sameId(rec, c.providerEventId, ev.provider_event_id))
      )
        return IngestStatus.DUPLICATE;
    rec.callbacks.push({
      eventId: idOf(rec, ev.envelope.event_id),
      providerEventId: idOf(rec, ev.provider_event_id),
      status: low(ev.status),
      isFinal: ev.is_final,
      evidence: low(ev.evidence_level),
      errorCode: low(ev.error_code),
      at: ev.envelope.occurred_at,
    });
    dirty.set(rec.id, rec);
    if (ev.is_final && rec.acceptedAt !== null) {
      const onTime = ev.envelope.occurred_at <= rec.acceptedAt + rec.slaMs;
      emit(
        rec,
        ev.status === 'delivered' ? (onTime ? 'delivered_on_time' : 'delivered_late') : 'failed',
        false,
      );
      close(rec);
    }
    return IngestStatus.APPLIED;
  };

  const seen = (t: number): void => {
    if (t > eventTime) eventTime = t;
  };

  return {
    onRequest(ev, at) {
      const id = ev.envelope.request_id;
      if (id === null || id === '') return IngestStatus.INVALID;
      seen(ev.envelope.occurred_at);
      const rec = open.get(id) ?? newRec(id, at.partition);
      if (rec.acceptedAt !== null) return IngestStatus.DUPLICATE;
      rec.tenant = low(ev.envelope.tenant_id);
      rec.operation = low(ev.operation);
      rec.channel = low(ev.channel);
      rec.fingerprint = idOf(rec, ev.input_fingerprint);
      rec.attributes = codedStrings ? interner.id(JSON.stringify(ev.attributes)) : ev.attributes;
      rec.acceptedAt = ev.envelope.occurred_at;
      rec.slaMs = ev.sla_ms ?? DEFAULT_SLA_MS;
      rec.giveUpMs = ev.give_up_ms ?? DEFAULT_GIVE_UP_MS;
      heap.push({ at: rec.acceptedAt + rec.slaMs, rec, giveUp: false });
      heap.push({ at: rec.acceptedAt + rec.giveUpMs, rec, giveUp: true });
      dirty.set(id, rec);
      return IngestStatus.APPLIED;
    },
    onDispatch(ev, at) {
      const id = ev.envelope.request_id;
      if (id === null || id === '') return IngestStatus.INVALID;
      seen(ev.envelope.occurred_at);
      const rec = open.get(id) ?? newRec(id, at.partition);
      for (const a of rec.attempts)
        if (sameId(rec, a.attemptId, ev.attempt_id)) return IngestStatus.DUPLICATE;
      const key = ev.provider_message_id;
      const provider = low(ev.provider);
      const attempt: Attempt = {
        attemptId: idOf(rec, ev.attempt_id),
        attemptNo: ev.attempt_no,
        provider,
        route: low(ev.route),
        pmid: idOf(rec, ev.provider_message_id),
        outcome: low(ev.submit_outcome),
        errorCode: low(ev.error_code),
        at: ev.envelope.occurred_at,
        key,
      };
      rec.attempts.push(attempt);
      dirty.set(id, rec);
      if (key !== null) {
        pmidIndex(provider, true)!.set(key, rec);
        const parkedKey = parked.size === 0 ? null : lookupKey(ev.provider, key);
        const waiting = parkedKey === null ? undefined : parked.get(parkedKey);
        if (parkedKey !== null && waiting) {
          parked.delete(parkedKey);
          for (const cb of waiting) if (open.has(rec.id)) addCallback(rec, cb);
        }
      }
      return IngestStatus.APPLIED;
    },
    onCallback(ev) {
      seen(ev.envelope.occurred_at);
      const rid = ev.envelope.request_id;
      const rec =
        (rid !== null ? open.get(rid) : undefined) ??
        pmidIndex(low(ev.provider), false)?.get(ev.provider_message_id);
      if (rec) return addCallback(rec, ev);
      if (rid !== null) return IngestStatus.IGNORED; // closed or unknown: the engine's tombstones are not modelled
      // Parked callbacks are few and short-lived: a concatenated key is fine here.
      const key = lookupKey(ev.provider, ev.provider_message_id);
      const list = parked.get(key);
      if (list) list.push(ev);
      else parked.set(key, [ev]);
      return IngestStatus.APPLIED;
    },
    tick() {
      const clock = Math.max(eventTime, wall.now() - WALL_FALLBACK_MS);
      for (let d = heap.peek(); d !== undefined && d.at <= clock; d = heap.peek()) {
        heap.pop();
        const rec = d.rec;
        if (open.get(rec.id) !== rec) continue; // closed since
        if (d.giveUp) {
          emit(rec, 'missing_outcome', false);
          close(rec);
        } else if (rec.verdict === null) {
          emit(rec, 'overdue', true);
          dirty.set(rec.id, rec);
        }
      }
    },
    drainOutputs() {
      const out = { verdicts, actions: [] };
      verdicts = [];
      return out;
    },
    drainChangelog() {
      const out: { key: string; value: Buffer | null }[] = [];
      for (const [key, rec] of dirty) out.push({ key, value: rec === null ? null : v8.serialize(rec) });
      dirty.clear();
      return out;
    },
    stats() {
      return { openRequests: open.size, bytes: { total: 0 } };
    },
  };
}
