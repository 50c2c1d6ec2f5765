export { startLocalKafka } from './broker.js';
export type { BrokerExit, LocalKafka, StartLocalKafkaOptions } from './broker.js';
export type { SecureListeners, SecureListenersOptions, SecureUser } from './secure.js';
export { localKafkaToolsFromEnv, localRegistryJavaCandidates } from './config.js';
export {
  APICURIO_VERSION,
  CCOMPAT_PATH,
  REGISTRY_MIN_JAVA_MAJOR,
  defaultRegistryAppDir,
  ensureRegistryApp,
  findRegistryJava,
  startLocalRegistry,
} from './registry.js';
export type { LocalRegistry, StartLocalRegistryOptions } from './registry.js';
export type { LocalKafkaTools } from './config.js';
export { kafkaDown, kafkaUp, readRunningKafka } from './detached.js';
export type {
  KafkaDownOptions,
  KafkaDownResult,
  KafkaUpOptions,
  KafkaUpResult,
  RunningKafka,
} from './detached.js';
export { LocalKafkaError } from './errors.js';
export { BrokerDirLockedError, describeHolder } from './lock-errors.js';
export { LOCK_FILE, acquireBrokerLock, readBrokerLock } from './lock.js';
export type { AcquireResult, BrokerLock, BrokerLockRecord, BrokerOwnerKind, LockHolder } from './lock.js';
export type { LocalKafkaErrorCode } from './errors.js';
export { checkJava, MIN_JAVA_MAJOR } from './java.js';
export type { JavaInfo } from './java.js';
export { ensureKafkaJars, kafkaVersionFromPom } from './jars.js';
export type { EnsureKafkaJarsOptions, KafkaJars } from './jars.js';
export { defaultKafkaAssetsDir } from './paths.js';
export { isPortOpen } from './ports.js';
export { isPidAlive } from './process-util.js';
export { LOCAL_KAFKA_CLUSTER_ID, LOCAL_KAFKA_HOST } from './server-properties.js';
export type { LocalKafkaLogger, LocalKafkaProgress, LocalKafkaStage, OnProgress } from './types.js';
