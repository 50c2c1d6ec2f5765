/**
 * Errors of @pathwatch/local-kafka. Codes are stable (never reused). Messages name the missing tool and the
 * fix, because these errors are read by a person at a terminal, usually on the first run.
 */
export type LocalKafkaErrorCode =
  | 'LOCAL_KAFKA_JAVA_MISSING'
  | 'LOCAL_KAFKA_JAVA_TOO_OLD'
  | 'LOCAL_KAFKA_MAVEN_MISSING'
  | 'LOCAL_KAFKA_FETCH_FAILED'
  | 'LOCAL_KAFKA_ASSETS_MISSING'
  | 'LOCAL_KAFKA_FORMAT_FAILED'
  | 'LOCAL_KAFKA_START_FAILED'
  | 'LOCAL_KAFKA_START_TIMEOUT'
  | 'LOCAL_KAFKA_STATE_INVALID'
  | 'LOCAL_KAFKA_DIR_LOCKED'
  | 'LOCAL_REGISTRY_JAVA_MISSING'
  | 'LOCAL_REGISTRY_FETCH_FAILED'
  | 'LOCAL_REGISTRY_START_FAILED'
  | 'LOCAL_REGISTRY_START_TIMEOUT';

export class LocalKafkaError extends Error {
  readonly code: LocalKafkaErrorCode;
  readonly retriable: boolean;

  constructor(
    code: LocalKafkaErrorCode,
    message: string,
    opts: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LocalKafkaError';
    this.code = code;
    this.retriable = opts.retriable ?? false;
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
