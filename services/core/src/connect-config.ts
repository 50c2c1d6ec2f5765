/**
 * Connecting to a real deployment: Kafka TLS/SASL, the Schema Registry and topic names/creation settings. Each is
 * a spec section of its own that services spread into their own config.ts spec (the only files that read the
 * environment), plus the cross-checks `readConfig` cannot do per variable (files readable, settings that only
 * make sense together) and the conversion into client options. Secrets are never echoed in errors.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import {
  DEFAULT_TOPICS,
  createCodec,
  type Codec,
  type SchemaRegistryOptions,
  type TopicNames,
} from '@pathwatch/schemas';
import { parse, type ConfigOf, type VarSpec } from './config.js';
import { DEFAULT_RETRY_POLICY, retry } from './retry.js';

const v = <T>(spec: VarSpec<T>): VarSpec<T> => spec;
type Problem = { variable: string; problem: string; raw: string | undefined };

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

// ------------------------------------------------------------------------------------------------------------
// Kafka TLS and SASL
// ------------------------------------------------------------------------------------------------------------

export const kafkaSecurityConfigSpec = {
  kafkaSsl: v({
    env: 'KAFKA_SSL',
    doc: 'Connect to the brokers over TLS (a `SSL` or `SASL_SSL` listener). Without KAFKA_SSL_CA_FILE the system CAs are trusted.',
    default: false,
    parse: parse.bool,
  }),
  kafkaSslCaFile: v<string | undefined>({
    env: 'KAFKA_SSL_CA_FILE',
    doc: 'PEM file with the CA certificate(s) that signed the brokers\u2019 certificates (needs KAFKA_SSL=true).',
    default: undefined,
    optional: true,
    defaultDoc: 'system CAs',
    parse: parse.string,
  }),
  kafkaSslCertFile: v<string | undefined>({
    env: 'KAFKA_SSL_CERT_FILE',
    doc: 'PEM client certificate for mutual TLS (with KAFKA_SSL_KEY_FILE).',
    default: undefined,
    optional: true,
    parse: parse.string,
  }),
  kafkaSslKeyFile: v<string | undefined>({
    env: 'KAFKA_SSL_KEY_FILE',
    doc: 'PEM private key of KAFKA_SSL_CERT_FILE.',
    default: undefined,
    optional: true,
    parse: parse.string,
  }),
  kafkaSslKeyPassphrase: v<string | undefined>({
    env: 'KAFKA_SSL_KEY_PASSPHRASE',
    doc: 'Passphrase of an encrypted KAFKA_SSL_KEY_FILE.',
    default: undefined,
    optional: true,
    secret: true,
    parse: parse.string,
  }),
  kafkaSslRejectUnauthorized: v({
    env: 'KAFKA_SSL_REJECT_UNAUTHORIZED',
    doc: 'Verify the brokers\u2019 certificates and host names. `false` only for a throwaway test cluster: it allows a man in the middle.',
    default: true,
    parse: parse.bool,
  }),
  kafkaSaslMechanism: v<SaslMechanism | undefined>({
    env: 'KAFKA_SASL_MECHANISM',
    doc: 'SASL mechanism: `plain`, `scram-sha-256` or `scram-sha-512` (with KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD). Use it with KAFKA_SSL=true: PLAIN sends the password as is.',
    default: undefined,
    optional: true,
    defaultDoc: 'no SASL',
    parse: (raw) => parse.oneOf(SASL_MECHANISMS)(raw.toLowerCase()),
  }),
  kafkaSaslUsername: v<string | undefined>({
    env: 'KAFKA_SASL_USERNAME',
    doc: 'SASL user name.',
    default: undefined,
    optional: true,
    parse: parse.string,
  }),
  kafkaSaslPassword: v<string | undefined>({
    env: 'KAFKA_SASL_PASSWORD',
    doc: 'SASL password (never logged or printed).',
    default: undefined,
    optional: true,
    secret: true,
    parse: parse.string,
  }),
};

export type KafkaSecurityConfig = ConfigOf<typeof kafkaSecurityConfigSpec>;

/** TLS and SASL settings for every Kafka client (`KafkaOptions.security`). */
export interface KafkaSecurity {
  /** TLS; `true` = system CAs, no client certificate. */
  readonly ssl?:
    | true
    | {
        readonly ca?: string;
        readonly cert?: string;
        readonly key?: string;
        readonly passphrase?: string;
        readonly rejectUnauthorized: boolean;
      };
  readonly sasl?: { readonly mechanism: SaslMechanism; readonly username: string; readonly password: string };
}

function fileProblem(variable: string, file: string | undefined): Problem[] {
  if (file === undefined) return [];
  try {
    accessSync(file, constants.R_OK);
    return [];
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return [{ variable, problem: `file is not readable (${code})`, raw: file }];
  }
}

