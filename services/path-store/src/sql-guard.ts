/**
 * Allow-list for analyst SQL (POST /v1/sql, `pathwatch sql`), decided by ClickHouse's own parser, never by
 * patterns over the user's text:
 *
 * 1. `formatQuery(<sql as a bound parameter>)` parses the text with the real parser (it refuses a second
 *    statement) and prints it back canonically: no comments, every literal and name re-escaped. Only this
 *    canonical text is analysed and, if accepted, executed, so what is checked is exactly what runs.
 * 2. `EXPLAIN AST <canonical>` (parse only: no analysis, no table-function structure probing, no I/O) prints the
 *    syntax tree. `parseAstDump` reads it back strictly: every line must fit the dump grammar, every node's
 *    printed child count must match, one root. A name that could forge tree lines (control characters,
 *    parentheses) makes the dump inconsistent or unparsable and the query is refused.
 * 3. `classifyAst` walks every node: one SELECT (WITH / UNION / INTERSECT / EXCEPT / subqueries / joins / window
 *    functions), table sources only the store's own database (unqualified names are CTEs or the store's tables),
 *    every function call on the allow-list of `FunctionCatalog`, no table functions, no SETTINGS, FORMAT,
 *    INTO OUTFILE or query parameters, and only the node kinds a SELECT is made of.
 */
import { StoreError } from './errors.js';

/** Stable reasons of a refusal (the HTTP body's `error` is `QUERY_API_<reason>`). */
export type SqlRefusalReason =
  | 'SQL_EMPTY'
  | 'SQL_SYNTAX'
  | 'SQL_MULTI_STATEMENT'
  | 'SQL_NOT_SELECT'
  | 'SQL_TABLE_FUNCTION'
  | 'SQL_TABLE_NOT_ALLOWED'
  | 'SQL_FUNCTION_NOT_ALLOWED'
  | 'SQL_INTO_OUTFILE'
  | 'SQL_FORMAT'
  | 'SQL_SETTINGS'
  | 'SQL_QUERY_PARAMETER'
  | 'SQL_SYNTAX_NOT_ALLOWED'
  | 'SQL_NAME_NOT_ALLOWED'
  /** Raised by the engine while running an accepted query. */
  | 'SQL_TIME_LIMIT'
  | 'SQL_RESOURCE_LIMIT'
  | 'SQL_INVALID';

/** Analyst SQL refused or failed because of the SQL itself: never retriable, always a 4xx. */
export function sqlRefusal(
  reason: SqlRefusalReason,
  message: string,
  cause?: unknown,
  clickhouseCode?: number,
): StoreError {
  return new StoreError('CORE_STORE_SQL_REJECTED', message, {
    retriable: false,
    context: { reason, ...(clickhouseCode === undefined ? {} : { clickhouseCode }) },
    ...(cause === undefined ? {} : { cause }),
  });
}

export interface AstNode {
  readonly type: string;
  /** Function / identifier name or literal text, as the dump prints it. */
  readonly name: string | undefined;
  readonly children: AstNode[];
}

// `<indent><Type>[ <name>][ (alias <a>)][ (children <n>)]`; names and aliases may not contain parentheses.
const NODE_LINE = /^( *)([A-Za-z]+)(?: ([^()]+?))?(?: \(alias [^()]*\))?(?: \(children (\d+)\))?$/;
// Literal text is escaped by the printer; a literal never has children.
const LITERAL_LINE = /^( *)Literal (.+)$/;

/**
 * Reads an `EXPLAIN AST` dump back into a tree, or refuses it. Strict on purpose: a dump that does not fit the
 * grammar exactly, or whose printed child counts differ from its lines, is never guessed at.
 */
