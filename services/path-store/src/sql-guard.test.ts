/**
 * The SQL guard's own logic on dumps in the exact shape chdb 26.7 prints (the real parser's output is exercised
 * end to end in test/integration/sql-guard.test.ts): strict reading of the dump, name resolution like the
 * engine's, and the walk's decisions.
 */
import { describe, expect, it } from 'vitest';
import { StoreError } from './errors.js';
import { FunctionCatalog, classifyAst, parseAstDump, type FunctionRow } from './sql-guard.js';
import { sanitiseEngineMessage } from './sql-run.js';

const row = (name: string, categories: string, extra: Partial<FunctionRow> = {}): FunctionRow => ({
  name,
  is_aggregate: 0,
  case_insensitive: 0,
  alias_to: '',
  origin: 'System',
  categories,
  ...extra,
});

const catalog = new FunctionCatalog(
  [
    row('file', 'Other'),
    row('lower', 'String', { case_insensitive: 1 }),
    row('lcase', '', { case_insensitive: 1, alias_to: 'lower' }),
    row('plus', 'Arithmetic'),
    row('tuple', 'Tuple'),
    row('in', 'Comparison'),
    row('sum', 'Aggregate Functions', { is_aggregate: 1, case_insensitive: 1 }),
    row('quantiles', 'Aggregate Functions', { is_aggregate: 1 }),
    row('groupFormat', 'Aggregate Functions', { is_aggregate: 1 }),
    row('myUdf', 'String', { origin: 'SQLUserDefined' }),
    row('dictGet', 'Dictionary'),
    row('throwIf', 'Other'),
  ],
  ['If', 'Array', 'OrNull', 'State', 'Merge'],
);

function refusal(fn: () => unknown): { reason: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    const e = err as StoreError;
    expect(e.retriable).toBe(false);
    return { reason: e.context['reason'], message: e.message };
  }
  throw new Error('expected a refusal');
}

const SELECT_FILE = [
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 1)',
  '   ExpressionList (children 1)',
  '    Function FILE (alias a b) (children 1)',
  '     ExpressionList (children 1)',
  "      Literal '/etc/x'",
];

const tableQuery = (table: string): string[] => [
  'SelectWithUnionQuery (children 1)',
  ' ExpressionList (children 1)',
  '  SelectQuery (children 2)',
  '   ExpressionList (children 1)',
  '    Asterisk',
  '   TablesInSelectQuery (children 1)',
  '    TablesInSelectQueryElement (children 1)',
  '     TableExpression (children 1)',
  `      ${table}`,
];

const opts = { database: 'pathwatch', catalog };

describe('parseAstDump', () => {
  it('reads the dump into a tree', () => {
    const t = parseAstDump(SELECT_FILE);
    const fn = t.children[0]!.children[0]!.children[0]!.children[0]!;
    expect([fn.type, fn.name, fn.children[0]!.children[0]!.name]).toEqual(['Function', 'FILE', "'/etc/x'"]);
  });

  it('refuses dumps whose printed child counts do not match their lines (forged lines)', () => {
    // An identifier with a newline adds a line: some count no longer matches.
    const forged = [
      ...SELECT_FILE.slice(0, 4),
      '    Identifier x',
      '    Identifier y',
      ...SELECT_FILE.slice(4),
    ];
    expect(refusal(() => parseAstDump(forged)).reason).toBe('SQL_NAME_NOT_ALLOWED');
    expect(refusal(() => parseAstDump([...SELECT_FILE, 'Identifier second_root'])).reason).toBe(
      'SQL_NAME_NOT_ALLOWED',
    );
    expect(
      refusal(() => parseAstDump(['SelectWithUnionQuery (children 1)', '   ExpressionList'])).reason,
    ).toBe('SQL_NAME_NOT_ALLOWED');
    // A line the grammar does not know (a name with parentheses, text after a split name).
    expect(refusal(() => parseAstDump(['Identifier a) (b'])).reason).toBe('SQL_NAME_NOT_ALLOWED');
    expect(refusal(() => parseAstDump(['SelectWithUnionQuery (children 1)', 'tem.one'])).reason).toBe(
      'SQL_NAME_NOT_ALLOWED',
    );
    expect(refusal(() => parseAstDump([])).reason).toBe('SQL_NAME_NOT_ALLOWED');
  });
});

