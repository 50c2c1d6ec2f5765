/**
 * Verdict -> one `path_records` row, encoded as a Native block. The encoder first transposes the batch into
 * column arrays (one monomorphic pass over the verdicts), then writes each column in a tight loop; this is what
 * makes >= 100k full rows/s possible on 2 vCPU (see ../SCHEMA.md, "Write path").
 */
import type { AttemptSummary, Hop, Verdict } from '@pathwatch/schemas';
import { NativeWriter } from './native.js';

const DT = "DateTime64(3, 'UTC')";
const NDT = `Nullable(${DT})`;

/** Insert columns of `path_records`, in the order the encoder writes them. MATERIALIZED/DEFAULT columns are absent. */
export const PATH_INSERT_COLUMNS: readonly string[] = Object.freeze([
  'tenant_id',
  'request_id',
  'path_at',
  'version',
  'verdict_id',
  'verdict',
  'provisional',
  'is_correction',
  'previous_verdict',
  'error_category',
  'error_code',
  'flags',
  'api_ok',
  'execution_ok',
  'outcome_ok',
  'fired_by',
  'watermark_lag_ms',
  'decided_at',
  'emitted_at',
  'operation',
  'channel',
  'input_fingerprint',
  'attributes',
  'accepted_at',
  'sla_ms',
  'give_up_ms',
  'first_dispatch_at',
  'provider_accepted_at',
  'final_at',
  'evidence_level',
  'callbacks',
  'duplicate_callbacks',
  'attempts.attempt_id',
  'attempts.attempt_no',
  'attempts.reason',
  'attempts.route',
  'attempts.provider',
  'attempts.provider_message_id',
  'attempts.submit_outcome',
  'attempts.dispatched_at',
  'attempts.last_status',
  'attempts.last_status_at',
  'hops.kind',
  'hops.at',
  'hops.detail',
  // Migration 8 (verdict schema v2).
  'revision_kind',
  'evidence_at',
  'clock_skew_ms',
]);

/**
 * The immutable time anchor of a path: `accepted_at`, or for orphans (no request seen) the earliest evidence.
 * It drives partitioning and the sort key, so it must not change between versions of one request (see SCHEMA.md).
 */
export function pathAnchorMs(v: Verdict): number {
  if (v.accepted_at !== null) return v.accepted_at;
  let t = v.first_dispatch_at ?? Number.POSITIVE_INFINITY;
  for (const a of v.attempts) if (a.dispatched_at < t) t = a.dispatched_at;
  for (const h of v.hops) if (h.at < t) t = h.at;
  if (v.final_at !== null && v.final_at < t) t = v.final_at;
  return Number.isFinite(t) ? t : v.decided_at;
}

// DateTime64(3) accepts 1900..2299; we accept a narrower, sane window so bad clocks are rejected, not stored.
const MIN_TS = Date.UTC(1970, 0, 1);
const MAX_TS = Date.UTC(2200, 0, 1);
const MAX_STRING = 1 << 20;
const MAX_U32 = 4_294_967_295;

function badTs(x: number | null): boolean {
  return x !== null && !(Number.isInteger(x) && x >= MIN_TS && x < MAX_TS);
}
function badU32(x: number): boolean {
  return !(Number.isInteger(x) && x >= 0 && x <= MAX_U32);
}

/**
 * Checks what the Native encoding needs beyond the Avro schema (integer ranges, timestamp window, string size).
 * Returns the problem naming the field, or null. A row that fails is dead-lettered, never written half-valid.
 */
