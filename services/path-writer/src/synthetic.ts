/**
 * Deterministic synthetic verdicts (full enriched paths) for tests and the store benchmark. Shapes follow the
 * contract: retries/failover on some requests, late and failed outcomes, provisional overdue versions, orphans.
 */
import type { AttemptSummary, Hop, Verdict, VerdictClass } from '@pathwatch/schemas';

export interface SyntheticOptions {
  /** Anchor of request 0 (epoch ms). */
  startMs: number;
  /** Mean spacing between requests. @default 60 */
  spacingMs?: number;
  /** @default 10 */
  tenants?: number;
  /** Consecutive requests sharing one input (same input fingerprint): request i uses input floor(i / perInput). @default 1 */
  perInput?: number;
}

const OPERATIONS = [
  ['otp.send', 'sms'],
  ['receipt.email', 'email'],
  ['alert.push', 'push'],
  ['payment.capture', 'payment'],
  ['otp.voice', 'voice'],
] as const;
const PROVIDERS = ['twilio', 'sinch', 'vonage', 'infobip', 'messagebird'] as const;
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'IN', 'BR', 'NG', 'JP', 'MX', 'ID'] as const;

/** A small deterministic hash (no Math.random: the same i gives the same verdict). */
function mix(i: number, salt: number): number {
  let x = (i ^ (salt * 0x9e3779b1)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function pick<T>(xs: readonly T[], h: number): T {
  return xs[h % xs.length] as T;
}

/** The i-th synthetic request's verdict (version 1 unless told). */
export function syntheticVerdict(
  i: number,
  opts: SyntheticOptions,
  version = 1,
  verdictOverride?: VerdictClass,
): Verdict {
  const spacing = opts.spacingMs ?? 60;
  const tenants = opts.tenants ?? 10;
  const input = Math.floor(i / (opts.perInput ?? 1));
  const h = mix(i, 1);
  const [operation, channel] = pick(OPERATIONS, h);
  const accepted = opts.startMs + i * spacing;
  const country = pick(COUNTRIES, mix(i, 2));
  const firstProvider = pick(PROVIDERS, mix(i, 3) % 10 < 7 ? mix(i, 4) % 2 : mix(i, 4));
  // One slow provider and one slow country, so explain has something to find.
  const slow = (firstProvider === 'vonage' ? 3 : 1) * (country === 'NG' ? 2 : 1);
  const failover = mix(i, 5) % 12 === 0;
  const attempts: AttemptSummary[] = [];
  const hops: Hop[] = [{ kind: 'accepted', at: accepted, detail: `api 202 ${operation}` }];
  let t = accepted + 15 + (mix(i, 6) % 120);
  const nAttempts = failover ? 2 : 1;
  for (let a = 0; a < nAttempts; a++) {
    const provider = a === 0 ? firstProvider : pick(PROVIDERS, mix(i, 7) + 1);
    const route = `${provider}-r${1 + (mix(i, 8 + a) % 2)}`;
    const failed = a < nAttempts - 1;
    attempts.push({
      attempt_id: `req-${i}/a${a + 1}`,
      attempt_no: a + 1,
      reason: a === 0 ? 'initial' : 'failover',
      route,
      provider,
      provider_message_id: `${provider}-${i}-${a}`,
      submit_outcome: 'accepted',
      dispatched_at: t,
      last_status: failed ? 'undelivered' : 'delivered',
      last_status_at: t + 400 + (mix(i, 9) % 2000),
    });
    hops.push({
      kind: 'dispatch',
      at: t,
      detail: `${a === 0 ? 'initial' : 'failover'} ${provider}/${route} accepted`,
    });
    t += failed ? 2500 : 0;
  }
  const last = attempts[attempts.length - 1] as AttemptSummary;
  const providerAccepted = (attempts[0] as AttemptSummary).dispatched_at + 40 + (mix(i, 10) % 200);
  const sla = channel === 'email' ? 60_000 : 10_000;
  const roll = mix(i, 11) % 1000;
  const deliveryMs = Math.round((400 + (mix(i, 12) % 6000)) * slow);
  let verdict: VerdictClass;
  let finalAt: number | null = last.dispatched_at + deliveryMs;
  if (verdictOverride) verdict = verdictOverride;
  else if (roll < 20) verdict = 'failed';
  else if (roll < 30) verdict = 'missing_outcome';
  else if (roll < 33) verdict = 'missing_dispatch';
  else verdict = finalAt - accepted <= sla ? 'delivered_on_time' : 'delivered_late';
  if (verdict === 'missing_outcome' || verdict === 'missing_dispatch' || verdict === 'overdue')
    finalAt = null;
  if (verdict === 'delivered_on_time' && finalAt !== null && finalAt - accepted > sla)
    finalAt = accepted + sla - 1;
  if (verdict === 'delivered_late' && finalAt !== null && finalAt - accepted <= sla)
    finalAt = accepted + sla + 1 + (mix(i, 13) % 5000);
  const missingDispatch = verdict === 'missing_dispatch';
  if (missingDispatch) {
    attempts.length = 0;
    hops.length = 1;
  }
  if (finalAt !== null)
    hops.push({
      kind: 'callback',
      at: finalAt,
      detail: verdict === 'failed' ? 'failed (operator)' : 'delivered (handset)',
    });
  const provisional = verdict === 'overdue';
  const decided = finalAt ?? accepted + (provisional ? sla : 120_000);
  hops.push({ kind: 'verdict', at: decided, detail: verdict });
  const flags: string[] = [];
  if (failover) flags.push('retried', 'failed_over');
  const duplicate = mix(i, 14) % 20 === 0;
  if (duplicate) flags.push('duplicate_callback');
  return {
    verdict_id: `req-${i}:v${version}`,
    request_id: `req-${i}`,
    tenant_id: `tenant-${mix(i, 15) % tenants}`,
    version,
    verdict,
    provisional,
    is_correction: version > 1 && !provisional,
    previous_verdict: version > 1 ? 'missing_outcome' : null,
    error_category: verdict === 'failed' ? 'permanent_number' : null,
    error_code: verdict === 'failed' ? '30003' : null,
    flags,
    api_ok: true,
    execution_ok: missingDispatch ? false : true,
    outcome_ok: provisional ? null : verdict === 'delivered_on_time',
    fired_by: finalAt !== null ? 'event' : provisional ? 'wall_clock' : 'watermark',
    watermark_lag_ms: 50 + (mix(i, 16) % 900),
    decided_at: decided,
    emitted_at: decided + 5 + (mix(i, 17) % 200),
    operation,
    channel,
    input_fingerprint: `sha256:${(mix(input, 18) * 4096 + input).toString(16).padStart(16, '0')}`,
    attributes: {
      country,
      template: `tpl-${mix(i, 19) % 12}`,
      priority: mix(i, 20) % 4 === 0 ? 'high' : 'normal',
    },
    accepted_at: accepted,
    sla_ms: sla,
    give_up_ms: 120_000,
    first_dispatch_at: missingDispatch ? null : (attempts[0]?.dispatched_at ?? null),
    provider_accepted_at: missingDispatch ? null : providerAccepted,
    final_at: finalAt,
    evidence_level: finalAt !== null ? 'handset' : 'none',
    callbacks: finalAt !== null ? (duplicate ? 3 : 2) : 0,
    duplicate_callbacks: duplicate ? 1 : 0,
    attempts,
    hops,
    revision_kind: version === 1 ? 'initial' : 'correction',
    evidence_at: finalAt ?? accepted,
    clock_skew_ms: null,
  };
}
