/**
 * The simulator as its own process (`pathwatch simulator`, `node dist/main.js`): config, an idempotent Kafka
 * producer, its health/metrics server, signals. A finite run (SIM_UNITS) exits when it is done.
 */
import {
  codecFromConfig,
  createKafka,
  createMetrics,
  createRootLogger,
  Gauge,
  initCodec,
  kafkaSecurityFromConfig,
  onShutdown,
  startHealthServer,
  topicCreationFromConfig,
  topicNamesFromConfig,
  type Registry,
} from '@pathwatch/core';
import { createSimulatorApp } from './app.js';
import { loadSimulatorConfig } from './config.js';
import type { Simulator } from './simulator.js';

function registerSimulatorGauges(registry: Registry, sim: Simulator): void {
  new Gauge({
    name: 'pathwatch_simulator_events_sent',
    help: 'Events the simulator has sent since it started, by topic.',
    labelNames: ['topic'],
    registers: [registry],
    collect() {
      for (const [topic, n] of Object.entries(sim.stats().eventsByTopic)) this.set({ topic }, n);
    },
  });
  new Gauge({
    name: 'pathwatch_simulator_units',
    help: 'Simulated arrivals (requests, orphans, invalid records) generated since start.',
    registers: [registry],
    collect() {
      this.set(sim.stats().unitsGenerated);
    },
  });
  new Gauge({
    name: 'pathwatch_simulator_send_errors',
    help: 'Produce requests that failed since start.',
    registers: [registry],
    collect() {
      this.set(sim.stats().sendErrors);
    },
  });
  new Gauge({
    name: 'pathwatch_simulator_behind_schedule_ms',
    help: 'How late the last batch went out against its schedule (wall ms).',
    registers: [registry],
    collect() {
      this.set(sim.stats().behindScheduleMs);
    },
  });
}

/**
 * Starts the simulator; resolves when a finite run has ended and its producer is closed (continuous runs end
 * through signals, which exit the process). Throws ConfigError early.
 */
export async function runSimulatorService(env?: Readonly<Record<string, string | undefined>>): Promise<void> {
  const config = loadSimulatorConfig(env);
  const logger = createRootLogger({ level: config.logLevel, name: 'pathwatch-simulator' });
  const kafka = createKafka({
    brokers: config.brokers,
    clientId: 'pathwatch-simulator',
    logger,
    security: kafkaSecurityFromConfig(config),
  });
  // Configured topic names and, with SCHEMA_REGISTRY_URL, registry ids (init registers the subjects).
  const codec = codecFromConfig(config);
  await initCodec(codec, ['request', 'dispatch', 'callback']);
  const topics = topicNamesFromConfig(config);
  if (config.createTopics) {
    const admin = await kafka.admin();
    try {
      await admin.ensureTopics(
        [topics.request, topics.dispatch, topics.callback].map((topic) => ({
          topic,
          partitions: config.topicPartitions,
          ...topicCreationFromConfig(config),
        })),
      );
    } finally {
      await admin.close();
    }
  }
  // Idempotent producer: one request in flight per connection, so retries never reorder a partition.
  const producer = await kafka.producer({ idempotent: true });
  const app = createSimulatorApp({ config, producer, logger, codec });
  const metrics = createMetrics();
  registerSimulatorGauges(metrics.registry, app.simulator);
  const http = await startHealthServer({
    service: 'simulator',
    host: config.httpHost,
    port: config.httpPort,
    registry: metrics.registry,
    metricsToken: config.metricsToken,
    logger,
    readiness: {
      simulator: () => {
        const s = app.simulator.stats();
        return s.running
          ? { ok: true, detail: `${s.eventsSent} events sent` }
          : { ok: false, detail: 'not sending' };
      },
    },
  });
  let shuttingDown = false;
  onShutdown(
    logger,
    async () => {
      shuttingDown = true;
      await app.stop();
      await producer.close();
      await http.close();
    },
    { timeoutMs: config.shutdownTimeoutMs },
  );
  const report = await app.start();
  if (shuttingDown) return; // the shutdown handler closes the producer and exits
  logger.info({ ...report }, 'simulator run finished');
  await producer.close();
  await http.close();
}
