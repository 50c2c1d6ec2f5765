/**
 * Live pipeline state as Prometheus gauges, computed when the registry is read (scrape, or the query API's
 * /v1/pipeline in the same process): records behind the high watermark per input topic-partition, and per
 * engine input its watermark lag and whether the clock treats it as idle, plus the event-time clock's lag and
 * source. Nothing is kept between reads.
 */
import { Gauge, type Registry } from '@pathwatch/core';
import type { ClockView } from './engine/index.js';

export function registerPipelineGauges(
  registry: Registry,
  lag: ReadonlyMap<string, number>,
  watermarks: () => ClockView,
  now: () => number,
): void {
  new Gauge({
    name: 'pathwatch_reconciler_consumer_lag_records',
    help: 'Records behind the high watermark per input topic-partition, as of its last fetched batch.',
    labelNames: ['topic', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [key, records] of lag) {
        const i = key.lastIndexOf(':');
        this.set({ topic: key.slice(0, i), partition: key.slice(i + 1) }, records);
      }
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_input_watermark_lag_ms',
    help: "Processing time minus an engine input's watermark (input kind x partition); absent before its first event.",
    labelNames: ['kind', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      const t = now();
      for (const w of watermarks().inputs)
        if (w.watermark !== null) this.set({ kind: w.kind, partition: String(w.partition) }, t - w.watermark);
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_input_idle',
    help: 'Whether the event-time clock treats an engine input as idle (1) or waits for its watermark (0).',
    labelNames: ['kind', 'partition'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of watermarks().inputs)
        this.set({ kind: w.kind, partition: String(w.partition) }, w.idle ? 1 : 0);
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_clock_lag_ms',
    help: 'Processing time minus the event-time clock (NaN until an event was seen).',
    registers: [registry],
    collect() {
      this.set(watermarks().lagMs ?? NaN);
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_clock_wall_clock',
    help: 'Whether the event-time clock advances with wall time because every input is idle (1) or follows the watermark (0).',
    registers: [registry],
    collect() {
      this.set(watermarks().source === 'wall_clock' ? 1 : 0);
    },
  });
}
