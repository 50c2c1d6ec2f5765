/**
 * One broker per data directory. A second broker on the same directory (a second `pathwatch start`, or
 * `kafka up` while `start` runs) would write into the running broker's metadata log and kill it, so every
 * persistent broker start takes `<dir>/broker.lock` first.
 *
 * The lock is a JSON record created with O_EXCL. It is held while the process it names is alive: the broker JVM
 * once spawned, the starting process before that. "Alive" is checked against the live process, not the pid alone:
 * the pid exists and is not a zombie, its start time (Linux /proc) equals the one recorded, and for the broker its
 * command line names this directory. A lock whose process is gone (kill -9, crash, reboot) is stale and is taken
 * over. The broker's port is probed separately (`answering`), for status output; a live JVM that does not answer
 * still holds the directory.
 */
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LocalKafkaError } from './errors.js';
import { BROKER_MARKER_PROPERTY } from './jvm.js';
import { isPortOpen } from './ports.js';
import { isPidAlive, procCommandLine, procStartTicks } from './process-util.js';

export const LOCK_FILE = 'broker.lock';

/** Who runs the broker: `attached` brokers stop with the process that started them (`pathwatch start`). */
export type BrokerOwnerKind = 'attached' | 'detached';

export interface BrokerLockRecord {
  readonly version: 1;
  readonly state: 'starting' | 'running';
  readonly kind: BrokerOwnerKind;
  /** Human name of the owner, e.g. `pathwatch start`, `kafka up`. */
  readonly ownerLabel: string;
  readonly ownerPid: number;
  readonly ownerStartTicks?: number;
  readonly brokerPid?: number;
  readonly brokerStartTicks?: number;
  readonly brokers?: string[];
  readonly brokerPort?: number;
  readonly controllerPort?: number;
  readonly kafkaVersion?: string;
  /** Where the broker's output goes, when known. */
  readonly logFile?: string;
  readonly stateDir: string;
  /** ISO-8601 wall-clock time the lock was taken. */
  readonly startedAt: string;
}

export interface LockHolder {
  readonly record: BrokerLockRecord;
  /** The broker's bootstrap port accepts connections (only probed for `running` records). */
  readonly answering: boolean;
}

export interface BrokerLock {
  readonly file: string;
  record(): BrokerLockRecord;
  /** Rewrites the record (atomically, by rename); the lock stays held. */
  update(patch: Partial<Omit<BrokerLockRecord, 'version' | 'stateDir' | 'ownerPid'>>): Promise<void>;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export type AcquireResult = { acquired: true; lock: BrokerLock } | { acquired: false; holder: LockHolder };

/**
 * Takes the lock of `dir`, or reports the live holder. Stale locks are removed and taken over (a few attempts;
 * two processes recovering the same stale lock cannot both win: only one link() succeeds).
 */
export async function acquireBrokerLock(
  dir: string,
  owner: { kind: BrokerOwnerKind; ownerLabel: string },
): Promise<AcquireResult> {
  const stateDir = path.resolve(dir);
  const file = path.join(stateDir, LOCK_FILE);
  const ticks = procStartTicks(process.pid);
  let current: BrokerLockRecord = {
    version: 1,
    state: 'starting',
    kind: owner.kind,
    ownerLabel: owner.ownerLabel,
    ownerPid: process.pid,
    ...(ticks === undefined ? {} : { ownerStartTicks: ticks }),
    stateDir,
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    // Written aside, then hard-linked into place: link() fails with EEXIST like O_EXCL, and a reader never sees a
    // half-written lock (which it would take for stale).
    const tmp = `${file}.${process.pid}.new`;
    await writeFile(tmp, `${JSON.stringify(current, null, 2)}\n`);
    let linked = false;
    try {
      await link(tmp, file);
      linked = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(tmp, { force: true });
    }
    if (!linked) {
      const holder = await readBrokerLock(stateDir);
      if (holder) return { acquired: false, holder };
      // Stale (or unreadable): remove it unless someone replaced it with a live lock meanwhile, then retry.
      await removeIfStale(file);
      continue;
    }
    let released = false;
    const lock: BrokerLock = {
      file,
      record: () => current,
      update: async (patch) => {
        current = { ...current, ...patch };
        const tmp = `${file}.${process.pid}.tmp`;
        await writeFile(tmp, `${JSON.stringify(current, null, 2)}\n`);
        await rename(tmp, file);
      },
      release: async () => {
        if (released) return;
        released = true;
        const onDisk = await readRecord(file).catch(() => undefined);
        if (onDisk && onDisk.ownerPid === current.ownerPid && onDisk.startedAt === current.startedAt)
          await rm(file, { force: true });
      },
    };
    return { acquired: true, lock };
  }
  throw new LocalKafkaError(
    'LOCAL_KAFKA_DIR_LOCKED',
    `Could not take ${file}: it keeps being re-created by another process. Is another broker starting in ${stateDir}?`,
  );
}

/** The live holder of `dir`'s lock, or undefined when there is none or it is stale. Never modifies the lock. */
export async function readBrokerLock(dir: string): Promise<LockHolder | undefined> {
  const file = path.join(path.resolve(dir), LOCK_FILE);
  let record: BrokerLockRecord | undefined;
  try {
    record = await readRecord(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return undefined; // half-written or foreign content: treated as stale
  }
  if (!record || !isLive(record)) return undefined;
  const port = record.brokerPort;
  const answering = record.state === 'running' && port !== undefined ? await isPortOpen(port) : false;
  return { record, answering };
}

/** True when the process the record names still holds the directory. */
export function isLive(record: BrokerLockRecord): boolean {
  if (record.brokerPid !== undefined && isSameProcess(record.brokerPid, record.brokerStartTicks)) {
    const cmd = procCommandLine(record.brokerPid);
    // No /proc (macOS): trust pid + start time; on Linux the JVM must be the broker of this directory.
    if (cmd === undefined || cmd.includes(`-D${BROKER_MARKER_PROPERTY}=${record.stateDir}`)) return true;
  }
  // Before the JVM exists (or between port-retry attempts), the starting process holds the lock.
  return record.state === 'starting' && isSameProcess(record.ownerPid, record.ownerStartTicks);
}

function isSameProcess(pid: number, startTicks: number | undefined): boolean {
  if (!isPidAlive(pid)) return false;
  if (startTicks === undefined) return true;
  const now = procStartTicks(pid);
  return now === undefined || now === startTicks;
}

async function readRecord(file: string): Promise<BrokerLockRecord | undefined> {
  const text = await readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = parsed as Partial<BrokerLockRecord> | null;
  if (!r || r.version !== 1 || !Number.isInteger(r.ownerPid) || typeof r.stateDir !== 'string')
    return undefined;
  return r as BrokerLockRecord;
}

async function removeIfStale(file: string): Promise<void> {
  // Re-read right before removing: a lock taken by a racing process in between is live and must stay.
  const again = await readRecord(file).catch(() => undefined);
  if (again && isLive(again)) return;
  await rm(file, { force: true });
}