export function parseAstDump(lines: readonly string[]): AstNode {
  const stack: { node: AstNode; depth: number; declared: number }[] = [];
  let root: AstNode | undefined;
  const close = (upTo: number): void => {
    while (stack.length > upTo) {
      const top = stack.pop()!;
      if (top.node.children.length !== top.declared) throw unreadable();
    }
  };
  for (const line of lines) {
    let depth: number;
    let node: AstNode;
    let declared: number;
    const lit = LITERAL_LINE.exec(line);
    if (lit) {
      depth = lit[1]!.length;
      node = { type: 'Literal', name: lit[2], children: [] };
      declared = 0;
    } else {
      const m = NODE_LINE.exec(line);
      if (!m) throw unreadable();
      depth = m[1]!.length;
      node = { type: m[2]!, name: m[3], children: [] };
      declared = m[4] === undefined ? 0 : Number(m[4]);
    }
    if (depth === 0) {
      if (root) throw unreadable();
      root = node;
    } else {
      // A child is exactly one level below its parent.
      if (depth > stack.length) throw unreadable();
      close(depth);
      stack[depth - 1]!.node.children.push(node);
    }
    stack.push({ node, depth, declared });
  }
  close(0);
  if (!root) throw unreadable();
  return root;
}

function unreadable(): StoreError {
  return sqlRefusal(
    'SQL_NAME_NOT_ALLOWED',
    'the statement could not be analysed: names and aliases must not contain parentheses or control characters',
  );
}

/** One row of `system.functions`. */
export interface FunctionRow {
  name: string;
  is_aggregate: number;
  case_insensitive: number;
  alias_to: string;
  origin: string;
  categories: string;
}

/**
 * Function categories (system.functions.categories) whose members are pure computation on their arguments.
 * Everything else is refused: Other (settings, host, files, sleep, joinGet, ...), Dictionary, Embedded
 * Dictionary, Introspection, Internal, AI, Machine Learning, Encryption, Geo, Time Series and any category a
 * future engine adds. Only functions of origin 'System' qualify (no SQL or executable user-defined functions).
 */
export const ALLOWED_FUNCTION_CATEGORIES: ReadonlySet<string> = new Set([
  'Aggregate Functions',
  'Arithmetic',
  'Arrays',
  'Bit',
  'Bitmap',
  'Comparison',
  'Conditional',
  'Dates and Times',
  'Distance',
  'Encoding',
  'Financial',
  'Hash',
  'IP Address',
  'JSON',
  'Logical',
  'Map',
  'Mathematical',
  'Null',
  'Random Number',
  'Rounding',
  'String',
  'String Replacement',
  'String Search',
  'String Splitting',
  'Time Window',
  'Tuple',
  'Type Conversion',
  'URL',
  'UUID',
]);

/** Members of allowed categories that are refused anyway (they format through schema files or hide calls). */
export const DENIED_FUNCTIONS: ReadonlySet<string> = new Set([
  'chdb',
  'formatRow',
  'formatRowNoNewline',
  'groupFormat',
  // Take an aggregate function's name as a string, so the call would not be visible in the tree.
  'arrayReduce',
  'arrayReduceInRanges',
]);

/** Pure functions outside the allowed categories that analysts need (and syntax the parser emits). */
export const EXTRA_ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  'lambda',
  'caseWithExpression',
  'materialize',
  'identity',
  'ignore',
  'isConstant',
  'transform',
  'throwIf',
  'bar',
  'formatReadableSize',
  'formatReadableDecimalSize',
  'formatReadableQuantity',
  'formatReadableTimeDelta',
  'parseTimeDelta',
  'parseReadableSize',
  'parseReadableSizeOrNull',
  'parseReadableSizeOrZero',
  'visibleWidth',
  'countDigits',
  'isDecimalOverflow',
  'byteSize',
  'toTypeName',
  'toColumnTypeName',
  'defaultValueOfArgumentType',
  'defaultValueOfTypeName',
  'getSubcolumn',
  'variantElement',
  'variantType',
  'finalizeAggregation',
  'runningDifference',
  'runningDifferenceStartingWithFirstValue',
  'neighbor',
  'errorCodeToName',
  'minSampleSizeContinuous',
  'minSampleSizeConversion',
]);

