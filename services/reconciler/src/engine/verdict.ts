// Verdict building: the versioned Verdict record (attempts in attempt order, the bounded hop timeline, the
// three layers) from the classifier's scratch and result, right after classify.
import type { Hop, Verdict } from '@pathwatch/schemas';
import { Classifier } from './classify.js';
import * as K from './codes.js';
import type { EngineState } from './state.js';
import { decodeAt, sizeAt } from './strcodec.js';

const MAX_ATT = Classifier.MAX_ATT;

export class VerdictBuilder {
  private readonly orderScratch = new Int32Array(MAX_ATT);
  private readonly hopRankScratch = new Int32Array(MAX_ATT + 260);
  private readonly hopIdxScratch = new Int32Array(MAX_ATT + 260);

  constructor(
    private readonly s: EngineState,
    private readonly cl: Classifier,
  ) {}

  build(
    slot: number,
    version: number,
    firedBy: number,
    decidedAt: number,
    isCorrection: boolean,
    previous: number,
    revisionKind: NonNullable<Verdict['revision_kind']>,
  ): Verdict {
    const cl = this.cl;
    const p = cl.scanPage;
    const b = cl.scanBase;
    const u8 = this.s.store.arena.u8[p]!;
    const u16 = this.s.store.arena.u16[p]!;
    const u32 = this.s.store.arena.u32[p]!;
    const i32 = this.s.store.arena.i32[p]!;
    const f64 = this.s.store.arena.f64[p]!;
    const st = u8[b + K.O_STATE]!;
    const hasReq = (st & K.ST_HAS_REQ) !== 0;
    const requestId = this.s.keys.keyString(slot);
    const rid = (st & K.ST_PSEUDO) !== 0 ? undefined : requestId;
    const n = cl.scanN;
    let operation = '';
    let channel = '';
    let fingerprint = '';
    let slaMs: number;
    let giveUpMs: number;
    if (hasReq) {
      operation = this.s.names.value(u16[(b + K.O_OP) >> 1]!);
      channel = this.s.names.value(u16[(b + K.O_CHANNEL) >> 1]!);
      fingerprint = decodeAt(u8, b + K.HDR + sizeAt(u8, b + K.HDR));
      slaMs = i32[(b + K.O_SLA) >> 2]!;
      giveUpMs = i32[(b + K.O_GIVEUP) >> 2]!;
    } else {
      slaMs = this.s.o.defaultSlaMs;
      giveUpMs = this.s.o.defaultGiveUpMs;
    }
    // Attempts in attempt order (insertion sort: a request has a handful).
    const order = this.orderScratch;
    for (let i = 0; i < n; i++) {
      let j = i - 1;
      while (j >= 0 && cl.attemptAfter(order[j]!, i)) {
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
      const r = cl.aRec[i]!;
      const disp = cl.aDisp[i]!;
      if (disp < firstDispatch) firstDispatch = disp;
      if (cl.aSub[i] === K.SUB_ACCEPTED && disp < providerAccepted) providerAccepted = disp;
      const attStrAt = r + K.A_STR;
      const attemptId = decodeAt(u8, attStrAt, rid ?? '');
      const pmid = cl.aHasPmid[i] === 1 ? decodeAt(u8, attStrAt + sizeAt(u8, attStrAt)) : null;
      const provider = this.s.names.value(cl.aProv[i]!);
      const route = this.s.names.value(u16[(r + K.A_ROUTE) >> 1]!);
      const submit = K.SUBMIT_NAMES[cl.aSub[i]!] ?? 'error';
      const ls = cl.lsStatus[i]!;
      attempts.push({
        attempt_id: attemptId,
        attempt_no: cl.aNo[i]!,
        reason: K.REASON_NAMES[cl.aReason[i]!] ?? 'other',
        route,
        provider,
        provider_message_id: pmid,
        submit_outcome: submit,
        dispatched_at: disp,
        last_status: ls >= 0 ? (K.STATUS_NAMES[ls] ?? null) : null,
        last_status_at: ls >= 0 ? cl.lsTime[i]! : null,
      });
      const err = cl.aErr[i]!;
      hopRank[hops.length] = 1;
      hops.push({
        kind: 'dispatch',
        at: disp,
        detail: `${K.REASON_NAMES[cl.aReason[i]!] ?? 'other'} ${provider}/${route} ${submit}${err ? ` ${this.s.errCodes.value(err)}` : ''}`,
      });
    }
    for (let k = 0; k < cl.scanCbs; k++) {
      if (cl.cbAtt[k]! < 0) continue; // duplicate
      const r = cl.cbRec[k]!;
      const fl = u8[r + K.K_FLAGS]!;
      const status = K.STATUS_NAMES[u8[r + K.K_STATUS]!] ?? 'unknown';
      const evidence = K.EVIDENCE_NAMES[(fl >> 1) & 3] ?? 'none';
      hopRank[hops.length] = 2;
      hops.push({
        kind: 'callback',
        at: cl.cbTime[k]!, // within its bounds (semantics/skew)
        detail: (fl & K.KF_FINAL) !== 0 ? `${status} (${evidence})` : `${status} intermediate (${evidence})`,
      });
    }
    const cls = cl.rClass;
    const className = K.VERDICT_CLASS_NAMES[cls] ?? 'missing_outcome';
    hopRank[hops.length] = 3;
    hops.push({
      kind: 'verdict',
      at: decidedAt,
      detail: `${className}${cl.rProvisional ? ' provisional' : ''} v${version}`,
    });
    const boundedHops = this.orderHops(hops, hopRank);

    const flags: string[] = [];
    for (let f = 0; f < K.FLAG_NAMES.length; f++)
      if ((cl.rFlags & (1 << f)) !== 0) flags.push(K.FLAG_NAMES[f]!);

    // Layers.
    const apiStatus = u16[(b + K.O_API) >> 1]!;
    const apiOk = hasReq && apiStatus >= 200 && apiStatus <= 299;
    let executionOk: boolean | null = null;
    let anyAccepted = false;
    let allSubmitFailed = n > 0;
    for (let i = 0; i < n; i++) {
      if (cl.aSub[i] === K.SUB_ACCEPTED) anyAccepted = true;
      if (cl.aSub[i] !== K.SUB_REJECTED && cl.aSub[i] !== K.SUB_ERROR) allSubmitFailed = false;
    }
    const final = !cl.rProvisional;
    const orphan = cls === K.C_ORPHAN_CALLBACK || cls === K.C_ORPHAN_DISPATCH;
    if (anyAccepted || cl.scanNonDupCbs > 0) executionOk = true;
    else if (final && !orphan && (n === 0 || allSubmitFailed)) executionOk = false;
    let outcomeOk: boolean | null = null;
    if (cls === K.C_ON_TIME) outcomeOk = true;
    else if (final && !orphan) outcomeOk = false;

    const errCat = cl.rErrCat;
    const errCode = cl.rErrCode;
    const finalAt = cl.rFinalAt;
    const T = this.s.clock.streamTime;
    return {
      verdict_id: `${requestId}:v${version}`,
      request_id: requestId,
      tenant_id: this.s.tenants.value(u16[(b + K.O_TENANT) >> 1]!),
      version,
      verdict: className,
      provisional: cl.rProvisional,
      is_correction: isCorrection,
      previous_verdict: previous >= 0 ? (K.VERDICT_CLASS_NAMES[previous] ?? null) : null,
      error_category: errCat === K.EC_NONE ? null : (K.ERROR_CATEGORY_NAMES[errCat] ?? null),
      error_code: errCode === 0 ? null : this.s.errCodes.value(errCode),
      flags,
      api_ok: apiOk,
      execution_ok: executionOk,
      outcome_ok: outcomeOk,
      fired_by: K.FIRED_NAMES[firedBy] ?? 'event',
      watermark_lag_ms: Math.round(this.s.wallNow - (T === -Infinity ? decidedAt : T)),
      decided_at: decidedAt,
      emitted_at: this.s.wallNow,
      operation,
      channel,
      input_fingerprint: fingerprint,
      attributes: this.s.attrSets.object(u32[(b + K.O_ATTRS) >> 2]!),
      accepted_at: hasReq ? f64[(b + K.O_BASE) >> 3]! : null,
      sla_ms: slaMs,
      give_up_ms: giveUpMs,
      first_dispatch_at: firstDispatch === Infinity ? null : firstDispatch,
      provider_accepted_at: providerAccepted === Infinity ? null : providerAccepted,
      final_at: finalAt === finalAt ? finalAt : null,
      evidence_level: K.EVIDENCE_NAMES[cl.rEvidence] ?? 'none',
      callbacks: cl.scanCbs,
      duplicate_callbacks: cl.scanDups,
      attempts,
      hops: boundedHops,
      revision_kind: revisionKind,
      evidence_at: cl.scanEvidenceAt === -Infinity ? null : cl.scanEvidenceAt,
      clock_skew_ms: cl.scanSkew > 0 ? Math.round(cl.scanSkew) : null,
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
    const max = this.s.o.maxHops;
    const out: Hop[] = [];
    if (len <= max) for (let i = 0; i < len; i++) out.push(hops[idx[i]!]!);
    else {
      const head = max >> 1;
      for (let i = 0; i < head; i++) out.push(hops[idx[i]!]!);
      for (let i = len - (max - head); i < len; i++) out.push(hops[idx[i]!]!);
    }
    return out;
  }
}
