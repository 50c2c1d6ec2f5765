/**
 * Compensation rules: which verdict versions request which compensating actions, for which operations, channels
 * and attributes, after which horizon, with which parameters for the compensating system. Pure; the engine asks
 * `match()` once per emitted version that is not on time and `retractable()` when a correction makes an earlier
 * action moot.
 *
 * Determinism: the engine keeps one action per (request, kind, triggering verdict class), id
 * `<request_id>:<kind>:<verdict>`, so the same compensation is never requested twice; when several rules request
 * the same kind for one version, the first matching rule in order sets its rule id and parameters.
 */
import {
  ACTION_KINDS,
  VERDICT_CLASSES,
  type ActionKind,
  type Verdict,
  type VerdictClass,
} from '@pathwatch/schemas';

/** The kinds a rule may request; `retract` is emitted by the engine when a correction makes an action moot. */
export type CompensationKind = Exclude<ActionKind, 'retract'>;

export interface CompensationActionSpec {
  readonly kind: CompensationKind;
  /** Handed to the compensating system in the action's `params` (e.g. route, channel, severity). @default {} */
  readonly params?: Readonly<Record<string, string>> | undefined;
}

export interface CompensationRule {
  /** Stable id, carried in each action's `rule_id` (and in retracts of them). @default null in the action */
  readonly id?: string | undefined;
  /** Verdict classes that trigger the rule (not `delivered_on_time`). */
  readonly verdicts: readonly VerdictClass[];
  /** Only requests of this operation. @default any */
  readonly operation?: string | undefined;
  /** Only requests on this channel. @default any */
  readonly channel?: string | undefined;
  /** Only requests whose attributes have all these values. @default any */
  readonly attributes?: Readonly<Record<string, string>> | undefined;
  /**
   * Horizon: only versions decided at least this long (event time) after the request was accepted — e.g. refund a
   * `delivered_late` only when it came more than 10 minutes late. Versions without a request (orphans) never
   * match a rule that sets it. @default 0
   */
  readonly minElapsedMs?: number | undefined;
  readonly actions: readonly CompensationActionSpec[];
  /**
   * Whether actions of this rule are retracted when a later version makes them moot (a `missing_outcome` alert
   * when the outcome arrives after all). False for actions that cannot be undone downstream. @default true
   */
  readonly retract?: boolean | undefined;
}

/** What one matching rule asks for one kind. */
export interface MatchedAction {
  readonly kind: CompensationKind;
  readonly ruleId: string | null;
  readonly params: Readonly<Record<string, string>>;
}

/** The built-in rules (what Pathwatch did before rules were configurable): alert on each final failure class. */
export const DEFAULT_COMPENSATION_RULES: readonly CompensationRule[] = Object.freeze([
  { verdicts: ['missing_dispatch'], actions: [{ kind: 'alert' }] },
  { verdicts: ['missing_outcome'], actions: [{ kind: 'alert' }] },
  { verdicts: ['failed'], actions: [{ kind: 'alert' }] },
  { verdicts: ['expired'], actions: [{ kind: 'alert' }] },
] as const);

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

export const RULE_LIMITS = Object.freeze({
  rules: 1000,
  actionsPerRule: 4,
  params: 32,
  paramKeyPattern: /^[a-z][a-z0-9_]{0,63}$/,
  paramValueChars: 1024,
  idPattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/,
  stringChars: 256,
  attributes: 16,
});

const RULE_KEYS = new Set([
  'id',
  'verdicts',
  'operation',
  'channel',
  'attributes',
  'min_elapsed_ms',
  'actions',
  'retract',
  'description',
]);
const ACTION_KEYS = new Set(['kind', 'params']);
const KINDS: readonly string[] = ACTION_KINDS.filter((k) => k !== 'retract');

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringMap(
  v: unknown,
  where: string,
  problems: string[],
  opts: { max: number; keyPattern?: RegExp; valueChars: number },
): Record<string, string> | undefined {
  if (!isObject(v)) {
    problems.push(`${where}: must be an object of strings`);
    return undefined;
  }
  const entries = Object.entries(v);
  if (entries.length > opts.max)
    problems.push(`${where}: at most ${opts.max} entries, got ${entries.length}`);
  const out: Record<string, string> = {};
  for (const [k, val] of entries) {
    if (opts.keyPattern && !opts.keyPattern.test(k))
      problems.push(`${where}.${k}: key must match ${String(opts.keyPattern)}`);
    if (typeof val !== 'string') problems.push(`${where}.${k}: must be a string`);
    else if (val.length === 0 || val.length > opts.valueChars)
      problems.push(`${where}.${k}: must be 1..${opts.valueChars} characters`);
    else out[k] = val;
  }
  return out;
}

