// The reference model of SEMANTICS.md: plain objects, whole histories, every request re-classified from
// scratch at every step. Slow and obvious on purpose; the engine must agree with it verdict for verdict.
//
// It shares with the engine only the documented hash functions used as deterministic tie-breaks
// (src/engine/hash.ts) and the option defaults. No state bounds, no restarts (those have unit tests).
import type {
  Action,
  ActionKind,
  CallbackStatus,
  DispatchAttempted,
  ErrorCategory,
  EvidenceLevel,
  Hop,
  ProviderCallback,
  RequestAccepted,
  Verdict,
  VerdictClass,
} from '@pathwatch/schemas';
import { H, h2AddNumber, h2AddString, h2Finish, h2Start, hash32 } from '../src/engine/hash.js';
import type { EngineOptions, ResolvedOptions } from '../src/engine/options.js';
import { resolveOptions } from '../src/engine/options.js';
import type { InputPosition } from '../src/engine/types.js';

const FLAGS = [
  'duplicate_callback',
  'retried',
  'failed_over',
  'conflicting_evidence',
  'ambiguous_submit',
  'callback_before_dispatch',
  'multi_delivered',
  'overdue_due_to_downtime',
  'beyond_correction_horizon',
  'state_bound_evicted',
  'provider_clock_skew',
] as const;
type Flag = (typeof FLAGS)[number];

const EVIDENCE: readonly EvidenceLevel[] = ['none', 'provider_synthetic', 'operator', 'handset'];
const evRank = (e: EvidenceLevel): number => EVIDENCE.indexOf(e);

type Outcome = 'success' | 'failure' | 'expired';

function finalOutcome(s: CallbackStatus): Outcome | null {
  if (s === 'delivered') return 'success';
  if (s === 'expired') return 'expired';
  if (s === 'undelivered' || s === 'rejected' || s === 'failed') return 'failure';
  return null;
}

function rank(s: CallbackStatus, isFinal: boolean): number {
  if (s === 'unknown') return 5;
  if (s === 'queued') return 10;
  if (s === 'sent') return 40;
  return isFinal ? 90 : 50;
}

interface Cb {
  ev: ProviderCallback;
  eid: string;
  nat: string;
  natA: number;
  natB: number;
  time: number; // min(provider_event_time, occurred_at): before its bounds (cbTime)
  occ: number; // occurred_at
  dup: boolean;
  unattachedOnArrival: boolean;
}

interface Att {
  ev: DispatchAttempted;
  eid: string;
  attH: number;
}

interface Req {
  key: string; // request id, or provider:pmid for callbacks waiting without request id
  pseudo: boolean;
  provider: string; // pseudo only
  pmid: string; // pseudo only
  partition: number;
  tenant: string;
  base: number; // accepted_at, or earliest occurred_at of an orphan's events
  request: RequestAccepted | null;
  slaMs: number;
  giveUpMs: number;
  attempts: Att[];
  callbacks: Cb[];
  version: number;
  last: {
    cls: VerdictClass;
    provisional: boolean;
    flags: string;
    errCat: string | null;
    errCode: string | null;
    evidence: EvidenceLevel;
  } | null;
  closed: boolean;
  expiry: number;
  emitted: Set<string>; // action ids requested
  retracted: Set<string>;
  beyond: boolean;
  /** Event time of its last evaluation (clock-fired ones are decided at the threshold that changed it). */
  evalAt: number;
}

interface Classified {
  cls: VerdictClass | 'pending';
  provisional: boolean;
  flags: Flag[];
  errCat: ErrorCategory | null;
  errCode: string | null;
  evidence: EvidenceLevel;
  finalAt: number | null;
  lastAttempt: Att | null;
  attempts: { att: Att; lastStatus: CallbackStatus | null; lastStatusAt: number | null }[];
}

interface Input {
  maxEvent: number;
  seenAt: number;
  activeSince: number;
  idle: boolean;
  backlog: number;
}

const KIND = { request: 0, dispatch: 1, callback: 2 } as const;

export class ReferenceModel {
  readonly o: ResolvedOptions;
  private readonly inputs = new Map<number, Input>();
  T = -Infinity;
  private source: 'watermark' | 'wall_clock' = 'watermark';
  private readonly reqs = new Map<string, Req>();
  private readonly pmidIndex = new Map<string, string>(); // provider \0 pmid -> req key
  private readonly tombs = new Map<string, { version: number; lastClass: VerdictClass; expiry: number }>();
  private verdicts: Verdict[] = [];
  private actions: Action[] = [];
  private wallNow = 0;
  private stepEventTime = NaN;

  constructor(
    options: EngineOptions,
    private readonly wall: () => number,
  ) {
    this.o = resolveOptions(options);
  }

