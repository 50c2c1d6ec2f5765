import { LocalKafkaError } from './errors.js';
import type { LockHolder } from './lock.js';

/** A second broker was refused: the directory's lock is held by a live process (see lock.ts). */
export class BrokerDirLockedError extends LocalKafkaError {
  readonly holder: LockHolder;
  constructor(message: string, holder: LockHolder) {
    super('LOCAL_KAFKA_DIR_LOCKED', message);
    this.holder = holder;
  }
}

/** One line naming who holds the broker directory and where its broker listens. */
export function describeHolder(holder: LockHolder): string {
  const r = holder.record;
  const owner = `${r.ownerLabel} (pid ${r.ownerPid})`;
  if (r.state === 'starting') return `a broker is being started by ${owner}`;
  const where = r.brokers?.join(',') ?? '?';
  return `the broker of ${owner} is running on ${where} (broker pid ${r.brokerPid ?? '?'}${holder.answering ? '' : ', not answering'})`;
}

export function dirLocked(dir: string, holder: LockHolder): BrokerDirLockedError {
  return new BrokerDirLockedError(
    `Refusing to start a second Kafka broker on ${dir}: ${describeHolder(holder)}. ` +
      'Two brokers on one data directory corrupt its metadata log. Use the running broker ' +
      `(KAFKA_BROKERS=${holder.record.brokers?.join(',') ?? '…'}), stop it first, or use another PATHWATCH_HOME.`,
    holder,
  );
}