function text(v: unknown, where: string, problems: string[]): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim() === '' || v.length > RULE_LIMITS.stringChars) {
    problems.push(`${where}: must be a non-empty string of at most ${RULE_LIMITS.stringChars} characters`);
    return undefined;
  }
  return v;
}

/**
 * Validates a parsed rules document `{ "rules": [...] }` (the file format, snake_case keys) and returns the rules,
 * or every problem found, each naming its place (`rules[2].actions[0].kind: ...`).
 */
export function parseCompensationRules(doc: unknown): {
  rules: CompensationRule[];
  problems: string[];
} {
  const problems: string[] = [];
  const rules: CompensationRule[] = [];
  if (!isObject(doc) || !Array.isArray(doc['rules'])) {
    return { rules, problems: ['must be a JSON object with a "rules" array'] };
  }
  for (const k of Object.keys(doc)) if (k !== 'rules') problems.push(`${k}: unknown key (allowed: rules)`);
  const list = doc['rules'] as unknown[];
  if (list.length > RULE_LIMITS.rules) problems.push(`rules: at most ${RULE_LIMITS.rules} rules`);
  const ids = new Map<string, number>();
  list.forEach((raw, i) => {
    const at = `rules[${i}]`;
    if (!isObject(raw)) {
      problems.push(`${at}: must be an object`);
      return;
    }
    for (const k of Object.keys(raw))
      if (!RULE_KEYS.has(k)) problems.push(`${at}.${k}: unknown key (allowed: ${[...RULE_KEYS].join(', ')})`);
    let id: string | undefined;
    if (raw['id'] !== undefined) {
      if (typeof raw['id'] !== 'string' || !RULE_LIMITS.idPattern.test(raw['id']))
        problems.push(`${at}.id: must match ${String(RULE_LIMITS.idPattern)}`);
      else {
        id = raw['id'];
        const dup = ids.get(id);
        if (dup !== undefined) problems.push(`${at}.id: "${id}" is also the id of rules[${dup}]`);
        ids.set(id, i);
      }
    }
    if (raw['description'] !== undefined && typeof raw['description'] !== 'string')
      problems.push(`${at}.description: must be a string`);
    const verdicts: VerdictClass[] = [];
    if (!Array.isArray(raw['verdicts']) || raw['verdicts'].length === 0)
      problems.push(`${at}.verdicts: must be a non-empty array of verdict classes`);
    else
      (raw['verdicts'] as unknown[]).forEach((v, j) => {
        if (typeof v !== 'string' || !(VERDICT_CLASSES as readonly string[]).includes(v))
          problems.push(`${at}.verdicts[${j}]: must be one of ${VERDICT_CLASSES.join(', ')}`);
        else if (v === 'delivered_on_time')
          problems.push(`${at}.verdicts[${j}]: delivered_on_time needs no compensation`);
        else if (verdicts.includes(v as VerdictClass))
          problems.push(`${at}.verdicts[${j}]: ${v} is listed twice`);
        else verdicts.push(v as VerdictClass);
      });
    const operation = text(raw['operation'], `${at}.operation`, problems);
    const channel = text(raw['channel'], `${at}.channel`, problems);
    const attributes =
      raw['attributes'] === undefined
        ? undefined
        : stringMap(raw['attributes'], `${at}.attributes`, problems, {
            max: RULE_LIMITS.attributes,
            valueChars: RULE_LIMITS.stringChars,
          });
    let minElapsedMs: number | undefined;
    if (raw['min_elapsed_ms'] !== undefined) {
      const m = raw['min_elapsed_ms'];
      if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 2_147_483_647)
        problems.push(`${at}.min_elapsed_ms: must be an integer between 0 and 2147483647 (ms)`);
      else minElapsedMs = m;
    }
    if (raw['retract'] !== undefined && typeof raw['retract'] !== 'boolean')
      problems.push(`${at}.retract: must be true or false`);
    const actions: CompensationActionSpec[] = [];
    if (!Array.isArray(raw['actions']) || raw['actions'].length === 0)
      problems.push(`${at}.actions: must be a non-empty array of { kind, params }`);
    else {
      if (raw['actions'].length > RULE_LIMITS.actionsPerRule)
        problems.push(`${at}.actions: at most ${RULE_LIMITS.actionsPerRule} (one per kind)`);
      (raw['actions'] as unknown[]).forEach((a, j) => {
        const aat = `${at}.actions[${j}]`;
        if (!isObject(a)) {
          problems.push(`${aat}: must be an object { kind, params }`);
          return;
        }
        for (const k of Object.keys(a))
          if (!ACTION_KEYS.has(k)) problems.push(`${aat}.${k}: unknown key (allowed: kind, params)`);
        const kind = a['kind'];
        if (kind === 'retract') {
          problems.push(
            `${aat}.kind: retract is emitted by Pathwatch when a correction makes an action moot (set "retract" on the rule)`,
          );
          return;
        }
        if (typeof kind !== 'string' || !KINDS.includes(kind)) {
          problems.push(`${aat}.kind: must be one of ${KINDS.join(', ')}`);
          return;
        }
        if (actions.some((x) => x.kind === kind)) problems.push(`${aat}.kind: ${kind} is listed twice`);
        const params =
          a['params'] === undefined
            ? undefined
            : stringMap(a['params'], `${aat}.params`, problems, {
                max: RULE_LIMITS.params,
                keyPattern: RULE_LIMITS.paramKeyPattern,
                valueChars: RULE_LIMITS.paramValueChars,
              });
        if (kind === 'fallback_channel') {
          const target = params?.['channel'];
          // Without params.channel the compensating system picks the channel itself.
          if (target !== undefined && channel !== undefined && target === channel)
            problems.push(`${aat}.params.channel: falls back to the rule's own channel ${channel}`);
        }
        actions.push({ kind: kind as CompensationKind, ...(params === undefined ? {} : { params }) });
      });
    }
    rules.push({
      ...(id === undefined ? {} : { id }),
      verdicts,
      ...(operation === undefined ? {} : { operation }),
      ...(channel === undefined ? {} : { channel }),
      ...(attributes === undefined ? {} : { attributes }),
      ...(minElapsedMs === undefined ? {} : { minElapsedMs }),
      actions,
      ...(typeof raw['retract'] === 'boolean' ? { retract: raw['retract'] } : {}),
    });
  });
  return problems.length > 0 ? { rules: [], problems } : { rules, problems };
}