/** What the security variables get wrong together: unreadable files, half a client certificate, half a login. */
export function kafkaSecurityProblems(c: KafkaSecurityConfig): Problem[] {
  const problems: Problem[] = [
    ...fileProblem('KAFKA_SSL_CA_FILE', c.kafkaSslCaFile),
    ...fileProblem('KAFKA_SSL_CERT_FILE', c.kafkaSslCertFile),
    ...fileProblem('KAFKA_SSL_KEY_FILE', c.kafkaSslKeyFile),
  ];
  if (!c.kafkaSsl) {
    for (const [variable, value] of [
      ['KAFKA_SSL_CA_FILE', c.kafkaSslCaFile],
      ['KAFKA_SSL_CERT_FILE', c.kafkaSslCertFile],
      ['KAFKA_SSL_KEY_FILE', c.kafkaSslKeyFile],
    ] as const) {
      if (value !== undefined)
        problems.push({ variable, problem: 'is a TLS setting: set KAFKA_SSL=true as well', raw: value });
    }
  }
  if ((c.kafkaSslCertFile === undefined) !== (c.kafkaSslKeyFile === undefined)) {
    const missing = c.kafkaSslCertFile === undefined ? 'KAFKA_SSL_CERT_FILE' : 'KAFKA_SSL_KEY_FILE';
    problems.push({
      variable: missing,
      problem: 'a client certificate needs both KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE',
      raw: undefined,
    });
  }
  if (c.kafkaSslKeyPassphrase !== undefined && c.kafkaSslKeyFile === undefined)
    problems.push({
      variable: 'KAFKA_SSL_KEY_PASSPHRASE',
      problem: 'set without KAFKA_SSL_KEY_FILE',
      raw: undefined,
    });
  if (c.kafkaSaslMechanism !== undefined) {
    if (c.kafkaSaslUsername === undefined)
      problems.push({
        variable: 'KAFKA_SASL_USERNAME',
        problem: `required with KAFKA_SASL_MECHANISM=${c.kafkaSaslMechanism}`,
        raw: undefined,
      });
    if (c.kafkaSaslPassword === undefined)
      problems.push({
        variable: 'KAFKA_SASL_PASSWORD',
        problem: `required with KAFKA_SASL_MECHANISM=${c.kafkaSaslMechanism}`,
        raw: undefined,
      });
  } else if (c.kafkaSaslUsername !== undefined || c.kafkaSaslPassword !== undefined) {
    problems.push({
      variable: 'KAFKA_SASL_MECHANISM',
      problem:
        'required when KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD is set (plain, scram-sha-256, scram-sha-512)',
      raw: undefined,
    });
  }
  return problems;
}

/** The client settings of a validated configuration (reads the PEM files). */
export function kafkaSecurityFromConfig(c: KafkaSecurityConfig): KafkaSecurity {
  const read = (f: string | undefined): string | undefined =>
    f === undefined ? undefined : readFileSync(f, 'utf8');
  let ssl: KafkaSecurity['ssl'];
  if (c.kafkaSsl) {
    const ca = read(c.kafkaSslCaFile);
    const cert = read(c.kafkaSslCertFile);
    const key = read(c.kafkaSslKeyFile);
    ssl =
      ca === undefined && cert === undefined && c.kafkaSslRejectUnauthorized
        ? true
        : {
            rejectUnauthorized: c.kafkaSslRejectUnauthorized,
            ...(ca === undefined ? {} : { ca }),
            ...(cert === undefined ? {} : { cert }),
            ...(key === undefined ? {} : { key }),
            ...(c.kafkaSslKeyPassphrase === undefined ? {} : { passphrase: c.kafkaSslKeyPassphrase }),
          };
  }
  const sasl =
    c.kafkaSaslMechanism !== undefined &&
    c.kafkaSaslUsername !== undefined &&
    c.kafkaSaslPassword !== undefined
      ? { mechanism: c.kafkaSaslMechanism, username: c.kafkaSaslUsername, password: c.kafkaSaslPassword }
      : undefined;
  return { ...(ssl === undefined ? {} : { ssl }), ...(sasl === undefined ? {} : { sasl }) };
}

// ------------------------------------------------------------------------------------------------------------
// Schema Registry
// ------------------------------------------------------------------------------------------------------------

