/**
 * Secured listeners for the local broker, for tests of Kafka TLS and SASL: a throwaway CA made with openssl, a
 * broker certificate for 127.0.0.1 signed by it (PKCS#12 keystore), a client certificate for mutual TLS, and
 *   - a `SASL_SSL` listener accepting PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (SCRAM credentials are written into
 *     the metadata log when the storage is formatted, `--add-scram`; PLAIN users come from the listener's JAAS),
 *   - an `SSL` listener that requires a client certificate signed by the CA.
 * The PLAINTEXT listener stays (readiness checks and the tests' own tooling use it).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalKafkaError } from './errors.js';
import { runCommand } from './process-util.js';
import { LOCAL_KAFKA_HOST } from './server-properties.js';

export interface SecureUser {
  readonly name: string;
  readonly password: string;
}

export interface SecureListenersOptions {
  /** Users accepted by every SASL mechanism of the SASL_SSL listener. */
  readonly users: readonly SecureUser[];
  /** @default 'openssl' */
  readonly opensslPath?: string;
}

/** What a client needs to reach the secured listeners. */
export interface SecureListeners {
  /** Bootstrap servers of the SASL_SSL listener. */
  readonly saslSslBrokers: string[];
  /** Bootstrap servers of the SSL listener (client certificate required). */
  readonly sslBrokers: string[];
  /** PEM of the CA that signed the broker's (and the client's) certificate. */
  readonly caFile: string;
  /** PEM client certificate and its unencrypted key, accepted by the SSL listener. */
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

export interface SecureMaterial {
  readonly dir: string;
  readonly caFile: string;
  readonly keystoreFile: string;
  readonly keystorePassword: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

const SAFE = /^[A-Za-z0-9._-]+$/;

async function openssl(bin: string, args: string[], cwd: string): Promise<void> {
  let run;
  try {
    run = await runCommand(bin, args, { cwd, timeoutMs: 60_000 });
  } catch (err) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_START_FAILED',
      `openssl is needed to make the local broker's TLS certificates, but "${bin}" could not be started. ` +
        'Fix: install openssl (Debian/Ubuntu: sudo apt-get install -y openssl).',
      { cause: err },
    );
  }
  if (run.exitCode !== 0) {
    throw new LocalKafkaError(
      'LOCAL_KAFKA_START_FAILED',
      `openssl ${args[0] ?? ''} failed (exit ${run.exitCode ?? run.signal}):\n${run.output}`,
    );
  }
}

/** A CA, a broker keystore for 127.0.0.1/localhost and a client certificate, under `<dir>/tls`. */
export async function makeSecureMaterial(dir: string, opensslPath = 'openssl'): Promise<SecureMaterial> {
  const tls = path.join(dir, 'tls');
  await mkdir(tls, { recursive: true });
  const keystorePassword = randomBytes(12).toString('hex');
  await writeFile(
    path.join(tls, 'broker.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n',
  );
  await writeFile(path.join(tls, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const o = (args: string[]): Promise<void> => openssl(opensslPath, args, tls);
  await o([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '3',
    '-subj',
    '/CN=pathwatch-local-test-ca',
  ]);
  for (const name of ['broker', 'client']) {
    await o([
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=pathwatch-${name}`,
    ]);
    await o([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '3',
      '-extfile',
      `${name}.ext`,
    ]);
  }
  await o([
    'pkcs12',
    '-export',
    '-in',
    'broker.pem',
    '-inkey',
    'broker.key',
    '-certfile',
    'ca.pem',
    '-name',
    'broker',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${keystorePassword}`,
  ]);
  return {
    dir: tls,
    caFile: path.join(tls, 'ca.pem'),
    keystoreFile: path.join(tls, 'broker.p12'),
    keystorePassword,
    clientCertFile: path.join(tls, 'client.pem'),
    clientKeyFile: path.join(tls, 'client.key'),
  };
}

/** server.properties entries for the PLAINTEXT, SASL_SSL and SSL listeners (replace the default listener set). */
export function secureServerOverrides(
  m: SecureMaterial,
  users: readonly SecureUser[],
  ports: { broker: number; controller: number; saslSsl: number; ssl: number },
): Record<string, string> {
  for (const u of users) {
    if (!SAFE.test(u.name) || !SAFE.test(u.password))
      throw new RangeError('local broker SASL user names and passwords must be [A-Za-z0-9._-]+');
  }
  const h = LOCAL_KAFKA_HOST;
  const plainUsers = users.map((u) => `user_${u.name}="${u.password}"`).join(' ');
  return {
    listeners: `PLAINTEXT://${h}:${ports.broker},CONTROLLER://${h}:${ports.controller},SASL_SSL://${h}:${ports.saslSsl},SSL://${h}:${ports.ssl}`,
    'advertised.listeners': `PLAINTEXT://${h}:${ports.broker},SASL_SSL://${h}:${ports.saslSsl},SSL://${h}:${ports.ssl}`,
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL',
    'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
    'listener.name.sasl_ssl.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required ${plainUsers};`,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': m.keystoreFile,
    'ssl.keystore.password': m.keystorePassword,
    'ssl.key.password': m.keystorePassword,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': m.caFile,
    'listener.name.ssl.ssl.client.auth': 'required',
  };
}

/** `StorageTool format` arguments that store SCRAM-SHA-256 and -512 credentials for every user. */
export function scramFormatArgs(users: readonly SecureUser[]): string[] {
  return users.flatMap((u) => [
    '--add-scram',
    `SCRAM-SHA-256=[name=${u.name},password=${u.password}]`,
    '--add-scram',
    `SCRAM-SHA-512=[name=${u.name},password=${u.password}]`,
  ]);
}