  drainOutputs(): { verdicts: Verdict[]; actions: Action[] } {
    const out = { verdicts: this.verdicts, actions: this.actions };
    this.verdicts = [];
    this.actions = [];
    return out;
  }

  // ---- clock ----

  private input(id: number): Input {
    let i = this.inputs.get(id);
    if (!i) {
      i = { maxEvent: -Infinity, seenAt: this.wallNow, activeSince: this.wallNow, idle: false, backlog: 0 };
      this.inputs.set(id, i);
    }
    return i;
  }

  private observe(id: number, t: number): boolean {
    const i = this.input(id);
    i.seenAt = this.wallNow;
    i.idle = false;
    i.maxEvent = Math.max(i.maxEvent, Math.min(t, this.wallNow + this.o.maxFutureSkewMs));
    let m = Infinity;
    for (const x of this.inputs.values())
      if (!x.idle) m = Math.min(m, x.maxEvent - this.o.maxOutOfOrdernessMs);
    if (m !== Infinity && m > this.T) {
      this.T = m;
      this.source = 'watermark';
      return true;
    }
    return false;
  }

  tick(): void {
    this.wallNow = this.wall();
    let anyActive = false;
    for (const x of this.inputs.values()) {
      x.idle = this.wallNow - Math.max(x.seenAt, x.activeSince) >= this.o.idleTimeoutMs && x.backlog <= 0;
      if (!x.idle) anyActive = true;
    }
    let m = Infinity;
    let src: 'watermark' | 'wall_clock' = 'watermark';
    if (anyActive) {
      for (const x of this.inputs.values())
        if (!x.idle) m = Math.min(m, x.maxEvent - this.o.maxOutOfOrdernessMs);
    } else {
      src = 'wall_clock';
      for (const x of this.inputs.values())
        if (x.maxEvent !== -Infinity)
          m = Math.min(m, x.maxEvent - this.o.maxOutOfOrdernessMs + this.wallNow - x.seenAt);
    }
    if (m !== Infinity && m > this.T) {
      this.T = m;
      this.source = src;
      this.clockStep();
    }
  }

  /** After the clock advanced: re-classify everything, then forget what passed its horizon. */
  private clockStep(): void {
    const firedBy = this.source;
    for (const r of [...this.reqs.values()]) if (!r.closed) this.passThresholds(r, firedBy);
    for (const r of [...this.reqs.values()]) if (r.closed && this.T >= r.expiry) this.forget(r);
  }

  /**
   * The clock passed some of the key's thresholds: it is decided at each one in turn, as if the clock had moved
   * smoothly (so the versions do not depend on how far one step moved T). Every time at which C(key, ·) can
   * change is a candidate; evaluating at one where nothing changes emits nothing.
   */
  private passThresholds(r: Req, firedBy: Verdict['fired_by']): void {
    const g = this.o.retryGraceMs;
    const cands = r.request
      ? [
          r.base + r.slaMs,
          r.base + Math.max(r.giveUpMs, r.slaMs),
          ...r.attempts.map((a) => a.ev.envelope.occurred_at + g),
          ...r.callbacks.map((c) => this.cbTime(r, c) + g),
        ]
      : [r.base + this.o.orphanGraceMs];
    const due = [...new Set(cands)].filter((c) => c > r.evalAt && c <= this.T).sort((x, y) => x - y);
    for (const c of due) {
      if (r.closed) break;
      this.evaluate(r, firedBy, c);
    }
  }

  /**
   * What a callback answers: its attempt's dispatch (and the acceptance), or, unattached, the acceptance and the
   * first dispatch. -Infinity when nothing is known.
   */
  private cbLower(r: Req, c: Cb): number {
    const acc = r.request ? r.base : -Infinity;
    const a = this.attachTo(r, c);
    if (a) return Math.max(acc, a.ev.envelope.occurred_at);
    if (r.attempts.length === 0) return acc;
    return Math.max(acc, Math.min(...r.attempts.map((x) => x.ev.envelope.occurred_at)));
  }

  /** Evidence time of a callback: within [what it answers, when we heard of it]. */
  private cbTime(r: Req, c: Cb): number {
    const lower = this.cbLower(r, c);
    if (c.time >= lower) return c.time;
    // A provider_event_time before what it answers proves a slow provider clock: when we heard of it counts.
    return Math.max(lower, c.occ > c.time ? c.occ : c.time);
  }

  /** Newest evidence time of a key: acceptance, dispatches, non-duplicate callbacks (within their bounds). */
  private evidenceAt(r: Req): number {
    return Math.max(
      r.request ? r.base : -Infinity,
      ...r.attempts.map((a) => a.ev.envelope.occurred_at),
      ...r.callbacks.filter((c) => !c.dup).map((c) => this.cbTime(r, c)),
    );
  }