export const schemaRegistryConfigSpec = {
  schemaRegistryUrl: v<string | undefined>({
    env: 'SCHEMA_REGISTRY_URL',
    doc: 'Confluent-compatible Schema Registry (e.g. `https://registry:8081`, or Apicurio\u2019s `http://host:8080/apis/ccompat/v7`). Set: inputs are decoded by registry id, outputs registered under `<topic>-value` and written with registry ids. Unset: the local schema catalog\u2019s ids.',
    default: undefined,
    optional: true,
    defaultDoc: 'local catalog',
    parse: parse.url,
  }),
  schemaRegistryUsername: v<string | undefined>({
    env: 'SCHEMA_REGISTRY_USERNAME',
    doc: 'Basic-auth user for the registry (Confluent Cloud: the API key).',
    default: undefined,
    optional: true,
    parse: parse.string,
  }),
  schemaRegistryPassword: v<string | undefined>({
    env: 'SCHEMA_REGISTRY_PASSWORD',
    doc: 'Basic-auth password for the registry (Confluent Cloud: the API secret; never logged or printed).',
    default: undefined,
    optional: true,
    secret: true,
    parse: parse.string,
  }),
  schemaRegistryTimeoutMs: v({
    env: 'SCHEMA_REGISTRY_TIMEOUT_MS',
    doc: 'Timeout of one registry request; a timed-out or failing lookup is retried (the record waits), never dead-lettered.',
    default: 5000,
    parse: parse.int(100, 120_000),
  }),
};

export type SchemaRegistryConfig = ConfigOf<typeof schemaRegistryConfigSpec>;

export function schemaRegistryProblems(c: SchemaRegistryConfig): Problem[] {
  const problems: Problem[] = [];
  if ((c.schemaRegistryUsername === undefined) !== (c.schemaRegistryPassword === undefined))
    problems.push({
      variable:
        c.schemaRegistryUsername === undefined ? 'SCHEMA_REGISTRY_USERNAME' : 'SCHEMA_REGISTRY_PASSWORD',
      problem: 'basic auth needs both SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD',
      raw: undefined,
    });
  if (c.schemaRegistryUrl === undefined && c.schemaRegistryUsername !== undefined)
    problems.push({
      variable: 'SCHEMA_REGISTRY_URL',
      problem: 'required when SCHEMA_REGISTRY_USERNAME is set',
      raw: undefined,
    });
  if (c.schemaRegistryUrl !== undefined && /\/\/[^/]*@/.test(c.schemaRegistryUrl))
    problems.push({
      variable: 'SCHEMA_REGISTRY_URL',
      problem: 'put credentials in SCHEMA_REGISTRY_USERNAME/SCHEMA_REGISTRY_PASSWORD, not in the URL',
      raw: undefined,
    });
  return problems;
}

/** Registry client options, or undefined for the local catalog. */
export function schemaRegistryFromConfig(c: SchemaRegistryConfig): SchemaRegistryOptions | undefined {
  if (c.schemaRegistryUrl === undefined) return undefined;
  const auth =
    c.schemaRegistryUsername !== undefined && c.schemaRegistryPassword !== undefined
      ? {
          authorization: `Basic ${Buffer.from(`${c.schemaRegistryUsername}:${c.schemaRegistryPassword}`).toString('base64')}`,
        }
      : undefined;
  return {
    url: c.schemaRegistryUrl,
    timeoutMs: c.schemaRegistryTimeoutMs,
    ...(auth === undefined ? {} : { headers: auth }),
  };
}

// ------------------------------------------------------------------------------------------------------------
// Topics
// ------------------------------------------------------------------------------------------------------------

/** Kafka's own rule for topic names. */
const topicName = (raw: string): string => {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(raw) || raw === '.' || raw === '..')
    throw new Error('must be 1-249 characters of A-Z a-z 0-9 . _ -');
  return raw;
};

export const topicsConfigSpec = {
  topicRequests: v({
    env: 'PATHWATCH_TOPIC_REQUESTS',
    doc: 'Input topic of accepted requests (co-partitioned with dispatches and callbacks by request_id).',
    default: DEFAULT_TOPICS.request,
    parse: topicName,
  }),
  topicDispatches: v({
    env: 'PATHWATCH_TOPIC_DISPATCHES',
    doc: 'Input topic of dispatch attempts.',
    default: DEFAULT_TOPICS.dispatch,
    parse: topicName,
  }),
  topicCallbacks: v({
    env: 'PATHWATCH_TOPIC_CALLBACKS',
    doc: 'Input topic of provider callbacks.',
    default: DEFAULT_TOPICS.callback,
    parse: topicName,
  }),
  topicVerdicts: v({
    env: 'PATHWATCH_TOPIC_VERDICTS',
    doc: 'Output topic of verdict versions.',
    default: DEFAULT_TOPICS.verdict,
    parse: topicName,
  }),
  topicActions: v({
    env: 'PATHWATCH_TOPIC_ACTIONS',
    doc: 'Output topic of compensating actions.',
    default: DEFAULT_TOPICS.action,
    parse: topicName,
  }),
  topicDeadLetter: v({
    env: 'PATHWATCH_TOPIC_DEAD_LETTER',
    doc: 'Dead-letter topic (rejected records with reason and original bytes).',
    default: DEFAULT_TOPICS.dead_letter,
    parse: topicName,
  }),
  topicReplicationFactor: v<number | undefined>({
    env: 'PATHWATCH_TOPIC_REPLICATION_FACTOR',
    doc: 'Replication factor of the topics Pathwatch creates (PATHWATCH_CREATE_TOPICS); existing topics are left as they are.',
    default: undefined,
    optional: true,
    defaultDoc: 'broker default',
    parse: parse.int(1, 32),
  }),
  topicRetentionMs: v<number | undefined>({
    env: 'PATHWATCH_TOPIC_RETENTION_MS',
    doc: '`retention.ms` of the input, output and dead-letter topics Pathwatch creates (-1: keep forever). The reconciler changelog always keeps everything (it purges itself).',
    default: undefined,
    optional: true,
    defaultDoc: 'broker default',
    parse: parse.int(-1),
  }),
};

