/**
 * Typed environment parsing shared by every service's own `config.ts` (the only files that read
 * `process.env`). Each variable is declared once with its doc and default; `readConfig` validates all of them
 * and throws one `ConfigError` naming every bad variable with its raw value. Blank values count as unset.
 */
import { ConfigError } from './errors.js';
import { isSensitiveName, redactText } from './redact.js';

export interface VarSpec<T> {
  /** Environment variable name, e.g. `KAFKA_BROKERS`. */
  readonly env: string;
  readonly doc: string;
  /** Shown in docs; `undefined` means required. */
  readonly default: T | undefined;
  readonly parse: (raw: string) => T;
  /** Human form of the default for docs (e.g. `embedded` instead of `undefined`). */
  readonly defaultDoc?: string;
  readonly optional?: boolean;
  /**
   * The value is a credential: a bad value is never echoed in the error. Variables whose name looks like a
   * credential (`*_PASSWORD`, `*_TOKEN`, `*_SECRET`, ...) count as secret without this flag.
   */
  readonly secret?: boolean;
}

type Problem = { variable: string; problem: string; raw: string | undefined };

/** What a config error may show of a raw value: nothing for secrets, the value with credentials masked otherwise. */
function shownRaw(spec: VarSpec<unknown>, raw: string): string | undefined {
  return spec.secret === true || isSensitiveName(spec.env) ? undefined : redactText(raw);
}

type Specs = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends Specs> = {
  readonly [K in keyof S]: S[K] extends VarSpec<infer T> ? T : never;
};

