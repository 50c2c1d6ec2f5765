/**
 * Errors of @pathwatch/local-kafka. Codes are stable (never reused). Messages name the missing tool and the
 * fix, because these errors are read by a person at a terminal, usually on the first run.
 */
import { PathwatchError, type CodeTable } from '@pathwatch/errors';

export const LOCAL_KAFKA_ERROR_CODES = {
  LOCAL_KAFKA_JAVA_MISSING: { retriable: false, doc: 'no Java runtime to start the broker' },
  LOCAL_KAFKA_JAVA_TOO_OLD: { retriable: false, doc: 'a Java runtime older than 17' },
  LOCAL_KAFKA_MAVEN_MISSING: { retriable: false, doc: 'no Maven to fetch the broker jars (first run only)' },
  LOCAL_KAFKA_FETCH_FAILED: { retriable: false, doc: 'fetching the broker jars from Maven Central failed' },
  LOCAL_KAFKA_ASSETS_MISSING: { retriable: false, doc: 'the broker jars or its runtime files are missing' },
  LOCAL_KAFKA_FORMAT_FAILED: { retriable: false, doc: 'formatting the KRaft storage failed' },
  LOCAL_KAFKA_START_FAILED: { retriable: false, doc: 'the broker process exited during start-up' },
  LOCAL_KAFKA_START_TIMEOUT: { retriable: false, doc: 'the broker did not become ready in time' },
  LOCAL_KAFKA_STATE_INVALID: { retriable: false, doc: 'the state file of a detached broker is unreadable' },
  LOCAL_KAFKA_DIR_LOCKED: { retriable: false, doc: 'another broker holds the state directory' },
  LOCAL_REGISTRY_JAVA_MISSING: { retriable: false, doc: 'no Java runtime to start the local Schema Registry' },
  LOCAL_REGISTRY_FETCH_FAILED: { retriable: false, doc: 'fetching the Schema Registry jars failed' },
  LOCAL_REGISTRY_START_FAILED: { retriable: false, doc: 'the Schema Registry process exited during start-up' },
  LOCAL_REGISTRY_START_TIMEOUT: { retriable: false, doc: 'the Schema Registry did not become ready in time' },
} as const satisfies CodeTable;

export type LocalKafkaErrorCode = keyof typeof LOCAL_KAFKA_ERROR_CODES;

export class LocalKafkaError extends PathwatchError<LocalKafkaErrorCode> {
  constructor(
    code: LocalKafkaErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, opts, LOCAL_KAFKA_ERROR_CODES);
    this.name = 'LocalKafkaError';
  }
}

const NO_LOCAL_BROKER_HINT = 'Or point Pathwatch at an existing broker with KAFKA_BROKERS=host:port.';

export function javaMissing(javaPath: string, cause: unknown): LocalKafkaError {
  return new LocalKafkaError(
    'LOCAL_KAFKA_JAVA_MISSING',
    `Java 17 or newer is needed to run the local Kafka broker, but "${javaPath}" could not be started. ` +
      'Fix: install a Java 17+ runtime (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless; ' +
      'macOS: brew install openjdk@17) and put `java` on PATH or set JAVA_HOME. ' +
      NO_LOCAL_BROKER_HINT,
    { cause },
  );
}

export function javaTooOld(javaPath: string, found: string): LocalKafkaError {
  return new LocalKafkaError(
    'LOCAL_KAFKA_JAVA_TOO_OLD',
    `Kafka 4 brokers need Java 17 or newer, but "${javaPath}" is ${found}. ` +
      'Fix: install Java 17+ and put it first on PATH or set JAVA_HOME. ' +
      NO_LOCAL_BROKER_HINT,
  );
}

export function mavenMissing(mavenPath: string, cause: unknown): LocalKafkaError {
  return new LocalKafkaError(
    'LOCAL_KAFKA_MAVEN_MISSING',
    `Maven is needed once to fetch the Kafka broker jars from Maven Central, but "${mavenPath}" could not be started. ` +
      'Fix: install Maven 3.6+ (Debian/Ubuntu: sudo apt-get install -y maven; macOS: brew install maven) ' +
      'and put `mvn` on PATH or set MAVEN_HOME. ' +
      NO_LOCAL_BROKER_HINT,
    { cause },
  );
}