/** Problems of rules given in code (engine options); the same checks as the file format. */
export function compensationRuleProblems(rules: readonly CompensationRule[]): string[] {
  return parseCompensationRules({
    rules: rules.map((r) => ({
      ...(r.id === undefined ? {} : { id: r.id }),
      verdicts: r.verdicts,
      ...(r.operation === undefined ? {} : { operation: r.operation }),
      ...(r.channel === undefined ? {} : { channel: r.channel }),
      ...(r.attributes === undefined ? {} : { attributes: r.attributes }),
      ...(r.minElapsedMs === undefined ? {} : { min_elapsed_ms: r.minElapsedMs }),
      actions: r.actions,
      ...(r.retract === undefined ? {} : { retract: r.retract }),
    })),
  }).problems;
}

function scopeMatches(r: CompensationRule, v: Verdict): boolean {
  if (r.operation !== undefined && r.operation !== v.operation) return false;
  if (r.channel !== undefined && r.channel !== v.channel) return false;
  if (r.attributes !== undefined)
    for (const [k, val] of Object.entries(r.attributes)) if (v.attributes[k] !== val) return false;
  return true;
}

/** The rules, indexed by verdict class. */
export class CompensationTable {
  private readonly byClass = new Map<VerdictClass, readonly CompensationRule[]>();

  constructor(readonly rules: readonly CompensationRule[]) {
    for (const cls of VERDICT_CLASSES)
      this.byClass.set(
        cls,
        rules.filter((r) => r.verdicts.includes(cls)),
      );
  }

  /** The actions a version requests, one per kind, in rule order (the first rule requesting a kind wins). */
  match(v: Verdict): MatchedAction[] {
    const rules = this.byClass.get(v.verdict);
    if (rules === undefined || rules.length === 0) return [];
    const out: MatchedAction[] = [];
    for (const r of rules) {
      if (!scopeMatches(r, v)) continue;
      if (r.minElapsedMs !== undefined && r.minElapsedMs > 0) {
        if (v.accepted_at === null || v.decided_at - v.accepted_at < r.minElapsedMs) continue;
      }
      for (const a of r.actions) {
        if (out.some((m) => m.kind === a.kind)) continue;
        out.push({ kind: a.kind, ruleId: r.id ?? null, params: a.params ?? EMPTY });
      }
    }
    return out;
  }

  /**
   * For a retraction: the rule that requested `kind` on `trigger` for this request (first in order, horizon not
   * considered) and whether it allows retracting. No rule (the rules changed since): retracted, no rule id.
   */
  retraction(kind: string, trigger: VerdictClass, v: Verdict): { retract: boolean; ruleId: string | null } {
    for (const r of this.byClass.get(trigger) ?? []) {
      if (!scopeMatches(r, v) || !r.actions.some((a) => a.kind === kind)) continue;
      return { retract: r.retract ?? true, ruleId: r.id ?? null };
    }
    return { retract: true, ruleId: null };
  }
}
