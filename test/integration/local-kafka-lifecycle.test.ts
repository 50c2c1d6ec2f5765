/**
 * Lifecycle of @pathwatch/local-kafka's own brokers (separate from the one global-setup provides): stop() really
 * stops, a SIGKILLed parent leaves no orphan, data dirs persist when asked, and kafkaUp/kafkaDown manage a broker
 * that outlives the process that started it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isPidAlive,
  isPortOpen,
  kafkaDown,
  kafkaUp,
  readRunningKafka,
  startLocalKafka,
} from '@pathwatch/local-kafka';
import type { KafkaUpResult } from '@pathwatch/local-kafka';
import { readJsonLine, spawnTs } from '../support/spawn-ts.js';
import { uniqueName, waitFor } from '../support/kafka.js';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`../support/fixtures/${name}`, import.meta.url));
const portOf = (broker: string | undefined): number => Number(broker?.split(':')[1]);

async function topicNames(brokers: string[]): Promise<string[]> {
  const admin = new Kafka({ clientId: uniqueName('lifecycle'), brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}

async function createTopic(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ clientId: uniqueName('lifecycle'), brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

const scratch: string[] = [];
async function scratchDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pathwatch-lifecycle-'));
  scratch.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

describe('startLocalKafka', () => {
  it('stop() ends the broker: pid gone, port closed, throwaway dir deleted', async () => {
    const kafka = await startLocalKafka();
    const port = portOf(kafka.brokers[0]);
    try {
      expect(kafka.brokers[0]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(isPidAlive(kafka.pid)).toBe(true);
      expect(await isPortOpen(port)).toBe(true);
      expect(existsSync(kafka.dataDir)).toBe(true);
      await topicNames(kafka.brokers);
    } finally {
      await kafka.stop();
    }
    expect(isPidAlive(kafka.pid)).toBe(false);
    expect(isPidAlive(kafka.watchdogPid)).toBe(false);
    expect(await isPortOpen(port)).toBe(false);
    expect(existsSync(kafka.dataDir)).toBe(false);
    expect(await kafka.exited).toMatchObject({ expected: true });
    await kafka.stop(); // idempotent
  });

  it('keeps a given dataDir, so topics survive a restart', async () => {
    const dataDir = await scratchDir();
    const topic = uniqueName('persisted');
    const first = await startLocalKafka({ dataDir });
    try {
      await createTopic(first.brokers, topic);
    } finally {
      await first.stop();
    }
    expect(existsSync(dataDir)).toBe(true);

    const second = await startLocalKafka({ dataDir });
    try {
      expect(await topicNames(second.brokers)).toContain(topic);
    } finally {
      await second.stop();
    }
  });

  it('leaves no orphan when its parent process is SIGKILLed', async () => {
    const child = spawnTs(fixture('broker-child.ts'));
    const started = await readJsonLine<{
      pid: number;
      watchdogPid: number;
      brokers: string[];
      dataDir: string;
    }>(child, 150_000);
    const port = portOf(started.brokers[0]);
    expect(isPidAlive(started.pid)).toBe(true);
    expect(await isPortOpen(port)).toBe(true);

    child.kill('SIGKILL');

    await waitFor(() => !isPidAlive(started.pid), {
      timeoutMs: 30_000,
      description: `broker pid ${started.pid} to exit`,
    });
    await waitFor(() => !isPidAlive(started.watchdogPid), {
      timeoutMs: 10_000,
      description: 'watchdog to exit',
    });
    expect(await isPortOpen(port)).toBe(false);
    await waitFor(() => !existsSync(started.dataDir), {
      timeoutMs: 10_000,
      description: 'throwaway dir removal',
    });
  });
});

describe('kafkaUp / kafkaDown', () => {
  it('starts a broker that outlives its starter, finds it again, and stops it', async () => {
    const stateDir = path.join(await scratchDir(), 'kafka');
    const child = spawnTs(fixture('kafka-up-child.ts'), [stateDir]);
    const exitedChild = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const up = await readJsonLine<KafkaUpResult>(child, 150_000);
    try {
      // The starter exits by itself: nothing of the detached broker keeps its event loop alive.
      expect(await exitedChild).toBe(0);
      expect(up.alreadyRunning).toBe(false);
      expect(isPidAlive(up.pid)).toBe(true);
      expect(await topicNames(up.brokers)).toBeInstanceOf(Array);

      const found = await readRunningKafka(stateDir);
      expect(found).toMatchObject({ pid: up.pid, brokers: up.brokers });

      const again = await kafkaUp({ stateDir });
      expect(again).toMatchObject({ alreadyRunning: true, pid: up.pid });
    } finally {
      const down = await kafkaDown({ stateDir });
      expect(down).toMatchObject({ stopped: true, pid: up.pid, forced: false });
    }
    expect(isPidAlive(up.pid)).toBe(false);
    expect(await isPortOpen(portOf(up.brokers[0]))).toBe(false);
    expect(await readRunningKafka(stateDir)).toBeUndefined();
    expect(await kafkaDown({ stateDir })).toMatchObject({ stopped: false });
  });
});
