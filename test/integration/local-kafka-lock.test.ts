/**
 * One broker per data directory (PATHWATCH_HOME/kafka): a second `startLocalKafka` or `kafkaUp` on the directory
 * of a running broker never starts a second JVM there; the first keeps serving; status finds whichever runs; a
 * lock left by a SIGKILLed owner is recovered. Real brokers from @pathwatch/local-kafka.
 */
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BrokerDirLockedError,
  LOCK_FILE,
  isPidAlive,
  kafkaDown,
  kafkaUp,
  readRunningKafka,
  startLocalKafka,
} from '@pathwatch/local-kafka';
import { readJsonLine, spawnTs } from '../support/spawn-ts.js';
import { uniqueName, waitFor } from '../support/kafka.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../support/fixtures/${name}`, import.meta.url));

async function roundTrip(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: uniqueName('lock'), brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topic = uniqueName('lock-alive');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    expect(await admin.listTopics()).toContain(topic);
  } finally {
    await admin.disconnect();
  }
}

/** Broker JVMs whose command line names `dir` (our marker property). */
async function brokerJvmsOn(dir: string): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').includes(`-Dpathwatch.local-kafka.dir=${dir}`)) pids.push(Number(entry));
  }
  return pids;
}

const scratch: string[] = [];
async function stateDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pathwatch-lock-'));
  scratch.push(dir);
  return path.join(dir, 'kafka');
}
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

describe('one broker per data directory', () => {
  it('refuses a second attached broker, reuses the first for kafkaUp, finds it, and kafkaDown leaves it alone', async () => {
    const dir = await stateDir();
    const first = await startLocalKafka({ dataDir: dir, ownerLabel: 'pathwatch start' });
    try {
      const second = startLocalKafka({ dataDir: dir, ownerLabel: 'second start' });
      await expect(second).rejects.toBeInstanceOf(BrokerDirLockedError);
      await expect(second).rejects.toThrow(/Refusing to start a second Kafka broker.*pathwatch start/s);

      const up = await kafkaUp({ stateDir: dir });
      expect(up).toMatchObject({
        alreadyRunning: true,
        pid: first.pid,
        brokers: first.brokers,
        kind: 'attached',
      });

      const status = await readRunningKafka(dir);
      expect(status).toMatchObject({
        pid: first.pid,
        brokers: first.brokers,
        kind: 'attached',
        ownerLabel: 'pathwatch start',
        ownerPid: process.pid,
        answering: true,
      });

      const down = await kafkaDown({ stateDir: dir });
      expect(down).toMatchObject({ stopped: false, heldBy: { pid: first.pid } });

      // Still exactly one JVM on the directory, and it still serves.
      expect(await brokerJvmsOn(dir)).toEqual([first.pid]);
      expect(isPidAlive(first.pid)).toBe(true);
      await roundTrip(first.brokers);
    } finally {
      await first.stop();
    }
    expect(await readRunningKafka(dir)).toBeUndefined();
  });

  it('refuses an attached broker while a detached one (kafkaUp) runs there', async () => {
    const dir = await stateDir();
    const up = await kafkaUp({ stateDir: dir });
    try {
      expect(up.alreadyRunning).toBe(false);
      await expect(startLocalKafka({ dataDir: dir })).rejects.toThrow(/kafka up/);
      expect(await kafkaUp({ stateDir: dir })).toMatchObject({ alreadyRunning: true, pid: up.pid });
      expect(await brokerJvmsOn(dir)).toEqual([up.pid]);
      await roundTrip(up.brokers);
    } finally {
      await kafkaDown({ stateDir: dir });
    }
  });

  it('recovers the lock of an owner killed with SIGKILL', async () => {
    const dir = await stateDir();
    const child = spawnTs(fixture('broker-child.ts'), [dir]);
    const started = await readJsonLine<{ pid: number; brokers: string[] }>(child, 150_000);
    expect(await readRunningKafka(dir)).toMatchObject({ pid: started.pid, ownerLabel: 'broker-child' });

    child.kill('SIGKILL');
    await waitFor(() => !isPidAlive(started.pid), { timeoutMs: 30_000, description: 'broker to exit' });
    // The lock file is still there, naming dead processes: stale, so nobody holds the directory.
    expect(await readFile(path.join(dir, LOCK_FILE), 'utf8')).toContain(`"brokerPid": ${started.pid}`);
    // Under load the lock was seen held once just after the broker pid read as gone (a JVM's teardown as seen
    // through /proc), so the lock must turn stale within a bound rather than at the very first look.
    await waitFor(async () => (await readRunningKafka(dir)) === undefined, {
      timeoutMs: 30_000,
      description: 'the dead owner\'s lock to read as stale',
    });

    const next = await startLocalKafka({ dataDir: dir });
    try {
      expect(await readRunningKafka(dir)).toMatchObject({ pid: next.pid, ownerPid: process.pid });
      await roundTrip(next.brokers);
    } finally {
      await next.stop();
    }
  });

  it('treats a lock naming a live pid with another start time as stale (pid reuse)', async () => {
    const dir = await stateDir();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir, { recursive: true });
    // Our own pid is alive, but it was not this process that took the lock (different start time).
    await writeFile(
      path.join(dir, LOCK_FILE),
      JSON.stringify({
        version: 1,
        state: 'starting',
        kind: 'attached',
        ownerLabel: 'a process long gone',
        ownerPid: process.pid,
        ownerStartTicks: 1,
        stateDir: dir,
        startedAt: new Date(0).toISOString(),
      }),
    );
    expect(await readRunningKafka(dir)).toBeUndefined();
    const up = await kafkaUp({ stateDir: dir });
    try {
      expect(up.alreadyRunning).toBe(false);
    } finally {
      await kafkaDown({ stateDir: dir });
    }
  });
});
