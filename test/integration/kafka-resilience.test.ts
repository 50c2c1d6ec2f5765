/**
 * Kafka client resilience on real brokers.
 * - Fencing (the shared test broker): a second producer with the same transactional id makes the first one's next
 *   transaction fail at once with CORE_KAFKA_PRODUCER_FENCED, not retriable — and the reconciler stops on it with
 *   onFatal instead of retrying.
 * - Broker crash (a broker of this test, SIGKILLed and restarted on the same data dir and port): the reconciler, a
 *   separate process under load, logs the outage at error level naming its stage, reports unhealthy, recovers
 *   and keeps producing verdicts after the restart; a SIGTERM during a second outage ends it within its
 *   shutdown bound.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KafkaError,
  createKafka,
  isRetriable,
  type KafkaClient,
  type TransactionalProducer,
} from '@pathwatch/core';
import { startLocalKafka, type LocalKafka } from '@pathwatch/local-kafka';
import { createSimulator, producerSink } from '@pathwatch/simulator';
import { createCodec } from '@pathwatch/schemas';
import {
  collect,
  pipelineTopics,
  startReconciler,
  testKafkaClient,
  testLogger,
} from '../support/pipeline.js';
import { createTopic, uniqueName, waitFor } from '../support/kafka.js';
import { readJsonLine, spawnTs } from '../support/spawn-ts.js';

async function twoFreePorts(): Promise<[number, number]> {
  const servers = [net.createServer(), net.createServer()];
  const ports = await Promise.all(
    servers.map(
      (srv) =>
        new Promise<number>((resolve, reject) => {
          srv.once('error', reject);
          srv.listen(0, '127.0.0.1', () => resolve((srv.address() as net.AddressInfo).port));
        }),
    ),
  );
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return [ports[0] as number, ports[1] as number];
}

const CHILD = fileURLToPath(new URL('../support/fixtures/reconciler-service-child.ts', import.meta.url));

describe('fenced transactional producer (real broker)', () => {
  const logger = testLogger();
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  it('fails the fenced producer at once with a non-retriable CORE_KAFKA_PRODUCER_FENCED', async () => {
    const kafka: KafkaClient = testKafkaClient(logger);
    const topic = await createTopic('fenced');
    const transactionalId = uniqueName('fenced-tx');
    const first: TransactionalProducer = await kafka.transactionalProducer({ transactionalId });
    cleanups.push(() => first.close());
    const msg = { topic, messages: [{ key: 'k', value: Buffer.from('v') }] };
    await first.commit({ messages: [msg] });
    // Same transactional id: its InitProducerId bumps the epoch and fences `first`.
    const second = await kafka.transactionalProducer({ transactionalId });
    cleanups.push(() => second.close());
    const t0 = Date.now();
    const err = await first.commit({ messages: [msg] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('CORE_KAFKA_PRODUCER_FENCED');
    expect(isRetriable(err)).toBe(false);
    expect((err as KafkaError).hint).toMatch(/transactional id/);
    // Still fenced on a second try (no replacement behind the caller's back that would fence the other one).
    const again = await first.commit({ messages: [msg] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((again as KafkaError).code).toBe('CORE_KAFKA_PRODUCER_FENCED');
    expect(first.generation()).toBe(1);
    // The newer producer works.
    await second.commit({ messages: [msg] });
    // Nothing looped: kafkajs does not retry a fenced epoch either.
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('stops the reconciler with onFatal when a second producer takes its transactional id', async () => {
    const t = pipelineTopics('fenced-rc');
    const fatal: Error[] = [];
    const { app, codec } = startReconciler(t, { logger, onFatal: (e) => fatal.push(e) });
    cleanups.push(() => app.close());
    await app.start();
    const kafka = testKafkaClient(logger);
    const rogue = await kafka.transactionalProducer({ transactionalId: `${t.groupId}-0` });
    cleanups.push(() => rogue.close());
    // Input makes the reconciler commit a transaction with its (now fenced) producer.
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 11, ratePerSec: 50, faults: { invalidRecord: 0 } },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    await sim.runBatch({ units: 20, speed: 'max' });
    const err = await waitFor(() => fatal[0], { timeoutMs: 60_000, description: 'reconciler onFatal' });
    expect(err).toBeInstanceOf(KafkaError);
    expect((err as KafkaError).code).toBe('CORE_KAFKA_PRODUCER_FENCED');
    expect(fatal).toHaveLength(1);
    const health = app.health();
    expect(health.ok).toBe(false);
    expect(health.detail).toMatch(/reconciler\.(commit|decode): stopped: CORE_KAFKA_PRODUCER_FENCED/);
  });
});

interface LogLine {
  /** pino level label (the root logger formats levels as labels). */
  level: string;
  msg: string;
  stage?: string;
  outageMs?: number;
  producers?: number;
}

