// The reference model's state: what it keeps per request (whole histories as plain objects), per input, and the
// outcome ranks of SEMANTICS.md it classifies with.
import type {
  CallbackStatus,
  DispatchAttempted,
  ErrorCategory,
  EvidenceLevel,
  ProviderCallback,
  RequestAccepted,
  VerdictClass,
} from '@pathwatch/schemas';

export const FLAGS = [
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
export type Flag = (typeof FLAGS)[number];

export const EVIDENCE: readonly EvidenceLevel[] = ['none', 'provider_synthetic', 'operator', 'handset'];
export const evRank = (e: EvidenceLevel): number => EVIDENCE.indexOf(e);

export type Outcome = 'success' | 'failure' | 'expired';

export function finalOutcome(s: CallbackStatus): Outcome | null {
  if (s === 'delivered') return 'success';
  if (s === 'expired') return 'expired';
  if (s === 'undelivered' || s === 'rejected' || s === 'failed') return 'failure';
  return null;
}

export function rank(s: CallbackStatus, isFinal: boolean): number {
  if (s === 'unknown') return 5;
  if (s === 'queued') return 10;
  if (s === 'sent') return 40;
  return isFinal ? 90 : 50;
}

export interface Cb {
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

export interface Att {
  ev: DispatchAttempted;
  eid: string;
  attH: number;
}

export interface Req {
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

export interface Classified {
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

export interface Input {
  maxEvent: number;
  seenAt: number;
  activeSince: number;
  idle: boolean;
  backlog: number;
}

export const KIND = { request: 0, dispatch: 1, callback: 2 } as const;
