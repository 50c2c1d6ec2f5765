// Small-int codes for the contract's enums (same order as the Avro symbols) and the blob layout.
import type {
  ActionKind,
  AttemptReason,
  CallbackStatus,
  ClockSource,
  ErrorCategory,
  EvidenceLevel,
  SubmitOutcome,
  VerdictClass,
} from '@pathwatch/schemas';

export const VERDICT_CLASS_NAMES = [
  'delivered_on_time',
  'delivered_late',
  'failed',
  'missing_dispatch',
  'missing_outcome',
  'expired',
  'orphan_callback',
  'orphan_dispatch',
  'overdue',
] as const satisfies readonly VerdictClass[];
export const C_ON_TIME = 0;
export const C_LATE = 1;
export const C_FAILED = 2;
export const C_MISSING_DISPATCH = 3;
export const C_MISSING_OUTCOME = 4;
export const C_EXPIRED = 5;
export const C_ORPHAN_CALLBACK = 6;
export const C_ORPHAN_DISPATCH = 7;
export const C_OVERDUE = 8;
/** Internal: no verdict yet (nothing to say). */
export const C_PENDING = 255;

export const STATUS_NAMES = [
  'queued',
  'sent',
  'delivered',
  'undelivered',
  'rejected',
  'expired',
  'failed',
  'unknown',
] as const satisfies readonly CallbackStatus[];
export const S_QUEUED = 0;
export const S_SENT = 1;
export const S_DELIVERED = 2;
export const S_UNDELIVERED = 3;
export const S_REJECTED = 4;
export const S_EXPIRED = 5;
export const S_FAILED = 6;
export const S_UNKNOWN = 7;

export const EVIDENCE_NAMES = [
  'none',
  'provider_synthetic',
  'operator',
  'handset',
] as const satisfies readonly EvidenceLevel[];
export const EV_SYNTHETIC = 1;

export const REASON_NAMES = [
  'initial',
  'retry',
  'failover',
  'channel_fallback',
  'resend',
  'other',
] as const satisfies readonly AttemptReason[];
export const R_FAILOVER = 2;
export const R_CHANNEL_FALLBACK = 3;

export const SUBMIT_NAMES = [
  'accepted',
  'rejected',
  'timeout',
  'error',
] as const satisfies readonly SubmitOutcome[];
export const SUB_ACCEPTED = 0;
export const SUB_REJECTED = 1;
export const SUB_TIMEOUT = 2;
export const SUB_ERROR = 3;

export const ERROR_CATEGORY_NAMES = [
  'temporary',
  'permanent_number',
  'barred',
  'filtered',
  'network',
  'unroutable',
  'expired',
  'rejected',
  'internal',
  'unknown',
] as const satisfies readonly ErrorCategory[];
export const EC_EXPIRED = 6;
export const EC_REJECTED = 7;
export const EC_INTERNAL = 8;
export const EC_UNKNOWN = 9;
export const EC_NONE = 255;

export const FIRED_NAMES = [
  'event',
  'watermark',
  'wall_clock',
  'recovery',
] as const satisfies readonly ClockSource[];
export const FB_EVENT = 0;
export const FB_WATERMARK = 1;
export const FB_WALL = 2;
export const FB_RECOVERY = 3;

export const ACTION_KIND_NAMES = [
  'resend_alternate_route',
  'fallback_channel',
  'refund',
  'alert',
] as const satisfies readonly Exclude<ActionKind, 'retract'>[];

/** Flags in canonical output order. */
export const FLAG_NAMES = [
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
  // Appended (bit 10): flag bits are stored in changelog images.
  'provider_clock_skew',
] as const;
export const F_DUP = 1 << 0;
export const F_RETRIED = 1 << 1;
export const F_FAILED_OVER = 1 << 2;
export const F_CONFLICT = 1 << 3;
export const F_AMBIGUOUS = 1 << 4;
export const F_CBD = 1 << 5;
export const F_MULTI = 1 << 6;
export const F_DOWNTIME = 1 << 7;
export const F_BEYOND = 1 << 8;
export const F_EVICTED = 1 << 9;
/** A callback's provider_event_time preceded the dispatch/acceptance it answers (its time was clamped). */
export const F_SKEW = 1 << 10;