export type TopicsConfig = ConfigOf<typeof topicsConfigSpec>;

export function topicNamesFromConfig(c: TopicsConfig): TopicNames {
  return Object.freeze({
    request: c.topicRequests,
    dispatch: c.topicDispatches,
    callback: c.topicCallbacks,
    verdict: c.topicVerdicts,
    action: c.topicActions,
    dead_letter: c.topicDeadLetter,
  });
}

/** Every topic needs its own name: one topic cannot carry two kinds. `extra` adds e.g. the changelog topic. */
export function topicsProblems(c: TopicsConfig, extra: Readonly<Record<string, string>> = {}): Problem[] {
  const byName = new Map<string, string[]>();
  const entries: [string, string][] = [
    ['PATHWATCH_TOPIC_REQUESTS', c.topicRequests],
    ['PATHWATCH_TOPIC_DISPATCHES', c.topicDispatches],
    ['PATHWATCH_TOPIC_CALLBACKS', c.topicCallbacks],
    ['PATHWATCH_TOPIC_VERDICTS', c.topicVerdicts],
    ['PATHWATCH_TOPIC_ACTIONS', c.topicActions],
    ['PATHWATCH_TOPIC_DEAD_LETTER', c.topicDeadLetter],
    ...Object.entries(extra),
  ];
  for (const [variable, name] of entries) byName.set(name, [...(byName.get(name) ?? []), variable]);
  const problems: Problem[] = [];
  for (const [name, vars] of byName) {
    if (vars.length > 1)
      problems.push({
        variable: vars[vars.length - 1] as string,
        problem: `names the same topic as ${vars.slice(0, -1).join(', ')}; every topic needs its own name`,
        raw: name,
      });
  }
  return problems;
}

/** Settings of the topics Pathwatch creates (`TopicSpec` fields besides the name and partitions). */
export interface TopicCreation {
  readonly replicationFactor?: number;
  readonly configs?: Readonly<Record<string, string>>;
}

export function topicCreationFromConfig(c: TopicsConfig): TopicCreation {
  return {
    ...(c.topicReplicationFactor === undefined ? {} : { replicationFactor: c.topicReplicationFactor }),
    ...(c.topicRetentionMs === undefined ? {} : { configs: { 'retention.ms': String(c.topicRetentionMs) } }),
  };
}

/** Everything a service needs to connect: the three sections above, spread into a service's own spec. */
export const connectConfigSpec = {
  ...kafkaSecurityConfigSpec,
  ...schemaRegistryConfigSpec,
  ...topicsConfigSpec,
};

export type ConnectConfig = ConfigOf<typeof connectConfigSpec>;

export function connectProblems(
  c: ConnectConfig,
  extraTopics: Readonly<Record<string, string>> = {},
): Problem[] {
  return [...kafkaSecurityProblems(c), ...schemaRegistryProblems(c), ...topicsProblems(c, extraTopics)];
}

/**
 * The wire codec of a service: the configured topic names and, with SCHEMA_REGISTRY_URL, registry ids. Call
 * `await codec.init()` before encoding (it registers the `<topic>-value` subjects; a no-op without a registry).
 */
export function codecFromConfig(c: ConnectConfig): Codec {
  const registry = schemaRegistryFromConfig(c);
  return createCodec({
    topics: topicNamesFromConfig(c),
    ...(registry === undefined ? {} : { registry }),
  });
}

/**
 * `codec.init()` (registers the subjects with a registry) under the default retry policy: a registry that is
 * restarting delays the start by up to ~30 s; one that refuses (bad credentials, incompatible schema) fails it at
 * once with the registry's answer.
 */
export async function initCodec(codec: Codec, signal?: AbortSignal): Promise<void> {
  await retry(() => codec.init(), { policy: DEFAULT_RETRY_POLICY, ...(signal ? { signal } : {}) });
}
