import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { readConfig } from '../src/config.js';
import {
  connectConfigSpec,
  connectProblems,
  kafkaSecurityFromConfig,
  schemaRegistryFromConfig,
  topicCreationFromConfig,
  topicNamesFromConfig,
} from '../src/connect-config.js';

function load(env: Record<string, string>) {
  const c = readConfig(env, connectConfigSpec);
  const problems = connectProblems(c, { RECONCILER_CHANGELOG_TOPIC: 'pathwatch.reconciler-state-v2' });
  if (problems.length > 0) throw new ConfigError(problems);
  return c;
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('connect config', () => {
  it('defaults: plaintext, no SASL, local catalog, default topic names', () => {
    const c = load({});
    expect(kafkaSecurityFromConfig(c)).toEqual({});
    expect(schemaRegistryFromConfig(c)).toBeUndefined();
    expect(topicNamesFromConfig(c).verdict).toBe('pathwatch.verdicts');
    expect(topicCreationFromConfig(c)).toEqual({});
  });

  it('TLS with CA and client certificate, SCRAM, registry basic auth, topic creation', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pw-cc-'));
    for (const f of ['ca.pem', 'c.pem', 'k.pem']) writeFileSync(path.join(dir, f), `${f}-content`);
    const c = load({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: path.join(dir, 'ca.pem'),
      KAFKA_SSL_CERT_FILE: path.join(dir, 'c.pem'),
      KAFKA_SSL_KEY_FILE: path.join(dir, 'k.pem'),
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'svc',
      KAFKA_SASL_PASSWORD: 'pw',
      SCHEMA_REGISTRY_URL: 'https://registry.example:8081',
      SCHEMA_REGISTRY_USERNAME: 'key',
      SCHEMA_REGISTRY_PASSWORD: 'secret',
      PATHWATCH_TOPIC_VERDICTS: 'team.verdicts',
      PATHWATCH_TOPIC_REPLICATION_FACTOR: '3',
      PATHWATCH_TOPIC_RETENTION_MS: '-1',
    });
    expect(kafkaSecurityFromConfig(c)).toEqual({
      ssl: { ca: 'ca.pem-content', cert: 'c.pem-content', key: 'k.pem-content', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' },
    });
    expect(schemaRegistryFromConfig(c)).toEqual({
      url: 'https://registry.example:8081',
      timeoutMs: 5000,
      headers: { authorization: `Basic ${Buffer.from('key:secret').toString('base64')}` },
    });
    expect(topicNamesFromConfig(c).verdict).toBe('team.verdicts');
    expect(topicCreationFromConfig(c)).toEqual({ replicationFactor: 3, configs: { 'retention.ms': '-1' } });
  });

  it('reports every problem at once and never echoes a secret', () => {
    const err = errorOf(() =>
      load({
        KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem',
        KAFKA_SSL_CERT_FILE: '/nonexistent/c.pem',
        KAFKA_SASL_MECHANISM: 'gssapi',
        KAFKA_SASL_PASSWORD: 'hunter2-very-secret',
        SCHEMA_REGISTRY_USERNAME: 'u',
        PATHWATCH_TOPIC_ACTIONS: 'pathwatch.verdicts',
        PATHWATCH_TOPIC_CALLBACKS: 'bad topic!',
      }),
    );
    const vars = err.problems.map((p) => p.variable);
    expect(vars).toEqual(expect.arrayContaining(['KAFKA_SASL_MECHANISM', 'PATHWATCH_TOPIC_CALLBACKS']));
    expect(err.message).not.toContain('hunter2');
  });

  it('cross-checks: files readable, TLS files need KAFKA_SSL, halves of a login or certificate, duplicate topics', () => {
    const err = errorOf(() =>
      load({
        KAFKA_SSL_CA_FILE: '/nonexistent/ca.pem',
        KAFKA_SSL_CERT_FILE: '/nonexistent/c.pem',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_PASSWORD: 'hunter2-very-secret',
        SCHEMA_REGISTRY_USERNAME: 'u',
        PATHWATCH_TOPIC_ACTIONS: 'pathwatch.verdicts',
        PATHWATCH_TOPIC_DEAD_LETTER: 'pathwatch.reconciler-state-v2',
      }),
    );
    const byVar = new Map(err.problems.map((p) => [p.variable, p.problem]));
    expect(
      err.problems.find((p) => p.variable === 'KAFKA_SSL_CA_FILE' && /not readable/.test(p.problem)),
    ).toBeDefined();
    expect(
      err.problems.find((p) => p.variable === 'KAFKA_SSL_CA_FILE' && /KAFKA_SSL=true/.test(p.problem)),
    ).toBeDefined();
    expect(byVar.get('KAFKA_SSL_KEY_FILE')).toMatch(/both/);
    expect(byVar.get('KAFKA_SASL_USERNAME')).toMatch(/required/);
    expect(byVar.get('SCHEMA_REGISTRY_PASSWORD')).toMatch(/both/);
    expect(byVar.get('SCHEMA_REGISTRY_URL')).toMatch(/required/);
    expect(byVar.get('PATHWATCH_TOPIC_ACTIONS')).toMatch(/PATHWATCH_TOPIC_VERDICTS/);
    expect(byVar.get('RECONCILER_CHANGELOG_TOPIC')).toMatch(/PATHWATCH_TOPIC_DEAD_LETTER/);
    expect(err.message).not.toContain('hunter2');
  });

  it('SASL credentials without a mechanism are refused', () => {
    const err = errorOf(() => load({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }));
    expect(err.problems.map((p) => p.variable)).toEqual(['KAFKA_SASL_MECHANISM']);
  });
});