  /** By how much the provider's time preceded what the callback answers (0: no proven skew). */
  private cbSkew(r: Req, c: Cb): number {
    const lower = this.cbLower(r, c);
    return c.time < lower && c.occ > c.time ? lower - c.time : 0;
  }

  // ---- input ----

  onRequest(ev: RequestAccepted, at: InputPosition): number {
    this.wallNow = this.wall();
    const rid = ev.envelope.request_id;
    const t = ev.envelope.occurred_at;
    const id = at.partition * 3 + KIND.request;
    if (!rid) {
      this.touch(id);
      return 2;
    }
    const advanced = this.observe(id, t);
    this.stepEventTime = t;
    const { slaMs, giveUpMs } = this.deadlines(ev);
    let r = this.reqs.get(rid);
    let status = 0;
    const tooOld = t + giveUpMs + this.o.correctionHorizonMs < this.T;
    if (!r) {
      if (tooOld || this.tomb(rid)) status = 3;
      else r = this.newReq(rid, false, '', '', at.partition, ev.envelope.tenant_id, t);
    } else if (r.request) status = 1;
    else if (tooOld || r.beyond) status = 3;
    if (status === 0 && r) {
      r.request = ev;
      r.tenant = ev.envelope.tenant_id;
      r.base = t;
      r.slaMs = slaMs;
      r.giveUpMs = giveUpMs;
      r.closed = false;
      this.evaluate(r, 'event');
    }
    this.finish(advanced);
    return status;
  }

  onDispatch(ev: DispatchAttempted, at: InputPosition): number {
    this.wallNow = this.wall();
    const rid = ev.envelope.request_id;
    const t = ev.envelope.occurred_at;
    const id = at.partition * 3 + KIND.dispatch;
    if (!rid || !ev.attempt_id || !ev.provider) {
      this.touch(id);
      return 2;
    }
    const advanced = this.observe(id, t);
    this.stepEventTime = t;
    const eid = `${ev.envelope.source}\u0000${ev.envelope.event_id}`;
    let r = this.reqs.get(rid);
    if (r && r.attempts.some((a) => a.eid === eid || a.ev.attempt_id === ev.attempt_id)) {
      this.finish(advanced);
      return 1;
    }
    if (!r) r = this.newOrphan(rid, at.partition, ev.envelope.tenant_id, t);
    else if (!r.request) r.base = Math.min(r.base, t);
    const pmid = ev.provider_message_id;
    if (pmid) this.bind(r, ev.provider, pmid);
    r.attempts.push({ ev, eid, attH: hash32(ev.attempt_id, 0x3b9) });
    r.closed = false;
    this.evaluate(r, 'event');
    this.finish(advanced);
    return 0;
  }

  onCallback(ev: ProviderCallback, at: InputPosition): number {
    this.wallNow = this.wall();
    const rid = ev.envelope.request_id;
    const t = ev.envelope.occurred_at;
    const id = at.partition * 3 + KIND.callback;
    if (!ev.provider || !ev.provider_message_id) {
      this.touch(id);
      return 2;
    }
    const advanced = this.observe(id, t);
    this.stepEventTime = t;
    let r: Req | undefined;
    let created = false;
    if (rid) {
      r = this.reqs.get(rid);
      if (!r) {
        r = this.newOrphan(rid, at.partition, ev.envelope.tenant_id, t);
        created = true;
      }
    } else {
      const k = this.pmidIndex.get(`${ev.provider}\u0000${ev.provider_message_id}`);
      r = k === undefined ? undefined : this.reqs.get(k);
      if (!r) {
        const key = `${ev.provider}:${ev.provider_message_id}`;
        r = this.newReq(
          key,
          true,
          ev.provider,
          ev.provider_message_id,
          at.partition,
          ev.envelope.tenant_id,
          t,
        );
        this.continueFromTomb(r, `\u0000cb:${key}`);
        this.pmidIndex.set(`${ev.provider}\u0000${ev.provider_message_id}`, key);
        created = true;
      }
    }
    const cb = makeCb(ev);
    if (r.callbacks.some((c) => c.eid === cb.eid)) {
      this.finish(advanced);
      return 1;
    }
    cb.dup = r.callbacks.some((c) => c.nat === cb.nat);
    cb.unattachedOnArrival = this.attachTo(r, cb) === null;
    r.callbacks.push(cb);
    if (!created && !r.request) r.base = Math.min(r.base, t);
    r.closed = false;
    this.evaluate(r, 'event');
    this.finish(advanced);
    return 0;
  }

  private touch(id: number): void {
    const i = this.input(id);
    i.seenAt = this.wallNow;
    i.idle = false;
  }

  private finish(advanced: boolean): void {
    if (advanced) this.clockStep();
    this.stepEventTime = NaN;
  }