export function storeRowProblem(v: Verdict): string | null {
  if (!Number.isInteger(v.version) || v.version < 1 || v.version > MAX_U32)
    return `version ${v.version} is not a positive 32-bit integer`;
  if (v.clock_skew_ms !== null && !Number.isSafeInteger(v.clock_skew_ms))
    return `clock_skew_ms ${v.clock_skew_ms} is not a safe integer`;
  if (!Number.isSafeInteger(v.watermark_lag_ms))
    return `watermark_lag_ms ${v.watermark_lag_ms} is not a safe integer`;
  for (const [name, x] of [
    ['decided_at', v.decided_at],
    ['emitted_at', v.emitted_at],
    ['accepted_at', v.accepted_at],
    ['first_dispatch_at', v.first_dispatch_at],
    ['provider_accepted_at', v.provider_accepted_at],
    ['final_at', v.final_at],
    ['evidence_at', v.evidence_at],
  ] as const) {
    if (badTs(x)) return `${name} ${String(x)} is outside 1970..2200 or not an integer epoch-ms`;
  }
  for (const [name, x] of [
    ['sla_ms', v.sla_ms],
    ['give_up_ms', v.give_up_ms],
    ['callbacks', v.callbacks],
    ['duplicate_callbacks', v.duplicate_callbacks],
  ] as const) {
    if (badU32(x)) return `${name} ${x} is not a non-negative 32-bit integer`;
  }
  for (const [i, a] of v.attempts.entries()) {
    if (!Number.isInteger(a.attempt_no) || a.attempt_no < 0 || a.attempt_no > 65_535)
      return `attempts[${i}].attempt_no ${a.attempt_no} is out of range`;
    if (badTs(a.dispatched_at))
      return `attempts[${i}].dispatched_at ${a.dispatched_at} is outside 1970..2200`;
    if (badTs(a.last_status_at))
      return `attempts[${i}].last_status_at ${String(a.last_status_at)} is outside 1970..2200`;
  }
  for (const [i, h] of v.hops.entries()) {
    if (badTs(h.at)) return `hops[${i}].at ${h.at} is outside 1970..2200`;
    if (h.detail.length > MAX_STRING) return `hops[${i}].detail is longer than ${MAX_STRING} characters`;
  }
  for (const [k, x] of Object.entries(v.attributes)) {
    if (k.length > MAX_STRING || x.length > MAX_STRING)
      return `attributes.${k.slice(0, 64)} is longer than ${MAX_STRING} characters`;
  }
  if (v.request_id.length > MAX_STRING || v.input_fingerprint.length > MAX_STRING)
    return 'request_id or input_fingerprint is too long';
  return null;
}

/** Column writers of one block, reused across blocks (no per-block allocation once they have grown). */
function columnWriters(): Record<(typeof SLOTS)[number], NativeWriter> {
  const out = {} as Record<(typeof SLOTS)[number], NativeWriter>;
  for (const s of SLOTS) out[s] = new NativeWriter(1 << 16);
  return out;
}

const SLOTS = [
  'tenant',
  'req',
  'pathAt',
  'version',
  'vid',
  'verdict',
  'prov',
  'corr',
  'prev',
  'ecat',
  'ecode',
  'flagsOff',
  'flags',
  'api',
  'exN',
  'ex',
  'ouN',
  'ou',
  'fired',
  'lag',
  'dec',
  'emi',
  'op',
  'ch',
  'fp',
  'attrOff',
  'ak',
  'av',
  'accN',
  'acc',
  'sla',
  'gu',
  'fdN',
  'fd',
  'paN',
  'pa',
  'fiN',
  'fi',
  'ev',
  'cb',
  'dcb',
  'attOff',
  'aId',
  'aNo',
  'aReason',
  'aRoute',
  'aProv',
  'aMidN',
  'aMid',
  'aSub',
  'aDisp',
  'aLsN',
  'aLs',
  'aLsaN',
  'aLsa',
  'hopOff',
  'hKind',
  'hAt',
  'hDetail',
  'rk',
  'eaN',
  'ea',
  'skN',
  'sk',
] as const;

/** Header bytes (column name + type) per column, computed once. */
const HEADERS: ReadonlyMap<string, Buffer> = new Map(
  (
    [
      ['tenant_id', 'String'],
      ['request_id', 'String'],
      ['path_at', DT],
      ['version', 'UInt32'],
      ['verdict_id', 'String'],
      ['verdict', 'String'],
      ['provisional', 'Bool'],
      ['is_correction', 'Bool'],
      ['previous_verdict', 'String'],
      ['error_category', 'String'],
      ['error_code', 'String'],
      ['flags', 'Array(String)'],
      ['api_ok', 'Bool'],
      ['execution_ok', 'Nullable(Bool)'],
      ['outcome_ok', 'Nullable(Bool)'],
      ['fired_by', 'String'],
      ['watermark_lag_ms', 'Int64'],
      ['decided_at', DT],
      ['emitted_at', DT],
      ['operation', 'String'],
      ['channel', 'String'],
      ['input_fingerprint', 'String'],
      ['attributes', 'Map(String, String)'],
      ['accepted_at', NDT],
      ['sla_ms', 'UInt32'],
      ['give_up_ms', 'UInt32'],
      ['first_dispatch_at', NDT],
      ['provider_accepted_at', NDT],
      ['final_at', NDT],
      ['evidence_level', 'String'],
      ['callbacks', 'UInt32'],
      ['duplicate_callbacks', 'UInt32'],
      ['attempts.attempt_id', 'Array(String)'],
      ['attempts.attempt_no', 'Array(UInt16)'],
      ['attempts.reason', 'Array(String)'],
      ['attempts.route', 'Array(String)'],
      ['attempts.provider', 'Array(String)'],
      ['attempts.provider_message_id', 'Array(Nullable(String))'],
      ['attempts.submit_outcome', 'Array(String)'],
      ['attempts.dispatched_at', `Array(${DT})`],
      ['attempts.last_status', 'Array(Nullable(String))'],
      ['attempts.last_status_at', `Array(${NDT})`],
      ['hops.kind', 'Array(String)'],
      ['hops.at', `Array(${DT})`],
      ['hops.detail', 'Array(String)'],
      ['revision_kind', 'String'],
      ['evidence_at', NDT],
      ['clock_skew_ms', 'Nullable(Int64)'],
    ] as const
  ).map(([name, type]) => {
    const w = new NativeWriter(64);
    w.column(name, type);
    return [name, Buffer.from(w.bytes())];
  }),
);

