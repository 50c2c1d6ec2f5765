// The live pipeline gauges the dashboard's pipeline page reads: computed from the real engine's clock and the
// wiring's lag map whenever the registry is read.
import { describe, expect, it } from 'vitest';
import { Registry } from '@pathwatch/core';
import { createEngine } from '../src/engine/index.js';
import { registerPipelineGauges } from '../src/pipeline-gauges.js';
import { dispatch, ManualClock, request } from './events.js';

const T0 = 1_760_000_000_000;

async function values(registry: Registry, name: string) {
  const m = registry.getSingleMetric(name);
  return m ? (await m.get()).values.map((v) => ({ ...v.labels, value: v.value })) : undefined;
}

describe('pipeline gauges', () => {
  it('report consumer lag per partition, each input’s watermark lag and idleness, and the clock', async () => {
    const clock = new ManualClock(T0);
    const engine = createEngine({ maxOutOfOrdernessMs: 500, idleTimeoutMs: 1_000 }, clock);
    const lag = new Map<string, number>();
    const registry = new Registry();
    registerPipelineGauges(
      registry,
      lag,
      () => engine.watermarks(),
      () => clock.t,
    );

    // Nothing seen yet: no inputs, no clock lag.
    expect(await values(registry, 'pathwatch_reconciler_input_idle')).toEqual([]);
    expect(await values(registry, 'pathwatch_reconciler_clock_lag_ms')).toEqual([{ value: NaN }]);

    engine.onRequest(request({ rid: 'r1', at: T0, slaMs: 300, giveUpMs: 600_000 }), {
      partition: 1,
      offset: '0',
    });
    clock.t = T0 + 10;
    engine.onDispatch(dispatch({ rid: 'r1', at: T0 + 10 }), { partition: 1, offset: '0' });
    lag.set('pathwatch.requests:1', 7);
    lag.set('pathwatch.dispatches:1', 0);
    clock.t = T0 + 200;

    expect(await values(registry, 'pathwatch_reconciler_consumer_lag_records')).toEqual([
      { topic: 'pathwatch.requests', partition: '1', value: 7 },
      { topic: 'pathwatch.dispatches', partition: '1', value: 0 },
    ]);
    // Watermark = max event time - 500; lag = now - watermark.
    expect(await values(registry, 'pathwatch_reconciler_input_watermark_lag_ms')).toEqual([
      { kind: 'request', partition: '1', value: 200 + 500 },
      { kind: 'dispatch', partition: '1', value: 190 + 500 },
    ]);
    expect(await values(registry, 'pathwatch_reconciler_input_idle')).toEqual([
      { kind: 'request', partition: '1', value: 0 },
      { kind: 'dispatch', partition: '1', value: 0 },
    ]);
    expect(await values(registry, 'pathwatch_reconciler_clock_wall_clock')).toEqual([{ value: 0 }]);

    // Quiet past idleTimeoutMs: both inputs idle, the clock follows wall time.
    clock.t = T0 + 1_500;
    engine.tick();
    expect((await values(registry, 'pathwatch_reconciler_input_idle'))?.map((v) => v.value)).toEqual([1, 1]);
    expect(await values(registry, 'pathwatch_reconciler_clock_wall_clock')).toEqual([{ value: 1 }]);
    const clockLag = (await values(registry, 'pathwatch_reconciler_clock_lag_ms'))?.[0]?.value;
    expect(clockLag).toBe(engine.watermarks().lagMs);

    // A partition taken away disappears from the next read.
    lag.delete('pathwatch.requests:1');
    expect((await values(registry, 'pathwatch_reconciler_consumer_lag_records'))?.length).toBe(1);
  });
});