  private deadlines(ev: RequestAccepted): { slaMs: number; giveUpMs: number } {
    let rule: { slaMs: number; giveUpMs: number } = {
      slaMs: this.o.defaultSlaMs,
      giveUpMs: this.o.defaultGiveUpMs,
    };
    let best = -1;
    for (const r of this.o.deadlineRules) {
      if (r.operation !== undefined && r.operation !== ev.operation) continue;
      if (r.channel !== undefined && r.channel !== ev.channel) continue;
      const score = (r.operation !== undefined ? 2 : 0) + (r.channel !== undefined ? 1 : 0);
      if (score > best) {
        best = score;
        rule = r;
      }
    }
    const sla = ev.sla_ms !== null && ev.sla_ms >= 0 ? ev.sla_ms : rule.slaMs;
    const give = ev.give_up_ms !== null && ev.give_up_ms >= 0 ? ev.give_up_ms : rule.giveUpMs;
    const s = Math.min(sla, 2147483647);
    return { slaMs: s, giveUpMs: Math.min(Math.max(give, s), 2147483647) };
  }

  private tomb(key: string): { version: number; lastClass: VerdictClass; expiry: number } | undefined {
    const t = this.tombs.get(key);
    return t && t.expiry > this.T ? t : undefined;
  }

  private newReq(
    key: string,
    pseudo: boolean,
    provider: string,
    pmid: string,
    partition: number,
    tenant: string,
    t: number,
  ): Req {
    const r: Req = {
      key,
      pseudo,
      provider,
      pmid,
      partition,
      tenant,
      base: t,
      request: null,
      slaMs: this.o.defaultSlaMs,
      giveUpMs: this.o.defaultGiveUpMs,
      attempts: [],
      callbacks: [],
      version: 0,
      last: null,
      closed: false,
      expiry: NaN,
      emitted: new Set(),
      retracted: new Set(),
      beyond: false,
      evalAt: -Infinity,
    };
    this.reqs.set(key, r);
    return r;
  }

  private newOrphan(rid: string, partition: number, tenant: string, t: number): Req {
    const r = this.newReq(rid, false, '', '', partition, tenant, t);
    this.continueFromTomb(r, rid);
    return r;
  }

  /** Late evidence for a forgotten key continues its versions, flagged. */
  private continueFromTomb(r: Req, tombKey: string): void {
    const tomb = this.tomb(tombKey);
    if (!tomb) return;
    r.version = tomb.version;
    r.last = {
      cls: tomb.lastClass,
      provisional: false,
      flags: '',
      errCat: null,
      errCode: null,
      evidence: 'none',
    };
    r.beyond = true;
    this.tombs.delete(tombKey);
  }

  /** A dispatch records (provider, pmid): callbacks waiting under that key move into the request. */
  private bind(r: Req, provider: string, pmid: string): void {
    const k = `${provider}\u0000${pmid}`;
    const owner = this.pmidIndex.get(k);
    if (owner === undefined) {
      this.pmidIndex.set(k, r.key);
      return;
    }
    if (owner === r.key) return;
    const other = this.reqs.get(owner);
    if (!other || !other.pseudo) return; // another request owns it: first binding wins
    for (const c of other.callbacks) {
      if (r.callbacks.some((x) => x.eid === c.eid)) continue;
      r.callbacks.push({ ...c, dup: r.callbacks.some((x) => x.nat === c.nat), unattachedOnArrival: true });
    }
    this.reqs.delete(owner);
    if (other.version > 0 && other.last)
      this.tombs.set(`\u0000cb:${other.key}`, {
        version: other.version,
        lastClass: other.last.cls,
        expiry: this.T + this.o.tombstoneHorizonMs,
      });
    this.pmidIndex.set(k, r.key);
  }

  private forget(r: Req): void {
    this.reqs.delete(r.key);
    if (r.pseudo) {
      this.pmidIndex.delete(`${r.provider}\u0000${r.pmid}`);
      if (r.version > 0 && r.last)
        this.tombs.set(`\u0000cb:${r.key}`, {
          version: r.version,
          lastClass: r.last.cls,
          expiry: this.T + this.o.tombstoneHorizonMs,
        });
      return;
    }
    for (const a of r.attempts) {
      const p = a.ev.provider_message_id;
      if (p && this.pmidIndex.get(`${a.ev.provider}\u0000${p}`) === r.key)
        this.pmidIndex.delete(`${a.ev.provider}\u0000${p}`);
    }
    if (r.version > 0 && r.last)
      this.tombs.set(r.key, {
        version: r.version,
        lastClass: r.last.cls,
        expiry: this.T + this.o.tombstoneHorizonMs,
      });
  }

  // ---- semantics ----

