/** The subset of a pino logger this package uses; a pino `Logger` satisfies it. */
export interface LocalKafkaLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Stable stage names, used in logs and progress events. */
export type LocalKafkaStage =
  | 'local-kafka.fetch'
  | 'local-kafka.format'
  | 'local-kafka.start'
  | 'local-kafka.ready'
  | 'local-kafka.broker'
  | 'local-kafka.stop';

/** A human-readable progress step, for a CLI spinner or a CI log. */
export interface LocalKafkaProgress {
  readonly stage: LocalKafkaStage;
  readonly message: string;
  /** Artifacts downloaded so far by Maven (fetch stage only). */
  readonly artifactsDownloaded?: number;
}

export type OnProgress = (progress: LocalKafkaProgress) => void;
