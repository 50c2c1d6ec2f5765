// How each provider style words statuses and error codes (status_raw / error_code): raw vocabularies differ by
// provider, the normalised status is ours (reference/domain.md §1.1, §1.3). Codes are representative, not a
// claim about any real provider's current catalogue.
import type { CallbackStatus, ErrorCategory, EvidenceLevel } from '@pathwatch/schemas';
import type { StatusStyle } from './options.js';

export const STATUS_RAW: Readonly<Record<StatusStyle, Readonly<Record<CallbackStatus, string>>>> = {
  twilio: {
    queued: 'queued',
    sent: 'sent',
    delivered: 'delivered',
    undelivered: 'undelivered',
    rejected: 'failed',
    expired: 'expired',
    failed: 'failed',
    unknown: 'unknown',
  },
  smpp: {
    queued: 'ACCEPTD',
    sent: 'ENROUTE',
    delivered: 'DELIVRD',
    undelivered: 'UNDELIV',
    rejected: 'REJECTD',
    expired: 'EXPIRED',
    failed: 'UNDELIV',
    unknown: 'UNKNOWN',
  },
  email: {
    queued: 'processed',
    sent: 'processed',
    delivered: 'delivered',
    undelivered: 'bounce',
    rejected: 'dropped',
    expired: 'deferred_expired',
    failed: 'bounce',
    unknown: 'unknown',
  },
  voice: {
    queued: 'queued',
    sent: 'ringing',
    delivered: 'completed',
    undelivered: 'no-answer',
    rejected: 'busy',
    expired: 'canceled',
    failed: 'failed',
    unknown: 'unknown',
  },
};

type FailureCategory = Exclude<ErrorCategory, 'rejected' | 'internal' | 'unknown'>;

export const ERROR_CODES: Readonly<Record<StatusStyle, Readonly<Record<FailureCategory, string>>>> = {
  twilio: {
    temporary: '30003',
    permanent_number: '30005',
    unroutable: '30006',
    filtered: '30007',
    network: '30008',
    barred: '30004',
    expired: '30036',
  },
  smpp: {
    temporary: '027',
    permanent_number: '001',
    unroutable: '011',
    filtered: '088',
    network: '069',
    barred: '013',
    expired: '008',
  },
  email: {
    temporary: '4.2.2',
    permanent_number: '5.1.1',
    unroutable: '5.4.4',
    filtered: '5.7.1',
    network: '4.4.1',
    barred: '5.7.606',
    expired: '4.4.7',
  },
  voice: {
    temporary: 'no-answer',
    permanent_number: '21217',
    unroutable: '13224',
    filtered: '32017',
    network: '31005',
    barred: '21215',
    expired: 'canceled',
  },
};

/** Carrier undelivered mix (reference/domain.md §9.2 F6): absent 40 %, unknown number 25 %, landline 10 %, filtered 15 %, other 10 %. */
export const FAILURE_MIX: readonly {
  readonly category: Exclude<FailureCategory, 'expired'>;
  readonly weight: number;
}[] = [
  { category: 'temporary', weight: 40 },
  { category: 'permanent_number', weight: 25 },
  { category: 'unroutable', weight: 10 },
  { category: 'filtered', weight: 15 },
  { category: 'network', weight: 5 },
  { category: 'barred', weight: 5 },
];

/** Normalised status and evidence of a failure receipt by error category. */
export function failureStatus(category: ErrorCategory): { status: CallbackStatus; evidence: EvidenceLevel } {
  if (category === 'barred' || category === 'rejected')
    return { status: 'rejected', evidence: 'provider_synthetic' };
  if (category === 'network' || category === 'internal')
    return { status: 'failed', evidence: 'provider_synthetic' };
  if (category === 'expired') return { status: 'expired', evidence: 'provider_synthetic' };
  return { status: 'undelivered', evidence: 'operator' };
}

export function errorCode(style: StatusStyle, category: ErrorCategory): string | null {
  const table = ERROR_CODES[style] as Readonly<Record<string, string>>;
  return table[category] ?? null;
}

export function messageIdPrefix(style: StatusStyle): string {
  return style === 'twilio' ? 'SM' : style === 'voice' ? 'CA' : style === 'email' ? 'em_' : '';
}