  /** The attempt a callback belongs to: by attempt_id, else by (provider, provider_message_id); null if none yet. */
  private attachTo(r: Req, c: Cb): Att | null {
    if (c.ev.attempt_id) {
      const a = r.attempts.find((x) => x.ev.attempt_id === c.ev.attempt_id);
      if (a) return a;
    }
    return (
      r.attempts.find(
        (x) =>
          x.ev.provider_message_id !== null &&
          x.ev.provider_message_id === c.ev.provider_message_id &&
          x.ev.provider === c.ev.provider,
      ) ?? null
    );
  }

  classify(r: Req, T: number): Classified {
    const attempts = r.attempts;
    const live = r.callbacks.filter((c) => !c.dup);
    const byAttempt = new Map<Att | null, Cb[]>();
    for (const c of live) {
      const a = this.attachTo(r, c);
      const list = byAttempt.get(a) ?? [];
      list.push(c);
      byAttempt.set(a, list);
    }
    const unattached = byAttempt.get(null) ?? [];
    const tm = (c: Cb): number => this.cbTime(r, c);

    // Outcome of one attempt (or of the unattached evidence when att is null).
    const outcomeOf = (att: Att | null) => {
      const cbs = byAttempt.get(att) ?? [];
      const finals = cbs.filter((c) => c.ev.is_final && finalOutcome(c.ev.status) !== null);
      const hard = finals.filter((c) => c.ev.evidence_level !== 'provider_synthetic');
      const pool = hard.length > 0 ? hard : finals;
      const kinds = new Set(finals.map((c) => finalOutcome(c.ev.status)));
      const successes = pool.filter((c) => c.ev.status === 'delivered');
      const intermediates = cbs.filter((c) => !(c.ev.is_final && finalOutcome(c.ev.status) !== null));
      let best: Cb | null = null;
      const key = (c: Cb) => [
        rank(c.ev.status, c.ev.is_final),
        c.ev.provider_sequence ?? -Infinity,
        tm(c),
        c.natA,
        c.natB,
      ];
      for (const c of intermediates) {
        if (!best) best = c;
        else {
          const a = key(c);
          const b = key(best);
          for (let i = 0; i < a.length; i++) {
            if (a[i] !== b[i]) {
              if ((a[i] as number) > (b[i] as number)) best = c;
              break;
            }
          }
        }
      }
      let kind: Outcome | null = null;
      let time = NaN;
      let evidence = 0;
      let rec: Cb | null = null;
      let lastStatus: CallbackStatus | null = null;
      let lastStatusAt: number | null = null;
      if (successes.length > 0) {
        kind = 'success';
        time = Math.min(...successes.map((c) => tm(c)));
        evidence = Math.max(...successes.map((c) => evRank(c.ev.evidence_level)));
        lastStatus = 'delivered';
        lastStatusAt = time;
      } else if (pool.length > 0) {
        const sorted = [...pool].sort(
          (x, y) =>
            tm(x) - tm(y) ||
            (finalOutcome(x.ev.status) === finalOutcome(y.ev.status)
              ? 0
              : finalOutcome(x.ev.status) === 'failure'
                ? -1
                : 1) ||
            x.natA - y.natA ||
            x.natB - y.natB,
        );
        rec = sorted[0]!;
        kind = finalOutcome(rec.ev.status);
        time = tm(rec);
        evidence = evRank(rec.ev.evidence_level);
        lastStatus = rec.ev.status;
        lastStatusAt = tm(rec);
      } else if (att && (att.ev.submit_outcome === 'rejected' || att.ev.submit_outcome === 'error')) {
        kind = 'failure';
        time = att.ev.envelope.occurred_at;
      }
      if (lastStatus === null && best) {
        lastStatus = best.ev.status;
        lastStatusAt = tm(best);
      }
      return { kind, time, evidence, rec, conflict: kinds.size >= 2, lastStatus, lastStatusAt };
    };

    const order = [...attempts].sort(
      (x, y) =>
        x.ev.attempt_no - y.ev.attempt_no ||
        x.ev.envelope.occurred_at - y.ev.envelope.occurred_at ||
        x.attH - y.attH,
    );
    const outcomes = new Map<Att | null, ReturnType<typeof outcomeOf>>();
    for (const a of attempts) outcomes.set(a, outcomeOf(a));
    outcomes.set(null, outcomeOf(null));
    const last = order.length > 0 ? order[order.length - 1]! : null;

    const flags = new Set<Flag>();
    if (r.callbacks.some((c) => c.dup)) flags.add('duplicate_callback');
    if (attempts.length >= 2) flags.add('retried');
    if (
      attempts.some(
        (a) => a.ev.attempt_reason === 'failover' || a.ev.attempt_reason === 'channel_fallback',
      ) ||
      new Set(attempts.map((a) => a.ev.provider)).size >= 2
    )
      flags.add('failed_over');
    if ([...outcomes.values()].some((o) => o.conflict)) flags.add('conflicting_evidence');
    if (attempts.some((a) => a.ev.submit_outcome === 'timeout')) flags.add('ambiguous_submit');
    if (live.some((c) => c.unattachedOnArrival && this.attachTo(r, c) !== null))
      flags.add('callback_before_dispatch');
    if (attempts.filter((a) => outcomes.get(a)!.kind === 'success').length >= 2) flags.add('multi_delivered');
    if (r.beyond) flags.add('beyond_correction_horizon');
    if (live.some((c) => this.cbSkew(r, c) > 0)) flags.add('provider_clock_skew');
    const flagList = FLAGS.filter((f) => flags.has(f));
    const maxEvidence = EVIDENCE[Math.max(0, ...live.map((c) => evRank(c.ev.evidence_level)))]!;
    const attemptSummaries = order.map((att) => {
      const o = outcomes.get(att)!;
      return { att, lastStatus: o.lastStatus, lastStatusAt: o.lastStatusAt };
    });
    const base: Classified = {
      cls: 'pending',
      provisional: false,
      flags: flagList,
      errCat: null,
      errCode: null,
      evidence: maxEvidence,
      finalAt: null,
      lastAttempt: last,
      attempts: attemptSummaries,
    };

    if (!r.request) {
      if (T >= r.base + this.o.orphanGraceMs)
        return { ...base, cls: attempts.length > 0 ? 'orphan_dispatch' : 'orphan_callback' };
      return base;
    }
    const acceptedAt = r.base;
    const sla = acceptedAt + r.slaMs;
    const giveUp = acceptedAt + r.giveUpMs;
    const successes = [...attempts, ...(unattached.length > 0 ? [null] : [])]
      .map((a) => outcomes.get(a)!)
      .filter((o) => o.kind === 'success');
    if (successes.length > 0) {
      const finalAt = Math.min(...successes.map((o) => o.time));
      return {
        ...base,
        cls: finalAt <= sla ? 'delivered_on_time' : 'delivered_late',
        finalAt,
        evidence: EVIDENCE[Math.max(...successes.map((o) => o.evidence))]!,
      };
    }
    const api = r.request.api_status;
    if (api < 200 || api > 299)
      return { ...base, cls: 'failed', errCat: 'rejected', errCode: `api_status_${api}`, evidence: 'none' };
    const deciding = last ?? (unattached.length > 0 ? null : undefined);
    if (deciding !== undefined) {
      const o = outcomes.get(deciding)!;
      if (o.kind === 'failure' || o.kind === 'expired') {
        const settle = Math.min(o.time + this.o.retryGraceMs, giveUp);
        if (T >= settle) {
          let errCat: ErrorCategory | null;
          let errCode: string | null;
          if (o.rec) {
            errCat = o.rec.ev.error_category ?? (o.kind === 'expired' ? 'expired' : 'unknown');
            errCode = o.rec.ev.error_code ?? null;
          } else {
            errCat = deciding?.ev.submit_outcome === 'rejected' ? 'rejected' : 'internal';
            errCode = deciding?.ev.error_code ?? null;
          }
          return {
            ...base,
            cls: o.kind === 'expired' ? 'expired' : 'failed',
            finalAt: o.time,
            evidence: EVIDENCE[o.evidence]!,
            errCat,
            errCode,
          };
        }
      }
    }
    if (T >= giveUp)
      return {
        ...base,
        cls: attempts.length === 0 && live.length === 0 ? 'missing_dispatch' : 'missing_outcome',
      };
    if (T >= sla) return { ...base, cls: 'overdue', provisional: true };
    return base;
  }