interface Resolved {
  /** Canonical name (aliases followed). */
  readonly name: string;
  readonly allowed: boolean;
}

/**
 * The engine's function registry (system.functions and the aggregate combinators), resolved the way the
 * engine resolves names: exact name, then case-insensitive names, then aliases, then combinator suffixes of
 * aggregate functions (`quantilesTDigestIf`, `uniqExactArrayOrNull`).
 */
export class FunctionCatalog {
  private readonly exact = new Map<string, FunctionRow>();
  private readonly folded = new Map<string, FunctionRow>();
  private readonly combinators: readonly string[];

  constructor(rows: readonly FunctionRow[], combinators: readonly string[]) {
    for (const r of rows) {
      this.exact.set(r.name, r);
      if (Number(r.case_insensitive) === 1) this.folded.set(r.name.toLowerCase(), r);
    }
    this.combinators = [...combinators].sort((a, b) => b.length - a.length);
  }

  private lookup(name: string): FunctionRow | undefined {
    return this.exact.get(name) ?? this.folded.get(name.toLowerCase());
  }

  private static rowAllowed(r: FunctionRow): boolean {
    if (r.origin !== 'System' || DENIED_FUNCTIONS.has(r.name)) return false;
    if (EXTRA_ALLOWED_FUNCTIONS.has(r.name)) return true;
    return r.categories
      .split(',')
      .map((c) => c.trim())
      .some((c) => ALLOWED_FUNCTION_CATEGORIES.has(c));
  }

  resolve(name: string, depth = 0): Resolved | undefined {
    if (name === 'lambda') return { name, allowed: true };
    let row = this.lookup(name);
    if (row && row.alias_to !== '') row = this.lookup(row.alias_to) ?? row;
    if (row) return { name: row.name, allowed: FunctionCatalog.rowAllowed(row) };
    if (depth > 8) return undefined;
    for (const c of this.combinators) {
      if (name.length > c.length && name.endsWith(c)) {
        const base = this.resolveAggregate(name.slice(0, -c.length), depth + 1);
        if (base) return base;
      }
    }
    return undefined;
  }

  private resolveAggregate(name: string, depth: number): Resolved | undefined {
    const r = this.resolve(name, depth);
    if (!r) return undefined;
    const row = this.exact.get(r.name);
    // Combinators only apply to aggregate functions (a nested combinator resolves to its aggregate base).
    if (row && Number(row.is_aggregate) !== 1) return undefined;
    return r;
  }
}

const IN_FUNCTIONS = new Set([
  'in',
  'notIn',
  'globalIn',
  'globalNotIn',
  'nullIn',
  'notNullIn',
  'globalNullIn',
  'globalNotNullIn',
  'inIgnoreSet',
  'notInIgnoreSet',
  'globalInIgnoreSet',
  'globalNotInIgnoreSet',
  'nullInIgnoreSet',
  'notNullInIgnoreSet',
  'globalNullInIgnoreSet',
  'globalNotNullInIgnoreSet',
]);

/** Node kinds a SELECT is made of; anything else (another statement kind, SETTINGS, parameters) is refused. */
const SELECT_NODES = new Set([
  'SelectWithUnionQuery',
  'SelectIntersectExceptQuery',
  'SelectQuery',
  'ExpressionList',
  'Function',
  'Identifier',
  'TableIdentifier',
  'Literal',
  'Subquery',
  'WithElement',
  'TablesInSelectQuery',
  'TablesInSelectQueryElement',
  'TableExpression',
  'TableJoin',
  'ArrayJoin',
  'Asterisk',
  'QualifiedAsterisk',
  'ColumnsRegexpMatcher',
  'ColumnsListMatcher',
  'QualifiedColumnsRegexpMatcher',
  'QualifiedColumnsListMatcher',
  'ColumnsTransformerList',
  'ColumnsExceptTransformer',
  'ColumnsReplaceTransformer',
  'ColumnsReplaceTransformerReplacement',
  'OrderByElement',
  'InterpolateElement',
  'WindowDefinition',
  'WindowListElement',
  'SampleRatio',
]);

