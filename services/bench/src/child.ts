// Child process of the end-to-end runs, so a run's memory is its own and it can be killed with SIGKILL:
//   node child.js '<ChildConfig JSON>'
// Modes: `raw-consume` (the consume ceiling: our Kafka client, a consumer group, nothing else) and `reconciler`
// (buildReconciler from @pathwatch/reconciler with the stub engine or the product engine). Status goes to stdout
// as JSON lines with a "bench" field; the reconciler's own pino log lines go to stdout too.
import { createKafka, createMetrics, createRootLogger } from '@pathwatch/core';
import type { Logger } from '@pathwatch/core';
import * as reconcilerPkg from '@pathwatch/reconciler';
import type { EnginePort } from '@pathwatch/reconciler';
import { createCodec } from '@pathwatch/schemas';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { ChildConfig, ChildStatus } from './child-protocol.js';
import { productEngine } from './product-engine.js';
import { createStubEngine } from './stub-engine.js';

function cpuMs(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** Open requests of an engine that reports them (the product engine's stats(), the stub's counter). */
function openOf(engine: EnginePort): number | null {
  const e = engine as { stats?: () => { openRequests: number }; openRequests?: number };
  try {
    if (typeof e.stats === 'function') return e.stats().openRequests;
  } catch {
    return null;
  }
  return typeof e.openRequests === 'number' ? e.openRequests : null;
}

// Stall evidence for the verdict-delay figures: event-loop delay and GC pauses over the child's life.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
const gc = { maxMs: 0, totalMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.maxMs = Math.max(gc.maxMs, e.duration);
    gc.totalMs += e.duration;
  }
}).observe({ entryTypes: ['gc'] });

function stallFigures(): Pick<
  Extract<ChildStatus, { bench: 'stats' }>,
  'loopDelayP99Ms' | 'loopDelayMaxMs' | 'gcMaxMs' | 'gcTotalMs'
> {
  return {
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6,
    gcMaxMs: gc.maxMs,
    gcTotalMs: gc.totalMs,
  };
}

function emit(s: ChildStatus): void {
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

async function rawConsume(cfg: ChildConfig, logger: Logger): Promise<void> {
  const kafka = createKafka({ brokers: cfg.brokers, clientId: 'bench-raw', logger });
  const consumer = await kafka.consumer({
    groupId: cfg.groupId,
    topics: [cfg.topics.request, cfg.topics.dispatch, cfg.topics.callback],
    fromBeginning: true,
    coPartitioned: true,
  });
  let count = 0;
  let firstAt = 0;
  let cpuAtFirst = 0;
  let lastAt = 0;
  let finished = false;
  const report = setInterval(() => {
    const m = process.memoryUsage();
    emit({
      bench: 'stats',
      t: Date.now(),
      inputs: count,
      firstInputAt: firstAt || null,
      rss: m.rss,
      heapUsed: m.heapUsed,
      cpuMs: cpuMs(),
      cpuAtFirstInputMs: firstAt ? cpuAtFirst : null,
    });
  }, cfg.statsIntervalMs);
  const done = new Promise<void>((resolve) => {
    void consumer.run(async (batch, control) => {
      if (batch.messages.length === 0) return;
      if (firstAt === 0) {
        firstAt = Date.now();
        cpuAtFirst = cpuMs();
      }
      count += batch.messages.length;
      lastAt = Date.now();
      control.markProcessed((batch.messages[batch.messages.length - 1] as { offset: string }).offset);
      if (count >= cfg.expected && !finished) {
        finished = true;
        resolve();
      }
      return Promise.resolve();
    });
  });
  await done;
  clearInterval(report);
  const m = process.memoryUsage();
  emit({
    bench: 'done',
    t: Date.now(),
    count,
    firstAt,
    lastAt,
    rss: m.rss,
    heapUsed: m.heapUsed,
    cpuMs: cpuMs(),
    cpuAtFirstInputMs: cpuAtFirst,
  });
  await consumer.close();
}

async function reconciler(cfg: ChildConfig, logger: Logger): Promise<void> {
  const now = (): number => Date.now();
  let engine: EnginePort;
  if (cfg.engine === 'stub') engine = createStubEngine(now);
  else {
    const product = productEngine();
    if (!product)
      throw new Error(
        '@pathwatch/reconciler exports neither createEnginePort nor createEngine: no product engine to run',
      );
    engine = product.create({ now, logger });
  }
  const kafka = createKafka({ brokers: cfg.brokers, clientId: `bench-reconciler-${cfg.instanceId}`, logger });
  const app = reconcilerPkg.buildReconciler(
    { kafka, codec: createCodec({ topics: cfg.topics }), engine, logger, metrics: createMetrics(), now },
    {
      topics: cfg.topics,
      changelogTopic: cfg.changelogTopic,
      groupId: cfg.groupId,
      instanceId: cfg.instanceId,
      commitIntervalMs: cfg.commitIntervalMs,
      tickIntervalMs: cfg.tickIntervalMs,
      topicPartitions: cfg.partitions,
      createTopics: true,
    },
  );
  let firstInputAt: number | null = null;
  let cpuAtFirstInputMs: number | null = null;
  const report = setInterval(() => {
    const s = app.stats();
    if (firstInputAt === null && s.inputs > 0) {
      firstInputAt = Date.now();
      cpuAtFirstInputMs = cpuMs();
    }
    const m = process.memoryUsage();
    const verdicts = Object.values(s.verdicts).reduce((a, b) => a + b, 0);
    emit({
      bench: 'stats',
      t: Date.now(),
      inputs: s.inputs,
      firstInputAt,
      rss: m.rss,
      heapUsed: m.heapUsed,
      cpuMs: cpuMs(),
      cpuAtFirstInputMs,
      transactions: s.transactions,
      verdicts,
      open: openOf(engine),
      ...stallFigures(),
    });
  }, cfg.statsIntervalMs);
  report.unref();
  const stop = (): void => {
    clearInterval(report);
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await app.start();
  emit({ bench: 'started', t: Date.now() });
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as ChildConfig;
  const logger = createRootLogger({ level: cfg.logLevel, name: cfg.mode });
  if (cfg.mode === 'raw-consume') {
    await rawConsume(cfg, logger);
    process.exit(0);
  }
  await reconciler(cfg, logger);
}

main().catch((err: unknown) => {
  const e = err as { message?: string; code?: string };
  emit({
    bench: 'error',
    t: Date.now(),
    message: e.message ?? String(err),
    ...(e.code ? { code: e.code } : {}),
  });
  process.exit(1);
});
