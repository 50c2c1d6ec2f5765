import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  createRootLogger,
  parse,
  readConfig,
  readConfigs,
  redactText,
  redactUrl,
  redactValue,
  type VarSpec,
} from '@pathwatch/core';

const SECRET = 'hunter2-Zq9xWv';

describe('redactUrl', () => {
  it('masks the userinfo password and credential query parameters, keeps the rest', () => {
    const out = redactUrl(
      `https://alice:${SECRET}@ch.example:8443/db?database=x&password=${SECRET}&access_token=${SECRET}`,
    );
    expect(out).not.toContain(SECRET);
    expect(out).toContain('alice:***@ch.example:8443');
    expect(out).toContain('database=x');
    expect(out).toContain('password=***');
    expect(out).toContain('access_token=***');
  });

  it('masks a password that contains @ and percent-escapes, and unparsable input', () => {
    expect(redactUrl(`http://u:p%40ss@${SECRET}@h:1/`)).not.toContain(SECRET);
    expect(redactUrl(`not a url but password=${SECRET}`)).not.toContain(SECRET);
  });
});

describe('redactText', () => {
  const cases: [string, string][] = [
    [
      'URL in a sentence',
      `cannot reach ClickHouse at http://default:${SECRET}@127.0.0.1:8123 (ECONNREFUSED)`,
    ],
    ['URL without a port', `sasl+ssl://bob:${SECRET}@broker/`],
    ['env assignment', `CLICKHOUSE_PASSWORD=${SECRET} npm start`],
    ['key=value list', `mechanism=plain, sasl.password=${SECRET}`],
    ['JSON pair', `{"clickhousePassword":"${SECRET}","ok":1}`],
    ['JSON pair, other casing', `{"QUERY_API_TOKEN": "${SECRET}"}`],
    ['JSON inside a JSON string', JSON.stringify({ msg: JSON.stringify({ password: SECRET }) })],
    ['Authorization header', `Authorization: Bearer ${SECRET}`],
    ['basic auth header', `authorization=Basic ${SECRET}`],
    ['bare bearer', `sent bearer ${SECRET} upstream`],
    ['query string', `GET /v1/paths?api_key=${SECRET}&limit=5`],
    ['client secret', `client_secret=${SECRET}`],
  ];
  it.each(cases)('%s', (_name, text) => {
    const out = redactText(text);
    expect(out).not.toContain(SECRET);
    expect(out).toContain('***');
  });

  it('leaves text without credentials alone', () => {
    const text = 'broker 127.0.0.1:9092 ready; sessionTimeoutMs=6000 key=request-1 "requestId":"r-1"';
    expect(redactText(text)).toBe(text);
  });
});

describe('redactValue', () => {
  it('masks credential-named properties at any depth and strings with credentials, without mutating', () => {
    const input = {
      clickhouseUrl: `http://u:${SECRET}@h:8123`,
      nested: { sasl: { mechanism: 'plain', password: SECRET }, list: [{ authToken: SECRET }] },
      port: 8080,
    };
    const out = redactValue(input);
    expect(JSON.stringify(out)).not.toContain(SECRET);
    expect(out.port).toBe(8080);
    expect(out.nested.sasl.mechanism).toBe('plain');
    expect(input.nested.sasl.password).toBe(SECRET);
  });

  it('keeps an Error readable (class, code, cause) with secrets masked', () => {
    class StoreFailure extends Error {
      code = 'X';
    }
    const err = new StoreFailure(`cannot reach http://u:${SECRET}@h`, {
      cause: new Error(`token=${SECRET}`),
    });
    const out = redactValue(err);
    expect(out).toBeInstanceOf(StoreFailure);
    expect(out.code).toBe('X');
    expect(out.message).toContain('u:***@h');
    expect(`${out.stack} ${(out.cause as Error).message}`).not.toContain(SECRET);
  });
});

describe('root logger', () => {
  it('never writes a secret, whether in the message, a field, an error or a child binding', async () => {
    let written = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written += chunk.toString();
        cb();
      },
    });
    const log = createRootLogger({ level: 'info', name: 't', destination: sink });
    const child = log.child({ module: 'm', url: `http://u:${SECRET}@h:1` });
    child.info(
      { clickhousePassword: SECRET, config: { token: SECRET } },
      `connecting to http://u:${SECRET}@h:1`,
    );
    child.error({ err: new Error(`failed: password=${SECRET}`) }, 'boom');
    child.info({ headers: { authorization: `Bearer ${SECRET}` } }, 'req');
    await new Promise((r) => setImmediate(r));
    expect(written).toContain('connecting to');
    expect(written.split('\n').filter(Boolean)).toHaveLength(3);
    expect(written).not.toContain(SECRET);
  });
});

describe('config errors', () => {
  const specs = {
    url: {
      env: 'CLICKHOUSE_URL',
      doc: 'url',
      default: undefined,
      optional: true,
      parse: parse.url,
    } as VarSpec<string | undefined>,
    token: {
      env: 'QUERY_API_TOKEN',
      doc: 'token',
      default: undefined,
      optional: true,
      parse: (raw: string) => {
        if (raw.length < 64) throw new Error('must be at least 64 characters');
        return raw;
      },
    } as VarSpec<string | undefined>,
    port: {
      env: 'QUERY_API_PORT',
      doc: 'port',
      default: 8080,
      parse: parse.int(0, 65_535),
    } as VarSpec<number>,
  };

  it('never echo a secret: credential-named values are hidden, URLs are masked', () => {
    let caught: unknown;
    try {
      readConfig(
        { CLICKHOUSE_URL: `ftp://u:${SECRET}@h`, QUERY_API_TOKEN: SECRET, QUERY_API_PORT: 'x' },
        specs,
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const e = caught as ConfigError;
    expect(e.problems.map((p) => p.variable)).toEqual([
      'CLICKHOUSE_URL',
      'QUERY_API_TOKEN',
      'QUERY_API_PORT',
    ]);
    expect(`${e.message} ${JSON.stringify(e.problems)}`).not.toContain(SECRET);
    expect(e.message).toContain('ftp://u:***@h');
    expect(e.message).toContain('"x"');
  });

  it('readConfigs reports every problem of every section once', () => {
    const a = { p: specs.port, u: specs.url };
    const b = {
      p: specs.port,
      n: { env: 'OTHER_N', doc: 'n', default: 1, parse: parse.int(1, 2) } as VarSpec<number>,
    };
    const env = { QUERY_API_PORT: 'nope', CLICKHOUSE_URL: 'gopher://x', OTHER_N: '9' };
    let caught: unknown;
    try {
      readConfigs({ a: () => readConfig(env, a), b: () => readConfig(env, b) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => p.variable)).toEqual([
      'QUERY_API_PORT',
      'CLICKHOUSE_URL',
      'OTHER_N',
    ]);
    const ok = readConfigs({ a: () => readConfig({}, a), b: () => readConfig({}, b) });
    expect(ok.a.p).toBe(8080);
    expect(ok.b.n).toBe(1);
  });
});

describe('PEM private keys', () => {
  it('masks a private key block wherever it appears, keeps certificates', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    const out = redactText(`ssl: ${key}\n${cert}`);
    expect(out).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASC');
    expect(out).toContain(cert);
    expect(redactValue({ ssl: { key } }).ssl.key).not.toContain('MIIEvQ');
    expect(redactText('-----BEGIN ENCRYPTED PRIVATE KEY-----\nABCDEF')).not.toContain('ABCDEF');
  });
});
