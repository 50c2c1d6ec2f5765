/**
 * POST /v1/sql as an allow-list, attacked through the real HTTP app on real chdb: one test per attack class
 * (file-reading functions in every spelling and position, table functions, system and other databases, comment
 * and string-literal tricks, second statements, INTO OUTFILE, FORMAT, SETTINGS, EXPLAIN/SHOW/DDL/DML,
 * dictionaries, network table functions with a listener proving nothing connects, forged tree lines, session
 * leaks, the time limit) and the analyst queries that must keep working.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '@pathwatch/schemas';
import { createRootLogger } from '@pathwatch/core';
import {
  StoreError,
  loadFunctionCatalog,
  openClickHouse,
  openPathStore,
  readonlyUserDdl,
  type ClickHouse,
  type PathStore,
} from '@pathwatch/path-store';
import { syntheticVerdict } from '@pathwatch/path-writer';
import { buildApp, type QueryApiDeps } from '@pathwatch/query-api';

const logger = createRootLogger({ level: 'silent', name: 'test' });
const dataDir = mkdtempSync(join(tmpdir(), 'pw-sql-guard-'));
const outDir = mkdtempSync(join(tmpdir(), 'pw-sql-out-'));
const TOKEN = 'sql-guard-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const HOUR = 3_600_000;
const start = Math.floor(Date.now() / HOUR) * HOUR - 6 * HOUR;

const config: QueryApiDeps['config'] = {
  authToken: TOKEN,
  sqlEnabled: true,
  sqlMaxRows: 1000,
  sqlTimeoutSeconds: 1,
  maxRawRangeHours: 48,
  maxRollupRangeDays: 30,
  maxResultRows: 5000,
};

interface SqlBody {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  truncated: boolean;
  error?: string;
  message?: string;
}

describe('POST /v1/sql allow-list', () => {
  let store: PathStore;
  let app: FastifyInstance;
  let listener: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    store = await openPathStore({ mode: 'embedded', dataDir }, { logger, now: () => Date.now() });
    const rows: Verdict[] = [];
    for (let i = 0; i < 200; i++)
      rows.push(syntheticVerdict(i, { startMs: start, spacingMs: 60_000, tenants: 2 }));
    await store.insertVerdicts(rows, 'sql-guard-pop');
    app = await buildApp({ store, config, logger });
    await app.ready();
    // Any attempt to reach the network lands here; the attacks below must never connect.
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
    port = (listener.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await new Promise((r) => listener?.close(r));
  });

  const post = async (sql: string, maxRows?: number) => {
    const r = await app.inject({
      method: 'POST',
      url: '/v1/sql',
      headers: auth,
      payload: { sql, ...(maxRows === undefined ? {} : { max_rows: maxRows }) },
    });
    return { status: r.statusCode, body: r.json<SqlBody>() };
  };

  /** Each statement gets a 400 with the code; never a 5xx, never rows. */
  async function refused(code: string, sqls: readonly string[], message?: RegExp): Promise<void> {
    for (const sql of sqls) {
      const r = await post(sql);
      expect(r.status, sql).toBe(400);
      expect(r.body.error, `${sql}: ${r.body.message}`).toBe(code);
      expect(r.body.rows, sql).toBeUndefined();
      if (message) expect(r.body.message, sql).toMatch(message);
    }
  }

  it('refuses file-reading functions in every spelling and position', async () => {
    await refused(
      'QUERY_API_SQL_FUNCTION_NOT_ALLOWED',
      [
        "SELECT file('/proc/self/environ')",
        "SELECT FILE('/proc/self/environ')",
        "SELECT `file`('/proc/self/environ')",
        `SELECT "file"('/proc/self/environ')`,
        "select\n\tfile\n(\n'/proc/self/environ'\n)",
        "SELECT fIlE('/proc/self/environ')",
        "SELECT * FROM (SELECT file('/proc/self/environ') AS x)",
        "WITH (SELECT file('/proc/self/environ')) AS s SELECT s",
        "WITH t AS (SELECT file('/proc/self/environ') AS x) SELECT x FROM t",
        "WITH f AS (SELECT 1 AS x) SELECT x, file('/etc/passwd') FROM f",
        "SELECT arrayMap(x -> file(x), ['/proc/self/environ'])",
        "SELECT arrayMap(x -> arrayMap(y -> lower(file(y)), [x]), ['/etc/passwd'])",
        "SELECT 1 WHERE 'a' IN (SELECT file('/etc/passwd'))",
        "SELECT count() FROM paths WHERE request_id IN (file('/etc/passwd'))",
        "SELECT count() FROM paths GROUP BY request_id HAVING max(file('/etc/passwd')) != ''",
        "SELECT request_id FROM paths ORDER BY file('/etc/passwd') LIMIT 1",
        "SELECT 1 UNION ALL SELECT length(file('/etc/passwd'))",
        "SELECT if(1, 'a', file('/etc/passwd'))",
        "SELECT CAST(file('/etc/passwd') AS String)",
        "SELECT file('/etc/passwd')::String",
        "SELECT count() OVER (PARTITION BY file('/etc/passwd')) FROM paths",
        "SELECT p.x FROM (SELECT 1 AS x) AS p JOIN (SELECT 1 AS x) AS q ON file('/etc/passwd') = ''",
        "SELECT arrayReduce('max', [file('/etc/passwd')])",
      ],
      /function .* is not allowed/,
    );
    // Functions that hide another call behind a string, or whose tree is not a plain call.
    await refused('QUERY_API_SQL_FUNCTION_NOT_ALLOWED', ["SELECT arrayReduce('groupFormat', [1])"]);
    const apply = await post("SELECT * APPLY file FROM (SELECT '/etc/passwd' AS p)");
    expect(apply.status).toBe(400);
    expect(apply.body.rows).toBeUndefined();
  });

  it('refuses table functions in FROM, JOIN, subquery and IN positions, and never touches the network', async () => {
    const net = `127.0.0.1:${port}`;
    await refused(
      'QUERY_API_SQL_TABLE_FUNCTION',
      [
        "SELECT * FROM file('/etc/passwd', 'LineAsString')",
        "SELECT * FROM FILE('/etc/passwd', 'LineAsString')",
        `SELECT * FROM url('http://${net}/', 'LineAsString')`,
        `SELECT * FROM url('http://${net}/')`,
        `SELECT * FROM s3('http://${net}/bucket/x.csv')`,
        `SELECT * FROM remote('${net}', system.one)`,
        `SELECT * FROM remoteSecure('${net}', system.one)`,
        `SELECT * FROM mysql('${net}', 'db', 't', 'u', 'p')`,
        `SELECT * FROM postgresql('${net}', 'db', 't', 'u', 'p')`,
        "SELECT * FROM cluster('default', system.one)",
        'SELECT * FROM numbers(10)',
        "SELECT * FROM merge('system', '.*')",
        "SELECT * FROM executable('x.sh', 'TSV', 'x String')",
        "SELECT * FROM input('x String')",
        'SELECT * FROM view(SELECT 1)',
        "SELECT * FROM dictionary('d')",
        `SELECT * FROM paths AS p JOIN url('http://${net}/', 'LineAsString') AS u ON 1`,
        `SELECT * FROM (SELECT * FROM url('http://${net}/', 'LineAsString'))`,
        `WITH u AS (SELECT * FROM url('http://${net}/', 'LineAsString')) SELECT * FROM u`,
        `SELECT count() FROM paths WHERE request_id IN (SELECT * FROM url('http://${net}/', 'LineAsString'))`,
        `SELECT (SELECT count() FROM url('http://${net}/', 'LineAsString'))`,
      ],
      /table function/,
    );
    // Statements that would probe a table function's structure.
    for (const sql of [
      `DESCRIBE url('http://${net}/', 'LineAsString')`,
      `DESCRIBE TABLE url('http://${net}/')`,
      `EXPLAIN QUERY TREE SELECT * FROM url('http://${net}/')`,
      `EXPLAIN SELECT * FROM url('http://${net}/')`,
      `SELECT * FROM url('http://${net}/') SETTINGS readonly = 0`,
    ]) {
      const r = await post(sql);
      expect(r.status, sql).toBe(400);
    }
    expect(connections).toBe(0);
  });

  it('refuses system tables, information_schema and other databases in every table position', async () => {
    await refused(
      'QUERY_API_SQL_TABLE_NOT_ALLOWED',
      [
        'SELECT * FROM system.users',
        'SELECT * FROM system.one',
        'SELECT * FROM `system`.`one`',
        'SELECT * FROM "system"."one"',
        'SELECT * FROM system . one',
        'SELECT * FROM SYSTEM.ONE',
        'SELECT * FROM information_schema.tables',
        'SELECT * FROM INFORMATION_SCHEMA.TABLES',
        'SELECT * FROM default.t',
        'SELECT * FROM other_db.paths',
        'SELECT * FROM paths AS p JOIN system.tables AS t ON 1',
        'SELECT * FROM paths, system.one',
        'SELECT * FROM (SELECT * FROM system.settings)',
        'WITH x AS (SELECT * FROM system.functions) SELECT * FROM x',
        'WITH one AS (SELECT 1) SELECT * FROM system.one',
        'SELECT * FROM paths AS system JOIN system.one ON 1',
        'SELECT (SELECT count() FROM system.tables)',
        'SELECT 1 WHERE 1 IN system.one',
        'SELECT 1 WHERE 1 NOT IN system.one',
        'SELECT 1 WHERE 1 GLOBAL IN system.one',
        'SELECT 1 WHERE 1 IN (SELECT dummy FROM system.one)',
        'SELECT * FROM `system.one`',
      ],
      /only the tables and views of the pathwatch database/,
    );
  });

  it('comments cannot hide anything: the statement is judged after the parser drops them', async () => {
    // A comment is only a comment: what follows it on the line is gone, the rest is judged.
    const ok = await post('SELECT 1 AS a -- ; SELECT file(\'/etc/passwd\')\n');
    expect(ok.status).toBe(200);
    expect(ok.body.rows).toEqual([[1]]);
    const block = await post("SELECT 2 AS a /* ; DROP TABLE path_records; SELECT file('/etc/passwd') */");
    expect(block.body.rows).toEqual([[2]]);
    await refused('QUERY_API_SQL_MULTI_STATEMENT', [
      "SELECT 1 -- x\n; SELECT file('/etc/passwd')",
      "SELECT 1 /* x */; SELECT file('/etc/passwd')",
      "SELECT 1 # x\n; SELECT file('/etc/passwd')",
      'SELECT 1; -- x\nDROP TABLE path_records',
    ]);
    await refused('QUERY_API_SQL_FUNCTION_NOT_ALLOWED', [
      "SELECT 1 /* -- */, file('/etc/passwd')",
      "SELECT 1, -- x\n file('/etc/passwd')",
    ]);
    const unterminated = await post("SELECT 1 /* ; SELECT file('/etc/passwd')");
    expect(unterminated.status).toBe(400);
    expect(unterminated.body.rows).toBeUndefined();
  });

  it('string literal tricks: quotes, escapes and comment markers inside strings change nothing', async () => {
    const lit = await post(
      "SELECT '--' AS a, '; DROP TABLE paths' AS b, 'INTO OUTFILE' AS c, '/* x' AS d, 'it''s' AS e, 'back\\\\' AS f",
    );
    expect(lit.status).toBe(200);
    expect(lit.body.rows).toEqual([['--', '; DROP TABLE paths', 'INTO OUTFILE', '/* x', "it's", 'back\\']]);
    const file = join(outDir, 'literal-trick.txt');
    await refused('QUERY_API_SQL_MULTI_STATEMENT', [
      `SELECT '--'; SELECT 'x' INTO OUTFILE '${file}'`,
      "SELECT 'a'';'; SELECT 2",
      'SELECT $$--$$; SELECT 2',
    ]);
    // A backslash escapes the quote: the "second statement" is inside the string, and the rest does not parse.
    await refused('QUERY_API_SQL_SYNTAX', ["SELECT '\\'; SELECT file('/etc/passwd') --'"]);
    await refused('QUERY_API_SQL_INTO_OUTFILE', [`SELECT '--' INTO OUTFILE '${file}'`]);
    await refused('QUERY_API_SQL_FUNCTION_NOT_ALLOWED', ["SELECT '\\'', file('/etc/passwd') -- '"]);
    expect(existsSync(file)).toBe(false);
  });

  it('one statement only; INTO OUTFILE, FORMAT and SETTINGS are refused and write nothing', async () => {
    await refused('QUERY_API_SQL_MULTI_STATEMENT', [
      'SELECT 1; SELECT 2',
      'SELECT 1;SELECT 2;',
      'SELECT 1; DROP TABLE path_records',
      'SELECT 1;\nINSERT INTO path_records (request_id) VALUES (1)',
    ]);
    const trailing = await post('SELECT 3 AS x;');
    expect([trailing.status, trailing.body.rows]).toEqual([200, [[3]]]);
    const out = join(outDir, 'outfile.txt');
    await refused(
      'QUERY_API_SQL_INTO_OUTFILE',
      [
        `SELECT 1 INTO OUTFILE '${out}'`,
        `SELECT 1 INTO OUTFILE '${out}' TRUNCATE`,
        `SELECT request_id FROM paths INTO OUTFILE '${out}' AND STDOUT`,
        `SELECT 1 INTO OUTFILE '${out}' FORMAT CSV`,
      ],
      /INTO OUTFILE/,
    );
    expect(existsSync(out)).toBe(false);
    await refused(
      'QUERY_API_SQL_FORMAT',
      ['SELECT 1 FORMAT CSV', 'SELECT 1 FORMAT JSONEachRow', 'SELECT 1 UNION ALL SELECT 2 FORMAT TSV'],
      /FORMAT/,
    );
    await refused(
      'QUERY_API_SQL_SETTINGS',
      [
        'SELECT 1 SETTINGS readonly = 0',
        'SELECT 1 SETTINGS max_execution_time = 0',
        'SELECT * FROM (SELECT 1 SETTINGS readonly = 0)',
        'SELECT 1 UNION ALL SELECT 2 SETTINGS max_result_rows = 0',
        'WITH x AS (SELECT 1 SETTINGS allow_ddl = 1) SELECT * FROM x',
      ],
      /SETTINGS|settings/,
    );
  });

  it('refuses every other statement kind (EXPLAIN, SHOW, DESCRIBE, DDL, DML, SYSTEM, SET, USE, KILL, ...)', async () => {
    for (const sql of [
      'EXPLAIN SELECT 1',
      'EXPLAIN AST SELECT 1',
      'EXPLAIN SYNTAX SELECT 1',
      'SHOW TABLES',
      'SHOW CREATE TABLE paths',
      'SHOW DATABASES',
      'DESCRIBE TABLE paths',
      'DESC paths',
      'EXISTS TABLE paths',
      "INSERT INTO path_records (request_id) VALUES ('x')",
      'INSERT INTO path_records SELECT * FROM path_records',
      'ALTER TABLE path_records DELETE WHERE 1',
      'DELETE FROM path_records WHERE 1',
      "UPDATE path_records SET verdict = 'x' WHERE 1",
      'DROP TABLE path_records',
      'TRUNCATE TABLE path_records',
      'CREATE TABLE x (a Int32) ENGINE = Memory',
      "CREATE FUNCTION f AS x -> file('/etc/passwd')",
      'CREATE VIEW v AS SELECT 1',
      'RENAME TABLE path_records TO x',
      'OPTIMIZE TABLE path_records FINAL',
      'SYSTEM SHUTDOWN',
      'SYSTEM DROP DNS CACHE',
      'SET readonly = 0',
      'USE system',
      'KILL QUERY WHERE 1',
      'GRANT ALL ON *.* TO default',
      'DETACH TABLE path_records',
      'ATTACH TABLE path_records',
      'CHECK TABLE path_records',
      'BACKUP TABLE path_records TO Disk(\'default\', \'x\')',
      'WATCH paths',
      'BEGIN TRANSACTION',
    ]) {
      const r = await post(sql);
      expect(r.status, sql).toBe(400);
      expect(['QUERY_API_SQL_NOT_SELECT', 'QUERY_API_SQL_SYNTAX'], `${sql}: ${r.body.error}`).toContain(
        r.body.error,
      );
    }
    // Nothing above changed the store.
    const n = await post('SELECT count() AS n FROM path_records');
    expect(n.body.rows).toEqual([['200']]);
  });

  it('refuses dictionaries and functions that reach the host, settings, processes or time', async () => {
    await refused(
      'QUERY_API_SQL_FUNCTION_NOT_ALLOWED',
      [
        "SELECT dictGet('d', 'x', toUInt64(1))",
        "SELECT dictGetString('d', 'x', toUInt64(1))",
        "SELECT dictHas('d', toUInt64(1))",
        "SELECT joinGet('pathwatch.path_records', 'verdict', 'x')",
        "SELECT getSetting('readonly')",
        "SELECT getServerSetting('user_files_path')",
        'SELECT hostName()',
        'SELECT FQDN()',
        'SELECT currentUser()',
        'SELECT version()',
        'SELECT uptime()',
        'SELECT sleep(3)',
        'SELECT sleepEachRow(1) FROM paths',
        "SELECT getMacro('x')",
        "SELECT hasColumnInTable('system', 'users', 'name')",
        'SELECT filesystemAvailable()',
        "SELECT generateSerialID('x')",
        "SELECT catboostEvaluate('/tmp/m.bin', 1)",
        "SELECT aiGenerate('x')",
        "SELECT formatRow('CSV', 1)",
        "SELECT addressToSymbol(toUInt64(1))",
        "SELECT regionToName(toUInt32(1))",
        "SELECT encrypt('aes-256-gcm', 'x', 'k')",
        "SELECT currentQueryID()",
        'SELECT no_such_function(1)',
      ],
      /function .* is not allowed/,
    );
    await refused('QUERY_API_SQL_QUERY_PARAMETER', ['SELECT {x:String}']);
  });

  it('names that would forge lines of the syntax tree are refused, never misread', async () => {
    for (const sql of [
      "SELECT 1 AS `a\nFunction file`",
      "SELECT 'x' AS `a\n    Function file (children 1)`, 1",
      'SELECT * FROM `sys\ntem`.`one`',
      "SELECT `x)` FROM (SELECT 1 AS `x)`)",
      "SELECT `a\n  TableIdentifier pathwatch.paths` FROM system.one",
    ]) {
      const r = await post(sql);
      expect(r.status, sql).toBe(400);
      expect(r.body.rows, sql).toBeUndefined();
    }
    // A literal's alias is text on a leaf line: it cannot add nodes, so it is read as what it is.
    const leaf = await post('SELECT 1 AS `q (children 3)`');
    expect([leaf.status, leaf.body.rows]).toEqual([200, [[1]]]);
  });

  it('accepts the analyst queries: CTEs, UNION ALL, subqueries, joins, aggregates, quantiles, window functions', async () => {
    for (const sql of [
      'SELECT verdict, count() AS n FROM paths GROUP BY verdict ORDER BY verdict',
      'SELECT count() FROM pathwatch.paths',
      'SELECT count() FROM `pathwatch`.`paths`',
      'SELECT count() FROM `paths`',
      'WITH v AS (SELECT verdict, e2e_ms FROM paths) SELECT verdict, avg(e2e_ms) FROM v GROUP BY verdict',
      'WITH 10 AS k, v AS (SELECT 1 AS x) SELECT x * k FROM v',
      'SELECT 1 AS x UNION ALL SELECT 2 UNION DISTINCT SELECT 3',
      'SELECT request_id FROM paths INTERSECT SELECT request_id FROM path_records',
      'SELECT request_id FROM paths EXCEPT SELECT request_id FROM path_records WHERE 0',
      'SELECT count() FROM (SELECT tenant_id, count() AS n FROM paths GROUP BY tenant_id) WHERE n > 0',
      'SELECT count() FROM paths WHERE request_id IN (SELECT request_id FROM path_records)',
      'SELECT count() FROM paths AS p INNER JOIN path_records AS r ON p.request_id = r.request_id',
      'SELECT count() FROM paths AS p LEFT JOIN (SELECT request_id, max(version) AS v FROM path_records GROUP BY request_id) AS r USING (request_id)',
      'SELECT quantiles(0.5, 0.9, 0.99)(e2e_ms), quantileTDigest(0.9)(e2e_ms), quantilesTDigestIf(0.5)(e2e_ms, e2e_ms > 0) FROM paths',
      'SELECT uniqExact(request_id), countIf(provisional), sumIf(callbacks, 1), avgOrNull(sla_ms), argMax(verdict, version) FROM paths',
      'SELECT request_id, row_number() OVER (PARTITION BY tenant_id ORDER BY path_at) AS rn, lagInFrame(verdict) OVER w FROM paths WINDOW w AS (ORDER BY path_at) ORDER BY rn LIMIT 5',
      'SELECT toStartOfHour(path_at) AS h, count() FROM paths GROUP BY h ORDER BY h WITH FILL',
      "SELECT h.2 AS at, h.1 AS kind FROM paths ARRAY JOIN arrayZip(hops.kind, hops.at, hops.detail) AS h WHERE request_id != '' ORDER BY at LIMIT 3",
      "SELECT arrayMap(x -> x * 2, [1, 2]), arrayFilter(x -> x > 1, [1, 2]), CASE WHEN 1 THEN 'a' ELSE 'b' END, 1::Int32, [1][1], (1, 'a').2",
      "SELECT JSONExtractString('{\"a\":\"b\"}', 'a'), lower(upper('x')), concat('a', 'b'), replaceRegexpAll('a-b', '-', ''), formatDateTime(now(), '%F')",
      "SELECT COLUMNS('_ms$') FROM paths LIMIT 1",
      'SELECT * EXCEPT (attributes) FROM paths LIMIT 1',
      "SELECT attributes['x'], mapKeys(attributes), toTypeName(verdict), if(isNull(e2e_ms), 0, e2e_ms) FROM paths LIMIT 1",
      'SELECT count() FROM paths WHERE path_at > now() - INTERVAL 1 DAY AND tenant_id LIKE \'%\'',
      "SELECT verdict, bar(count(), 0, 1000, 10) FROM paths GROUP BY verdict",
      "SELECT '--' AS dashes",
    ]) {
      const r = await post(sql);
      expect(r.status, `${sql}: ${r.body.message}`).toBe(200);
      expect(Array.isArray(r.body.rows), sql).toBe(true);
    }
    const cut = await post('SELECT arrayJoin(range(50)) AS n', 7);
    expect([cut.body.rows.length, cut.body.truncated]).toEqual([7, true]);
  });

  it('runs each request isolated: failures, database switches and leftovers never reach the next caller', async () => {
    // A query that fails part-way through its output, then a good one from "another caller".
    const bad = await post('SELECT throwIf(n = 5) FROM (SELECT arrayJoin(range(10)) AS n)');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('QUERY_API_SQL_INVALID');
    const good = await post('SELECT 42 AS answer');
    expect([good.status, good.body.rows]).toEqual([200, [[42]]]);
    // A database switch attempt, then an unqualified read of the store's table.
    expect((await post('USE system')).status).toBe(400);
    expect((await post('SELECT 1; USE system')).status).toBe(400);
    const after = await post('SELECT count() AS n FROM path_records');
    expect(after.body.rows).toEqual([['200']]);
    // Concurrent callers, half of them failing: every good one gets exactly its own row.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        i % 2 === 0 ? post(`SELECT ${i} AS i`) : post(`SELECT throwIf(1 = 1, 'boom ${i}')`),
      ),
    );
    results.forEach((r, i) => {
      if (i % 2 === 0) expect([r.status, r.body.rows]).toEqual([200, [[i]]]);
      else expect([r.status, r.body.error]).toEqual([400, 'QUERY_API_SQL_INVALID']);
    });
  });

  it('a query over the time limit is a 400 naming the limit and its variable, not a 503', async () => {
    const r = await post(
      'SELECT count() FROM (SELECT arrayJoin(range(100000)) AS a) AS x CROSS JOIN (SELECT arrayJoin(range(100000)) AS b) AS y',
    );
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('QUERY_API_SQL_TIME_LIMIT');
    expect(r.body.message).toMatch(/time limit of 1 s \(QUERY_API_SQL_TIMEOUT_S\)/);
    // The next caller is unaffected.
    expect((await post('SELECT 1 AS x')).body.rows).toEqual([[1]]);
  });

  it('errors of the SQL itself are 400 with the engine message, without host paths', async () => {
    const col = await post('SELECT no_such_column FROM paths');
    expect([col.status, col.body.error]).toEqual([400, 'QUERY_API_SQL_INVALID']);
    expect(col.body.message).toMatch(/no_such_column/);
    const syn = await post('SELEC 1');
    expect([syn.status, syn.body.error]).toEqual([400, 'QUERY_API_SQL_SYNTAX']);
    const table = await post('SELECT * FROM no_such_table');
    expect(table.status).toBe(400);
    for (const r of [col, syn, table]) {
      expect(r.body.message).not.toContain(dataDir);
      expect(r.body.message).not.toMatch(/version \d+\.\d+/);
    }
    expect((await post('   ')).status).toBe(400);
  });

  it('the store API rejects the same way without HTTP (the path `pathwatch sql` takes when no owner runs)', async () => {
    const err = await store.sql("SELECT file('/proc/self/environ')").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('CORE_STORE_SQL_REJECTED');
    expect((err as StoreError).retriable).toBe(false);
    expect((err as StoreError).context['reason']).toBe('SQL_FUNCTION_NOT_ALLOWED');
  });
});