/** Lookup tables from the decoded enum strings (null-prototype objects: one keyed load per field). */
function table<T extends string>(names: readonly T[]): Record<string, number> {
  const t = Object.create(null) as Record<string, number>;
  names.forEach((n, i) => (t[n] = i));
  return t;
}
export const STATUS_CODE = table(STATUS_NAMES);
export const EVIDENCE_CODE = table(EVIDENCE_NAMES);
export const REASON_CODE = table(REASON_NAMES);
export const SUBMIT_CODE = table(SUBMIT_NAMES);
export const ERROR_CATEGORY_CODE = table(ERROR_CATEGORY_NAMES);
export const CLASS_CODE = table(VERDICT_CLASS_NAMES);
export const ACTION_KIND_CODE = table(ACTION_KIND_NAMES);

// ---- Blob layout (byte offsets). Header: 64 bytes. ----
export const O_BASE = 0; // f64 accepted_at (request seen) or earliest event time (orphan)
export const O_NEXT = 8; // f64 next deadline; for closed slots the forget time; NaN = none
export const O_VERSION = 16; // u32 last emitted version (0 = none)
export const O_ATTRS = 20; // u32 attribute-set id
export const O_ACT_EMIT = 24; // u32 actions requested: bit (class-1)*4 + kind
export const O_ACT_RETR = 28; // u32 of those, retracted
export const O_SLA = 32; // i32
export const O_GIVEUP = 36; // i32
export const O_TENANT = 40; // u16
export const O_OP = 42; // u16
export const O_CHANNEL = 44; // u16 (pseudo slots: provider id)
export const O_API = 46; // u16 api_status
export const O_LFLAGS = 48; // u16 flags of the last version
export const O_LERRCODE = 50; // u16 error code id of the last version (0 = null)
export const O_STATE = 52; // u8 state bits
export const O_LCLASS = 53; // u8 class of the last version (255 = none)
export const O_LERRCAT = 54; // u8 error category of the last version (255 = null)
export const O_LMISC = 55; // u8 evidence(0-1) firedBy(2-3) provisional(4) sticky: downtime(5) beyond(6) evicted(7)
export const O_USED = 56; // u16 bytes used
export const O_CAP = 58; // u16 bytes reserved
export const O_RECS = 60; // u16 offset of the first record
export const O_PART = 62; // u16 home partition (the Kafka partition of the request's key; changelog partition)
export const HDR = 64;

export const ST_HAS_REQ = 1;
export const ST_PSEUDO = 2;
export const ST_CLOSED = 4;
export const ST_DIRTY = 8;
export const ST_RECOVERY_Q = 32;

export const M_PROVISIONAL = 1 << 4;
export const M_DOWNTIME = 1 << 5;
export const M_BEYOND = 1 << 6;
export const M_EVICTED = 1 << 7;

// Attempt record (type 1): 40 bytes + attempt_id (shared prefix with request id) + provider_message_id.
export const REC_ATTEMPT = 1;
export const A_REASON = 1; // u8
export const A_SUBMIT = 2; // u8
export const A_FLAGS = 3; // u8: bit0 has pmid
export const A_NO = 4; // u16
export const A_ROUTE = 6; // u16
export const A_PROVIDER = 8; // u16
export const A_ERRCODE = 10; // u16
export const A_ATTH = 12; // u32
export const A_PMIDH = 16; // u32
export const A_EIDA = 20; // u32
export const A_DISP = 24; // f64
export const A_EIDB = 32; // u32
export const A_LEN = 36; // u16 record length
export const A_STR = 40;

// Callback record (type 2): 48 bytes.
export const REC_CALLBACK = 2;
export const K_STATUS = 1; // u8
export const K_FLAGS = 2; // u8: bit0 final, bits1-2 evidence, bit3 duplicate, bit4 unattached on arrival, bit5 has attempt_id, bit6 has seq
export const K_ERRCAT = 3; // u8 (255 = null)
export const K_PROVIDER = 4; // u16
export const K_ERRCODE = 6; // u16
export const K_EIDA = 8; // u32
export const K_EIDB = 12; // u32
export const K_NATA = 16; // u32
export const K_NATB = 20; // u32
export const K_TIME = 24; // f64 evidence time
export const K_SEQ = 32; // i32
export const K_ATTH = 36; // u32
export const K_PMIDH = 40; // u32
/**
 * u32: occurred_at minus the stored time (ms, rounded up, capped): > 0 exactly when provider_event_time preceded
 * occurred_at. Images written before it have 0 (no skew data).
 */
export const K_OCCD = 44;
export const CB_LEN = 48;

export const KF_FINAL = 1;
export const KF_DUP = 8;
export const KF_UNATTACHED = 16;
export const KF_HAS_ATT = 32;
export const KF_HAS_SEQ = 64;