export interface ClassifyOptions {
  /** The store's database: the only one a qualified table name may name. */
  readonly database: string;
  readonly catalog: FunctionCatalog;
}

/** Throws a refusal naming what is not allowed, or returns when the tree is one allowed SELECT. */
export function classifyAst(root: AstNode, opts: ClassifyOptions): void {
  if (root.type !== 'SelectWithUnionQuery') {
    throw sqlRefusal(
      'SQL_NOT_SELECT',
      `only a SELECT statement is allowed (this is ${statementKind(root.type)})`,
    );
  }
  walk(root, undefined, opts);
}

function statementKind(type: string): string {
  const k = type.replace(/Query$/, '');
  return /^[A-Z]/.test(k) ? `a ${k} statement` : 'another statement kind';
}

function checkTableName(name: string | undefined, opts: ClassifyOptions, what: string): void {
  const parts = (name ?? '').split('.');
  // Unqualified: a CTE or a table of the store's database (the session's current database).
  if (parts.length === 1 && parts[0] !== '') return;
  if (parts.length === 2 && parts[0] === opts.database && parts[1] !== '') return;
  throw sqlRefusal(
    'SQL_TABLE_NOT_ALLOWED',
    `${what} ${name ?? ''} is not allowed: only the tables and views of the ${opts.database} database (and CTEs) can be read`,
  );
}

function walk(node: AstNode, parent: AstNode | undefined, opts: ClassifyOptions): void {
  if (node.type === 'Set') throw sqlRefusal('SQL_SETTINGS', 'a SETTINGS clause is not allowed');
  if (node.type === 'QueryParameter')
    throw sqlRefusal('SQL_QUERY_PARAMETER', 'query parameters ({name:Type}) are not supported');
  if (!SELECT_NODES.has(node.type)) {
    if (node.type.endsWith('Query') || parent === undefined)
      throw sqlRefusal('SQL_NOT_SELECT', `only a SELECT is allowed (found ${statementKind(node.type)})`);
    throw sqlRefusal('SQL_SYNTAX_NOT_ALLOWED', `${node.type} is not allowed in analyst SQL`);
  }
  switch (node.type) {
    case 'SelectWithUnionQuery': {
      // Children after the list of selects are the clauses the parser hangs on the whole query.
      for (const extra of node.children.slice(1)) {
        if (extra.type === 'Set') throw sqlRefusal('SQL_SETTINGS', 'a SETTINGS clause is not allowed');
        if (extra.type === 'Identifier')
          throw sqlRefusal('SQL_FORMAT', 'a FORMAT clause is not allowed: results are returned as JSON');
        throw sqlRefusal('SQL_INTO_OUTFILE', 'INTO OUTFILE is not allowed');
      }
      break;
    }
    case 'TableExpression': {
      for (const c of node.children) {
        if (c.type === 'Function')
          throw sqlRefusal(
            'SQL_TABLE_FUNCTION',
            `table function ${c.name ?? ''} is not allowed: read the ${opts.database} tables and views`,
          );
      }
      break;
    }
    case 'TableIdentifier':
      checkTableName(node.name, opts, 'table');
      break;
    case 'Function': {
      const fname = node.name ?? '';
      const r = opts.catalog.resolve(fname);
      if (!r || !r.allowed)
        throw sqlRefusal(
          'SQL_FUNCTION_NOT_ALLOWED',
          `function ${fname} is not allowed${r ? '' : ' (unknown function)'}: only pure computation functions (see SECURITY.md)`,
        );
      // `x IN name`: the name is a table (or a CTE / alias).
      if (IN_FUNCTIONS.has(r.name)) {
        const rhs = node.children[0]?.children[1];
        if (rhs?.type === 'Identifier') checkTableName(rhs.name, opts, 'IN source');
      }
      break;
    }
    default:
      break;
  }
  for (const c of node.children) walk(c, node, opts);
}
