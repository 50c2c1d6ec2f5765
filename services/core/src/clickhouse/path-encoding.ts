/**
 * Verdict -> one `path_records` row, encoded as a Native block. The encoder first transposes the batch into
 * column arrays (one monomorphic pass over the verdicts), then writes each column in a tight loop; this is what
 * makes >= 100k full rows/s possible on 2 vCPU (see SCHEMA.md, "Write path").
 */
import type { Verdict } from '@pathwatch/schemas';
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
  if (!Number.isSafeInteger(v.watermark_lag_ms))
    return `watermark_lag_ms ${v.watermark_lag_ms} is not a safe integer`;
  for (const [name, x] of [
    ['decided_at', v.decided_at],
    ['emitted_at', v.emitted_at],
    ['accepted_at', v.accepted_at],
    ['first_dispatch_at', v.first_dispatch_at],
    ['provider_accepted_at', v.provider_accepted_at],
    ['final_at', v.final_at],
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

const NULL_TS = -1;

/**
 * Encodes verdicts (already checked with storeRowProblem) as one Native block in PATH_INSERT_COLUMNS order.
 * Pass a `writer` to reuse its buffer across batches (the result is a view into it, valid until the next call).
 */
export function encodePathRows(rows: readonly Verdict[], writer?: NativeWriter): Buffer {
  const n = rows.length;
  const tenant = new Array<string>(n);
  const requestId = new Array<string>(n);
  const verdictId = new Array<string>(n);
  const verdict = new Array<string>(n);
  const prevVerdict = new Array<string>(n);
  const errCat = new Array<string>(n);
  const errCode = new Array<string>(n);
  const firedBy = new Array<string>(n);
  const operation = new Array<string>(n);
  const channel = new Array<string>(n);
  const fingerprint = new Array<string>(n);
  const evidence = new Array<string>(n);
  const pathAt = new Float64Array(n);
  const version = new Uint32Array(n);
  const provisional = new Uint8Array(n);
  const correction = new Uint8Array(n);
  const apiOk = new Uint8Array(n);
  const execOk = new Int8Array(n);
  const outOk = new Int8Array(n);
  const lag = new Float64Array(n);
  const decided = new Float64Array(n);
  const emitted = new Float64Array(n);
  const accepted = new Float64Array(n);
  const firstDispatch = new Float64Array(n);
  const providerAccepted = new Float64Array(n);
  const finalAt = new Float64Array(n);
  const sla = new Uint32Array(n);
  const giveUp = new Uint32Array(n);
  const callbacks = new Uint32Array(n);
  const dupCallbacks = new Uint32Array(n);
  const flagOff = new Float64Array(n);
  const flags: string[] = [];
  const attrOff = new Float64Array(n);
  const attrKeys: string[] = [];
  const attrValues: string[] = [];
  const attOff = new Float64Array(n);
  const aId: string[] = [];
  const aNo: number[] = [];
  const aReason: string[] = [];
  const aRoute: string[] = [];
  const aProvider: string[] = [];
  const aMsgId: (string | null)[] = [];
  const aSubmit: string[] = [];
  const aDispatched: number[] = [];
  const aStatus: (string | null)[] = [];
  const aStatusAt: (number | null)[] = [];
  const hopOff = new Float64Array(n);
  const hKind: string[] = [];
  const hAt: number[] = [];
  const hDetail: string[] = [];

  for (let i = 0; i < n; i++) {
    const v = rows[i] as Verdict;
    tenant[i] = v.tenant_id;
    requestId[i] = v.request_id;
    verdictId[i] = v.verdict_id;
    verdict[i] = v.verdict;
    prevVerdict[i] = v.previous_verdict ?? '';
    errCat[i] = v.error_category ?? '';
    errCode[i] = v.error_code ?? '';
    firedBy[i] = v.fired_by;
    operation[i] = v.operation;
    channel[i] = v.channel;
    fingerprint[i] = v.input_fingerprint;
    evidence[i] = v.evidence_level;
    pathAt[i] = pathAnchorMs(v);
    version[i] = v.version;
    provisional[i] = v.provisional ? 1 : 0;
    correction[i] = v.is_correction ? 1 : 0;
    apiOk[i] = v.api_ok ? 1 : 0;
    execOk[i] = v.execution_ok === null ? -1 : v.execution_ok ? 1 : 0;
    outOk[i] = v.outcome_ok === null ? -1 : v.outcome_ok ? 1 : 0;
    lag[i] = v.watermark_lag_ms;
    decided[i] = v.decided_at;
    emitted[i] = v.emitted_at;
    accepted[i] = v.accepted_at ?? NULL_TS;
    firstDispatch[i] = v.first_dispatch_at ?? NULL_TS;
    providerAccepted[i] = v.provider_accepted_at ?? NULL_TS;
    finalAt[i] = v.final_at ?? NULL_TS;
    sla[i] = v.sla_ms;
    giveUp[i] = v.give_up_ms;
    callbacks[i] = v.callbacks;
    dupCallbacks[i] = v.duplicate_callbacks;
    const f = v.flags;
    for (let j = 0; j < f.length; j++) flags.push(f[j] as string);
    flagOff[i] = flags.length;
    const attrs = v.attributes;
    for (const k in attrs) {
      attrKeys.push(k);
      attrValues.push(attrs[k] as string);
    }
    attrOff[i] = attrKeys.length;
    const atts = v.attempts;
    for (let j = 0; j < atts.length; j++) {
      const a = atts[j];
      if (a === undefined) continue;
      aId.push(a.attempt_id);
      aNo.push(a.attempt_no);
      aReason.push(a.reason);
      aRoute.push(a.route);
      aProvider.push(a.provider);
      aMsgId.push(a.provider_message_id);
      aSubmit.push(a.submit_outcome);
      aDispatched.push(a.dispatched_at);
      aStatus.push(a.last_status);
      aStatusAt.push(a.last_status_at);
    }
    attOff[i] = aId.length;
    const hops = v.hops;
    for (let j = 0; j < hops.length; j++) {
      const h = hops[j];
      if (h === undefined) continue;
      hKind.push(h.kind);
      hAt.push(h.at);
      hDetail.push(h.detail);
    }
    hopOff[i] = hKind.length;
  }

  const w = writer ?? new NativeWriter(n * 640 + 4096);
  w.reset();
  w.varUInt(PATH_INSERT_COLUMNS.length);
  w.varUInt(n);
  const strings = (name: string, a: readonly string[]): void => {
    w.column(name, 'String');
    for (let i = 0; i < a.length; i++) w.str(a[i] as string);
  };
  const i64s = (name: string, type: string, a: Float64Array): void => {
    w.column(name, type);
    for (let i = 0; i < a.length; i++) w.i64(a[i] as number);
  };
  const u32s = (name: string, a: Uint32Array): void => {
    w.column(name, 'UInt32');
    for (let i = 0; i < a.length; i++) w.u32(a[i] as number);
  };
  const bools = (name: string, a: Uint8Array): void => {
    w.column(name, 'Bool');
    for (let i = 0; i < a.length; i++) w.u8(a[i] as number);
  };
  const nullableBools = (name: string, a: Int8Array): void => {
    w.column(name, 'Nullable(Bool)');
    for (let i = 0; i < n; i++) w.u8((a[i] as number) < 0 ? 1 : 0);
    for (let i = 0; i < n; i++) w.u8((a[i] as number) > 0 ? 1 : 0);
  };
  const nullableTs = (name: string, a: Float64Array): void => {
    w.column(name, NDT);
    for (let i = 0; i < n; i++) w.u8(a[i] === NULL_TS ? 1 : 0);
    for (let i = 0; i < n; i++) {
      const x = a[i] as number;
      w.i64(x === NULL_TS ? 0 : x);
    }
  };
  const offsets = (a: Float64Array): void => {
    for (let i = 0; i < n; i++) w.i64(a[i] as number);
  };
  const stringArray = (name: string, off: Float64Array, a: readonly string[]): void => {
    w.column(name, 'Array(String)');
    offsets(off);
    for (let i = 0; i < a.length; i++) w.str(a[i] as string);
  };
  const nullableStringArray = (name: string, off: Float64Array, a: readonly (string | null)[]): void => {
    w.column(name, 'Array(Nullable(String))');
    offsets(off);
    for (let i = 0; i < a.length; i++) w.u8(a[i] === null ? 1 : 0);
    for (let i = 0; i < a.length; i++) w.str(a[i] ?? '');
  };
  const tsArray = (name: string, off: Float64Array, a: readonly number[]): void => {
    w.column(name, `Array(${DT})`);
    offsets(off);
    for (let i = 0; i < a.length; i++) w.i64(a[i] as number);
  };
  const nullableTsArray = (name: string, off: Float64Array, a: readonly (number | null)[]): void => {
    w.column(name, `Array(${NDT})`);
    offsets(off);
    for (let i = 0; i < a.length; i++) w.u8(a[i] === null ? 1 : 0);
    for (let i = 0; i < a.length; i++) w.i64(a[i] ?? 0);
  };

  // Order must match PATH_INSERT_COLUMNS (checked by a unit test).
  strings('tenant_id', tenant);
  strings('request_id', requestId);
  i64s('path_at', DT, pathAt);
  u32s('version', version);
  strings('verdict_id', verdictId);
  strings('verdict', verdict);
  bools('provisional', provisional);
  bools('is_correction', correction);
  strings('previous_verdict', prevVerdict);
  strings('error_category', errCat);
  strings('error_code', errCode);
  stringArray('flags', flagOff, flags);
  bools('api_ok', apiOk);
  nullableBools('execution_ok', execOk);
  nullableBools('outcome_ok', outOk);
  strings('fired_by', firedBy);
  i64s('watermark_lag_ms', 'Int64', lag);
  i64s('decided_at', DT, decided);
  i64s('emitted_at', DT, emitted);
  strings('operation', operation);
  strings('channel', channel);
  strings('input_fingerprint', fingerprint);
  w.column('attributes', 'Map(String, String)');
  offsets(attrOff);
  for (let i = 0; i < attrKeys.length; i++) w.str(attrKeys[i] as string);
  for (let i = 0; i < attrValues.length; i++) w.str(attrValues[i] as string);
  nullableTs('accepted_at', accepted);
  u32s('sla_ms', sla);
  u32s('give_up_ms', giveUp);
  nullableTs('first_dispatch_at', firstDispatch);
  nullableTs('provider_accepted_at', providerAccepted);
  nullableTs('final_at', finalAt);
  strings('evidence_level', evidence);
  u32s('callbacks', callbacks);
  u32s('duplicate_callbacks', dupCallbacks);
  stringArray('attempts.attempt_id', attOff, aId);
  w.column('attempts.attempt_no', 'Array(UInt16)');
  offsets(attOff);
  for (let i = 0; i < aNo.length; i++) w.u16(aNo[i] as number);
  stringArray('attempts.reason', attOff, aReason);
  stringArray('attempts.route', attOff, aRoute);
  stringArray('attempts.provider', attOff, aProvider);
  nullableStringArray('attempts.provider_message_id', attOff, aMsgId);
  stringArray('attempts.submit_outcome', attOff, aSubmit);
  tsArray('attempts.dispatched_at', attOff, aDispatched);
  nullableStringArray('attempts.last_status', attOff, aStatus);
  nullableTsArray('attempts.last_status_at', attOff, aStatusAt);
  stringArray('hops.kind', hopOff, hKind);
  tsArray('hops.at', hopOff, hAt);
  stringArray('hops.detail', hopOff, hDetail);
  return w.bytes();
}
