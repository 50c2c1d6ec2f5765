/**
 * The analyst-SQL pipeline both backends share: canonicalise with the engine's parser, check the syntax tree
 * against the allow-list (sql-guard.ts), run the canonical text, and turn every engine error the SQL causes into a
 * non-retriable 4xx-class refusal with a sanitised message.
 */
import { StoreError } from './errors.js';
import {
  FunctionCatalog,
  classifyAst,
  parseAstDump,
  sqlRefusal,
  type FunctionRow,
  type SqlRefusalReason,
} from './sql-guard.js';

/** The three engine round trips of one analyst query, each returning the JSONCompact text of its result. */
export interface SqlSteps {
  /** `SELECT formatQuery({q:String})` with the user's text bound as a parameter (never spliced). */
  formatQuery(text: string): Promise<string>;
  explainAst(canonical: string): Promise<string>;
  run(canonical: string): Promise<string>;
}

export interface CheckedSqlOptions {
  readonly database: string;
  readonly catalog: FunctionCatalog;
  readonly maxExecutionSeconds: number;
  /** Config variable that sets the time limit, named in the refusal. */
  readonly timeLimitVariable?: string | undefined;
}

interface Compact {
  data: unknown[][];
}

/** Refuses or runs `sql`; returns the JSONCompact text of the canonical statement's result. */
export async function checkedSql(steps: SqlSteps, sql: string, opts: CheckedSqlOptions): Promise<string> {
  if (sql.trim() === '') throw sqlRefusal('SQL_EMPTY', 'the SQL is empty');
  const step = async (p: () => Promise<string>): Promise<string> => {
    try {
      return await p();
    } catch (err) {
      throw sqlEngineError(err, opts.maxExecutionSeconds, opts.timeLimitVariable);
    }
  };
  const formatted = (JSON.parse(await step(() => steps.formatQuery(sql))) as Compact).data[0]?.[0];
  if (typeof formatted !== 'string' || formatted.trim() === '')
    throw sqlRefusal('SQL_EMPTY', 'the SQL holds no statement');
  const dump = (JSON.parse(await step(() => steps.explainAst(formatted))) as Compact).data.map((r) =>
    String(r[0]),
  );
  // The root line names the statement kind even when the rest of a foreign statement's dump has another shape.
  const kind = /^[A-Za-z]+/.exec(dump[0] ?? '')?.[0] ?? 'unknown';
  if (kind !== 'SelectWithUnionQuery')
    throw sqlRefusal(
      'SQL_NOT_SELECT',
      `only a SELECT statement is allowed (found ${kind.replace(/Query$/, '')})`,
    );
  classifyAst(parseAstDump(dump), { database: opts.database, catalog: opts.catalog });
  return step(() => steps.run(formatted));
}

const TIME_CODES = new Set([159, 160]); // TIMEOUT_EXCEEDED, TOO_SLOW
// Memory, rows/bytes to read, AST size and depth, result too big: the query asked for more than allowed.
const RESOURCE_CODES = new Set([158, 167, 168, 241, 306, 307, 396]);

function codeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; clickhouseCode?: unknown; message?: unknown };
  if (typeof e.clickhouseCode === 'number') return e.clickhouseCode;
  if (typeof e.code === 'string' && /^\d+$/.test(e.code)) return Number(e.code);
  const m = typeof e.message === 'string' ? /Code: (\d+)\./.exec(e.message) : null;
  return m ? Number(m[1]) : undefined;
}

/**
 * Engine message without what the caller has no business seeing: host paths, the version, stack traces, the
 * repeated "Code: N. DB::Exception:" prefix.
 */
export function sanitiseEngineMessage(message: string): string {
  return message
    .split(/\n\s*Stack trace/i)[0]!
    .replace(/(?:Code: \d+\. )?DB::Exception: /g, '')
    .replace(/ ?\(version [^)]*\)/g, '')
    .replace(/(?:file:\/\/)?(?:\/[\w.@+-]+){2,}\/?/g, (p) => (p.endsWith('.') ? '<path>.' : '<path>'))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2000);
}

/**
 * Every engine error of an analyst query is the SQL's fault (4xx, never retried) unless it carries no ClickHouse
 * code at all, which means the transport failed (server mode: network, server down): that one stays retriable.
 */
export function sqlEngineError(
  err: unknown,
  maxExecutionSeconds: number,
  timeLimitVariable?: string,
): StoreError {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  const raw = (err as { message?: unknown }).message;
  const message = sanitiseEngineMessage(typeof raw === 'string' ? raw : String(err));
  if (code === undefined) {
    return new StoreError('CORE_STORE_UNAVAILABLE', `SQL failed: ${message}`, {
      retriable: true,
      cause: err,
    });
  }
  let reason: SqlRefusalReason = 'SQL_INVALID';
  let text = message;
  if (TIME_CODES.has(code)) {
    reason = 'SQL_TIME_LIMIT';
    text = `the query exceeded the SQL time limit of ${maxExecutionSeconds} s${timeLimitVariable ? ` (${timeLimitVariable})` : ''}: narrow it down (time range, filters) or raise the limit`;
  } else if (RESOURCE_CODES.has(code)) {
    reason = 'SQL_RESOURCE_LIMIT';
    text = `the query exceeded a resource limit: ${message}`;
  } else if (code === 62) {
    reason = /Multi-statements are not allowed/.test(message) ? 'SQL_MULTI_STATEMENT' : 'SQL_SYNTAX';
    if (reason === 'SQL_MULTI_STATEMENT') text = `only one statement is allowed: ${message}`;
  } else if (code === 456) {
    reason = 'SQL_QUERY_PARAMETER';
    text = `query parameters ({name:Type}) are not supported: ${message}`;
  } else if (code === 164) {
    reason = 'SQL_SETTINGS';
    text = `settings cannot be changed by analyst SQL: ${message}`;
  }
  return sqlRefusal(reason, text, err, code);
}

/** Reads the engine's function registry into the allow-list's catalog. */
export async function loadFunctionCatalog(query: <T>(sql: string) => Promise<T[]>): Promise<FunctionCatalog> {
  const rows = await query<FunctionRow>(
    'SELECT name, toUInt8(is_aggregate) AS is_aggregate, toUInt8(case_insensitive) AS case_insensitive, alias_to, toString(origin) AS origin, categories FROM system.functions',
  );
  const combinators = await query<{ name: string }>(
    'SELECT name FROM system.aggregate_function_combinators WHERE NOT is_internal',
  );
  return new FunctionCatalog(
    rows,
    combinators.map((c) => c.name),
  );
}