export function readConfig<S extends Specs>(
  env: Readonly<Record<string, string | undefined>>,
  specs: S,
): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const [key, spec] of Object.entries(specs)) {
    const raw = env[spec.env];
    if (raw === undefined || raw.trim() === '') {
      if (spec.default === undefined && spec.optional !== true) {
        problems.push({ variable: spec.env, problem: `required: ${spec.doc}`, raw: undefined });
      } else {
        out[key] = spec.default;
      }
      continue;
    }
    try {
      out[key] = spec.parse(raw.trim());
    } catch (err) {
      const problem = redactText(err instanceof Error ? err.message : String(err));
      const shown = shownRaw(spec, raw);
      problems.push({
        variable: spec.env,
        problem: shown === undefined ? `${problem} (value hidden)` : problem,
        raw: shown,
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/**
 * Runs several config loaders (one per hosted service, e.g. in the all-in-one) and reports every problem of
 * every one in a single ConfigError, each variable once. Other errors propagate unchanged.
 */
export function readConfigs<L extends Record<string, () => unknown>>(
  loaders: L,
): { readonly [K in keyof L]: ReturnType<L[K]> } {
  const out: Record<string, unknown> = {};
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const [name, load] of Object.entries(loaders)) {
    try {
      out[name] = load();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) {
        const key = `${p.variable}\0${p.problem}`;
        if (seen.has(key)) continue;
        seen.add(key);
        problems.push(p);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as { readonly [K in keyof L]: ReturnType<L[K]> };
}

/** Markdown table rows (variable | default | meaning) for the README. */
export function configDocRows(specs: Specs): string[] {
  return Object.values(specs).map((s) => {
    const def =
      s.defaultDoc ??
      (s.default === undefined
        ? s.optional === true
          ? 'unset'
          : 'required'
        : typeof s.default === 'string'
          ? s.default
          : JSON.stringify(s.default));
    return `| \`${s.env}\` | \`${def}\` | ${s.doc} |`;
  });
}

export const parse = {
  string: (raw: string): string => raw,
  int:
    (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
    (raw: string): number => {
      if (!/^-?\d+$/.test(raw)) throw new Error(`must be an integer between ${min} and ${max}`);
      const n = Number(raw);
      if (n < min || n > max) throw new Error(`must be between ${min} and ${max}`);
      return n;
    },
  bool: (raw: string): boolean => {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off'].includes(v)) return false;
    throw new Error('must be true or false');
  },
  oneOf:
    <T extends string>(values: readonly T[]) =>
    (raw: string): T => {
      if (!(values as readonly string[]).includes(raw))
        throw new Error(`must be one of ${values.join(', ')}`);
      return raw as T;
    },
  brokers: (raw: string): string[] => {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    for (const b of list) {
      if (!/^[^:\s]+:\d{1,5}$/.test(b))
        throw new Error(`"${b}" is not host:port (comma-separated list expected)`);
    }
    if (list.length === 0) throw new Error('must list at least one host:port');
    return list;
  },
  url: (raw: string): string => {
    try {
      const u = new URL(raw);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    } catch {
      throw new Error('must be an http(s) URL');
    }
    return raw;
  },
};

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Variables every service shares, declared once so their meaning and default cannot drift apart. */
export const sharedVars = {
  logLevel: {
    env: 'LOG_LEVEL',
    doc: 'pino log level.',
    default: 'info',
    parse: parse.oneOf(LOG_LEVELS),
  } as VarSpec<LogLevel>,
  topicPartitions: {
    env: 'PATHWATCH_TOPIC_PARTITIONS',
    doc: 'Partitions for topics Pathwatch creates (inputs are co-partitioned by request_id; all three must match).',
    default: 4,
    parse: parse.int(1, 1024),
  } as VarSpec<number>,
  shutdownTimeoutMs: {
    env: 'PATHWATCH_SHUTDOWN_TIMEOUT_MS',
    doc: 'Hard bound on a shutdown: after SIGTERM/SIGINT the process exits within this long, with code 1 and an error line if closing (final commit, client close) has not finished by then.',
    default: 30_000,
    parse: parse.int(1000, 600_000),
  } as VarSpec<number>,
  deadLetterMaxBytes: {
    env: 'PATHWATCH_DEAD_LETTER_MAX_BYTES',
    doc: "Largest dead-letter record Pathwatch writes (value, key, headers and record-batch overhead). A dead letter that would be larger is written with its payload cut to fit, plus headers `pw-truncated`, `pw-original-size` and `pw-original-sha256`. The dead-letter topic Pathwatch creates gets `max.message.bytes` = this value; an existing topic with a smaller `max.message.bytes` lowers it. The default fits a stock broker's 1 MB limit.",
    default: 1_000_000,
    parse: parse.int(65_536, 64 * 1_048_576),
  } as VarSpec<number>,
  createTopics: {
    env: 'PATHWATCH_CREATE_TOPICS',
    doc: 'Create missing topics at start.',
    default: true,
    parse: parse.bool,
  } as VarSpec<boolean>,
};

/**
 * Cross-checks of a consumer's timeouts (each variable alone is range-checked by its spec): the heartbeat must come
 * well within the session, and a rebalance must wait at least one session. Variables are named `<prefix>_…_MS`.
 */
export function consumerTimeoutProblems(
  prefix: string,
  c: {
    sessionTimeoutMs: number;
    heartbeatIntervalMs?: number | undefined;
    rebalanceTimeoutMs?: number | undefined;
  },
): { variable: string; problem: string; raw: string | undefined }[] {
  const problems: { variable: string; problem: string; raw: string | undefined }[] = [];
  if (c.heartbeatIntervalMs !== undefined && c.heartbeatIntervalMs >= c.sessionTimeoutMs)
    problems.push({
      variable: `${prefix}_HEARTBEAT_INTERVAL_MS`,
      problem: `must be below ${prefix}_SESSION_TIMEOUT_MS (${c.sessionTimeoutMs}); a third of it is usual`,
      raw: String(c.heartbeatIntervalMs),
    });
  if (c.rebalanceTimeoutMs !== undefined && c.rebalanceTimeoutMs < c.sessionTimeoutMs)
    problems.push({
      variable: `${prefix}_REBALANCE_TIMEOUT_MS`,
      problem: `must be at least ${prefix}_SESSION_TIMEOUT_MS (${c.sessionTimeoutMs})`,
      raw: String(c.rebalanceTimeoutMs),
    });
  return problems;
}
