// Engine options: every knob, its unit in the name, its default documented and validated up front.
import type { ActionKind, VerdictClass } from '@pathwatch/schemas';
import { CompensationTable, compensationRuleProblems, type CompensationRule } from './compensation.js';
import { EngineError } from './errors.js';

/** One row of the deadline table; the most specific matching row wins (operation+channel > operation > channel > default). */
export interface DeadlineRule {
  readonly operation?: string | undefined;
  readonly channel?: string | undefined;
  readonly slaMs: number;
  readonly giveUpMs: number;
}

/** Compensation rule: when a version with `verdict` is emitted (for the operation/channel, if given), request `kinds`. */
export interface ActionRule {
  readonly verdict: VerdictClass;
  readonly kinds: readonly Exclude<ActionKind, 'retract'>[];
  readonly operation?: string | undefined;
  readonly channel?: string | undefined;
}

export interface EngineOptions {
  /**
   * Deadlines used when a request carries no sla_ms / give_up_ms.
   * @default { slaMs: 30000, giveUpMs: 600000 }
   */
  readonly defaultDeadlines?: { readonly slaMs: number; readonly giveUpMs: number } | undefined;
  /** Per operation/channel deadlines (see DeadlineRule). @default [] */
  readonly deadlineRules?: readonly DeadlineRule[] | undefined;
  /**
   * Wait after the last attempt failed finally before deciding `failed`; a retry or failover dispatch in
   * this window keeps the request open. Event time.
   * @default 5000
   */
  readonly retryGraceMs?: number | undefined;
  /**
   * How long a dispatch or callback waits for its request (and a callback without request_id for its
   * dispatch) before it is an orphan. Event time, from the earliest event of the orphan.
   * @default 60000
   */
  readonly orphanGraceMs?: number | undefined;
  /**
   * How long a decided request is remembered after it last changed, so late evidence is a correction.
   * Event time.
   * @default 3600000 (1 h)
   */
  readonly correctionHorizonMs?: number | undefined;
  /**
   * How long a forgotten request leaves a 16-byte tombstone (its last version), so late evidence after the
   * correction horizon continues the version sequence instead of restarting it. Event time.
   * @default 604800000 (7 d)
   */
  readonly tombstoneHorizonMs?: number | undefined;
  /** Bounded out-of-orderness of event time per input partition. @default 500 */
  readonly maxOutOfOrdernessMs?: number | undefined;
  /** Processing time without events after which a caught-up partition is idle. @default 1000 */
  readonly idleTimeoutMs?: number | undefined;
  /** Event times further than this ahead of the wall clock do not advance the watermark. @default 300000 */
  readonly maxFutureSkewMs?: number | undefined;
  /** Bucket width of the deadline index. @default 1000 */
  readonly deadlineBucketMs?: number | undefined;
  /** Open requests (incl. requests waiting as orphans); beyond it the earliest-deadline one is decided early. @default 2000000 */
  readonly maxOpenRequests?: number | undefined;
  /** Callbacks without request_id waiting for their dispatch; beyond it the oldest become orphans early. @default 200000 */
  readonly maxPendingCallbacks?: number | undefined;
  /** Decided requests remembered for corrections; beyond it the oldest are forgotten early. @default 2000000 */
  readonly maxClosedTraces?: number | undefined;
  /** Tombstones of forgotten requests; beyond it the oldest are dropped. @default 4000000 */
  readonly maxTombstones?: number | undefined;
  /** Dispatch attempts stored per request; more are refused (counted). @default 32 */
  readonly maxAttemptsPerRequest?: number | undefined;
  /** Callbacks stored per request (duplicates included); more are refused (counted). @default 64 */
  readonly maxCallbacksPerRequest?: number | undefined;
  /** Hops carried in a verdict (the first half and the last half are kept). @default 32 */
  readonly maxHops?: number | undefined;
  /** Compensating actions (short form; see compensationRules). @default alert on missing_dispatch, missing_outcome, failed, expired */
  readonly actionRules?: readonly ActionRule[] | undefined;
  /**
   * Compensation rules (compensation.ts): verdicts, scope, horizon, kinds and parameters. When set, replaces
   * actionRules. @default actionRules
   */
  readonly compensationRules?: readonly CompensationRule[] | undefined;
  /** After a restart, versions overdue because Pathwatch was down are released at most this fast. @default 2000 */
  readonly recoveryReleasePerSec?: number | undefined;
  /**
   * Called when a dispatch binds (provider, provider_message_id) to a request. The hook for running several
   * reconciler instances: publish a binding record keyed `provider:provider_message_id` (so it lands on the
   * partition of those callbacks); the instance owning it calls onRemoteBinding() (SEMANTICS.md §10).
   * @default none
   */
  readonly onBinding?: ((provider: string, providerMessageId: string, requestId: string) => void) | undefined;
  /**
   * How long a remote binding (a provider message id bound to a request owned by another instance) is kept, so
   * callbacks without request_id arriving later are forwarded to that instance. Event time of this instance,
   * from when the binding record was applied. Should cover the longest give-up plus the correction horizon.
   * @default max(defaultDeadlines.giveUpMs, every deadlineRules giveUpMs) + correctionHorizonMs
   */
  readonly remoteBindingTtlMs?: number | undefined;
  /** Remote bindings kept; beyond it the oldest are dropped (counted). @default 4000000 */
  readonly maxRemoteBindings?: number | undefined;
}

