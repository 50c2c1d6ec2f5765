// The reconciler engine: one compact state per request_id, the hybrid clock, the deadline indexes and the
// verdict/action lifecycle. Pure: no I/O, no timers; time comes from the injected wall clock and the events.
// SEMANTICS.md is the specification; test/reference-model.ts is its executable twin.
import type {
  Action,
  DispatchAttempted,
  Hop,
  ProviderCallback,
  RequestAccepted,
  Verdict,
} from '@pathwatch/schemas';
import { Arena, MAX_BLOB_BYTES, PAGE_BITS, PAGE_BYTES } from './arena.js';
import { HybridClock, SRC_WALL } from './clock.js';
import * as K from './codes.js';
import { DeadlineIndex } from './deadlines.js';
import { H, h2AddNumber, h2AddString, h2Finish, h2Start, hash2, hash32 } from './hash.js';
import { HashIndex } from './hashindex.js';
import { AttributeSets, Interner } from './intern.js';
import type { HandoffCallback } from './handoff.js';
import { decodeHandoff, encodeHandoff, MAX_HANDOFF_CALLBACKS } from './handoff.js';
import type { EngineOptions, ResolvedOptions } from './options.js';
import { resolveOptions } from './options.js';
import { RemoteBindings } from './remote.js';
import { decodeAt, encodeTo, equalsAt, measure, sizeAt, write } from './strcodec.js';
import type {
  ChangelogRecord,
  ClockView,
  Engine,
  EngineOutputs,
  EngineStats,
  ExportCursor,
  HandoffRecord,
  IngestStatusCode,
  InputKind,
  InputPosition,
  WallClock,
} from './types.js';
import { IngestStatus } from './types.js';
import {
  ChangelogWriter,
  META_KEY,
  PSEUDO_KEY_PREFIX,
  parseTombHashKey,
  readSnapshot,
  REMOTE_BINDING_KEY_PREFIX,
  tombHashKey,
} from './snapshot.js';
import type { MetaImage, RestoredSlot } from './snapshot.js';

const KIND_REQUEST = 0;
const KIND_DISPATCH = 1;
const KIND_CALLBACK = 2;
const KIND_NAMES: readonly InputKind[] = ['request', 'dispatch', 'callback'];

const MASK = PAGE_BYTES - 1;
const NO_SLOT = -1;
const MAX_ATT = 65;
/** Scratch for encoding a record's strings before copying them in. */
const STR_SCRATCH = new Uint8Array(4 * 65536 + 64); // 64 attempts + the pseudo-attempt of unattached callbacks
const SEED_RID = 0x2f1a;
const SEED_EID = 0x51ed;
const SEED_NAT = 0x7a3c;
const SEED_TOMB = 0x44b1;

/** Longest provider_message_id + request_id of a remote binding (chars; keeps its blob small). */
const MAX_BINDING_CHARS = 4096;

/** Reserved blob space at request creation for the typical first attempt record (avoids one copy). */
const ATTEMPT_RESERVE = 64;

// Attempt outcome kinds.
const O_NONE = 0;
const O_SUCCESS = 1;
const O_FAILURE = 2;
const O_EXPIRED = 3;

function statusRank(status: number, isFinal: boolean): number {
  switch (status) {
    case K.S_UNKNOWN:
      return 5;
    case K.S_QUEUED:
      return 10;
    case K.S_SENT:
      return 40;
    default:
      // A terminal status the provider did not mark final ranks above any intermediate, below a real final.
      return isFinal ? 90 : 50;
  }
}

function finalKind(status: number): number {
  switch (status) {
    case K.S_DELIVERED:
      return O_SUCCESS;
    case K.S_EXPIRED:
      return O_EXPIRED;
    case K.S_UNDELIVERED:
    case K.S_REJECTED:
    case K.S_FAILED:
      return O_FAILURE;
    default:
      return O_NONE;
  }
}

export function createEngine(
  options: EngineOptions = {},
  wall: WallClock = { now: () => Date.now() },
): Engine {
  return new ReconcilerEngine(resolveOptions(options), wall);
}

class Counters {
  events = 0;
  requests = 0;
  dispatches = 0;
  callbacks = 0;
  duplicateEvents = 0;
  duplicateRequests = 0;
  duplicateDispatches = 0;
  duplicateCallbacks = 0;
  invalid = 0;
  tooLate = 0;
  refused = 0;
  versions = 0;
  corrections = 0;
  actions = 0;
  retractions = 0;
  pmidConflicts = 0;
  pendingMatched = 0;
  forgotten = 0;
  evictedOpen = 0;
  evictedPending = 0;
  evictedClosed = 0;
  evictedTombstones = 0;
  recoveryReleased = 0;
  restoredSlots = 0;
  blobReallocs = 0;
  // Scale-out (SEMANTICS.md §10).
  remoteBindingsIn = 0;
  remoteBindingConflicts = 0;
  remoteBindingsExpired = 0;
  evictedRemoteBindings = 0;
  remoteMatched = 0;
  forwarded = 0;
  handoffsOut = 0;
  handoffsIn = 0;
  handoffsInvalid = 0;
  handoffCallbacksApplied = 0;
}

class ReconcilerEngine implements Engine {
  private readonly arena = new Arena();
  private slotAddr = new Uint32Array(1024);
  private slotHigh = 0;
  private freeSlots = new Int32Array(256);
  private freeTop = 0;
  private readonly ridIndex = new HashIndex(1024);
  private readonly pmidIndex = new HashIndex(1024);
  private readonly openDl: DeadlineIndex;
  private readonly pendingDl: DeadlineIndex;
  private readonly closedDl: DeadlineIndex;
  private readonly clock: HybridClock;
  private readonly tenants = new Interner();
  private readonly names = new Interner(); // operation, channel, provider, route
  private readonly errCodes = new Interner();
  private readonly attrSets = new AttributeSets();
  private openCount = 0;
  private pendingCount = 0;
  private closedCount = 0;
  private readonly c = new Counters();

  // Tombstones of forgotten requests: 64-bit rid hash -> last version, last class; FIFO by forget time.
  private readonly tombIndex = new HashIndex(1024);
  private tombB = new Uint32Array(1024);
  private tombVersion = new Uint32Array(1024);
  private tombClass = new Uint8Array(1024);
  private tombExpiry = new Float64Array(1024);
  private tombPart = new Uint16Array(1024);
  private tombA = new Uint32Array(1024);
  private tombHead = 0;
  private tombTail = 0; // FIFO positions (monotone); index = pos % capacity
  private tombCount = 0;

  // Recovery release after a restore.
  private recoveryUntil = -Infinity;
  private recoveryQ = new Int32Array(1024);
  private recoveryHead = 0;
  private recoveryTail = 0;
  private recoveryTokens = 0;
  private lastTickWall = NaN;

  // Changelog tracking.
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  private pendingRecords: ChangelogRecord[] = [];
  private pendingTombs: {
    partition: number;
    key: string;
    version: number;
    lastClass: number;
    expiry: number;
  }[] = [];
  private writer: ChangelogWriter | null = null;

  // Scale-out: pairs bound to requests of other instances, their changelog changes since the last drain (by
  // key; requestId null = delete), and callbacks waiting to be handed off, per request id.
  private readonly rb = new RemoteBindings(this.arena);
  private readonly pendingBindings = new Map<
    string,
    { partition: number; provider: string; pmid: string; requestId: string | null; expiry: number }
  >();
  private pendingHandoffs = new Map<string, HandoffCallback[]>();
  private pendingHandoffCount = 0;

  private clockDirty = false;
  private restoredClock = false;
  /** Kafka partitions with inputs or restored state (meta records are written per partition). */
  private readonly partitions = new Set<number>();
  private verdicts: Verdict[] = [];
  private actions: Action[] = [];

  /** Wall time of the current step. */
  private wallNow = 0;
  /** Event time of the triggering event (fallback for decided_at while the clock is unknown). */
  private stepEventTime = NaN;
  private readonly dlCache = new Map<number, number>();
  private readonly provSeed: number[] = [];
  private dSla = 0;
  private dGiveUp = 0;

  // ---- evaluation scratch (filled by scan/classify; no allocation per evaluation) ----
  private readonly aRec = new Int32Array(MAX_ATT);
  private readonly aNo = new Int32Array(MAX_ATT);
  private readonly aDisp = new Float64Array(MAX_ATT);
  private readonly aSub = new Int32Array(MAX_ATT);
  private readonly aProv = new Int32Array(MAX_ATT);
  private readonly aReason = new Int32Array(MAX_ATT);
  private readonly aHasPmid = new Uint8Array(MAX_ATT);
  private readonly aAttH = new Uint32Array(MAX_ATT);
  private readonly aPmidH = new Uint32Array(MAX_ATT);
  private readonly aErr = new Int32Array(MAX_ATT);
  private readonly hsN = new Int32Array(MAX_ATT);
  private readonly hsT = new Float64Array(MAX_ATT);
  private readonly hsEv = new Int32Array(MAX_ATT);
  private readonly ssN = new Int32Array(MAX_ATT);
  private readonly ssT = new Float64Array(MAX_ATT);
  private readonly ssEv = new Int32Array(MAX_ATT);
  private readonly hfN = new Int32Array(MAX_ATT);
  private readonly hfT = new Float64Array(MAX_ATT);
  private readonly hfRec = new Int32Array(MAX_ATT);
  private readonly sfN = new Int32Array(MAX_ATT);
  private readonly sfT = new Float64Array(MAX_ATT);
  private readonly sfRec = new Int32Array(MAX_ATT);
  private readonly kinds = new Int32Array(MAX_ATT);
  private readonly bRank = new Int32Array(MAX_ATT);
  private readonly bSeq = new Float64Array(MAX_ATT);
  private readonly bTime = new Float64Array(MAX_ATT);
  private readonly bNatA = new Float64Array(MAX_ATT);
  private readonly bNatB = new Float64Array(MAX_ATT);
  private readonly bStatus = new Int32Array(MAX_ATT);
  private readonly oKind = new Int32Array(MAX_ATT);
  private readonly oTime = new Float64Array(MAX_ATT);
  private readonly oRec = new Int32Array(MAX_ATT);
  private readonly oEv = new Int32Array(MAX_ATT);
  private readonly lsStatus = new Int32Array(MAX_ATT);
  private readonly lsTime = new Float64Array(MAX_ATT);
  private readonly cbAtt = new Int32Array(256); // attempt index per callback record (scan order)
  private readonly cbRec = new Int32Array(256);
  /** Evidence time per callback record (scan order), within its bounds (semantics/skew). */
  private readonly cbTime = new Float64Array(256);
  /** Newest evidence time of the scanned slot (acceptance, dispatches, non-duplicate callbacks). */
  private scanEvidenceAt = -Infinity;
  /** Largest amount a provider_event_time preceded what its callback answers (0: none). */
  private scanSkew = 0;
  private readonly orderScratch = new Int32Array(MAX_ATT);
  private readonly hopRankScratch = new Int32Array(MAX_ATT + 260);
  private readonly hopIdxScratch = new Int32Array(MAX_ATT + 260);
  private scanN = 0; // real attempts
  private fcCallbacks = 0;
  private fcAttachable = false;
  private faAttempts = 0;
  private scanCbs = 0; // callback records (duplicates included)
  private scanDups = 0;
  private scanMaxEv = 0;
  private scanCbd = false;
  private scanNonDupCbs = 0;
  private scanPseudoHas = false; // unattached callbacks exist
  private scanPage = 0;
  private scanBase = 0;

  // classification result
  private rClass = K.C_PENDING;
  private rProvisional = false;
  private rFlags = 0;
  private rErrCat = K.EC_NONE;
  private rErrCode = 0;
  private rEvidence = 0;
  private rNext = NaN;
  private rFinalAt = NaN;
  private rLast = -1; // index of the deciding attempt

  constructor(
    private readonly o: ResolvedOptions,
    private readonly wall: WallClock,
  ) {
    this.clock = new HybridClock(o.maxOutOfOrdernessMs, o.idleTimeoutMs, o.maxFutureSkewMs);
    this.openDl = new DeadlineIndex(o.deadlineBucketMs);
    this.pendingDl = new DeadlineIndex(o.deadlineBucketMs);
    this.closedDl = new DeadlineIndex(o.deadlineBucketMs);
  }

  // =====================================================================================================
  // Input
  // =====================================================================================================

  onRequest(ev: RequestAccepted, src: InputPosition): IngestStatusCode {
    const now = (this.wallNow = this.wall.now());
    this.c.events++;
    this.c.requests++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_REQUEST, now);
    if (!rid || !(t === t && Math.abs(t) < 1e15) || !env.tenant_id) return this.invalid(pIdx, src, now);
    const advanced = this.clock.observe(pIdx, t, src.offset, now);
    this.stepEventTime = t;

