/**
 * Prometheus metrics. One registry per process; every metric carries the pipeline `stage` label where it
 * applies so logs, metrics and dead-letter headers share names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry };

export interface CoreMetrics {
  readonly registry: Registry;
  /** Records consumed per stage and topic. */
  readonly eventsIn: Counter<'stage' | 'topic'>;
  /** Records sent to the dead-letter topic, by stage and reason code. */
  readonly deadLetters: Counter<'stage' | 'reason_code'>;
  /** Records produced per stage and topic. */
  readonly eventsOut: Counter<'stage' | 'topic'>;
  /** Records behind the partition's high watermark, per consuming stage, as of its last fetched batch. */
  readonly consumerLag: Gauge<'stage' | 'topic' | 'partition'>;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): CoreMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'pathwatch_' });
  return {
    registry,
    eventsIn: new Counter({
      name: 'pathwatch_events_in_total',
      help: 'Records consumed, by pipeline stage and topic.',
      labelNames: ['stage', 'topic'],
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'pathwatch_dead_letters_total',
      help: 'Records sent to the dead-letter topic, by stage and reason code.',
      labelNames: ['stage', 'reason_code'],
      registers: [registry],
    }),
    eventsOut: new Counter({
      name: 'pathwatch_events_out_total',
      help: 'Records produced, by pipeline stage and topic.',
      labelNames: ['stage', 'topic'],
      registers: [registry],
    }),
    consumerLag: new Gauge({
      name: 'pathwatch_consumer_lag_records',
      help: "Records behind the partition's high watermark, by consuming stage, topic and partition (as of the last fetched batch).",
      labelNames: ['stage', 'topic', 'partition'],
      registers: [registry],
    }),
  };
}