export interface ResolvedOptions {
  readonly defaultSlaMs: number;
  readonly defaultGiveUpMs: number;
  readonly deadlineRules: readonly DeadlineRule[];
  readonly retryGraceMs: number;
  readonly orphanGraceMs: number;
  readonly correctionHorizonMs: number;
  readonly tombstoneHorizonMs: number;
  readonly maxOutOfOrdernessMs: number;
  readonly idleTimeoutMs: number;
  readonly maxFutureSkewMs: number;
  readonly deadlineBucketMs: number;
  readonly maxOpenRequests: number;
  readonly maxPendingCallbacks: number;
  readonly maxClosedTraces: number;
  readonly maxTombstones: number;
  readonly maxAttemptsPerRequest: number;
  readonly maxCallbacksPerRequest: number;
  readonly maxHops: number;
  readonly actionRules: readonly ActionRule[];
  /** The compensation rules in effect (compensationRules, else actionRules), indexed. */
  readonly compensation: CompensationTable;
  readonly recoveryReleasePerSec: number;
  readonly onBinding: ((provider: string, providerMessageId: string, requestId: string) => void) | undefined;
  readonly remoteBindingTtlMs: number;
  readonly maxRemoteBindings: number;
}

export const DEFAULT_ACTION_RULES: readonly ActionRule[] = Object.freeze([
  { verdict: 'missing_dispatch', kinds: ['alert'] },
  { verdict: 'missing_outcome', kinds: ['alert'] },
  { verdict: 'failed', kinds: ['alert'] },
  { verdict: 'expired', kinds: ['alert'] },
] as const);

function nonNegative(
  name: string,
  v: number | undefined,
  def: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > max)
    throw new EngineError(
      'RECONCILER_OPTIONS_INVALID',
      `option ${name} must be a finite number in [0, ${max}], got ${String(x)}`,
    );
  return x;
}

function positiveInt(name: string, v: number | undefined, def: number, max: number): number {
  const x = v ?? def;
  if (!Number.isInteger(x) || x < 1 || x > max)
    throw new EngineError(
      'RECONCILER_OPTIONS_INVALID',
      `option ${name} must be an integer in [1, ${max}], got ${String(x)}`,
    );
  return x;
}

const INT32_MAX = 2147483647;