describe('broker crash during a transactional workload (own broker, SIGKILL + restart)', () => {
  const logger = testLogger();
  const cleanups: (() => Promise<void>)[] = [];
  let broker: LocalKafka | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  let dataDir = '';
  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    await broker?.stop().catch(() => undefined);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('recovers and keeps producing after the broker restarts; SIGTERM in an outage exits within the bound', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'pathwatch-outage-'));
    // Fixed ports, so the restarted broker is where the clients look for it.
    const [brokerPort, controllerPort] = await twoFreePorts();
    const startBroker = (): Promise<LocalKafka> =>
      startLocalKafka({ dataDir, brokerPort, controllerPort, heapMb: 384 });
    broker = await startBroker();
    const brokers = broker.brokers;
    const crash = async (): Promise<void> => {
      const b = broker;
      if (!b) return;
      process.kill(b.pid, 'SIGKILL');
      await b.exited;
      broker = undefined;
    };

    const t = pipelineTopics('outage');
    const stallTimeoutMs = 3000;
    const shutdownTimeoutMs = 10_000;
    child = spawnTs(CHILD, [
      JSON.stringify({
        brokers,
        topics: t.topics,
        changelog: t.changelog,
        groupId: t.groupId,
        stallTimeoutMs,
        shutdownTimeoutMs,
      }),
    ]);
    const logs: LogLine[] = [];
    let stderrTail = '';
    child.stderr.on('data', (c: Buffer) => {
      stderrTail = (stderrTail + c.toString()).slice(-20_000);
      for (const line of c.toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // a line split across chunks: the next one is whole
        }
      }
    });
    const healths: { ok: boolean; detail: string }[] = [];
    await readJsonLine(child, 120_000);
    child.stdout.on('data', (c: Buffer) => {
      for (const line of c.toString().split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const h = (JSON.parse(line) as { health?: { ok: boolean; detail: string } }).health;
          if (h) healths.push(h);
        } catch {
          // partial line
        }
      }
    });

    // Load: the simulator publishes continuously through its own client (its sends fail while the broker is
    // down; it carries on).
    const kafka = createKafka({ brokers, clientId: uniqueName('outage-sim'), logger });
    const codec = createCodec({ topics: t.topics });
    const producer = await kafka.producer();
    cleanups.push(() => producer.close());
    const sim = createSimulator({
      generatorOptions: { preset: 'fast', seed: 5, ratePerSec: 60, faults: { invalidRecord: 0 } },
      send: () => Promise.reject(new Error('batch sink only')),
      sendBatch: producerSink(producer),
      codec,
      logger,
    });
    sim.start({ speed: 1 });
    cleanups.push(() => sim.stop());

    // One reader for the whole test (read_committed); it may re-read after the crash, so count distinct ids.
    const verdicts = await collect(
      createKafka({ brokers, clientId: uniqueName('outage-read'), logger }),
      t.topics.verdict,
    );
    cleanups.push(verdicts.close);
    const distinctVerdicts = (): number =>
      new Set(verdicts.messages.map((m) => m.headers['pw-verdict-id'] ?? '')).size;
    await waitFor(() => distinctVerdicts() > 0, {
      timeoutMs: 60_000,
      intervalMs: 500,
      description: 'first verdicts before the crash',
    });

    // Crash the broker under load; keep it down past the stall bound, then restart it on the same data.
    await crash();
    await new Promise((r) => setTimeout(r, 8000));
    broker = await startBroker();

    const recovered = await waitFor(
      () => logs.find((l) => l.msg === 'output transactions recovered: committing again'),
      { timeoutMs: 120_000, intervalMs: 500, description: `recovery log line\n${stderrTail}` },
    );
    expect(recovered.stage).toBe('reconciler.commit');
    expect(recovered.outageMs).toBeGreaterThan(stallTimeoutMs);
    // The outage was reported by Pathwatch itself, at error level, naming the stage.
    const outage = logs.find(
      (l) =>
        (l.level === 'error' || l.level === 'fatal') &&
        l.msg.startsWith('output transactions keep failing') &&
        l.stage === 'reconciler.commit',
    );
    expect(outage, stderrTail).toBeDefined();
    expect(recovered.level).toBe('error');
    // Readiness said so during the outage, naming the stage, and is back to ready afterwards.
    expect(healths.some((h) => !h.ok && /reconciler\.(commit|decode)/.test(h.detail))).toBe(true);
    await waitFor(() => healths.at(-1)?.ok === true, { timeoutMs: 60_000, description: 'ready again' });
    // And it keeps producing: verdicts committed after the recovery reach a reader.
    await new Promise((r) => setTimeout(r, 3000));
    const before = distinctVerdicts();
    await waitFor(() => distinctVerdicts() > before + 10, {
      timeoutMs: 60_000,
      intervalMs: 500,
      description: `new verdicts after the broker restart (had ${before})`,
    });
    expect(logs.some((l) => l.msg.startsWith('FATAL'))).toBe(false);
    expect(child.exitCode).toBeNull();

    // Second outage: SIGTERM while transactions fail must end the process within the shutdown bound.
    const failuresBefore = logs.filter((l) => l.msg === 'output transaction failed: retrying').length;
    await crash();
    await waitFor(
      () => logs.filter((l) => l.msg === 'output transaction failed: retrying').length > failuresBefore,
      {
        timeoutMs: 90_000,
        intervalMs: 200,
        description: 'a failing transaction in the second outage',
      },
    );
    const c = child;
    const exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    c.kill('SIGTERM');
    const code = await exited;
    const tookMs = Date.now() - t0;
    expect(tookMs).toBeLessThan(shutdownTimeoutMs + 3000);
    expect(code === 0 || code === 1).toBe(true);
    child = undefined;
  }, 420_000);
});
