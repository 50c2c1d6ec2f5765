/**
 * Gauges read from the engine at scrape time: watermark lag (processing time minus the event-time clock) and the
 * open state it holds. Registered by whoever owns the engine (the standalone service, the all-in-one runner).
 */
import { Gauge, type Registry } from '@pathwatch/core';
import type { Engine } from './engine/index.js';

export function registerEngineGauges(registry: Registry, engine: Pick<Engine, 'stats' | 'watermarks'>): void {
  new Gauge({
    name: 'pathwatch_reconciler_watermark_lag_ms',
    help: 'Processing time minus the event-time clock (how far verdicts trail wall time); NaN before any event.',
    registers: [registry],
    collect() {
      const lag = engine.watermarks().lagMs;
      this.set(lag ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_state',
    help: 'State the engine holds, by kind: open requests, callbacks waiting for their dispatch, decided requests remembered for corrections, tombstones, remote bindings, pending deadlines.',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const s = engine.stats();
      this.set({ kind: 'open_requests' }, s.openRequests);
      this.set({ kind: 'pending_callbacks' }, s.pendingCallbacks);
      this.set({ kind: 'closed_traces' }, s.closedTraces);
      this.set({ kind: 'tombstones' }, s.tombstones);
      this.set({ kind: 'remote_bindings' }, s.remoteBindings);
      this.set({ kind: 'recovery_queue' }, s.recoveryQueue);
    },
  });
  new Gauge({
    name: 'pathwatch_reconciler_state_bytes',
    help: 'Off-heap bytes of the engine state (arena, slots, indexes, deadlines, tombstones).',
    registers: [registry],
    collect() {
      this.set(engine.stats().bytes.total);
    },
  });
}
