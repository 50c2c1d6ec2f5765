// The reference model of SEMANTICS.md: plain objects, whole histories, every request re-classified from
// scratch at every step. Slow and obvious on purpose; the engine must agree with it verdict for verdict.
//
// It shares with the engine only the documented hash functions used as deterministic tie-breaks
// (src/engine/hash.ts) and the option defaults. No state bounds, no restarts (those have unit tests).
// This file is its lifecycle (inputs, clock, keys, tombstones, when to re-evaluate); reference-model/ holds the
// state types, evidence times, classification and verdict/action building.
import type {
  Action,
  DispatchAttempted,
  ProviderCallback,
  RequestAccepted,
  Verdict,
  VerdictClass,
} from '@pathwatch/schemas';
import { hash32 } from '../src/engine/hash.js';
import type { EngineOptions, ResolvedOptions } from '../src/engine/options.js';
import { resolveOptions } from '../src/engine/options.js';
import type { InputPosition } from '../src/engine/types.js';
import { classify } from './reference-model/classify.js';
import { attachTo, cbTime, evidenceAt, makeCb } from './reference-model/evidence.js';
import { KIND, type Classified, type Input, type Req } from './reference-model/types.js';
import { buildVerdict, emitActions } from './reference-model/verdict.js';

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
          ...r.callbacks.map((c) => cbTime(r, c) + g),
        ]
      : [r.base + this.o.orphanGraceMs];
    const due = [...new Set(cands)].filter((c) => c > r.evalAt && c <= this.T).sort((x, y) => x - y);
    for (const c of due) {
      if (r.closed) break;
      this.evaluate(r, firedBy, c);
    }
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
    cb.unattachedOnArrival = attachTo(r, cb) === null;
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

  private evaluate(r: Req, firedBy: Verdict['fired_by'], at = NaN): void {
    const T = at === at ? at : this.T;
    r.evalAt = T;
    const c = classify(this.o, r, T);
    // Never before the newest evidence it rests on.
    const decidedAt = Math.max(
      T !== -Infinity ? T : this.stepEventTime === this.stepEventTime ? this.stepEventTime : this.wallNow,
      evidenceAt(r),
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
        const v = buildVerdict(
          { o: this.o, T: this.T, wallNow: this.wallNow },
          r,
          c,
          firedBy,
          decidedAt,
          isCorrection,
          previous,
          revisionKind,
        );
        this.verdicts.push(v);
        emitActions(this.o, this.actions, r, v, c);
      }
    }
    if (c.cls !== 'pending' && !c.provisional) {
      r.closed = true;
      r.expiry = decidedAt + this.o.correctionHorizonMs;
    } else r.closed = false;
  }

  /** Classifies a request at event time T (reference-model/classify.ts). */
  classify(r: Req, T: number): Classified {
    return classify(this.o, r, T);
  }

  /** Request keys currently tracked (for tests). */
  keys(): string[] {
    return [...this.reqs.keys()];
  }
}