describe('FunctionCatalog', () => {
  it('resolves names like the engine: exact, case-insensitive, aliases, combinators', () => {
    expect(catalog.resolve('lower')).toEqual({ name: 'lower', allowed: true });
    expect(catalog.resolve('LOWER')).toEqual({ name: 'lower', allowed: true });
    expect(catalog.resolve('LCASE')).toEqual({ name: 'lower', allowed: true });
    expect(catalog.resolve('sumIf')).toEqual({ name: 'sum', allowed: true });
    expect(catalog.resolve('SUMIf')?.allowed).toBe(true);
    expect(catalog.resolve('SUMIF')).toBeUndefined(); // combinator suffixes are case-sensitive
    expect(catalog.resolve('quantilesIfOrNull')).toEqual({ name: 'quantiles', allowed: true });
    expect(catalog.resolve('lambda')?.allowed).toBe(true);
  });

  it('refuses other categories, denied names, user-defined functions, and combinators on scalars', () => {
    expect(catalog.resolve('file')).toEqual({ name: 'file', allowed: false });
    expect(catalog.resolve('FILE')).toBeUndefined(); // file is case-sensitive: an unknown function
    expect(catalog.resolve('dictGet')?.allowed).toBe(false);
    expect(catalog.resolve('groupFormat')?.allowed).toBe(false);
    expect(catalog.resolve('groupFormatIf')?.allowed).toBe(false);
    expect(catalog.resolve('myUdf')?.allowed).toBe(false);
    expect(catalog.resolve('lowerIf')).toBeUndefined();
    expect(catalog.resolve('fileIf')).toBeUndefined();
    expect(catalog.resolve('throwIf')?.allowed).toBe(true); // its own name, not a combinator
  });
});

describe('classifyAst', () => {
  it('refuses a disallowed or unknown function wherever it sits', () => {
    const r = refusal(() => classifyAst(parseAstDump(SELECT_FILE), opts));
    expect(r.reason).toBe('SQL_FUNCTION_NOT_ALLOWED');
    expect(r.message).toMatch(/function FILE is not allowed \(unknown function\)/);
  });

  it('decides table sources: CTE or store table unqualified, the store database qualified, nothing else', () => {
    for (const ok of [
      'TableIdentifier paths',
      'TableIdentifier pathwatch.paths',
      'TableIdentifier cte (alias c)',
    ])
      expect(() => classifyAst(parseAstDump(tableQuery(ok)), opts), ok).not.toThrow();
    for (const bad of [
      'TableIdentifier system.one',
      'TableIdentifier pathwatch.x.y',
      'TableIdentifier other.paths',
      'TableIdentifier INFORMATION_SCHEMA.tables',
    ])
      expect(refusal(() => classifyAst(parseAstDump(tableQuery(bad)), opts)).reason, bad).toBe(
        'SQL_TABLE_NOT_ALLOWED',
      );
    const tf = [
      ...tableQuery('Function url (children 1)'),
      '       ExpressionList (children 1)',
      "        Literal 'x'",
    ];
    expect(refusal(() => classifyAst(parseAstDump(tf), opts)).reason).toBe('SQL_TABLE_FUNCTION');
  });

  it('treats the name on the right of IN as a table', () => {
    const inSystem = [
      ...SELECT_FILE.slice(0, 4),
      '    Function in (children 1)',
      '     ExpressionList (children 2)',
      '      Literal UInt64_1',
      '      Identifier system.one',
    ];
    expect(refusal(() => classifyAst(parseAstDump(inSystem), opts)).reason).toBe('SQL_TABLE_NOT_ALLOWED');
  });

  it('names the clause or statement it refuses', () => {
    const tail = (line: string): string[] => [
      'SelectWithUnionQuery (children 2)',
      ' ExpressionList (children 1)',
      '  SelectQuery (children 1)',
      '   ExpressionList (children 1)',
      '    Literal UInt64_1',
      line,
    ];
    expect(refusal(() => classifyAst(parseAstDump(tail(" Literal '/tmp/x'")), opts)).reason).toBe(
      'SQL_INTO_OUTFILE',
    );
    expect(refusal(() => classifyAst(parseAstDump(tail(' Identifier JSON')), opts)).reason).toBe(
      'SQL_FORMAT',
    );
    expect(refusal(() => classifyAst(parseAstDump(tail(' Set')), opts)).reason).toBe('SQL_SETTINGS');
    expect(refusal(() => classifyAst(parseAstDump(['InsertQuery']), opts)).reason).toBe('SQL_NOT_SELECT');
    const apply = [...tableQuery('TableIdentifier paths')];
    apply[4] = '    Asterisk (children 1)';
    apply.splice(5, 0, '     ColumnsTransformerList (children 1)', '      ColumnsApplyTransformer');
    expect(refusal(() => classifyAst(parseAstDump(apply), opts)).reason).toBe('SQL_SYNTAX_NOT_ALLOWED');
  });
});

describe('sanitiseEngineMessage', () => {
  it('drops host paths, the version and the repeated exception prefix', () => {
    expect(
      sanitiseEngineMessage(
        'Code: 60. DB::Exception: Code: 60. DB::Exception: Table x does not exist in /var/lib/pw/data/store/abc. (UNKNOWN_TABLE) (version 26.7.2.1)',
      ),
    ).toBe('Table x does not exist in <path>. (UNKNOWN_TABLE)');
  });
});