    const rh = hash32(rid, SEED_RID);
    let slot = this.findRid(rid, rh);
    this.deadlinesFor(ev.operation, ev.channel, ev.sla_ms, ev.give_up_ms);
    const slaMs = this.dSla;
    const giveUpMs = this.dGiveUp;
    // A request we already reconciled and forgot, or one too old to be judged: dead letter, not a new chain.
    const tooOld = t + giveUpMs + this.o.correctionHorizonMs < this.clock.now;
    if (slot === NO_SLOT) {
      if (tooOld || this.findTomb(rid) >= 0) {
        this.c.tooLate++;
        return this.finishStep(IngestStatus.TOO_LATE, advanced);
      }
      slot = this.newBlob(rid, ev.input_fingerprint, K.ST_HAS_REQ, ATTEMPT_RESERVE, part);
      this.ridIndex.insert(rh, slot);
      this.openCount++;
    } else {
      const st = this.rd8(slot, K.O_STATE);
      if ((st & K.ST_HAS_REQ) !== 0) {
        this.c.duplicateRequests++;
        this.c.duplicateEvents++;
        return this.finishStep(IngestStatus.DUPLICATE, advanced);
      }
      if (tooOld || (this.rd8(slot, K.O_LMISC) & K.M_BEYOND) !== 0) {
        this.c.tooLate++;
        return this.finishStep(IngestStatus.TOO_LATE, advanced);
      }
      // An orphan (dispatch/callback first) gets its request: add the fingerprint, keep the records.
      this.attachRequest(slot, rid, ev.input_fingerprint);
      this.reopen(slot);
    }
    this.wr64(slot, K.O_BASE, t);
    this.wr32(slot, K.O_ATTRS, this.attrSets.id(ev.attributes));
    this.wri32(slot, K.O_SLA, slaMs);
    this.wri32(slot, K.O_GIVEUP, giveUpMs);
    this.wr16(slot, K.O_TENANT, this.tenants.id(env.tenant_id));
    this.wr16(slot, K.O_OP, this.names.id(ev.operation));
    this.wr16(slot, K.O_CHANNEL, this.names.id(ev.channel));
    this.wr16(slot, K.O_API, ev.api_status >= 0 && ev.api_status < 65536 ? ev.api_status : 0);
    this.evaluate(slot, K.FB_EVENT, false);
    return this.finishStep(IngestStatus.APPLIED, advanced);
  }

  onDispatch(ev: DispatchAttempted, src: InputPosition): IngestStatusCode {
    const now = (this.wallNow = this.wall.now());
    this.c.events++;
    this.c.dispatches++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_DISPATCH, now);
    if (!rid || !(t === t && Math.abs(t) < 1e15) || !env.tenant_id || !ev.attempt_id || !ev.provider)
      return this.invalid(pIdx, src, now);
    const advanced = this.clock.observe(pIdx, t, src.offset, now);
    this.stepEventTime = t;

    h2Start(SEED_EID);
    h2AddString(env.source);
    h2AddString(env.event_id);
    h2Finish();
    const eidA = H.a;
    const eidB = H.b;
    const attH = hash32(ev.attempt_id, 0x3b9);
    const rh = hash32(rid, SEED_RID);
    let slot = this.findRid(rid, rh);
    let created = false;
    if (slot === NO_SLOT) {
      slot = this.newOrphanSlot(rid, rh, env.tenant_id, t, part);
      created = true;
    } else {
      // Dedupe: same event, or an attempt id already recorded (first dispatch of an attempt wins).
      const dup = this.findAttempt(slot, eidA, eidB, attH, ev.attempt_id, rid);
      if (dup) {
        this.c.duplicateDispatches++;
        this.c.duplicateEvents++;
        return this.finishStep(IngestStatus.DUPLICATE, advanced);
      }
      if (this.faAttempts >= this.o.maxAttemptsPerRequest) {
        this.c.refused++;
        return this.finishStep(IngestStatus.REFUSED, advanced);
      }
    }
    const pmid = ev.provider_message_id;
    const pid = this.names.id(ev.provider);
    const pmidH = pmid ? this.pmidHash(pid, pmid) : 0;
    // Bind (provider, pmid) first: callbacks that were waiting for this dispatch move into the request.
    if (pmid) this.bindPmid(slot, pid, pmid, pmidH, rid, ev.provider);
    // Append the attempt record.
    // Strings are encoded once into scratch, then copied into the record.
    const sc = STR_SCRATCH;
    let strEnd = encodeTo(sc, 0, ev.attempt_id, rid);
    if (pmid) strEnd = encodeTo(sc, strEnd, pmid);
    const recLen = (K.A_STR + strEnd + 7) & ~7;
    if (!this.ensure(slot, recLen)) {
      this.c.refused++;
      if (created) this.freeSlotEntirely(slot);
      return this.finishStep(IngestStatus.REFUSED, advanced);
    }
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const used = u16[(b + K.O_USED) >> 1]!;
    const r = b + used;
    u8.fill(0, r, r + recLen);
    u8[r] = K.REC_ATTEMPT;
    u8[r + K.A_REASON] = K.REASON_CODE[ev.attempt_reason] ?? 5;
    u8[r + K.A_SUBMIT] = K.SUBMIT_CODE[ev.submit_outcome] ?? K.SUB_ERROR;
    u8[r + K.A_FLAGS] = pmid ? 1 : 0;
    u16[(r + K.A_NO) >> 1] = Math.max(0, Math.min(65535, ev.attempt_no | 0));
    u16[(r + K.A_ROUTE) >> 1] = this.names.id(ev.route);
    u16[(r + K.A_PROVIDER) >> 1] = pid;
    u16[(r + K.A_ERRCODE) >> 1] = ev.error_code ? this.errCodes.id(ev.error_code) : 0;
    u32[(r + K.A_ATTH) >> 2] = attH;
    u32[(r + K.A_PMIDH) >> 2] = pmidH;
    u32[(r + K.A_EIDA) >> 2] = eidA;
    u32[(r + K.A_EIDB) >> 2] = eidB;
    this.arena.f64[p]![(r + K.A_DISP) >> 3] = t;
    u16[(r + K.A_LEN) >> 1] = recLen;
    for (let i = 0; i < strEnd; i++) u8[r + K.A_STR + i] = sc[i]!;
    u16[(b + K.O_USED) >> 1] = used + recLen;
    if (!created) this.onNewEvidence(slot, t);
    this.evaluate(slot, K.FB_EVENT, false);
    return this.finishStep(IngestStatus.APPLIED, advanced);
  }

  onCallback(ev: ProviderCallback, src: InputPosition): IngestStatusCode {
    const now = (this.wallNow = this.wall.now());
    this.c.events++;
    this.c.callbacks++;
    const env = ev.envelope;
    const rid = env.request_id;
    const t = env.occurred_at;
    const part = src.partition;
    const pIdx = this.input(part, KIND_CALLBACK, now);
    if (!(t === t && Math.abs(t) < 1e15) || !env.tenant_id || !ev.provider || !ev.provider_message_id)
      return this.invalid(pIdx, src, now);
    const pet = ev.provider_event_time;
    if (pet !== null && !(pet === pet && Math.abs(pet) < 1e15)) return this.invalid(pIdx, src, now);
    const advanced = this.clock.observe(pIdx, t, src.offset, now);
    this.stepEventTime = t;

    const pmid = ev.provider_message_id;
    const pid = this.names.id(ev.provider);
    const pmidH = this.pmidHash(pid, pmid);
    let slot = NO_SLOT;
    let remote = -1;
    if (rid) {
      const rh = hash32(rid, SEED_RID);
      slot = this.findRid(rid, rh);
      if (slot === NO_SLOT) slot = this.newOrphanSlot(rid, rh, env.tenant_id, t, part);
    } else {
      slot = this.findPmid(pid, pmid, pmidH);
      // Bound to a request of another instance (scale-out): forwarded below instead of parked in a pseudo key.
      if (slot === NO_SLOT && this.rb.count > 0) remote = this.rb.find(pid, pmid, pmidH, this.clock.now);
      if (slot === NO_SLOT && remote < 0) slot = this.newPseudoSlot(pid, pmid, pmidH, env.tenant_id, t, part);
    }
    // Identity and natural key.
    h2Start(SEED_EID);
    h2AddString(env.source);
    h2AddString(env.event_id);
    h2Finish();
    const eidA = H.a;
    const eidB = H.b;
    h2Start(SEED_NAT);
    h2AddString(ev.provider);
    if (ev.provider_event_id !== null) {
      h2AddInt1();
      h2AddString(ev.provider_event_id);
    } else {
      h2AddString(pmid);
      h2AddString(ev.status_raw);
      h2AddNumber(pet ?? t);
    }
    h2Finish();
    const natA = H.a;
    const natB = H.b;
    if (remote >= 0) return this.forward(ev, remote, pid, pmidH, eidA, eidB, natA, natB, advanced);
    const st = this.rd8(slot, K.O_STATE);
    const isNewPseudo = (st & K.ST_PSEUDO) !== 0 && this.rd16(slot, K.O_USED) === this.rd16(slot, K.O_RECS);
    const isNewOrphan =
      (st & (K.ST_PSEUDO | K.ST_HAS_REQ)) === 0 && this.rd16(slot, K.O_USED) === this.rd16(slot, K.O_RECS);
    const hasAtt = ev.attempt_id !== null && ev.attempt_id !== '';
    const attH = hasAtt ? hash32(ev.attempt_id ?? '', 0x3b9) : 0;
    // One walk: dedupe, callback count, and whether a known attempt takes it.
    const known = this.findCallback(slot, eidA, eidB, natA, natB, hasAtt, attH, pid, pmidH);
    if (known === 2) {
      this.c.duplicateEvents++;
      return this.finishStep(IngestStatus.DUPLICATE, advanced);
    }
    const attachable = this.fcAttachable;
    if (this.fcCallbacks >= this.o.maxCallbacksPerRequest || !this.ensure(slot, K.CB_LEN)) {
      this.c.refused++;
      if (isNewPseudo || isNewOrphan) this.freeSlotEntirely(slot);
      return this.finishStep(IngestStatus.REFUSED, advanced);
    }
    const evidence = K.EVIDENCE_CODE[ev.evidence_level] ?? 0;
    const evTime = pet !== null && pet < t ? pet : t;
    const seq = ev.provider_sequence;
    let flags = (ev.is_final ? K.KF_FINAL : 0) | (evidence << 1);
    if (known === 1) flags |= K.KF_DUP;
    if (!attachable) flags |= K.KF_UNATTACHED;
    if (hasAtt) flags |= K.KF_HAS_ATT;
    if (seq !== null && seq === seq) flags |= K.KF_HAS_SEQ;
    const cat = ev.error_category;
    this.appendCallback(
      slot,
      K.STATUS_CODE[ev.status] ?? K.S_UNKNOWN,
      flags,
      cat === null ? K.EC_NONE : (K.ERROR_CATEGORY_CODE[cat] ?? K.EC_UNKNOWN),
      pid,
      ev.error_code ? this.errCodes.id(ev.error_code) : 0,
      eidA,
      eidB,
      natA,
      natB,
      evTime,
      seq === null ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(seq))),
      attH,
      pmidH,
      t - evTime,
    );
    if (known === 1) this.c.duplicateCallbacks++;
    if (!isNewPseudo && !isNewOrphan) this.onNewEvidence(slot, t);
    this.evaluate(slot, K.FB_EVENT, false);
    return this.finishStep(IngestStatus.APPLIED, advanced);
  }

  inputsCaughtUp(): void {
    this.clock.caughtUp((this.wallNow = this.wall.now()));
  }

  /** Queues a callback without request_id for the instance owning its request (remote binding `i`). */
  private forward(
    ev: ProviderCallback,
    i: number,
    pid: number,
    pmidH: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    advanced: boolean,
  ): IngestStatusCode {
    const t = ev.envelope.occurred_at;
    const pet = ev.provider_event_time;
    const seq = ev.provider_sequence;
    const hasAtt = ev.attempt_id !== null && ev.attempt_id !== '';
    let flags = (ev.is_final ? K.KF_FINAL : 0) | ((K.EVIDENCE_CODE[ev.evidence_level] ?? 0) << 1);
    if (hasAtt) flags |= K.KF_HAS_ATT;
    if (seq !== null && seq === seq) flags |= K.KF_HAS_SEQ;
    const cat = ev.error_category;
    this.queueHandoff(this.rb.requestId(i), {
      status: K.STATUS_CODE[ev.status] ?? K.S_UNKNOWN,
      flags,
      errorCategory: cat === null ? K.EC_NONE : (K.ERROR_CATEGORY_CODE[cat] ?? K.EC_UNKNOWN),
      provider: this.names.value(pid),
      providerMessageId: ev.provider_message_id,
      tenant: ev.envelope.tenant_id,
      errorCode: ev.error_code ? this.errCodes.value(this.errCodes.id(ev.error_code)) : '',
      eidA,
      eidB,
      natA,
      natB,
      attemptHash: hasAtt ? hash32(ev.attempt_id ?? '', 0x3b9) : 0,
      pmidHash: pmidH,
      sequence: seq === null ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(seq))) | 0,
      time: pet !== null && pet < t ? pet : t,
      occurredAt: t,
    });
    this.c.forwarded++;
    return this.finishStep(IngestStatus.FORWARDED, advanced);
  }

  private queueHandoff(requestId: string, cb: HandoffCallback): void {
    const list = this.pendingHandoffs.get(requestId);
    if (list === undefined) this.pendingHandoffs.set(requestId, [cb]);
    else list.push(cb);
    this.pendingHandoffCount++;
  }

  // =====================================================================================================
  // Scale-out: remote bindings and handoffs (SEMANTICS.md §10)
  // =====================================================================================================

  onRemoteBinding(
    provider: string,
    providerMessageId: string,
    requestId: string,
    src: InputPosition,
  ): IngestStatusCode {
    this.wallNow = this.wall.now();
    this.c.remoteBindingsIn++;
    const pmid = providerMessageId;
    if (
      typeof provider !== 'string' ||
      typeof pmid !== 'string' ||
      typeof requestId !== 'string' ||
      !provider ||
      !pmid ||
      !requestId ||
      pmid.length + requestId.length > MAX_BINDING_CHARS
    ) {
      this.c.invalid++;
      return IngestStatus.INVALID;
    }
    const pid = this.names.id(provider);
    const h = this.pmidHash(pid, pmid);
    const slot = this.findPmid(pid, pmid, h);
    if (slot !== NO_SLOT && (this.rd8(slot, K.O_STATE) & K.ST_PSEUDO) === 0) {
      // The pair is bound to a request of this instance: the local binding did everything already.
      if (this.keyString(slot) !== requestId) this.c.remoteBindingConflicts++;
      return IngestStatus.IGNORED;
    }
    const T = this.clock.now;
    const known = this.rb.find(pid, pmid, h, T);
    if (known >= 0) {
      if (this.rb.requestIdEquals(known, requestId)) return IngestStatus.DUPLICATE;
      // First binding wins, as for local dispatches.
      this.c.remoteBindingConflicts++;
      return IngestStatus.IGNORED;
    }
    // Callbacks waiting for this pair go to the request's owner; the pseudo key retires as in bindPmid.
    if (slot !== NO_SLOT) this.handOffPseudo(slot, pid, pmid, h, requestId);
    const expiry = (T === -Infinity ? this.wallNow : T) + this.o.remoteBindingTtlMs;
    this.rb.add(pid, pmid, h, requestId, src.partition, expiry);
    const prov = this.names.value(pid);
    this.pendingBindings.set(remoteBindingKey(prov, pmid), {
      partition: src.partition,
      provider: prov,
      pmid,
      requestId,
      expiry,
    });
    while (this.rb.count > this.o.maxRemoteBindings) {
      const oldest = this.rb.oldest();
      if (oldest < 0) break;
      this.dropRemoteBinding(oldest);
      this.c.evictedRemoteBindings++;
    }
    return this.finishStep(IngestStatus.APPLIED, false);
  }

  /** Exports a pseudo slot's callbacks as a handoff to `requestId`, then retires the pseudo slot. */
  private handOffPseudo(slot: number, pid: number, pmid: string, h: number, requestId: string): void {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const i32 = this.arena.i32[p]!;
    const f64 = this.arena.f64[p]!;
    const tenant = this.tenants.value(u16[(b + K.O_TENANT) >> 1]!);
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end; r += K.CB_LEN) {
      this.queueHandoff(requestId, {
        status: u8[r + K.K_STATUS]!,
        // Recorded before the binding was known: merges as unattached on arrival (callback_before_dispatch).
        flags: (u8[r + K.K_FLAGS]! & ~K.KF_DUP) | K.KF_UNATTACHED,
        errorCategory: u8[r + K.K_ERRCAT]!,
        provider: this.names.value(u16[(r + K.K_PROVIDER) >> 1]!),
        providerMessageId: pmid,
        tenant,
        errorCode: this.errCodes.value(u16[(r + K.K_ERRCODE) >> 1]!),
        eidA: u32[(r + K.K_EIDA) >> 2]!,
        eidB: u32[(r + K.K_EIDB) >> 2]!,
        natA: u32[(r + K.K_NATA) >> 2]!,
        natB: u32[(r + K.K_NATB) >> 2]!,
        attemptHash: u32[(r + K.K_ATTH) >> 2]!,
        pmidHash: u32[(r + K.K_PMIDH) >> 2]!,
        sequence: i32[(r + K.K_SEQ) >> 2]!,
        time: f64[(r + K.K_TIME) >> 3]!,
        // Its own occurred_at (semantics/skew: K_OCCD); the earliest of them is the pseudo key's base.
        occurredAt: f64[(r + K.K_TIME) >> 3]! + u32[(r + K.K_OCCD) >> 2]!,
      });
    }
    this.c.remoteMatched++;
    this.pmidIndex.remove(h, slot);
    this.retirePseudo(slot, this.names.value(pid), pmid);
  }

  /**
   * Removes a pseudo slot whose callbacks moved to a request (here or, scale-out, at another instance). Its
   * index entry is already gone or repointed. A pseudo key that published versions keeps its sequence in a
   * tombstone for a later episode; else its changelog key is deleted.
   */
  private retirePseudo(slot: number, provider: string, pmid: string): void {
    const st = this.rd8(slot, K.O_STATE);
    if ((st & K.ST_CLOSED) !== 0) this.closedCount--;
    else this.pendingCount--;
    const version = this.rd32(slot, K.O_VERSION);
    const part = this.rd16(slot, K.O_PART);
    const lastClass = this.rd8(slot, K.O_LCLASS);
    this.releaseSlot(slot);
    if (version > 0) this.addTomb(pseudoKey(provider, pmid), version, lastClass, part);
    else this.pendingRecords.push({ partition: part, key: pseudoKey(provider, pmid), value: null });
  }

  onHandoff(requestId: string, value: Uint8Array, src: InputPosition): IngestStatusCode {
    this.wallNow = this.wall.now();
    this.c.handoffsIn++;
    const cbs =
      typeof requestId === 'string' && requestId !== '' && value instanceof Uint8Array
        ? decodeHandoff(value)
        : null;
    let valid = cbs !== null;
    let minAt = Infinity;
    let maxAt = -Infinity;
    // Integrity: the provider message id hash must be the one its strings give (process-independent).
    if (cbs !== null)
      for (const cb of cbs) {
        if (cb.pmidHash !== hash32(cb.providerMessageId, hash32(cb.provider, 0x6d1d))) valid = false;
        if (cb.occurredAt < minAt) minAt = cb.occurredAt;
        if (cb.occurredAt > maxAt) maxAt = cb.occurredAt;
      }
    if (cbs === null || !valid) {
      this.c.invalid++;
      this.c.handoffsInvalid++;
      return IngestStatus.INVALID;
    }
    const rh = hash32(requestId, SEED_RID);
    let slot = this.findRid(requestId, rh);
    const created = slot === NO_SLOT;
    // Unknown request: an orphan waiting for it, as a callback carrying request_id would be (a forgotten
    // request's tombstone continues its versions, flagged beyond_correction_horizon).
    if (created) slot = this.newOrphanSlot(requestId, rh, cbs[0]!.tenant, minAt, src.partition);
    this.stepEventTime = maxAt;
    let applied = 0;
    let refused = 0;
    for (const cb of cbs) {
      const pid = this.names.id(cb.provider);
      const pmidH = this.pmidHash(pid, cb.providerMessageId);
      const hasAtt = (cb.flags & K.KF_HAS_ATT) !== 0;
      const known = this.findCallback(
        slot,
        cb.eidA,
        cb.eidB,
        cb.natA,
        cb.natB,
        hasAtt,
        cb.attemptHash,
        pid,
        pmidH,
      );
      if (known === 2) {
        this.c.duplicateEvents++;
        continue;
      }
      if (this.fcCallbacks >= this.o.maxCallbacksPerRequest || !this.ensure(slot, K.CB_LEN)) {
        this.c.refused++;
        refused++;
        continue;
      }
      let fl = cb.flags & ~K.KF_DUP;
      if (known === 1) fl |= K.KF_DUP;
      if (!this.fcAttachable) fl |= K.KF_UNATTACHED;
      this.appendCallback(
        slot,
        cb.status,
        fl,
        cb.errorCategory,
        pid,
        cb.errorCode ? this.errCodes.id(cb.errorCode) : 0,
        cb.eidA,
        cb.eidB,
        cb.natA,
        cb.natB,
        cb.time,
        cb.sequence,
        cb.attemptHash,
        pmidH,
        cb.occurredAt - cb.time,
      );
      if (known === 1) this.c.duplicateCallbacks++;
      applied++;
    }
    if (applied === 0) {
      if (created) this.freeSlotEntirely(slot);
      return this.finishStep(refused > 0 ? IngestStatus.REFUSED : IngestStatus.DUPLICATE, false);
    }
    this.c.handoffCallbacksApplied += applied;
    if (!created) this.onNewEvidence(slot, minAt);
    this.evaluate(slot, K.FB_EVENT, false);
    return this.finishStep(IngestStatus.APPLIED, false);
  }

  drainHandoffs(): HandoffRecord[] {
    if (this.pendingHandoffCount === 0) return [];
    const out: HandoffRecord[] = [];
    for (const [requestId, cbs] of this.pendingHandoffs)
      for (let k = 0; k < cbs.length; k += MAX_HANDOFF_CALLBACKS)
        out.push({
          requestId,
          value: encodeHandoff(cbs, k, Math.min(cbs.length, k + MAX_HANDOFF_CALLBACKS)),
        });
    this.pendingHandoffs = new Map();
    this.pendingHandoffCount = 0;
    this.c.handoffsOut += out.length;
    return out;
  }

  /** Removes remote binding `i` and deletes its changelog key. */
  private dropRemoteBinding(i: number): void {
    const provider = this.names.value(this.rb.providerId(i));
    const pmid = this.rb.pmid(i);
    this.pendingBindings.set(remoteBindingKey(provider, pmid), {
      partition: this.rb.partition(i),
      provider,
      pmid,
      requestId: null,
      expiry: NaN,
    });
    this.rb.remove(i);
  }

  /** Drops remote bindings past their TTL (lookups already ignore them). */
  private expireRemoteBindings(): void {
    if (this.rb.count === 0) return;
    const T = this.clock.now;
    for (;;) {
      const i = this.rb.due(T);
      if (i < 0) return;
      this.dropRemoteBinding(i);
      this.c.remoteBindingsExpired++;
    }
  }

  private input(part: number, kind: number, now: number): number {
    const before = this.clock.count;
    const i = this.clock.index(part * 3 + kind, now);
    if (this.clock.count !== before) this.partitions.add(part);
    this.clockDirty = true;
    return i;
  }

  private invalid(pIdx: number, src: InputPosition, now: number): IngestStatusCode {
    // Invalid input still proves the input is alive; it does not move event time.
    this.clock.touch(pIdx, src.offset, now);
    this.c.invalid++;
    return IngestStatus.INVALID;
  }

  /** After an event: fire deadlines the clock passed, enforce bounds. */
  private finishStep(status: IngestStatusCode, advanced: boolean): IngestStatusCode {
    if (advanced) this.fireDue(this.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK);
    this.enforceBounds();
    this.stepEventTime = NaN;
    return status;
  }

  tick(): void {
    const now = (this.wallNow = this.wall.now());
    const advanced = this.clock.tick(now);
    if (advanced) this.fireDue(this.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK);
    this.releaseRecovery(now);
    this.expireTombstones();
    this.expireRemoteBindings();
    this.enforceBounds();
  }

  setBacklog(kind: InputKind, partition: number, records: number): void {
    // semantics/determinism: a reported backlog decides the input's idleness at once (clock.ts); an input going
    // idle here may release the clock, so deadlines it passes fire at this point of the input sequence.
    const now = (this.wallNow = this.wall.now());
    const i = this.input(partition, KIND_NAMES.indexOf(kind), now);
    // Unread records right after a restore: the downtime's event time is in that backlog and is read as an
    // uninterrupted run reads it, so nothing is released as downtime (SEMANTICS.md §6).
    if (records > 0 && this.restoredClock && this.c.events === 0) this.recoveryUntil = -Infinity;
    if (this.clock.setBacklog(i, records)) this.finishStep(IngestStatus.APPLIED, true);
  }

  drainOutputs(): EngineOutputs {
    const out: EngineOutputs = { verdicts: this.verdicts, actions: this.actions };
    this.verdicts = [];
    this.actions = [];
    return out;
  }

  lookupRequestId(provider: string, providerMessageId: string): string | null {
    const pid = this.names.peek(provider);
    if (pid < 0) return null;
    const h = this.pmidHash(pid, providerMessageId);
    const slot = this.findPmid(pid, providerMessageId, h);
    if (slot !== NO_SLOT && (this.rd8(slot, K.O_STATE) & K.ST_PSEUDO) === 0) return this.keyString(slot);
    const i = this.rb.find(pid, providerMessageId, h, this.clock.now);
    return i >= 0 ? this.rb.requestId(i) : null;
  }

  // =====================================================================================================
  // Clock-driven firing
  // =====================================================================================================

  private fireDue(firedBy: number): void {
    const T = this.clock.now;
    const recoveryUntil = this.recoveryUntil;
    for (;;) {
      const slot = this.openDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, this.openDl.poppedDeadline, false)) continue;
      // A deadline that passed while we were down is released at a bounded rate (releaseRecovery). Only when
      // wall time passes it (quiet inputs): a deadline the watermark passes while a backlog is read is decided
      // as an uninterrupted run decides it (semantics/determinism: a restart changes no version).
      if (firedBy === K.FB_WALL && this.openDl.poppedDeadline < recoveryUntil) this.enqueueRecovery(slot);
      // semantics/determinism: decided at its deadline, not at wherever the clock jumped to, so the versions do
      // not depend on how far one step moved T (a later deadline the key now has re-enters this loop).
      else this.evaluate(slot, firedBy, false, this.openDl.poppedDeadline);
    }
    for (;;) {
      const slot = this.pendingDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, this.pendingDl.poppedDeadline, false)) continue;
      this.evaluate(slot, firedBy, false, this.pendingDl.poppedDeadline);
    }
    for (;;) {
      const slot = this.closedDl.popDue(T);
      if (slot === NO_SLOT) break;
      if (!this.isLiveWithDeadline(slot, this.closedDl.poppedDeadline, true)) continue;
      this.forget(slot);
    }
  }

  private isLiveWithDeadline(slot: number, deadline: number, closed: boolean): boolean {
    if (slot >= this.slotHigh || this.slotAddr[slot] === 0) return false;
    const st = this.rd8(slot, K.O_STATE);
    if (((st & K.ST_CLOSED) !== 0) !== closed) return false;
    return this.rd64(slot, K.O_NEXT) === deadline;
  }

  private enforceBounds(): void {
    while (this.openCount > this.o.maxOpenRequests) {
      const slot = this.popEarliest(this.openDl, false);
      if (slot === NO_SLOT) break;
      this.c.evictedOpen++;
      this.wr8(slot, K.O_LMISC, this.rd8(slot, K.O_LMISC) | K.M_EVICTED);
      this.evaluate(slot, this.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK, true);
    }
    while (this.pendingCount > this.o.maxPendingCallbacks) {
      const slot = this.popEarliest(this.pendingDl, false);
      if (slot === NO_SLOT) break;
      this.c.evictedPending++;
      this.wr8(slot, K.O_LMISC, this.rd8(slot, K.O_LMISC) | K.M_EVICTED);
      this.evaluate(slot, this.clock.source === SRC_WALL ? K.FB_WALL : K.FB_WATERMARK, true);
    }
    while (this.closedCount > this.o.maxClosedTraces) {
      const slot = this.popEarliest(this.closedDl, true);
      if (slot === NO_SLOT) break;
      this.c.evictedClosed++;
      this.forget(slot);
    }
  }

  private popEarliest(dl: DeadlineIndex, closed: boolean): number {
    for (;;) {
      const slot = dl.popMin();
      if (slot === NO_SLOT) return NO_SLOT;
      if (this.isLiveWithDeadline(slot, dl.poppedDeadline, closed)) return slot;
    }
  }

  // =====================================================================================================
  // Evaluation: classify the request from its whole stored history, emit a version when it changed
  // =====================================================================================================

  /** `at`: the deadline that fired it (clock-fired evaluations), else the clock. */
  private evaluate(slot: number, firedBy: number, force: boolean, at = NaN): void {
    const T = at === at ? at : this.clock.now;
    this.classify(slot, force ? Infinity : T);
    const st = this.rd8(slot, K.O_STATE);
    // semantics/causal: never decided before the newest evidence it rests on (T lags the events by the
    // out-of-orderness bound), so the verdict follows its evidence in every timeline.
    const decidedAt = Math.max(
      T !== -Infinity ? T : this.stepEventTime === this.stepEventTime ? this.stepEventTime : this.wallNow,
      this.scanEvidenceAt,
    );
    const cls = this.rClass;
    if (cls !== K.C_PENDING) {
      const lastVersion = this.rd32(slot, K.O_VERSION);
      const misc = this.rd8(slot, K.O_LMISC);
      const lastProv = (misc & K.M_PROVISIONAL) !== 0;
      const changed =
        lastVersion === 0 ||
        this.rd8(slot, K.O_LCLASS) !== cls ||
        lastProv !== this.rProvisional ||
        this.rd16(slot, K.O_LFLAGS) !== this.rFlags ||
        this.rd8(slot, K.O_LERRCAT) !== this.rErrCat ||
        this.rd16(slot, K.O_LERRCODE) !== this.rErrCode ||
        (misc & 3) !== this.rEvidence;
      if (changed) {
        if (firedBy === K.FB_RECOVERY) {
          this.wr8(slot, K.O_LMISC, misc | K.M_DOWNTIME);
          this.rFlags |= K.F_DOWNTIME;
        }
        this.emit(slot, firedBy, decidedAt, lastVersion, lastProv);
      }
    }
    // State transitions and deadlines.
    const closedNow = cls !== K.C_PENDING && !this.rProvisional;
    if (closedNow) {
      const expiry = decidedAt + this.o.correctionHorizonMs;
      if ((st & K.ST_CLOSED) === 0) {
        this.wr8(slot, K.O_STATE, this.rd8(slot, K.O_STATE) | K.ST_CLOSED);
        if ((st & K.ST_PSEUDO) !== 0) this.pendingCount--;
        else this.openCount--;
        this.closedCount++;
      }
      this.wr64(slot, K.O_NEXT, expiry);
      this.closedDl.push(expiry, slot);
    } else {
      const next = this.rNext;
      if (next !== this.rd64(slot, K.O_NEXT)) {
        this.wr64(slot, K.O_NEXT, next);
        if (next === next) ((st & K.ST_PSEUDO) !== 0 ? this.pendingDl : this.openDl).push(next, slot);
      }
    }
    this.markDirty(slot);
  }

  /**
   * An existing slot got evidence that occurred at `t`: an orphan's base time is the earliest occurred_at of its
   * events, and a closed slot reopens.
   */
  private onNewEvidence(slot: number, t: number): void {
    if ((this.rd8(slot, K.O_STATE) & K.ST_HAS_REQ) === 0 && t < this.rd64(slot, K.O_BASE))
      this.wr64(slot, K.O_BASE, t);
    this.reopen(slot);
  }

  /** Re-opens a closed slot that received new evidence (it is re-closed by evaluate if still final). */
  private reopen(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    if ((st & K.ST_CLOSED) === 0) return;
    this.wr8(slot, K.O_STATE, st & ~K.ST_CLOSED);
    this.wr64(slot, K.O_NEXT, NaN);
    this.closedCount--;
    if ((st & K.ST_PSEUDO) !== 0) this.pendingCount++;
    else this.openCount++;
  }

  /** Fills the per-attempt scratch from the slot's records. */
  private scan(slot: number): void {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    this.scanPage = p;
    this.scanBase = b;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const i32 = this.arena.i32[p]!;
    const f64 = this.arena.f64[p]!;
    const start = b + u16[(b + K.O_RECS) >> 1]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    // Pass 1: attempts.
    let n = 0;
    let firstDisp = Infinity;
    for (let r = start; r < end;) {
      const type = u8[r]!;
      if (type === K.REC_ATTEMPT) {
        this.aRec[n] = r;
        this.aNo[n] = u16[(r + K.A_NO) >> 1]!;
        this.aDisp[n] = f64[(r + K.A_DISP) >> 3]!;
        if (this.aDisp[n]! < firstDisp) firstDisp = this.aDisp[n]!;
        this.aSub[n] = u8[r + K.A_SUBMIT]!;
        this.aProv[n] = u16[(r + K.A_PROVIDER) >> 1]!;
        this.aReason[n] = u8[r + K.A_REASON]!;
        this.aHasPmid[n] = u8[r + K.A_FLAGS]! & 1;
        this.aAttH[n] = u32[(r + K.A_ATTH) >> 2]!;
        this.aPmidH[n] = u32[(r + K.A_PMIDH) >> 2]!;
        this.aErr[n] = u16[(r + K.A_ERRCODE) >> 1]!;
        n++;
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
    this.scanN = n;
    for (let i = 0; i <= n; i++) {
      this.hsN[i] = 0;
      this.hsT[i] = Infinity;
      this.hsEv[i] = 0;
      this.ssN[i] = 0;
      this.ssT[i] = Infinity;
      this.ssEv[i] = 0;
      this.hfN[i] = 0;
      this.hfT[i] = Infinity;
      this.hfRec[i] = -1;
      this.sfN[i] = 0;
      this.sfT[i] = Infinity;
      this.sfRec[i] = -1;
      this.kinds[i] = 0;
      this.bRank[i] = -1;
      this.bStatus[i] = -1;
    }
    // semantics/skew: a callback's evidence time lies in [what it answers, when we heard of it]. Lower bound: its
    // attempt's dispatch (and the acceptance); unattached ones: the acceptance and the first dispatch.
    const hasReq = (u8[b + K.O_STATE]! & K.ST_HAS_REQ) !== 0;
    const acceptedAt = hasReq ? f64[(b + K.O_BASE) >> 3]! : -Infinity;
    const uLower = Math.max(acceptedAt, firstDisp === Infinity ? -Infinity : firstDisp);
    let evidenceAt = Math.max(acceptedAt, n > 0 ? this.maxDispatch(n) : -Infinity);
    let skew = 0;
    // Pass 2: callbacks, attached to attempts by attempt_id, else (provider, provider_message_id).
    let cbs = 0;
    let dups = 0;
    let maxEv = 0;
    let cbd = false;
    let pseudoHas = false;
    for (let r = start; r < end;) {
      const type = u8[r]!;
      if (type !== K.REC_CALLBACK) {
        r += u16[(r + K.A_LEN) >> 1]!;
        continue;
      }
      const fl = u8[r + K.K_FLAGS]!;
      this.cbRec[cbs] = r;
      if ((fl & K.KF_DUP) !== 0) {
        this.cbAtt[cbs++] = -1;
        dups++;
        r += K.CB_LEN;
        continue;
      }
      let a = -1;
      if ((fl & K.KF_HAS_ATT) !== 0) {
        const h = u32[(r + K.K_ATTH) >> 2]!;
        for (let i = 0; i < n; i++)
          if (this.aAttH[i] === h) {
            a = i;
            break;
          }
      }
      if (a < 0) {
        const prov = u16[(r + K.K_PROVIDER) >> 1]!;
        const h = u32[(r + K.K_PMIDH) >> 2]!;
        for (let i = 0; i < n; i++)
          if (this.aHasPmid[i] === 1 && this.aPmidH[i] === h && this.aProv[i] === prov) {
            a = i;
            break;
          }
      }
      if (a < 0) {
        a = n;
        pseudoHas = true;
      } else if ((fl & K.KF_UNATTACHED) !== 0) cbd = true;
      let time = f64[(r + K.K_TIME) >> 3]!;
      const lower = a < n ? Math.max(acceptedAt, this.aDisp[a]!) : uLower;
      if (time < lower) {
        // Before what it answers: a provider_event_time that early proves the provider's clock slow, so the
        // delivery counts when we heard of it (occurred_at), never earlier than the dispatch.
        const occd = u32[(r + K.K_OCCD) >> 2]!;
        if (occd > 0) {
          if (lower - time > skew) skew = lower - time;
          time += occd;
        }
        if (time < lower) time = lower;
      }
      if (time > evidenceAt) evidenceAt = time;
      this.cbTime[cbs] = time;
      this.cbAtt[cbs++] = a;
      const ev = (fl >> 1) & 3;
      if (ev > maxEv) maxEv = ev;
      const status = u8[r + K.K_STATUS]!;
      const isFinal = (fl & K.KF_FINAL) !== 0;
      const fk = isFinal ? finalKind(status) : O_NONE;
      if (fk !== O_NONE) {
        this.kinds[a] = this.kinds[a]! | (1 << fk);
        const hard = ev !== K.EV_SYNTHETIC;
        if (fk === O_SUCCESS) {
          if (hard) {
            this.hsN[a]!++;
            if (time < this.hsT[a]!) this.hsT[a] = time;
            if (ev > this.hsEv[a]!) this.hsEv[a] = ev;
          } else {
            this.ssN[a]!++;
            if (time < this.ssT[a]!) this.ssT[a] = time;
            if (ev > this.ssEv[a]!) this.ssEv[a] = ev;
          }
        } else if (hard) {
          this.hfN[a]!++;
          if (this.failBefore(u8, u32, r, time, fk, this.hfRec[a]!, this.hfT[a]!)) {
            this.hfT[a] = time;
            this.hfRec[a] = r;
          }
        } else {
          this.sfN[a]!++;
          if (this.failBefore(u8, u32, r, time, fk, this.sfRec[a]!, this.sfT[a]!)) {
            this.sfT[a] = time;
            this.sfRec[a] = r;
          }
        }
      } else {
        // Intermediate (or an inconclusive final): rank-based merge, never regress on a late one.
        const rank = statusRank(status, isFinal);
        const seqKey = (fl & K.KF_HAS_SEQ) !== 0 ? i32[(r + K.K_SEQ) >> 2]! : -Infinity;
        const na = u32[(r + K.K_NATA) >> 2]!;
        const nb = u32[(r + K.K_NATB) >> 2]!;
        const br = this.bRank[a]!;
        let better = rank > br;
        if (rank === br) {
          const bs = this.bSeq[a]!;
          if (seqKey !== bs) better = seqKey > bs;
          else if (time !== this.bTime[a]!) better = time > this.bTime[a]!;
          else if (na !== this.bNatA[a]!) better = na > this.bNatA[a]!;
          else better = nb > this.bNatB[a]!;
        }
        if (better) {
          this.bRank[a] = rank;
          this.bSeq[a] = seqKey;
          this.bTime[a] = time;
          this.bNatA[a] = na;
          this.bNatB[a] = nb;
          this.bStatus[a] = status;
        }
      }
      r += K.CB_LEN;
    }
    this.scanCbs = cbs;
    this.scanDups = dups;
    this.scanMaxEv = maxEv;
    this.scanEvidenceAt = evidenceAt;
    this.scanSkew = skew;
    this.scanCbd = cbd;
    this.scanNonDupCbs = cbs - dups;
    this.scanPseudoHas = pseudoHas;
    // Per-attempt outcome and last status.
    for (let i = 0; i <= n; i++) {
      const hard = this.hsN[i]! + this.hfN[i]! > 0;
      const sN = hard ? this.hsN[i]! : this.ssN[i]!;
      const fN = hard ? this.hfN[i]! : this.sfN[i]!;
      this.lsStatus[i] = -1;
      this.lsTime[i] = NaN;
      if (sN > 0) {
        this.oKind[i] = O_SUCCESS;
        this.oTime[i] = hard ? this.hsT[i]! : this.ssT[i]!;
        this.oEv[i] = hard ? this.hsEv[i]! : this.ssEv[i]!;
        this.oRec[i] = -1;
        this.lsStatus[i] = K.S_DELIVERED;
        this.lsTime[i] = this.oTime[i]!;
      } else if (fN > 0) {
        const rec = hard ? this.hfRec[i]! : this.sfRec[i]!;
        const status = u8[rec + K.K_STATUS]!;
        this.oKind[i] = finalKind(status);
        this.oTime[i] = hard ? this.hfT[i]! : this.sfT[i]!; // within its bounds (semantics/skew)
        this.oEv[i] = (u8[rec + K.K_FLAGS]! >> 1) & 3;
        this.oRec[i] = rec;
        this.lsStatus[i] = status;
        this.lsTime[i] = this.oTime[i]!;
      } else if (i < n && (this.aSub[i] === K.SUB_REJECTED || this.aSub[i] === K.SUB_ERROR)) {
        this.oKind[i] = O_FAILURE;
        this.oTime[i] = this.aDisp[i]!;
        this.oEv[i] = 0;
        this.oRec[i] = -1;
      } else {
        this.oKind[i] = O_NONE;
        this.oTime[i] = NaN;
        this.oEv[i] = 0;
        this.oRec[i] = -1;
      }
      if (this.lsStatus[i] === -1 && this.bRank[i]! >= 0) {
        this.lsStatus[i] = this.bStatus[i]!;
        this.lsTime[i] = this.bTime[i]!;
      }
    }
  }

  /** Latest dispatch time among the first n scanned attempts. */
  private maxDispatch(n: number): number {
    let m = -Infinity;
    for (let i = 0; i < n; i++) if (this.aDisp[i]! > m) m = this.aDisp[i]!;
    return m;
  }

  /** Failure choice order: earliest evidence time, then failure before expired, then natural key. */
  private failBefore(
    u8: Uint8Array,
    u32: Uint32Array,
    r: number,
    time: number,
    fk: number,
    curRec: number,
    curT: number,
  ): boolean {
    if (curRec < 0) return true;
    if (time !== curT) return time < curT;
    const ck = finalKind(u8[curRec + K.K_STATUS]!);
    if (fk !== ck) return fk === O_FAILURE;
    const na = u32[(r + K.K_NATA) >> 2]!;
    const ca = u32[(curRec + K.K_NATA) >> 2]!;
    if (na !== ca) return na < ca;
    return u32[(r + K.K_NATB) >> 2]! < u32[(curRec + K.K_NATB) >> 2]!;
  }

  /** Classifies the slot at event time T into rClass/rProvisional/rFlags/... and rNext. */
  private classify(slot: number, T: number): void {
    this.scan(slot);
    const p = this.scanPage;
    const b = this.scanBase;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const i32 = this.arena.i32[p]!;
    const f64 = this.arena.f64[p]!;
    const st = u8[b + K.O_STATE]!;
    const misc = u8[b + K.O_LMISC]!;
    const n = this.scanN;

    // Flags (facts about the history).
    let flags = 0;
    if (this.scanDups > 0) flags |= K.F_DUP;
    if (n >= 2) flags |= K.F_RETRIED;
    let failover = false;
    let ambiguous = false;
    let successReal = 0;
    let conflict = false;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const reason = this.aReason[i]!;
      if (reason === K.R_FAILOVER || reason === K.R_CHANNEL_FALLBACK) failover = true;
      if (this.aProv[i] !== this.aProv[0]) failover = true;
      if (this.aSub[i] === K.SUB_TIMEOUT) ambiguous = true;
      if (this.oKind[i] === O_SUCCESS) successReal++;
      if (last < 0 || this.attemptAfter(i, last)) last = i;
    }
    for (let i = 0; i <= n; i++) {
      const k = this.kinds[i]!;
      if ((k & (k - 1)) !== 0) conflict = true;
    }
    if (failover) flags |= K.F_FAILED_OVER;
    if (conflict) flags |= K.F_CONFLICT;
    if (ambiguous) flags |= K.F_AMBIGUOUS;
    if (this.scanCbd) flags |= K.F_CBD;
    if (successReal >= 2) flags |= K.F_MULTI;
    if ((misc & K.M_DOWNTIME) !== 0) flags |= K.F_DOWNTIME;
    if ((misc & K.M_BEYOND) !== 0) flags |= K.F_BEYOND;
    if ((misc & K.M_EVICTED) !== 0) flags |= K.F_EVICTED;
    if (this.scanSkew > 0) flags |= K.F_SKEW;
    this.rFlags = flags;
    this.rErrCat = K.EC_NONE;
    this.rErrCode = 0;
    this.rEvidence = this.scanMaxEv;
    this.rNext = NaN;
    this.rFinalAt = NaN;
    this.rProvisional = false;

    if ((st & K.ST_HAS_REQ) === 0) {
      // Orphan: no request (yet). Waits orphanGraceMs from its earliest event.
      const due = f64[(b + K.O_BASE) >> 3]! + this.o.orphanGraceMs;
      this.rLast = last;
      if (T >= due) this.rClass = n > 0 ? K.C_ORPHAN_DISPATCH : K.C_ORPHAN_CALLBACK;
      else {
        this.rClass = K.C_PENDING;
        this.rNext = due;
      }
      return;
    }

    const acceptedAt = f64[(b + K.O_BASE) >> 3]!;
    const sla = acceptedAt + i32[(b + K.O_SLA) >> 2]!;
    const giveUp = acceptedAt + i32[(b + K.O_GIVEUP) >> 2]!;
    const apiStatus = u16[(b + K.O_API) >> 1]!;

    // Delivered by any attempt (or by unattached evidence): final.
    let sT = Infinity;
    let sEv = -1;
    for (let i = 0; i <= n; i++) {
      if (i === n && !this.scanPseudoHas) break;
      if (this.oKind[i] === O_SUCCESS) {
        if (this.oTime[i]! < sT) sT = this.oTime[i]!;
        if (this.oEv[i]! > sEv) sEv = this.oEv[i]!;
      }
    }
    this.rLast = last;
    if (sEv >= 0) {
      this.rClass = sT <= sla ? K.C_ON_TIME : K.C_LATE;
      this.rFinalAt = sT;
      this.rEvidence = sEv;
      return;
    }
    if (apiStatus < 200 || apiStatus > 299) {
      this.rClass = K.C_FAILED;
      this.rErrCat = K.EC_REJECTED;
      this.rErrCode = this.errCodes.id(`api_status_${apiStatus}`);
      this.rEvidence = 0;
      return;
    }
    // The deciding attempt: the last real attempt, else the unattached evidence.
    const d = last >= 0 ? last : this.scanPseudoHas ? n : -1;
    let settle = Infinity;
    if (d >= 0) {
      const ok = this.oKind[d]!;
      if (ok === O_FAILURE || ok === O_EXPIRED) {
        const ft = this.oTime[d]!;
        settle = Math.min(ft + this.o.retryGraceMs, giveUp);
        if (T >= settle) {
          this.rClass = ok === O_EXPIRED ? K.C_EXPIRED : K.C_FAILED;
          this.rFinalAt = ft;
          this.rEvidence = this.oEv[d]!;
          const rec = this.oRec[d]!;
          if (rec >= 0) {
            const cat = u8[rec + K.K_ERRCAT]!;
            this.rErrCat = cat !== K.EC_NONE ? cat : ok === O_EXPIRED ? K.EC_EXPIRED : K.EC_UNKNOWN;
            this.rErrCode = u16[(rec + K.K_ERRCODE) >> 1]!;
          } else {
            // Synchronous submit failure of the attempt.
            this.rErrCat = this.aSub[d] === K.SUB_REJECTED ? K.EC_REJECTED : K.EC_INTERNAL;
            this.rErrCode = this.aErr[d]!;
          }
          return;
        }
      }
    }
    if (T >= giveUp) {
      this.rClass = n === 0 && this.scanNonDupCbs === 0 ? K.C_MISSING_DISPATCH : K.C_MISSING_OUTCOME;
      return;
    }
    if (T >= sla) {
      this.rClass = K.C_OVERDUE;
      this.rProvisional = true;
      this.rNext = Math.min(settle, giveUp);
      return;
    }
    this.rClass = K.C_PENDING;
    this.rNext = Math.min(sla, settle);
  }

  /** Attempt order: attempt_no, then dispatch time, then attempt id hash. */
  private attemptAfter(i: number, j: number): boolean {
    if (this.aNo[i] !== this.aNo[j]) return this.aNo[i]! > this.aNo[j]!;
    if (this.aDisp[i] !== this.aDisp[j]) return this.aDisp[i]! > this.aDisp[j]!;
    return this.aAttH[i]! > this.aAttH[j]!;
  }

  // =====================================================================================================
  // Output
  // =====================================================================================================

  private emit(
    slot: number,
    firedBy: number,
    decidedAt: number,
    lastVersion: number,
    lastProv: boolean,
  ): void {
    const version = lastVersion + 1;
    const cls = this.rClass;
    const lastClass = this.rd8(slot, K.O_LCLASS);
    // A correction changes the class of a final version (SEMANTICS.md §4); the same class with other flags,
    // evidence or error details is a revision.
    const isCorrection = lastVersion > 0 && !lastProv && lastClass !== cls;
    this.wr32(slot, K.O_VERSION, version);
    this.wr8(slot, K.O_LCLASS, cls);
    this.wr16(slot, K.O_LFLAGS, this.rFlags);
    this.wr8(slot, K.O_LERRCAT, this.rErrCat);
    this.wr16(slot, K.O_LERRCODE, this.rErrCode);
    const misc = this.rd8(slot, K.O_LMISC) & 0xe0;
    this.wr8(
      slot,
      K.O_LMISC,
      misc | this.rEvidence | (firedBy << 2) | (this.rProvisional ? K.M_PROVISIONAL : 0),
    );
    this.c.versions++;
    if (isCorrection) this.c.corrections++;
    const v = this.buildVerdict(
      slot,
      version,
      firedBy,
      decidedAt,
      isCorrection,
      lastVersion > 0 ? lastClass : -1,
      lastVersion === 0 ? 'initial' : lastProv ? 'progress' : isCorrection ? 'correction' : 'revision',
    );
    this.verdicts.push(v);
    this.emitActions(slot, v);
  }

  private buildVerdict(
    slot: number,
    version: number,
    firedBy: number,
    decidedAt: number,
    isCorrection: boolean,
    previous: number,
    revisionKind: NonNullable<Verdict['revision_kind']>,
  ): Verdict {
    const p = this.scanPage;
    const b = this.scanBase;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const i32 = this.arena.i32[p]!;
    const f64 = this.arena.f64[p]!;
    const st = u8[b + K.O_STATE]!;
    const hasReq = (st & K.ST_HAS_REQ) !== 0;
    const requestId = this.keyString(slot);
    const rid = (st & K.ST_PSEUDO) !== 0 ? undefined : requestId;
    const n = this.scanN;
    let operation = '';
    let channel = '';
    let fingerprint = '';
    let slaMs: number;
    let giveUpMs: number;
    if (hasReq) {
      operation = this.names.value(u16[(b + K.O_OP) >> 1]!);
      channel = this.names.value(u16[(b + K.O_CHANNEL) >> 1]!);
      fingerprint = decodeAt(u8, b + K.HDR + sizeAt(u8, b + K.HDR));
      slaMs = i32[(b + K.O_SLA) >> 2]!;
      giveUpMs = i32[(b + K.O_GIVEUP) >> 2]!;
    } else {
      slaMs = this.o.defaultSlaMs;
      giveUpMs = this.o.defaultGiveUpMs;
    }
    // Attempts in attempt order (insertion sort: a request has a handful).
    const order = this.orderScratch;
    for (let i = 0; i < n; i++) {
      let j = i - 1;
      while (j >= 0 && this.attemptAfter(order[j]!, i)) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = i;
    }
    let firstDispatch = Infinity;
    let providerAccepted = Infinity;
    const attempts: Verdict['attempts'] = [];
    const hops: Hop[] = [];
    const hopRank = this.hopRankScratch;
    if (hasReq) {
      hopRank[0] = 0;
      hops.push({
        kind: 'accepted',
        at: f64[(b + K.O_BASE) >> 3]!,
        detail: `accepted ${u16[(b + K.O_API) >> 1]!}`,
      });
    }
    for (let oi = 0; oi < n; oi++) {
      const i = order[oi]!;
      const r = this.aRec[i]!;
      const disp = this.aDisp[i]!;
      if (disp < firstDispatch) firstDispatch = disp;
      if (this.aSub[i] === K.SUB_ACCEPTED && disp < providerAccepted) providerAccepted = disp;
      const attStrAt = r + K.A_STR;
      const attemptId = decodeAt(u8, attStrAt, rid ?? '');
      const pmid = this.aHasPmid[i] === 1 ? decodeAt(u8, attStrAt + sizeAt(u8, attStrAt)) : null;
      const provider = this.names.value(this.aProv[i]!);
      const route = this.names.value(u16[(r + K.A_ROUTE) >> 1]!);
      const submit = K.SUBMIT_NAMES[this.aSub[i]!] ?? 'error';
      const ls = this.lsStatus[i]!;
      attempts.push({
        attempt_id: attemptId,
        attempt_no: this.aNo[i]!,
        reason: K.REASON_NAMES[this.aReason[i]!] ?? 'other',
        route,
        provider,
        provider_message_id: pmid,
        submit_outcome: submit,
        dispatched_at: disp,
        last_status: ls >= 0 ? (K.STATUS_NAMES[ls] ?? null) : null,
        last_status_at: ls >= 0 ? this.lsTime[i]! : null,
      });
      const err = this.aErr[i]!;
      hopRank[hops.length] = 1;
      hops.push({
        kind: 'dispatch',
        at: disp,
        detail: `${K.REASON_NAMES[this.aReason[i]!] ?? 'other'} ${provider}/${route} ${submit}${err ? ` ${this.errCodes.value(err)}` : ''}`,
      });
    }
    for (let k = 0; k < this.scanCbs; k++) {
      if (this.cbAtt[k]! < 0) continue; // duplicate
      const r = this.cbRec[k]!;
      const fl = u8[r + K.K_FLAGS]!;
      const status = K.STATUS_NAMES[u8[r + K.K_STATUS]!] ?? 'unknown';
      const evidence = K.EVIDENCE_NAMES[(fl >> 1) & 3] ?? 'none';
      hopRank[hops.length] = 2;
      hops.push({
        kind: 'callback',
        at: this.cbTime[k]!,
        detail: (fl & K.KF_FINAL) !== 0 ? `${status} (${evidence})` : `${status} intermediate (${evidence})`,
      });
    }
    const cls = this.rClass;
    const className = K.VERDICT_CLASS_NAMES[cls] ?? 'missing_outcome';
    hopRank[hops.length] = 3;
    hops.push({
      kind: 'verdict',
      at: decidedAt,
      detail: `${className}${this.rProvisional ? ' provisional' : ''} v${version}`,
    });
    const boundedHops = this.orderHops(hops, hopRank);

    const flags: string[] = [];
    for (let f = 0; f < K.FLAG_NAMES.length; f++)
      if ((this.rFlags & (1 << f)) !== 0) flags.push(K.FLAG_NAMES[f]!);

    // Layers.
    const apiStatus = u16[(b + K.O_API) >> 1]!;
    const apiOk = hasReq && apiStatus >= 200 && apiStatus <= 299;
    let executionOk: boolean | null = null;
    let anyAccepted = false;
    let allSubmitFailed = n > 0;
    for (let i = 0; i < n; i++) {
      if (this.aSub[i] === K.SUB_ACCEPTED) anyAccepted = true;
      if (this.aSub[i] !== K.SUB_REJECTED && this.aSub[i] !== K.SUB_ERROR) allSubmitFailed = false;
    }
    const final = !this.rProvisional;
    const orphan = cls === K.C_ORPHAN_CALLBACK || cls === K.C_ORPHAN_DISPATCH;
    if (anyAccepted || this.scanNonDupCbs > 0) executionOk = true;
    else if (final && !orphan && (n === 0 || allSubmitFailed)) executionOk = false;
    let outcomeOk: boolean | null = null;
    if (cls === K.C_ON_TIME) outcomeOk = true;
    else if (final && !orphan) outcomeOk = false;

    const errCat = this.rErrCat;
    const errCode = this.rErrCode;
    const finalAt = this.rFinalAt;
    const T = this.clock.now;
    return {
      verdict_id: `${requestId}:v${version}`,
      request_id: requestId,
      tenant_id: this.tenants.value(u16[(b + K.O_TENANT) >> 1]!),
      version,
      verdict: className,
      provisional: this.rProvisional,
      is_correction: isCorrection,
      previous_verdict: previous >= 0 ? (K.VERDICT_CLASS_NAMES[previous] ?? null) : null,
      error_category: errCat === K.EC_NONE ? null : (K.ERROR_CATEGORY_NAMES[errCat] ?? null),
      error_code: errCode === 0 ? null : this.errCodes.value(errCode),
      flags,
      api_ok: apiOk,
      execution_ok: executionOk,
      outcome_ok: outcomeOk,
      fired_by: K.FIRED_NAMES[firedBy] ?? 'event',
      watermark_lag_ms: Math.round(this.wallNow - (T === -Infinity ? decidedAt : T)),
      decided_at: decidedAt,
      emitted_at: this.wallNow,
      operation,
      channel,
      input_fingerprint: fingerprint,
      attributes: this.attrSets.object(u32[(b + K.O_ATTRS) >> 2]!),
      accepted_at: hasReq ? f64[(b + K.O_BASE) >> 3]! : null,
      sla_ms: slaMs,
      give_up_ms: giveUpMs,
      first_dispatch_at: firstDispatch === Infinity ? null : firstDispatch,
      provider_accepted_at: providerAccepted === Infinity ? null : providerAccepted,
      final_at: finalAt === finalAt ? finalAt : null,
      evidence_level: K.EVIDENCE_NAMES[this.rEvidence] ?? 'none',
      callbacks: this.scanCbs,
      duplicate_callbacks: this.scanDups,
      attempts,
      hops: boundedHops,
      revision_kind: revisionKind,
      evidence_at: this.scanEvidenceAt === -Infinity ? null : this.scanEvidenceAt,
      clock_skew_ms: this.scanSkew > 0 ? Math.round(this.scanSkew) : null,
    };
  }

  /** Event-time order (stable: accepted, dispatch, callback, verdict), bounded to the first and last hops. */
  private orderHops(hops: Hop[], rank: Int32Array): Hop[] {
    const len = hops.length;
    const idx = this.hopIdxScratch;
    // Insertion sort by (at, rank, position): nearly sorted already, no comparator closure.
    for (let i = 0; i < len; i++) {
      const at = hops[i]!.at;
      const rk = rank[i]!;
      let j = i - 1;
      while (j >= 0) {
        const k = idx[j]!;
        const kat = hops[k]!.at;
        if (kat < at || (kat === at && rank[k]! <= rk)) break;
        idx[j + 1] = k;
        j--;
      }
      idx[j + 1] = i;
    }
    const max = this.o.maxHops;
    const out: Hop[] = [];
    if (len <= max) for (let i = 0; i < len; i++) out.push(hops[idx[i]!]!);
    else {
      const head = max >> 1;
      for (let i = 0; i < head; i++) out.push(hops[idx[i]!]!);
      for (let i = len - (max - head); i < len; i++) out.push(hops[idx[i]!]!);
    }
    return out;
  }

  private emitActions(slot: number, v: Verdict): void {
    const cls = this.rClass;
    let emitted = this.rd32(slot, K.O_ACT_EMIT);
    let retracted = this.rd32(slot, K.O_ACT_RETR);
    const lastProvider = this.rLast >= 0 ? this.names.value(this.aProv[this.rLast]!) : null;
    const lastRoute =
      this.rLast >= 0
        ? this.names.value(this.arena.u16[this.scanPage]![(this.aRec[this.rLast]! + K.A_ROUTE) >> 1]!)
        : null;
    // Retract actions this version makes moot.
    const active = (emitted & ~retracted) >>> 0;
    if (active !== 0) {
      for (let bit = 0; bit < 32; bit++) {
        if ((active & (1 << bit)) === 0) continue;
        const trigger = (bit >> 2) + 1;
        if (!moot(trigger, cls)) continue;
        retracted |= 1 << bit;
        const retractedId = `${v.request_id}:${K.ACTION_KIND_NAMES[bit & 3]}:${K.VERDICT_CLASS_NAMES[trigger]}`;
        this.actions.push(
          this.action(v, `${retractedId}:retract`, 'retract', retractedId, lastProvider, lastRoute),
        );
        this.c.retractions++;
      }
    }
    if (cls !== K.C_ON_TIME) {
      for (const rule of this.o.actionRules) {
        if (K.CLASS_CODE[rule.verdict] !== cls) continue;
        if (rule.operation !== undefined && rule.operation !== v.operation) continue;
        if (rule.channel !== undefined && rule.channel !== v.channel) continue;
        for (const kind of rule.kinds) {
          const bit = (cls - 1) * 4 + (K.ACTION_KIND_CODE[kind] ?? 3);
          if ((emitted & (1 << bit)) !== 0) continue;
          emitted |= 1 << bit;
          this.actions.push(
            this.action(v, `${v.request_id}:${kind}:${v.verdict}`, kind, null, lastProvider, lastRoute),
          );
          this.c.actions++;
        }
      }
    }
    this.wr32(slot, K.O_ACT_EMIT, emitted >>> 0);
    this.wr32(slot, K.O_ACT_RETR, retracted >>> 0);
  }

  private action(
    v: Verdict,
    actionId: string,
    kind: Action['kind'],
    retracts: string | null,
    lastProvider: string | null,
    lastRoute: string | null,
  ): Action {
    return {
      action_id: actionId,
      request_id: v.request_id,
      tenant_id: v.tenant_id,
      kind,
      reason: v.verdict,
      retracts_action_id: retracts,
      verdict_id: v.verdict_id,
      verdict_version: v.version,
      provisional: v.provisional,
      created_at: v.decided_at,
      operation: v.operation,
      channel: v.channel,
      last_provider: lastProvider,
      last_route: lastRoute,
    };
  }

  // =====================================================================================================
  // Slots, blobs, indexes
  // =====================================================================================================

  private allocSlot(): number {
    if (this.freeTop > 0) return this.freeSlots[--this.freeTop]!;
    const s = this.slotHigh++;
    if (s >= this.slotAddr.length) {
      const a = new Uint32Array(Math.ceil(this.slotAddr.length * 1.5));
      a.set(this.slotAddr);
      this.slotAddr = a;
    }
    return s;
  }

  private releaseSlot(slot: number): void {
    const addr = this.slotAddr[slot]!;
    this.arena.free(addr, this.rd16(slot, K.O_CAP));
    this.slotAddr[slot] = 0;
    if (this.freeTop === this.freeSlots.length) {
      const a = new Int32Array(this.freeSlots.length * 2);
      a.set(this.freeSlots);
      this.freeSlots = a;
    }
    this.freeSlots[this.freeTop++] = slot;
  }

  /** New blob with header and key string (+ fingerprint when `fp` given); returns the slot. */
  private newBlob(key: string, fp: string | null, state: number, reserve: number, partition: number): number {
    const sc = STR_SCRATCH;
    let strEnd = encodeTo(sc, 0, key);
    if (fp !== null) strEnd = encodeTo(sc, strEnd, fp);
    const recs = (K.HDR + strEnd + 7) & ~7;
    const cap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(recs + reserve));
    const addr = this.arena.alloc(cap);
    const slot = this.allocSlot();
    this.slotAddr[slot] = addr;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    u8.fill(0, b, b + K.HDR);
    for (let i = 0; i < strEnd; i++) u8[b + K.HDR + i] = sc[i]!;
    for (let i = K.HDR + strEnd; i < recs; i++) u8[b + i] = 0;
    this.arena.f64[p]![(b + K.O_NEXT) >> 3] = NaN;
    u8[b + K.O_STATE] = state;
    u8[b + K.O_LCLASS] = 255;
    u8[b + K.O_LERRCAT] = K.EC_NONE;
    u16[(b + K.O_USED) >> 1] = recs;
    u16[(b + K.O_CAP) >> 1] = cap;
    u16[(b + K.O_RECS) >> 1] = recs;
    u16[(b + K.O_PART) >> 1] = partition;
    return slot;
  }

  /** A slot for a request id seen first on a dispatch or callback. */
  private newOrphanSlot(rid: string, rh: number, tenant: string, t: number, partition: number): number {
    const slot = this.newBlob(rid, null, 0, ATTEMPT_RESERVE, partition);
    this.ridIndex.insert(rh, slot);
    this.openCount++;
    this.wr64(slot, K.O_BASE, t);
    this.wr16(slot, K.O_TENANT, this.tenants.id(tenant));
    this.wr16(slot, K.O_API, 0);
    this.continueFromTomb(slot, rid);
    return slot;
  }

  private newPseudoSlot(
    pid: number,
    pmid: string,
    pmidH: number,
    tenant: string,
    t: number,
    partition: number,
  ): number {
    const slot = this.newBlob(pmid, null, K.ST_PSEUDO, K.CB_LEN, partition);
    this.pmidIndex.insert(pmidH, slot);
    this.pendingCount++;
    this.wr64(slot, K.O_BASE, t);
    this.wr16(slot, K.O_TENANT, this.tenants.id(tenant));
    this.wr16(slot, K.O_CHANNEL, pid);
    this.continueFromTomb(slot, pseudoKey(this.names.value(pid), pmid));
    return slot;
  }

  /** Late evidence for a forgotten key: continue its version sequence, flagged beyond_correction_horizon. */
  private continueFromTomb(slot: number, key: string): void {
    const tomb = this.findTomb(key);
    if (tomb < 0) return;
    this.wr32(slot, K.O_VERSION, this.tombVersion[tomb]!);
    this.wr8(slot, K.O_LCLASS, this.tombClass[tomb]!);
    this.wr8(slot, K.O_LMISC, K.M_BEYOND);
    // A snapshot may hold this tombstone under its hash key: delete it there too (a no-op otherwise).
    this.pendingRecords.push({
      partition: this.tombPart[tomb]!,
      key: tombHashKey(this.tombA[tomb]!, this.tombB[tomb]!),
      value: null,
    });
    this.removeTomb(tomb);
  }

  /** Drops a slot created for an event that was then refused (no other state refers to it). */
  private freeSlotEntirely(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    if ((st & K.ST_PSEUDO) !== 0) {
      this.pmidIndex.remove(this.pmidHash(this.rd16(slot, K.O_CHANNEL), this.keyString(slot)), slot);
      this.pendingCount--;
    } else {
      this.ridIndex.remove(hash32(this.keyString(slot), SEED_RID), slot);
      this.openCount--;
    }
    this.releaseSlot(slot);
  }

  /** Makes room for `extra` bytes of records; false when the blob would exceed its maximum. */
  private ensure(slot: number, extra: number): boolean {
    const used = this.rd16(slot, K.O_USED);
    const cap = this.rd16(slot, K.O_CAP);
    if (used + extra <= cap) return true;
    if (used + extra > MAX_BLOB_BYTES) return false;
    const newCap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(Math.max(used + extra, Math.floor(cap * 1.5))));
    const oldAddr = this.slotAddr[slot]!;
    const addr = this.arena.alloc(newCap);
    const src = this.arena.u8[oldAddr >>> PAGE_BITS]!;
    const so = oldAddr & MASK;
    this.arena.u8[addr >>> PAGE_BITS]!.set(src.subarray(so, so + used), addr & MASK);
    this.arena.free(oldAddr, cap);
    this.slotAddr[slot] = addr;
    this.wr16(slot, K.O_CAP, newCap);
    this.c.blobReallocs++;
    return true;
  }

  /** Inserts the fingerprint after the key of an orphan slot that now has its request. */
  private attachRequest(slot: number, rid: string, fp: string): void {
    const oldAddr = this.slotAddr[slot]!;
    const op = oldAddr >>> PAGE_BITS;
    const ob = oldAddr & MASK;
    const ou8 = this.arena.u8[op]!;
    const oldRecs = this.rd16(slot, K.O_RECS);
    const used = this.rd16(slot, K.O_USED);
    const cap = this.rd16(slot, K.O_CAP);
    const keyLen = measure(rid);
    const fpLen = measure(fp);
    const recs = (K.HDR + keyLen + fpLen + 7) & ~7;
    const newUsed = recs + (used - oldRecs);
    const newCap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(Math.max(newUsed + ATTEMPT_RESERVE / 2, cap)));
    const addr = this.arena.alloc(newCap);
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    u8.fill(0, b, b + recs);
    u8.set(ou8.subarray(ob, ob + K.HDR), b);
    measure(rid);
    const w = write(u8, b + K.HDR, rid);
    measure(fp);
    write(u8, w, fp);
    u8.set(ou8.subarray(ob + oldRecs, ob + used), b + recs);
    this.arena.free(oldAddr, cap);
    this.slotAddr[slot] = addr;
    this.wr16(slot, K.O_USED, newUsed);
    this.wr16(slot, K.O_CAP, newCap);
    this.wr16(slot, K.O_RECS, recs);
    this.wr8(slot, K.O_STATE, this.rd8(slot, K.O_STATE) | K.ST_HAS_REQ);
  }

  private appendCallback(
    slot: number,
    status: number,
    flags: number,
    errCat: number,
    pid: number,
    errCode: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    time: number,
    seq: number,
    attH: number,
    pmidH: number,
    /** occurred_at − time (ms, ≥ 0; rounded up and capped here). */
    occurredAfterMs: number,
  ): void {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const used = u16[(b + K.O_USED) >> 1]!;
    const r = b + used;
    u8[r] = K.REC_CALLBACK;
    u8[r + K.K_STATUS] = status;
    u8[r + K.K_FLAGS] = flags;
    u8[r + K.K_ERRCAT] = errCat;
    u16[(r + K.K_PROVIDER) >> 1] = pid;
    u16[(r + K.K_ERRCODE) >> 1] = errCode;
    u32[(r + K.K_EIDA) >> 2] = eidA;
    u32[(r + K.K_EIDB) >> 2] = eidB;
    u32[(r + K.K_NATA) >> 2] = natA;
    u32[(r + K.K_NATB) >> 2] = natB;
    this.arena.f64[p]![(r + K.K_TIME) >> 3] = time;
    this.arena.i32[p]![(r + K.K_SEQ) >> 2] = seq;
    u32[(r + K.K_ATTH) >> 2] = attH;
    u32[(r + K.K_PMIDH) >> 2] = pmidH;
    // semantics/skew: kept so the evidence time can fall back to occurred_at when the provider clock proves slow.
    u32[(r + K.K_OCCD) >> 2] = occurredAfterMs > 0 ? Math.min(4294967295, Math.ceil(occurredAfterMs)) : 0;
    u16[(b + K.O_USED) >> 1] = used + K.CB_LEN;
  }

  /** 0 = new, 1 = same natural key seen (a duplicate report), 2 = same event (exact duplicate). */
  /**
   * 0 = new, 1 = same natural key seen (a duplicate report), 2 = same event (exact duplicate). Also sets
   * fcCallbacks (callback records) and fcAttachable (a known attempt takes a callback with these ids).
   */
  private findCallback(
    slot: number,
    eidA: number,
    eidB: number,
    natA: number,
    natB: number,
    hasAtt = false,
    attH = 0,
    pid = -1,
    pmidH = 0,
  ): number {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    let result = 0;
    let callbacks = 0;
    let attachable = false;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_CALLBACK) {
        if (u32[(r + K.K_EIDA) >> 2] === eidA && u32[(r + K.K_EIDB) >> 2] === eidB) return 2;
        if (u32[(r + K.K_NATA) >> 2] === natA && u32[(r + K.K_NATB) >> 2] === natB) result = 1;
        callbacks++;
        r += K.CB_LEN;
      } else {
        if (hasAtt && u32[(r + K.A_ATTH) >> 2] === attH) attachable = true;
        else if (
          (u8[r + K.A_FLAGS]! & 1) === 1 &&
          u32[(r + K.A_PMIDH) >> 2] === pmidH &&
          u16[(r + K.A_PROVIDER) >> 1] === pid
        )
          attachable = true;
        r += u16[(r + K.A_LEN) >> 1]!;
      }
    }
    this.fcCallbacks = callbacks;
    this.fcAttachable = attachable;
    return result;
  }

  /** True when the same dispatch event or the same attempt id is already recorded. */
  private findAttempt(
    slot: number,
    eidA: number,
    eidB: number,
    attH: number,
    attemptId: string,
    rid: string,
  ): boolean {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    let attempts = 0;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        if (u32[(r + K.A_EIDA) >> 2] === eidA && u32[(r + K.A_EIDB) >> 2] === eidB) return true;
        if (u32[(r + K.A_ATTH) >> 2] === attH && equalsAt(u8, r + K.A_STR, attemptId, rid)) return true;
        attempts++;
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
    this.faAttempts = attempts;
    return false;
  }

  /**
   * Hash of (provider, provider_message_id). Seeded by the provider *string* (cached per interned id), so the
   * hashes stored in records mean the same after a restore in another process.
   */
  private pmidHash(pid: number, pmid: string): number {
    let seed = this.provSeed[pid];
    if (seed === undefined) {
      seed = hash32(this.names.value(pid), 0x6d1d);
      this.provSeed[pid] = seed;
    }
    return hash32(pmid, seed);
  }

  private findRid(rid: string, rh: number): number {
    const idx = this.ridIndex;
    const mask = idx.mask;
    for (let pos = rh & mask; ; pos = (pos + 1) & mask) {
      const s = idx.slots[pos]!;
      if (s === NO_SLOT) return NO_SLOT;
      if (idx.hashes[pos] === rh) {
        const addr = this.slotAddr[s]!;
        if (equalsAt(this.arena.u8[addr >>> PAGE_BITS]!, (addr & MASK) + K.HDR, rid)) return s;
      }
    }
  }

  /** Slot bound to (provider, pmid): the request whose dispatch recorded it, or a pseudo slot of waiting callbacks. */
  private findPmid(pid: number, pmid: string, h: number): number {
    const idx = this.pmidIndex;
    const mask = idx.mask;
    for (let pos = h & mask; ; pos = (pos + 1) & mask) {
      const s = idx.slots[pos]!;
      if (s === NO_SLOT) return NO_SLOT;
      if (idx.hashes[pos] === h && this.slotHasPmid(s, pid, pmid, h)) return s;
    }
  }

  private slotHasPmid(slot: number, pid: number, pmid: string, h: number): boolean {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    if ((u8[b + K.O_STATE]! & K.ST_PSEUDO) !== 0)
      return u16[(b + K.O_CHANNEL) >> 1] === pid && equalsAt(u8, b + K.HDR, pmid);
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        if (
          (u8[r + K.A_FLAGS]! & 1) === 1 &&
          u32[(r + K.A_PMIDH) >> 2] === h &&
          u16[(r + K.A_PROVIDER) >> 1] === pid
        ) {
          const s = r + K.A_STR;
          if (equalsAt(u8, s + sizeAt(u8, s), pmid)) return true;
        }
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
    return false;
  }

  /** Binds (provider, pmid) to the slot; absorbs callbacks that were waiting for it. */
  private bindPmid(slot: number, pid: number, pmid: string, h: number, rid: string, provider: string): void {
    const other = this.findPmid(pid, pmid, h);
    if (other === slot) return;
    if (other === NO_SLOT) {
      // Bound first to a request of another instance (scale-out): first binding wins here too.
      if (this.rb.count > 0) {
        const remote = this.rb.find(pid, pmid, h, this.clock.now);
        if (remote >= 0 && !this.rb.requestIdEquals(remote, rid)) {
          this.c.pmidConflicts++;
          return;
        }
      }
      this.pmidIndex.insert(h, slot);
      this.o.onBinding?.(provider, pmid, rid);
      return;
    }
    if ((this.rd8(other, K.O_STATE) & K.ST_PSEUDO) === 0) {
      // Another request's dispatch recorded the same provider message id: first binding wins.
      this.c.pmidConflicts++;
      return;
    }
    // Move the waiting callbacks into the request, deduplicating on the way.
    const oAddr = this.slotAddr[other]!;
    const op = oAddr >>> PAGE_BITS;
    const ob = oAddr & MASK;
    const ou16 = this.arena.u16[op]!;
    const start = ob + ou16[(ob + K.O_RECS) >> 1]!;
    const end = ob + ou16[(ob + K.O_USED) >> 1]!;
    for (let r = start; r < end; r += K.CB_LEN) {
      const ou8 = this.arena.u8[op]!;
      const ou32 = this.arena.u32[op]!;
      const eidA = ou32[(r + K.K_EIDA) >> 2]!;
      const eidB = ou32[(r + K.K_EIDB) >> 2]!;
      const natA = ou32[(r + K.K_NATA) >> 2]!;
      const natB = ou32[(r + K.K_NATB) >> 2]!;
      const known = this.findCallback(slot, eidA, eidB, natA, natB);
      if (known === 2) continue;
      if (this.fcCallbacks >= this.o.maxCallbacksPerRequest || !this.ensure(slot, K.CB_LEN)) {
        this.c.refused++;
        continue;
      }
      let fl = ou8[r + K.K_FLAGS]! | K.KF_UNATTACHED;
      fl = known === 1 ? fl | K.KF_DUP : fl & ~K.KF_DUP;
      this.appendCallback(
        slot,
        ou8[r + K.K_STATUS]!,
        fl,
        ou8[r + K.K_ERRCAT]!,
        this.arena.u16[op]![(r + K.K_PROVIDER) >> 1]!,
        this.arena.u16[op]![(r + K.K_ERRCODE) >> 1]!,
        eidA,
        eidB,
        natA,
        natB,
        this.arena.f64[op]![(r + K.K_TIME) >> 3]!,
        this.arena.i32[op]![(r + K.K_SEQ) >> 2]!,
        ou32[(r + K.K_ATTH) >> 2]!,
        ou32[(r + K.K_PMIDH) >> 2]!,
        ou32[(r + K.K_OCCD) >> 2]!,
      );
      if (known === 1) this.c.duplicateCallbacks++;
    }
    this.c.pendingMatched++;
    // The pseudo slot disappears; the index now points at the request.
    this.pmidIndex.replace(h, other, slot);
    this.retirePseudo(other, provider, pmid);
    this.o.onBinding?.(provider, pmid, rid);
  }

  /** Forgets a closed slot after its correction horizon (or under the closed-trace bound). */
  private forget(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    const key = this.keyString(slot);
    const version = this.rd32(slot, K.O_VERSION);
    this.closedCount--;
    this.c.forgotten++;
    if ((st & K.ST_PSEUDO) !== 0) {
      const pid = this.rd16(slot, K.O_CHANNEL);
      const pmid = decodeAt(
        this.arena.u8[this.slotAddr[slot]! >>> PAGE_BITS]!,
        (this.slotAddr[slot]! & MASK) + K.HDR,
      );
      this.pmidIndex.remove(this.pmidHash(pid, pmid), slot);
      const partition = this.rd16(slot, K.O_PART);
      const lastClass = this.rd8(slot, K.O_LCLASS);
      this.releaseSlot(slot);
      // Pseudo keys version like requests: a later episode under the same key continues the sequence.
      if (version > 0) this.addTomb(pseudoKey(this.names.value(pid), pmid), version, lastClass, partition);
      else this.pendingRecords.push({ partition, key: pseudoKey(this.names.value(pid), pmid), value: null });
      return;
    }
    this.ridIndex.remove(hash32(key, SEED_RID), slot);
    this.unbindPmids(slot);
    const lastClass = this.rd8(slot, K.O_LCLASS);
    const partition = this.rd16(slot, K.O_PART);
    this.releaseSlot(slot);
    if (version > 0) this.addTomb(key, version, lastClass, partition);
    else this.pendingRecords.push({ partition, key, value: null });
  }

  private unbindPmids(slot: number): void {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        if ((u8[r + K.A_FLAGS]! & 1) === 1) this.pmidIndex.remove(u32[(r + K.A_PMIDH) >> 2]!, slot);
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
  }

  private keyString(slot: number): string {
    const addr = this.slotAddr[slot]!;
    const u8 = this.arena.u8[addr >>> PAGE_BITS]!;
    const b = addr & MASK;
    const s = decodeAt(u8, b + K.HDR);
    if ((u8[b + K.O_STATE]! & K.ST_PSEUDO) !== 0)
      return `${this.names.value(this.arena.u16[addr >>> PAGE_BITS]![(b + K.O_CHANNEL) >> 1]!)}:${s}`;
    return s;
  }

  // ---- tombstones ----
  // Forgotten requests leave (64-bit key hash, last version, last class, home partition, expiry) in a FIFO
  // ring ordered by forget time (= expiry order: the clock is monotone and the horizon constant).

  private findTomb(rid: string): number {
    if (this.tombCount === 0) return -1;
    hash2(rid, SEED_TOMB);
    return this.findTombHash(H.a, H.b);
  }

  private findTombHash(a: number, bb: number): number {
    if (this.tombCount === 0) return -1;
    const idx = this.tombIndex;
    const mask = idx.mask;
    for (let pos = a & mask; ; pos = (pos + 1) & mask) {
      const s = idx.slots[pos]!;
      if (s === NO_SLOT) return -1;
      // A tombstone counts while the clock is before its expiry (the FIFO drops it lazily).
      if (idx.hashes[pos] === a && this.tombB[s] === bb && this.tombExpiry[s]! > this.clock.now) return s;
    }
  }

  private addTomb(rid: string, version: number, lastClass: number, partition: number): void {
    hash2(rid, SEED_TOMB);
    const expiry = (this.clock.now === -Infinity ? this.wallNow : this.clock.now) + this.o.tombstoneHorizonMs;
    this.addTombRaw(H.a, H.b, version, lastClass, partition, expiry);
    this.pendingTombs.push({ partition, key: rid, version, lastClass, expiry });
    while (this.tombCount > this.o.maxTombstones) {
      this.popTomb();
      this.c.evictedTombstones++;
    }
  }

  private addTombRaw(
    a: number,
    b: number,
    version: number,
    lastClass: number,
    partition: number,
    expiry: number,
  ): void {
    if (this.tombTail - this.tombHead >= this.tombB.length) this.growTombs();
    const i = this.tombTail % this.tombB.length;
    this.tombTail++;
    this.tombA[i] = a;
    this.tombB[i] = b;
    this.tombVersion[i] = version;
    this.tombClass[i] = lastClass;
    this.tombPart[i] = partition;
    this.tombExpiry[i] = expiry;
    this.tombIndex.insert(a, i);
    this.tombCount++;
  }

  private growTombs(): void {
    const cap = this.tombB.length;
    const n = cap * 2;
    const tA = new Uint32Array(n);
    const tB = new Uint32Array(n);
    const tV = new Uint32Array(n);
    const tC = new Uint8Array(n);
    const tP = new Uint16Array(n);
    const tE = new Float64Array(n);
    for (let k = this.tombHead; k < this.tombTail; k++) {
      const oi = k % cap;
      const ni = k % n;
      tA[ni] = this.tombA[oi]!;
      tB[ni] = this.tombB[oi]!;
      tV[ni] = this.tombVersion[oi]!;
      tC[ni] = this.tombClass[oi]!;
      tP[ni] = this.tombPart[oi]!;
      tE[ni] = this.tombExpiry[oi]!;
      if (tE[ni] === tE[ni]) this.tombIndex.replace(tA[ni], oi, ni);
    }
    this.tombA = tA;
    this.tombB = tB;
    this.tombVersion = tV;
    this.tombClass = tC;
    this.tombPart = tP;
    this.tombExpiry = tE;
  }

  private removeTomb(i: number): void {
    this.tombIndex.remove(this.tombA[i]!, i);
    this.tombExpiry[i] = NaN; // the FIFO skips it
    this.tombCount--;
  }

  private popTomb(): void {
    while (this.tombHead < this.tombTail) {
      const i = this.tombHead % this.tombB.length;
      this.tombHead++;
      if (this.tombExpiry[i] !== this.tombExpiry[i]) continue;
      this.tombIndex.remove(this.tombA[i]!, i);
      this.tombCount--;
      return;
    }
  }

  /**
   * Drops tombstones past their horizon. Their changelog records are not deleted here (only the hash is kept);
   * the changelog topic's retention (>= tombstoneHorizonMs) ages them out and restore skips expired ones.
   */
  private expireTombstones(): void {
    const T = this.clock.now;
    while (this.tombHead < this.tombTail) {
      const i = this.tombHead % this.tombB.length;
      const e = this.tombExpiry[i]!;
      if (e === e && e > T) break;
      this.tombHead++;
      if (e !== e) continue;
      this.tombIndex.remove(this.tombA[i]!, i);
      this.tombCount--;
    }
  }

  // ---- recovery ----

  private enqueueRecovery(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    if ((st & K.ST_RECOVERY_Q) !== 0) return;
    this.wr8(slot, K.O_STATE, st | K.ST_RECOVERY_Q);
    const cap = this.recoveryQ.length;
    if (this.recoveryTail - this.recoveryHead >= cap) {
      const q = new Int32Array(cap * 2);
      for (let k = this.recoveryHead; k < this.recoveryTail; k++) q[k % (cap * 2)] = this.recoveryQ[k % cap]!;
      this.recoveryQ = q;
    }
    this.recoveryQ[this.recoveryTail % this.recoveryQ.length] = slot;
    this.recoveryTail++;
  }

  private releaseRecovery(now: number): void {
    if (this.recoveryHead === this.recoveryTail) {
      // Recovery ends once the clock is past the downtime and everything queued was released.
      if (this.clock.now >= this.recoveryUntil) this.recoveryUntil = -Infinity;
      this.lastTickWall = now;
      return;
    }
    const rate = this.o.recoveryReleasePerSec;
    const elapsed = this.lastTickWall === this.lastTickWall ? Math.max(0, now - this.lastTickWall) : 0;
    this.lastTickWall = now;
    this.recoveryTokens = Math.min(rate, this.recoveryTokens + (elapsed * rate) / 1000);
    while (this.recoveryTokens >= 1 && this.recoveryHead !== this.recoveryTail) {
      const slot = this.recoveryQ[this.recoveryHead % this.recoveryQ.length]!;
      this.recoveryHead++;
      if (this.slotAddr[slot] === 0) continue;
      const st = this.rd8(slot, K.O_STATE);
      this.wr8(slot, K.O_STATE, st & ~K.ST_RECOVERY_Q);
      if ((st & K.ST_CLOSED) !== 0) continue;
      const before = this.c.versions;
      this.evaluate(slot, K.FB_RECOVERY, false);
      if (this.c.versions !== before) {
        this.recoveryTokens--;
        this.c.recoveryReleased++;
      }
    }
  }

  // ---- deadlines from configuration ----

  /** Deadlines of a request into dSla/dGiveUp (fields: no object per event). */
  private deadlinesFor(
    operation: string,
    channel: string,
    slaMs: number | null,
    giveUpMs: number | null,
  ): void {
    let sla = slaMs;
    let give = giveUpMs;
    if (sla === null || give === null || !(sla >= 0) || !(give >= 0)) {
      const key = this.names.id(operation) * 65536 + this.names.id(channel);
      let packed = this.dlCache.get(key);
      if (packed === undefined) {
        const r = this.ruleFor(operation, channel);
        packed = r.slaMs * 4294967296 + r.giveUpMs;
        this.dlCache.set(key, packed);
      }
      const cfgSla = Math.floor(packed / 4294967296);
      const cfgGive = packed - cfgSla * 4294967296;
      if (sla === null || !(sla >= 0)) sla = cfgSla;
      if (give === null || !(give >= 0)) give = cfgGive;
    }
    this.dSla = Math.min(sla, 2147483647);
    this.dGiveUp = Math.min(Math.max(give, this.dSla), 2147483647);
  }

  private ruleFor(operation: string, channel: string): { slaMs: number; giveUpMs: number } {
    let best: { slaMs: number; giveUpMs: number } = {
      slaMs: this.o.defaultSlaMs,
      giveUpMs: this.o.defaultGiveUpMs,
    };
    let bestScore = -1;
    for (const r of this.o.deadlineRules) {
      if (r.operation !== undefined && r.operation !== operation) continue;
      if (r.channel !== undefined && r.channel !== channel) continue;
      const score = (r.operation !== undefined ? 2 : 0) + (r.channel !== undefined ? 1 : 0);
      if (score > bestScore) {
        bestScore = score;
        best = r;
      }
    }
    return best;
  }

  // ---- changelog ----

  private markDirty(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    if ((st & K.ST_DIRTY) !== 0) return;
    this.wr8(slot, K.O_STATE, st | K.ST_DIRTY);
    if (this.dirtyCount === this.dirty.length) {
      const d = new Int32Array(this.dirty.length * 2);
      d.set(this.dirty);
      this.dirty = d;
    }
    this.dirty[this.dirtyCount++] = slot;
  }

  drainChangelog(): ChangelogRecord[] {
    const w = (this.writer ??= new ChangelogWriter(this.tenants, this.names, this.errCodes, this.attrSets));
    // Deletions first, then tombstones and images in the order written; keys and partitions alongside.
    const records: ChangelogRecord[] = this.pendingRecords;
    this.pendingRecords = [];
    const keys: string[] = [];
    const parts: number[] = [];
    for (const t of this.pendingTombs) {
      w.tomb(t.version, t.lastClass, t.expiry);
      keys.push(t.key);
      parts.push(t.partition);
    }
    this.pendingTombs = [];
    if (this.pendingBindings.size > 0) this.drainBindings(w, records, keys, parts);
    for (let k = 0; k < this.dirtyCount; k++) {
      const slot = this.dirty[k]!;
      const addr = this.slotAddr[slot]!;
      if (addr === 0) continue;
      const p = addr >>> PAGE_BITS;
      const b = addr & MASK;
      const u8 = this.arena.u8[p]!;
      const st = u8[b + K.O_STATE]!;
      if ((st & K.ST_DIRTY) === 0) continue;
      u8[b + K.O_STATE] = st & ~K.ST_DIRTY;
      const u16 = this.arena.u16[p]!;
      w.slot(u8, u16, b, u16[(b + K.O_USED) >> 1]!);
      keys.push(this.changelogKey(slot));
      parts.push(u16[(b + K.O_PART) >> 1]!);
    }
    this.dirtyCount = 0;
    if (keys.length > 0 || records.length > 0 || this.clockDirty) {
      this.writeMetas(w, keys, parts);
      this.clockDirty = false;
    }
    const values = w.finish();
    for (let i = 0; i < values.length; i++)
      records.push({ partition: parts[i]!, key: keys[i]!, value: values[i]! });
    return records;
  }

  /** Remote bindings added or removed since the last drain (scale-out). */
  private drainBindings(
    w: ChangelogWriter,
    records: ChangelogRecord[],
    keys: string[],
    parts: number[],
  ): void {
    for (const [key, b] of this.pendingBindings) {
      if (b.requestId === null) records.push({ partition: b.partition, key, value: null });
      else {
        w.binding(b.provider, b.pmid, b.requestId, b.expiry);
        keys.push(key);
        parts.push(b.partition);
      }
    }
    this.pendingBindings.clear();
  }

  /** Clock state per partition: its three inputs' progress. */
  private writeMetas(w: ChangelogWriter, keys: string[], parts: number[]): void {
    for (const part of this.partitions) {
      const inputs: { kind: number; maxEventTime: number | null; seenAt: number }[] = [];
      for (let kind = 0; kind < 3; kind++) {
        const i = this.clock.peek(part * 3 + kind);
        if (i < 0) continue;
        const me = this.clock.maxEvent[i]!;
        inputs.push({ kind, maxEventTime: me === -Infinity ? null : me, seenAt: this.clock.seenAt[i]! });
      }
      w.meta({ clockNow: this.clock.now, wallAt: this.wallNow, inputs });
      keys.push(META_KEY);
      parts.push(part);
    }
  }

  /**
   * Images of the whole state, a bounded piece per call, for a snapshot of the changelog: every live slot (as
   * `drainChangelog` writes it), then every remembered tombstone (keyed by its hash, `tombHashKey`), then every
   * remote binding (scale-out), then one meta record per partition. The cursor survives state changes between calls: a piece reflects the state at
   * its call, and whatever changes later is in a later `drainChangelog`, so replaying the changelog from the
   * point the export began yields the current state once the export is done.
   */
  exportState(cursor: ExportCursor, maxRecords: number): { records: ChangelogRecord[]; next: ExportCursor } {
    const w = (this.writer ??= new ChangelogWriter(this.tenants, this.names, this.errCodes, this.attrSets));
    const keys: string[] = [];
    const parts: number[] = [];
    let { phase, at } = cursor;
    if (phase === 'slots') {
      for (; at < this.slotHigh && keys.length < maxRecords; at++) {
        const addr = this.slotAddr[at]!;
        if (addr === 0) continue;
        const p = addr >>> PAGE_BITS;
        const b = addr & MASK;
        const u16 = this.arena.u16[p]!;
        w.slot(this.arena.u8[p]!, u16, b, u16[(b + K.O_USED) >> 1]!);
        keys.push(this.changelogKey(at));
        parts.push(u16[(b + K.O_PART) >> 1]!);
      }
      if (at >= this.slotHigh) {
        phase = 'tombs';
        at = this.tombHead;
      }
    }
    if (phase === 'tombs') {
      at = Math.max(at, this.tombHead);
      for (; at < this.tombTail && keys.length < maxRecords; at++) {
        const i = at % this.tombB.length;
        const expiry = this.tombExpiry[i]!;
        if (expiry !== expiry) continue; // removed
        w.tomb(this.tombVersion[i]!, this.tombClass[i]!, expiry);
        keys.push(tombHashKey(this.tombA[i]!, this.tombB[i]!));
        parts.push(this.tombPart[i]!);
      }
      if (at >= this.tombTail) {
        phase = 'bindings';
        at = this.rb.first;
      }
    }
    if (phase === 'bindings') {
      at = Math.max(at, this.rb.first);
      for (; at < this.rb.end && keys.length < maxRecords; at++) {
        const i = this.rb.at(at);
        if (i < 0) continue; // removed
        const provider = this.names.value(this.rb.providerId(i));
        const pmid = this.rb.pmid(i);
        w.binding(provider, pmid, this.rb.requestId(i), this.rb.expiry(i));
        keys.push(remoteBindingKey(provider, pmid));
        parts.push(this.rb.partition(i));
      }
      if (at >= this.rb.end) phase = 'meta';
    }
    if (phase === 'meta') {
      this.writeMetas(w, keys, parts);
      phase = 'done';
      at = 0;
    }
    const values = w.finish();
    const records: ChangelogRecord[] = [];
    for (let i = 0; i < values.length; i++)
      records.push({ partition: parts[i]!, key: keys[i]!, value: values[i]! });
    return { records, next: { phase, at } };
  }

  private changelogKey(slot: number): string {
    const addr = this.slotAddr[slot]!;
    const u8 = this.arena.u8[addr >>> PAGE_BITS]!;
    const b = addr & MASK;
    if ((u8[b + K.O_STATE]! & K.ST_PSEUDO) !== 0)
      return pseudoKey(
        this.names.value(this.arena.u16[addr >>> PAGE_BITS]![(b + K.O_CHANNEL) >> 1]!),
        decodeAt(u8, b + K.HDR),
      );
    return decodeAt(u8, b + K.HDR);
  }

  restore(partition: number, records: Iterable<{ readonly key: string; readonly value: Uint8Array }>): void {
    const now = (this.wallNow = this.wall.now());
    this.partitions.add(partition);
    let meta: MetaImage | undefined;
    const tombs: { key: string; version: number; lastClass: number; expiry: number }[] = [];
    const bindings: { provider: string; providerMessageId: string; requestId: string; expiry: number }[] = [];
    for (const rec of records) {
      const decoded = readSnapshot(rec.value);
      if (decoded.kind === 'meta') meta = decoded;
      else if (decoded.kind === 'binding') bindings.push(decoded);
      else if (decoded.kind === 'tomb')
        tombs.push({
          key: rec.key,
          version: decoded.version,
          lastClass: decoded.lastClass,
          expiry: decoded.expiry ?? Infinity,
        });
      else {
        // A key already present (a partition restored twice) is replaced.
        const existing = rec.key.startsWith(PSEUDO_KEY_PREFIX)
          ? NO_SLOT
          : this.findRid(rec.key, hash32(rec.key, SEED_RID));
        if (existing !== NO_SLOT) this.dropSlot(existing);
        this.restoreSlot(rec.key, decoded.image, partition);
        this.c.restoredSlots++;
      }
    }
    if (meta) {
      for (const inp of meta.inputs)
        this.clock.restoreInput(partition * 3 + inp.kind, inp.maxEventTime, inp.seenAt, now);
      // A fresh engine resumes from the restored clock (the earliest, if partitions disagree); a running one
      // keeps its own (monotone) clock.
      if (this.c.events === 0 && meta.clockNow !== -Infinity)
        this.clock.now = this.restoredClock ? Math.min(this.clock.now, meta.clockNow) : meta.clockNow;
      this.restoredClock = true;
      // Deadlines that passed while we were down (the event-time equivalent of the downtime) are released at a
      // bounded rate and flagged overdue_due_to_downtime.
      if (meta.clockNow !== -Infinity)
        this.recoveryUntil = Math.max(this.recoveryUntil, meta.clockNow + Math.max(0, now - meta.wallAt));
    }
    tombs.sort((x, y) => x.expiry - y.expiry);
    // The same tombstone can come twice: under its request key (when it was forgotten) and under its hash key
    // (from a snapshot); the later expiry (same or later version) wins.
    const seenTombs = new Map<string, number>();
    const hashes: { a: number; b: number }[] = [];
    for (let k = 0; k < tombs.length; k++) {
      const t = tombs[k]!;
      const named = parseTombHashKey(t.key);
      if (named) hashes.push(named);
      else {
        hash2(t.key, SEED_TOMB);
        hashes.push({ a: H.a, b: H.b });
      }
      const h = hashes[k]!;
      seenTombs.set(`${h.a}:${h.b}`, k);
    }
    for (let k = 0; k < tombs.length; k++) {
      const t = tombs[k]!;
      const h = hashes[k]!;
      if (t.expiry <= this.clock.now || seenTombs.get(`${h.a}:${h.b}`) !== k) continue;
      if (this.findTombHash(h.a, h.b) >= 0) continue; // a partition restored twice
      this.addTombRaw(h.a, h.b, t.version, t.lastClass, partition, t.expiry);
    }
    if (bindings.length > 0) this.restoreBindings(partition, bindings);
  }

  /** Remote bindings of a restored partition (scale-out), oldest first; expired ones are skipped. */
  private restoreBindings(
    partition: number,
    bindings: { provider: string; providerMessageId: string; requestId: string; expiry: number }[],
  ): void {
    bindings.sort((x, y) => x.expiry - y.expiry);
    const T = this.clock.now;
    for (const b of bindings) {
      if (b.expiry <= T) continue;
      const pid = this.names.id(b.provider);
      const h = this.pmidHash(pid, b.providerMessageId);
      const existing = this.rb.find(pid, b.providerMessageId, h, T);
      if (existing >= 0) this.rb.remove(existing); // a partition restored twice: the image wins
      this.rb.add(pid, b.providerMessageId, h, b.requestId, partition, b.expiry);
    }
    while (this.rb.count > this.o.maxRemoteBindings) {
      const oldest = this.rb.oldest();
      if (oldest < 0) break;
      this.dropRemoteBinding(oldest);
      this.c.evictedRemoteBindings++;
    }
  }

  dropPartitions(partitions: readonly number[]): void {
    if (partitions.length === 0) return;
    const drop = new Set(partitions);
    for (let slot = 0; slot < this.slotHigh; slot++) {
      if (this.slotAddr[slot] === 0) continue;
      if (drop.has(this.rd16(slot, K.O_PART))) this.dropSlot(slot);
    }
    for (let k = this.tombHead; k < this.tombTail; k++) {
      const i = k % this.tombB.length;
      if (this.tombExpiry[i] === this.tombExpiry[i] && drop.has(this.tombPart[i]!)) this.removeTomb(i);
    }
    for (const part of partitions) {
      this.partitions.delete(part);
      for (let kind = 0; kind < 3; kind++) {
        const i = this.clock.peek(part * 3 + kind);
        if (i >= 0) this.clock.drop(i);
      }
    }
    this.pendingRecords = this.pendingRecords.filter((r) => !drop.has(r.partition));
    if (this.rb.count > 0) for (const i of this.rb.inPartitions(drop)) this.rb.remove(i);
    for (const [key, b] of this.pendingBindings) if (drop.has(b.partition)) this.pendingBindings.delete(key);
  }

  /** Removes a slot and its index entries without output (ownership moved, or replaced by a restore). */
  private dropSlot(slot: number): void {
    const st = this.rd8(slot, K.O_STATE);
    const key = decodeAt(
      this.arena.u8[this.slotAddr[slot]! >>> PAGE_BITS]!,
      (this.slotAddr[slot]! & MASK) + K.HDR,
    );
    if ((st & K.ST_PSEUDO) !== 0)
      this.pmidIndex.remove(this.pmidHash(this.rd16(slot, K.O_CHANNEL), key), slot);
    else {
      this.ridIndex.remove(hash32(key, SEED_RID), slot);
      this.unbindPmids(slot);
    }
    if ((st & K.ST_CLOSED) !== 0) this.closedCount--;
    else if ((st & K.ST_PSEUDO) !== 0) this.pendingCount--;
    else this.openCount--;
    this.releaseSlot(slot);
  }

  private restoreSlot(key: string, image: RestoredSlot, partition: number): number {
    const blob = image.blob;
    const cap = Math.min(MAX_BLOB_BYTES, Arena.sizeClass(blob.length + 16));
    const addr = this.arena.alloc(cap);
    const slot = this.allocSlot();
    this.slotAddr[slot] = addr;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    u8.set(blob, b);
    // Interned ids are process-local: the image holds indexes into its string table; re-intern them.
    const str = (i: number): string => image.strings[i] ?? '';
    this.wr16(slot, K.O_CAP, cap);
    this.wr16(slot, K.O_PART, partition);
    this.wr16(slot, K.O_TENANT, this.tenants.id(str(u16[(b + K.O_TENANT) >> 1]!)));
    const st = this.rd8(slot, K.O_STATE) & ~(K.ST_DIRTY | K.ST_RECOVERY_Q);
    this.wr8(slot, K.O_STATE, st);
    const pseudo = (st & K.ST_PSEUDO) !== 0;
    this.wr16(slot, K.O_OP, this.names.id(str(u16[(b + K.O_OP) >> 1]!)));
    this.wr16(slot, K.O_CHANNEL, this.names.id(str(u16[(b + K.O_CHANNEL) >> 1]!)));
    const le = u16[(b + K.O_LERRCODE) >> 1]!;
    this.wr16(slot, K.O_LERRCODE, le ? this.errCodes.id(str(le)) : 0);
    this.wr32(slot, K.O_ATTRS, this.attrSets.id(image.attrs));
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        u16[(r + K.A_ROUTE) >> 1] = this.names.id(str(u16[(r + K.A_ROUTE) >> 1]!));
        u16[(r + K.A_PROVIDER) >> 1] = this.names.id(str(u16[(r + K.A_PROVIDER) >> 1]!));
        const e = u16[(r + K.A_ERRCODE) >> 1]!;
        u16[(r + K.A_ERRCODE) >> 1] = e ? this.errCodes.id(str(e)) : 0;
        r += u16[(r + K.A_LEN) >> 1]!;
      } else {
        u16[(r + K.K_PROVIDER) >> 1] = this.names.id(str(u16[(r + K.K_PROVIDER) >> 1]!));
        const e = u16[(r + K.K_ERRCODE) >> 1]!;
        u16[(r + K.K_ERRCODE) >> 1] = e ? this.errCodes.id(str(e)) : 0;
        r += K.CB_LEN;
      }
    }
    this.indexPmids(slot);
    if (pseudo)
      this.pmidIndex.insert(this.pmidHash(this.rd16(slot, K.O_CHANNEL), decodeAt(u8, b + K.HDR)), slot);
    else this.ridIndex.insert(hash32(key, SEED_RID), slot);
    const next = this.rd64(slot, K.O_NEXT);
    if ((st & K.ST_CLOSED) !== 0) {
      this.closedCount++;
      if (next === next) this.closedDl.push(next, slot);
    } else {
      if (pseudo) this.pendingCount++;
      else this.openCount++;
      if (next === next) (pseudo ? this.pendingDl : this.openDl).push(next, slot);
    }
    return slot;
  }

  /** Re-creates the binding index entries of a restored slot (hashes are process-independent). */
  private indexPmids(slot: number): void {
    const addr = this.slotAddr[slot]!;
    const p = addr >>> PAGE_BITS;
    const b = addr & MASK;
    const u8 = this.arena.u8[p]!;
    const u16 = this.arena.u16[p]!;
    const u32 = this.arena.u32[p]!;
    const end = b + u16[(b + K.O_USED) >> 1]!;
    for (let r = b + u16[(b + K.O_RECS) >> 1]!; r < end;) {
      if (u8[r] === K.REC_ATTEMPT) {
        if ((u8[r + K.A_FLAGS]! & 1) === 1) {
          const h = u32[(r + K.A_PMIDH) >> 2]!;
          const s = r + K.A_STR;
          const pmid = decodeAt(u8, s + sizeAt(u8, s));
          // First binding wins, as at runtime: only bind when nobody holds the pair yet.
          if (this.findPmid(u16[(r + K.A_PROVIDER) >> 1]!, pmid, h) === NO_SLOT)
            this.pmidIndex.insert(h, slot);
        }
        r += u16[(r + K.A_LEN) >> 1]!;
      } else r += K.CB_LEN;
    }
  }

  // =====================================================================================================
  // Introspection
  // =====================================================================================================

  stats(): EngineStats {
    const tombBytes =
      this.tombIndex.bytes +
      this.tombA.byteLength +
      this.tombB.byteLength +
      this.tombVersion.byteLength +
      this.tombClass.byteLength +
      this.tombExpiry.byteLength;
    const bytes = {
      arenaReserved: this.arena.bytesReserved,
      arenaInUse: this.arena.bytesInUse,
      arenaFree: this.arena.bytesFree,
      slots: this.slotAddr.byteLength + this.freeSlots.byteLength,
      indexes: this.ridIndex.bytes + this.pmidIndex.bytes,
      deadlines: this.openDl.bytes + this.pendingDl.bytes + this.closedDl.bytes,
      tombstones: tombBytes,
      remoteBindings: this.rb.bytes,
      total: 0,
    };
    bytes.total =
      bytes.arenaReserved +
      bytes.slots +
      bytes.indexes +
      bytes.deadlines +
      bytes.tombstones +
      bytes.remoteBindings;
    const counters: Record<string, number> = { ...this.c };
    counters['lateEvents'] = this.clock.lateEvents;
    counters['futureCapped'] = this.clock.futureCapped;
    return {
      openRequests: this.openCount,
      pendingCallbacks: this.pendingCount,
      closedTraces: this.closedCount,
      tombstones: this.tombCount,
      remoteBindings: this.rb.count,
      pendingHandoffs: this.pendingHandoffCount,
      deadlines: { open: this.openDl.size, pending: this.pendingDl.size, closed: this.closedDl.size },
      recoveryQueue: this.recoveryTail - this.recoveryHead,
      bytes,
      interned: {
        strings: this.tenants.size + this.names.size + this.errCodes.size,
        attributeSets: this.attrSets.size,
        overflowed:
          this.tenants.overflowed +
          this.names.overflowed +
          this.errCodes.overflowed +
          this.attrSets.overflowed,
      },
      counters,
    };
  }

  watermarks(): ClockView {
    const T = this.clock.now;
    return {
      eventTime: T === -Infinity ? null : T,
      source: this.clock.source === SRC_WALL ? 'wall_clock' : 'watermark',
      lagMs: T === -Infinity ? null : this.wall.now() - T,
      inputs: this.clock
        .snapshot()
        .map((w) => ({ ...w, kind: KIND_NAMES[w.input % 3]!, partition: Math.floor(w.input / 3) })),
      recoveryUntil: this.recoveryUntil === -Infinity ? null : this.recoveryUntil,
    };
  }

  // ---- header accessors ----

  private rd8(slot: number, o: number): number {
    const a = this.slotAddr[slot]!;
    return this.arena.u8[a >>> PAGE_BITS]![(a & MASK) + o]!;
  }
  private wr8(slot: number, o: number, v: number): void {
    const a = this.slotAddr[slot]!;
    this.arena.u8[a >>> PAGE_BITS]![(a & MASK) + o] = v;
  }
  private rd16(slot: number, o: number): number {
    const a = this.slotAddr[slot]!;
    return this.arena.u16[a >>> PAGE_BITS]![((a & MASK) + o) >> 1]!;
  }
  private wr16(slot: number, o: number, v: number): void {
    const a = this.slotAddr[slot]!;
    this.arena.u16[a >>> PAGE_BITS]![((a & MASK) + o) >> 1] = v;
  }
  private rd32(slot: number, o: number): number {
    const a = this.slotAddr[slot]!;
    return this.arena.u32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2]!;
  }
  private wr32(slot: number, o: number, v: number): void {
    const a = this.slotAddr[slot]!;
    this.arena.u32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2] = v;
  }
  private wri32(slot: number, o: number, v: number): void {
    const a = this.slotAddr[slot]!;
    this.arena.i32[a >>> PAGE_BITS]![((a & MASK) + o) >> 2] = v;
  }
  private rd64(slot: number, o: number): number {
    const a = this.slotAddr[slot]!;
    return this.arena.f64[a >>> PAGE_BITS]![((a & MASK) + o) >> 3]!;
  }
  private wr64(slot: number, o: number, v: number): void {
    const a = this.slotAddr[slot]!;
    this.arena.f64[a >>> PAGE_BITS]![((a & MASK) + o) >> 3] = v;
  }
}

function h2AddInt1(): void {
  h2AddNumber(1);
}

/** Verdict classes whose compensation a later class makes moot. */
function moot(trigger: number, now: number): boolean {
  if (now === K.C_ON_TIME) return trigger !== K.C_ON_TIME;
  if (now === K.C_LATE) return trigger !== K.C_LATE;
  if (trigger === K.C_ORPHAN_CALLBACK || trigger === K.C_ORPHAN_DISPATCH)
    return now !== K.C_ORPHAN_CALLBACK && now !== K.C_ORPHAN_DISPATCH;
  return false;
}

function pseudoKey(provider: string, pmid: string): string {
  return `${PSEUDO_KEY_PREFIX}${provider}:${pmid}`;
}

function remoteBindingKey(provider: string, pmid: string): string {
  return `${REMOTE_BINDING_KEY_PREFIX}${provider}:${pmid}`;
}