  private evaluate(r: Req, firedBy: Verdict['fired_by'], at = NaN): void {
    const T = at === at ? at : this.T;
    r.evalAt = T;
    const c = this.classify(r, T);
    // Never before the newest evidence it rests on.
    const decidedAt = Math.max(
      T !== -Infinity ? T : this.stepEventTime === this.stepEventTime ? this.stepEventTime : this.wallNow,
      this.evidenceAt(r),
    );
    if (c.cls !== 'pending') {
      const k = {
        cls: c.cls,
        provisional: c.provisional,
        flags: c.flags.join(','),
        errCat: c.errCat,
        errCode: c.errCode,
        evidence: c.evidence,
      };
      const l = r.last;
      const changed =
        r.version === 0 ||
        !l ||
        l.cls !== k.cls ||
        l.provisional !== k.provisional ||
        l.flags !== k.flags ||
        l.errCat !== k.errCat ||
        l.errCode !== k.errCode ||
        l.evidence !== k.evidence;
      if (changed) {
        const isCorrection = r.version > 0 && l !== null && !l.provisional && l.cls !== k.cls;
        const revisionKind: NonNullable<Verdict['revision_kind']> =
          r.version === 0 || !l
            ? 'initial'
            : l.provisional
              ? 'progress'
              : isCorrection
                ? 'correction'
                : 'revision';
        const previous = r.version > 0 && l ? l.cls : null;
        r.version++;
        r.last = k;
        const v = this.verdict(r, c, firedBy, decidedAt, isCorrection, previous, revisionKind);
        this.verdicts.push(v);
        this.emitActions(r, v, c);
      }
    }
    if (c.cls !== 'pending' && !c.provisional) {
      r.closed = true;
      r.expiry = decidedAt + this.o.correctionHorizonMs;
    } else r.closed = false;
  }