describe('the function allow-list on the real engine, and the server-mode read-only user', () => {
  let ch: ClickHouse;
  beforeAll(async () => {
    // Same data directory as above: a second client shares the process's one engine.
    ch = await openClickHouse({ mode: 'embedded', dataDir }, { logger });
  });
  afterAll(async () => {
    await ch?.close();
  });

  it('derives from system.functions: pure functions allowed, host, file, network, dictionary ones refused', async () => {
    const catalog = await loadFunctionCatalog((sql) => ch.query(sql));
    for (const name of [
      'file', 'url', 'getSetting', 'getServerSetting', 'hostName', 'FQDN', 'currentUser', 'version', 'sleep',
      'sleepEachRow', 'dictGet', 'dictGetString', 'dictHas', 'joinGet', 'joinGetOrNull', 'getMacro',
      'hasColumnInTable', 'filesystemAvailable', 'generateSerialID', 'catboostEvaluate', 'aiGenerate',
      'addressToSymbol', 'regionToName', 'formatRow', 'groupFormat', 'arrayReduce', 'chdb', 'encrypt',
      'initializeAggregation', 'currentDatabase', 'globalVariable', 'showCertificate', 'uptime', 'tcpPort',
    ])
      expect(catalog.resolve(name)?.allowed ?? false, name).toBe(false);
    for (const name of [
      'count', 'sum', 'avg', 'quantiles', 'quantileTDigest', 'uniqExact', 'argMax', 'row_number', 'rank',
      'lagInFrame', 'toStartOfHour', 'now', 'dateDiff', 'lower', 'concat', 'JSONExtractString', 'arrayMap',
      'arrayJoin', 'arrayZip', 'tupleElement', 'if', 'multiIf', 'in', 'notIn', 'greatest', 'round', 'cityHash64',
      'CAST', 'toUInt64', 'coalesce', 'mapKeys', 'lambda', 'caseWithExpression', 'throwIf', 'toTypeName',
      'quantilesTDigestIf', 'countIf', 'sumIfOrNull', 'substring', 'SUBSTRING', 'lcase',
    ])
      expect(catalog.resolve(name)?.allowed, name).toBe(true);
  });

  it('generates a read-only user whose DDL the real parser accepts; infra/clickhouse/readonly-user.sql is that DDL', async () => {
    const ddl = readonlyUserDdl();
    const file = readFileSync(
      fileURLToPath(new URL('../../infra/clickhouse/readonly-user.sql', import.meta.url)),
      'utf8',
    );
    expect(file.split('\n').filter((l) => l !== '' && !l.startsWith('--')).join('\n')).toBe(ddl);
    const statements = ddl.split('\n');
    expect(statements).toHaveLength(4);
    for (const st of statements) {
      const [r] = await ch.query<{ f: string }>('SELECT formatQuery({q:String}) AS f', { q: st });
      expect(r?.f, st).toBeTruthy();
    }
    expect(ddl).toMatch(/GRANT SELECT ON `pathwatch`\.\* TO `pathwatch_sql`/);
    expect(ddl).toMatch(/readonly = 2 CONST/);
    expect(() => readonlyUserDdl({ database: 'x; DROP' })).toThrow(TypeError);
  });
});
