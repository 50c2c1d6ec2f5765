/**
 * Vitest globalSetup of the `integration` project: provides `kafkaBrokers` to every test (read them with
 * `kafkaBrokers()` from ./kafka.ts). Where the broker comes from, first match wins:
 *   1. KAFKA_BROKERS=host:port[,host:port]  an existing broker or cluster; left running.
 *   2. PATHWATCH_TEST_KAFKA=docker, or a reachable Docker engine (unless PATHWATCH_TEST_KAFKA=local):
 *      an apache/kafka container through testcontainers, same version as infra/kafka/pom.xml.
 *   3. the local broker from @pathwatch/local-kafka (jars from Maven Central, the machine's Java 17+).
 * Containers and local brokers are stopped in teardown.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import {
  LOCAL_KAFKA_CLUSTER_ID,
  defaultKafkaAssetsDir,
  kafkaVersionFromPom,
  localKafkaToolsFromEnv,
  startLocalKafka,
} from '@pathwatch/local-kafka';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    kafkaBrokers: string[];
  }
}

type Teardown = () => Promise<void>;

function note(message: string): void {
  process.stderr.write(`[integration setup] ${message}\n`);
}

export default async function setup(project: TestProject): Promise<Teardown> {
  const fromEnv = process.env['KAFKA_BROKERS']?.trim();
  if (fromEnv) {
    const brokers = fromEnv
      .split(',')
      .map((b) => b.trim())
      .filter((b) => b !== '');
    note(`using KAFKA_BROKERS=${brokers.join(',')}`);
    project.provide('kafkaBrokers', brokers);
    return () => Promise.resolve();
  }

  const mode = process.env['PATHWATCH_TEST_KAFKA']?.trim();
  if (mode !== undefined && mode !== '' && mode !== 'local' && mode !== 'docker') {
    throw new Error(`PATHWATCH_TEST_KAFKA must be "local" or "docker", got ${JSON.stringify(mode)}`);
  }
  if (mode === 'docker' || (mode !== 'local' && (await dockerEngineReachable()))) {
    const container = await startKafkaContainer();
    project.provide('kafkaBrokers', container.brokers);
    return container.stop;
  }

  const kafka = await startLocalKafka({
    ...localKafkaToolsFromEnv(),
    onProgress: (p) => note(p.message),
  });
  project.provide('kafkaBrokers', kafka.brokers);
  return () => kafka.stop();
}

/** `docker info` succeeds: a client is installed and an engine answers. */
function dockerEngineReachable(): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['info'], { stdio: 'ignore' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0);
    });
  });
}

async function startKafkaContainer(): Promise<{ brokers: string[]; stop: Teardown }> {
  const { GenericContainer, Wait, getContainerRuntimeClient } = await import('testcontainers');
  const pom = await readFile(path.join(defaultKafkaAssetsDir(), 'pom.xml'), 'utf8');
  const image = `apache/kafka:${kafkaVersionFromPom(pom)}`;
  const runtimeHost = (await getContainerRuntimeClient()).info.containerRuntime.host;
  const host = runtimeHost === 'localhost' ? '127.0.0.1' : runtimeHost;
  // The advertised address must be known before the broker starts, so the host port is fixed up front.
  const hostPort = await freeLocalPort();
  note(`starting ${image} with testcontainers on ${host}:${hostPort}`);
  const container = await new GenericContainer(image)
    .withEnvironment({
      CLUSTER_ID: LOCAL_KAFKA_CLUSTER_ID,
      KAFKA_NODE_ID: '1',
      KAFKA_PROCESS_ROLES: 'broker,controller',
      KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
      KAFKA_LISTENERS: 'PLAINTEXT://0.0.0.0:9092,BROKER://0.0.0.0:9094,CONTROLLER://localhost:9093',
      KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://${host}:${hostPort},BROKER://localhost:9094`,
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT',
      KAFKA_INTER_BROKER_LISTENER_NAME: 'BROKER',
      KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_NUM_PARTITIONS: '1',
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
      KAFKA_HEAP_OPTS: '-Xmx512m',
    })
    .withExposedPorts({ container: 9092, host: hostPort })
    .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
    .withStartupTimeout(180_000)
    .start();
  return {
    brokers: [`${host}:${hostPort}`],
    stop: async () => {
      await container.stop();
    },
  };
}

function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