  private verdict(
    r: Req,
    c: Classified,
    firedBy: Verdict['fired_by'],
    decidedAt: number,
    isCorrection: boolean,
    previous: VerdictClass | null,
    revisionKind: NonNullable<Verdict['revision_kind']>,
  ): Verdict {
    const req = r.request;
    const hops: { hop: Hop; rank: number; i: number }[] = [];
    const push = (hop: Hop, rank: number) => hops.push({ hop, rank, i: hops.length });
    if (req) push({ kind: 'accepted', at: r.base, detail: `accepted ${req.api_status}` }, 0);
    for (const { att } of c.attempts) {
      const e = att.ev;
      push(
        {
          kind: 'dispatch',
          at: e.envelope.occurred_at,
          detail: `${e.attempt_reason} ${e.provider}/${e.route} ${e.submit_outcome}${e.error_code ? ` ${e.error_code}` : ''}`,
        },
        1,
      );
    }
    for (const cb of r.callbacks) {
      if (cb.dup) continue;
      const e = cb.ev;
      push(
        {
          kind: 'callback',
          at: this.cbTime(r, cb),
          detail: e.is_final
            ? `${e.status} (${e.evidence_level})`
            : `${e.status} intermediate (${e.evidence_level})`,
        },
        2,
      );
    }
    const cls = c.cls as VerdictClass;
    push(
      {
        kind: 'verdict',
        at: decidedAt,
        detail: `${cls}${c.provisional ? ' provisional' : ''} v${r.version}`,
      },
      3,
    );
    hops.sort((x, y) => x.hop.at - y.hop.at || x.rank - y.rank || x.i - y.i);
    const max = this.o.maxHops;
    const ordered = hops.map((h) => h.hop);
    const bounded =
      ordered.length <= max
        ? ordered
        : [...ordered.slice(0, max >> 1), ...ordered.slice(ordered.length - (max - (max >> 1)))];

    const attempts = c.attempts.map(({ att, lastStatus, lastStatusAt }) => ({
      attempt_id: att.ev.attempt_id,
      attempt_no: att.ev.attempt_no,
      reason: att.ev.attempt_reason,
      route: att.ev.route,
      provider: att.ev.provider,
      provider_message_id: att.ev.provider_message_id,
      submit_outcome: att.ev.submit_outcome,
      dispatched_at: att.ev.envelope.occurred_at,
      last_status: lastStatus,
      last_status_at: lastStatusAt,
    }));
    const dispatchTimes = r.attempts.map((a) => a.ev.envelope.occurred_at);
    const acceptedTimes = r.attempts
      .filter((a) => a.ev.submit_outcome === 'accepted')
      .map((a) => a.ev.envelope.occurred_at);
    const final = !c.provisional;
    const orphan = cls === 'orphan_callback' || cls === 'orphan_dispatch';
    const liveCallbacks = r.callbacks.filter((x) => !x.dup).length;
    let executionOk: boolean | null = null;
    if (r.attempts.some((a) => a.ev.submit_outcome === 'accepted') || liveCallbacks > 0) executionOk = true;
    else if (
      final &&
      !orphan &&
      (r.attempts.length === 0 ||
        r.attempts.every((a) => a.ev.submit_outcome === 'rejected' || a.ev.submit_outcome === 'error'))
    )
      executionOk = false;
    const outcomeOk = cls === 'delivered_on_time' ? true : final && !orphan ? false : null;
    const T = this.T;
    return {
      verdict_id: `${r.key}:v${r.version}`,
      request_id: r.key,
      tenant_id: r.tenant,
      version: r.version,
      verdict: cls,
      provisional: c.provisional,
      is_correction: isCorrection,
      previous_verdict: previous,
      error_category: c.errCat,
      error_code: c.errCode,
      flags: [...c.flags],
      api_ok: req !== null && req.api_status >= 200 && req.api_status <= 299,
      execution_ok: executionOk,
      outcome_ok: outcomeOk,
      fired_by: firedBy,
      watermark_lag_ms: Math.round(this.wallNow - (T === -Infinity ? decidedAt : T)),
      decided_at: decidedAt,
      emitted_at: this.wallNow,
      operation: req?.operation ?? '',
      channel: req?.channel ?? '',
      input_fingerprint: req?.input_fingerprint ?? '',
      attributes: req ? sortedAttrs(req.attributes) : {},
      accepted_at: req ? r.base : null,
      sla_ms: req ? r.slaMs : this.o.defaultSlaMs,
      give_up_ms: req ? r.giveUpMs : this.o.defaultGiveUpMs,
      first_dispatch_at: dispatchTimes.length > 0 ? Math.min(...dispatchTimes) : null,
      provider_accepted_at: acceptedTimes.length > 0 ? Math.min(...acceptedTimes) : null,
      final_at: c.finalAt,
      evidence_level: c.evidence,
      callbacks: r.callbacks.length,
      duplicate_callbacks: r.callbacks.filter((x) => x.dup).length,
      attempts,
      hops: bounded,
      revision_kind: revisionKind,
      evidence_at: this.evidenceAt(r) === -Infinity ? null : this.evidenceAt(r),
      clock_skew_ms: (() => {
        const k = Math.max(0, ...r.callbacks.filter((x) => !x.dup).map((x) => this.cbSkew(r, x)));
        return k > 0 ? Math.round(k) : null;
      })(),
    };
  }