/**
 * Encodes verdicts (already checked with storeRowProblem) as one Native block in PATH_INSERT_COLUMNS order.
 * One pass over the verdicts appends each field to its column's writer; the block is the list of parts (headers
 * and column bytes) in order, ready for a vectored write. Measured 1.7x less CPU than transposing into arrays
 * first (GC) and 3x less than one pass per column (cache misses). Reuse one encoder per sequential insert loop:
 * the parts are views into its writers, valid until its next `encode`.
 */
export class PathBlockEncoder {
  private readonly c = columnWriters();
  private readonly head = new NativeWriter(32);

  encode(rows: readonly Verdict[]): Buffer[] {
    const c = this.c;
    for (const s of SLOTS) c[s].reset();
    const n = rows.length;
    let flagO = 0;
    let attrO = 0;
    let attO = 0;
    let hopO = 0;
    for (let i = 0; i < n; i++) {
      const v = rows[i] as Verdict;
      c.tenant.str(v.tenant_id);
      c.req.str(v.request_id);
      c.pathAt.i64(pathAnchorMs(v));
      c.version.u32(v.version);
      c.vid.str(v.verdict_id);
      c.verdict.str(v.verdict);
      c.prov.u8(v.provisional ? 1 : 0);
      c.corr.u8(v.is_correction ? 1 : 0);
      c.prev.str(v.previous_verdict ?? '');
      c.ecat.str(v.error_category ?? '');
      c.ecode.str(v.error_code ?? '');
      const f = v.flags;
      for (let j = 0; j < f.length; j++) c.flags.str(f[j] as string);
      flagO += f.length;
      c.flagsOff.i64(flagO);
      c.api.u8(v.api_ok ? 1 : 0);
      c.exN.u8(v.execution_ok === null ? 1 : 0);
      c.ex.u8(v.execution_ok === true ? 1 : 0);
      c.ouN.u8(v.outcome_ok === null ? 1 : 0);
      c.ou.u8(v.outcome_ok === true ? 1 : 0);
      c.fired.str(v.fired_by);
      c.lag.i64(v.watermark_lag_ms);
      c.dec.i64(v.decided_at);
      c.emi.i64(v.emitted_at);
      c.op.str(v.operation);
      c.ch.str(v.channel);
      c.fp.str(v.input_fingerprint);
      const at = v.attributes;
      for (const k in at) {
        c.ak.str(k);
        c.av.str(at[k] as string);
        attrO++;
      }
      c.attrOff.i64(attrO);
      const acc = v.accepted_at;
      c.accN.u8(acc === null ? 1 : 0);
      c.acc.i64(acc ?? 0);
      c.sla.u32(v.sla_ms);
      c.gu.u32(v.give_up_ms);
      const fd = v.first_dispatch_at;
      c.fdN.u8(fd === null ? 1 : 0);
      c.fd.i64(fd ?? 0);
      const pa = v.provider_accepted_at;
      c.paN.u8(pa === null ? 1 : 0);
      c.pa.i64(pa ?? 0);
      const fi = v.final_at;
      c.fiN.u8(fi === null ? 1 : 0);
      c.fi.i64(fi ?? 0);
      c.ev.str(v.evidence_level);
      c.cb.u32(v.callbacks);
      c.dcb.u32(v.duplicate_callbacks);
      const as = v.attempts;
      for (let j = 0; j < as.length; j++) {
        const a = as[j] as AttemptSummary;
        c.aId.str(a.attempt_id);
        c.aNo.u16(a.attempt_no);
        c.aReason.str(a.reason);
        c.aRoute.str(a.route);
        c.aProv.str(a.provider);
        const m = a.provider_message_id;
        c.aMidN.u8(m === null ? 1 : 0);
        c.aMid.str(m ?? '');
        c.aSub.str(a.submit_outcome);
        c.aDisp.i64(a.dispatched_at);
        const ls = a.last_status;
        c.aLsN.u8(ls === null ? 1 : 0);
        c.aLs.str(ls ?? '');
        const lsa = a.last_status_at;
        c.aLsaN.u8(lsa === null ? 1 : 0);
        c.aLsa.i64(lsa ?? 0);
      }
      attO += as.length;
      c.attOff.i64(attO);
      const hs = v.hops;
      for (let j = 0; j < hs.length; j++) {
        const h = hs[j] as Hop;
        c.hKind.str(h.kind);
        c.hAt.i64(h.at);
        c.hDetail.str(h.detail);
      }
      hopO += hs.length;
      c.hopOff.i64(hopO);
      c.rk.str(v.revision_kind ?? '');
      const ea = v.evidence_at;
      c.eaN.u8(ea === null ? 1 : 0);
      c.ea.i64(ea ?? 0);
      const sk = v.clock_skew_ms;
      c.skN.u8(sk === null ? 1 : 0);
      c.sk.i64(sk ?? 0);
    }
    this.head.reset();
    this.head.varUInt(PATH_INSERT_COLUMNS.length);
    this.head.varUInt(n);
    const parts: Buffer[] = [this.head.bytes()];
    const col = (name: string, ...ws: NativeWriter[]): void => {
      parts.push(HEADERS.get(name) as Buffer);
      for (const w of ws) parts.push(w.bytes());
    };
    // Order must match PATH_INSERT_COLUMNS (checked by a unit test).
    col('tenant_id', c.tenant);
    col('request_id', c.req);
    col('path_at', c.pathAt);
    col('version', c.version);
    col('verdict_id', c.vid);
    col('verdict', c.verdict);
    col('provisional', c.prov);
    col('is_correction', c.corr);
    col('previous_verdict', c.prev);
    col('error_category', c.ecat);
    col('error_code', c.ecode);
    col('flags', c.flagsOff, c.flags);
    col('api_ok', c.api);
    col('execution_ok', c.exN, c.ex);
    col('outcome_ok', c.ouN, c.ou);
    col('fired_by', c.fired);
    col('watermark_lag_ms', c.lag);
    col('decided_at', c.dec);
    col('emitted_at', c.emi);
    col('operation', c.op);
    col('channel', c.ch);
    col('input_fingerprint', c.fp);
    col('attributes', c.attrOff, c.ak, c.av);
    col('accepted_at', c.accN, c.acc);
    col('sla_ms', c.sla);
    col('give_up_ms', c.gu);
    col('first_dispatch_at', c.fdN, c.fd);
    col('provider_accepted_at', c.paN, c.pa);
    col('final_at', c.fiN, c.fi);
    col('evidence_level', c.ev);
    col('callbacks', c.cb);
    col('duplicate_callbacks', c.dcb);
    col('attempts.attempt_id', c.attOff, c.aId);
    col('attempts.attempt_no', c.attOff, c.aNo);
    col('attempts.reason', c.attOff, c.aReason);
    col('attempts.route', c.attOff, c.aRoute);
    col('attempts.provider', c.attOff, c.aProv);
    col('attempts.provider_message_id', c.attOff, c.aMidN, c.aMid);
    col('attempts.submit_outcome', c.attOff, c.aSub);
    col('attempts.dispatched_at', c.attOff, c.aDisp);
    col('attempts.last_status', c.attOff, c.aLsN, c.aLs);
    col('attempts.last_status_at', c.attOff, c.aLsaN, c.aLsa);
    col('hops.kind', c.hopOff, c.hKind);
    col('hops.at', c.hopOff, c.hAt);
    col('hops.detail', c.hopOff, c.hDetail);
    col('revision_kind', c.rk);
    col('evidence_at', c.eaN, c.ea);
    col('clock_skew_ms', c.skN, c.sk);
    return parts;
  }
}

/** One-off encoding as a single Buffer (tests, tools); the store uses PathBlockEncoder directly. */
export function encodePathRows(rows: readonly Verdict[]): Buffer {
  return Buffer.concat(new PathBlockEncoder().encode(rows));
}