export function resolveOptions(o: EngineOptions = {}): ResolvedOptions {
  const d = o.defaultDeadlines ?? { slaMs: 30_000, giveUpMs: 600_000 };
  const defaultSlaMs = nonNegative('defaultDeadlines.slaMs', d.slaMs, 30_000, INT32_MAX);
  const defaultGiveUpMs = nonNegative('defaultDeadlines.giveUpMs', d.giveUpMs, 600_000, INT32_MAX);
  const rules = o.deadlineRules ?? [];
  rules.forEach((r, i) => {
    nonNegative(`deadlineRules[${i}].slaMs`, r.slaMs, 0, INT32_MAX);
    nonNegative(`deadlineRules[${i}].giveUpMs`, r.giveUpMs, 0, INT32_MAX);
  });
  const actionRules = o.actionRules ?? DEFAULT_ACTION_RULES;
  actionRules.forEach((r, i) => {
    if (r.verdict === 'delivered_on_time')
      throw new EngineError(
        'RECONCILER_OPTIONS_INVALID',
        `actionRules[${i}]: delivered_on_time needs no compensation`,
      );
  });
  const compensationRules: readonly CompensationRule[] =
    o.compensationRules ??
    actionRules.map((r) => ({
      verdicts: [r.verdict],
      ...(r.operation === undefined ? {} : { operation: r.operation }),
      ...(r.channel === undefined ? {} : { channel: r.channel }),
      actions: r.kinds.map((kind) => ({ kind })),
    }));
  const compensationProblems = compensationRuleProblems(compensationRules);
  if (compensationProblems.length > 0)
    throw new EngineError(
      'RECONCILER_OPTIONS_INVALID',
      `compensation rules are invalid: ${compensationProblems.join('; ')}`,
    );
  const correctionHorizonMs = nonNegative('correctionHorizonMs', o.correctionHorizonMs, 3_600_000);
  let longestGiveUpMs = Math.max(defaultGiveUpMs, defaultSlaMs);
  for (const r of rules) longestGiveUpMs = Math.max(longestGiveUpMs, r.giveUpMs, r.slaMs);
  return {
    defaultSlaMs,
    defaultGiveUpMs: Math.max(defaultGiveUpMs, defaultSlaMs),
    deadlineRules: rules,
    retryGraceMs: nonNegative('retryGraceMs', o.retryGraceMs, 5_000),
    orphanGraceMs: nonNegative('orphanGraceMs', o.orphanGraceMs, 60_000),
    correctionHorizonMs,
    tombstoneHorizonMs: nonNegative('tombstoneHorizonMs', o.tombstoneHorizonMs, 7 * 86_400_000),
    maxOutOfOrdernessMs: nonNegative('maxOutOfOrdernessMs', o.maxOutOfOrdernessMs, 500),
    idleTimeoutMs: nonNegative('idleTimeoutMs', o.idleTimeoutMs, 1_000),
    maxFutureSkewMs:
      o.maxFutureSkewMs === Infinity ? Infinity : nonNegative('maxFutureSkewMs', o.maxFutureSkewMs, 300_000),
    deadlineBucketMs: positiveInt('deadlineBucketMs', o.deadlineBucketMs, 1_000, 86_400_000),
    maxOpenRequests: positiveInt('maxOpenRequests', o.maxOpenRequests, 2_000_000, 100_000_000),
    maxPendingCallbacks: positiveInt('maxPendingCallbacks', o.maxPendingCallbacks, 200_000, 100_000_000),
    maxClosedTraces: positiveInt('maxClosedTraces', o.maxClosedTraces, 2_000_000, 100_000_000),
    maxTombstones: positiveInt('maxTombstones', o.maxTombstones, 4_000_000, 100_000_000),
    maxAttemptsPerRequest: positiveInt('maxAttemptsPerRequest', o.maxAttemptsPerRequest, 32, 64),
    maxCallbacksPerRequest: positiveInt('maxCallbacksPerRequest', o.maxCallbacksPerRequest, 64, 200),
    maxHops: positiveInt('maxHops', o.maxHops, 32, 1000),
    actionRules,
    compensation: new CompensationTable(compensationRules),
    recoveryReleasePerSec: nonNegative('recoveryReleasePerSec', o.recoveryReleasePerSec, 2_000),
    onBinding: o.onBinding,
    remoteBindingTtlMs: nonNegative(
      'remoteBindingTtlMs',
      o.remoteBindingTtlMs,
      longestGiveUpMs + correctionHorizonMs,
    ),
    maxRemoteBindings: positiveInt('maxRemoteBindings', o.maxRemoteBindings, 4_000_000, 100_000_000),
  };
}