  private emitActions(r: Req, v: Verdict, c: Classified): void {
    const cls = v.verdict;
    const lastProvider = c.lastAttempt?.ev.provider ?? null;
    const lastRoute = c.lastAttempt?.ev.route ?? null;
    const mk = (id: string, kind: ActionKind, retracts: string | null): Action => ({
      action_id: id,
      request_id: v.request_id,
      tenant_id: v.tenant_id,
      kind,
      reason: cls,
      retracts_action_id: retracts,
      verdict_id: v.verdict_id,
      verdict_version: v.version,
      provisional: v.provisional,
      created_at: v.decided_at,
      operation: v.operation,
      channel: v.channel,
      last_provider: lastProvider,
      last_route: lastRoute,
      // actionRules carry no rule id or parameters.
      rule_id: null,
      params: {},
    });
    // Retractions in (trigger class, kind) order, as the engine's bit order.
    const classes: VerdictClass[] = [
      'delivered_late',
      'failed',
      'missing_dispatch',
      'missing_outcome',
      'expired',
      'orphan_callback',
      'orphan_dispatch',
      'overdue',
    ];
    const kinds: ActionKind[] = ['resend_alternate_route', 'fallback_channel', 'refund', 'alert'];
    for (const trigger of classes) {
      for (const kind of kinds) {
        const id = `${r.key}:${kind}:${trigger}`;
        if (!r.emitted.has(id) || r.retracted.has(id)) continue;
        if (!moot(trigger, cls)) continue;
        r.retracted.add(id);
        this.actions.push(mk(`${id}:retract`, 'retract', id));
      }
    }
    if (cls === 'delivered_on_time') return;
    for (const rule of this.o.actionRules) {
      if (rule.verdict !== cls) continue;
      if (rule.operation !== undefined && rule.operation !== v.operation) continue;
      if (rule.channel !== undefined && rule.channel !== v.channel) continue;
      for (const kind of rule.kinds) {
        const id = `${r.key}:${kind}:${cls}`;
        if (r.emitted.has(id)) continue;
        r.emitted.add(id);
        this.actions.push(mk(id, kind, null));
      }
    }
  }

  /** Request keys currently tracked (for tests). */
  keys(): string[] {
    return [...this.reqs.keys()];
  }
}

function moot(trigger: VerdictClass, now: VerdictClass): boolean {
  if (now === 'delivered_on_time') return trigger !== 'delivered_on_time';
  if (now === 'delivered_late') return trigger !== 'delivered_late';
  const orphan = (c: VerdictClass) => c === 'orphan_callback' || c === 'orphan_dispatch';
  if (orphan(trigger)) return !orphan(now);
  return false;
}

function sortedAttrs(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(a).sort()) out[k] = a[k]!;
  return out;
}

function makeCb(ev: ProviderCallback): Cb {
  const t = ev.envelope.occurred_at;
  const pet = ev.provider_event_time;
  const time = pet !== null && pet < t ? pet : t;
  h2Start(0x7a3c);
  h2AddString(ev.provider);
  let nat: string;
  if (ev.provider_event_id !== null) {
    h2AddNumber(1);
    h2AddString(ev.provider_event_id);
    nat = `E\u0000${ev.provider}\u0000${ev.provider_event_id}`;
  } else {
    h2AddString(ev.provider_message_id);
    h2AddString(ev.status_raw);
    h2AddNumber(pet ?? t);
    nat = `N\u0000${ev.provider}\u0000${ev.provider_message_id}\u0000${ev.status_raw}\u0000${pet ?? t}`;
  }
  h2Finish();
  return {
    ev,
    eid: `${ev.envelope.source}\u0000${ev.envelope.event_id}`,
    nat,
    natA: H.a,
    natB: H.b,
    time,
    occ: t,
    dup: false,
    unattachedOnArrival: false,
  };
}
