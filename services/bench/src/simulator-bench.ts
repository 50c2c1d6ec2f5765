// Simulator benchmark for `npm run bench`: returns figures, prints nothing.
import { createCodec } from '@pathwatch/schemas';
import { createEventStream, createGenerator, createSimulator, createWireEncoder } from '@pathwatch/simulator';
import type { PresetName, ScriptedEvent } from '@pathwatch/simulator';

export interface SimulatorBenchOptions {
  /**
   * Arrivals per measurement.
   * @default 50000
   */
  readonly units?: number;
  /** @default 'bench' */
  readonly preset?: PresetName;
}

export interface SimulatorBenchResult {
  readonly stage: 'generate' | 'generate+order' | 'encode' | 'run-max';
  readonly units: number;
  readonly events: number;
  readonly unitsPerSec: number;
  readonly eventsPerSec: number;
  /** Mean encoded size (encode and run stages). */
  readonly bytesPerEvent: number | null;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Generation, publish-order merge, encoding, and a full as-fast-as-possible run into a null sink. */
export async function benchSimulator(options: SimulatorBenchOptions = {}): Promise<SimulatorBenchResult[]> {
  const units = options.units ?? 50_000;
  const input = { preset: options.preset ?? 'bench', seed: 1, startEventTime: Date.now() } as const;
  const results: SimulatorBenchResult[] = [];
  const row = (
    stage: SimulatorBenchResult['stage'],
    events: number,
    secs: number,
    bytes: number | null,
  ): SimulatorBenchResult => ({
    stage,
    units,
    events,
    unitsPerSec: Math.round(units / secs),
    eventsPerSec: Math.round(events / secs),
    bytesPerEvent: bytes === null ? null : Math.round(bytes / events),
  });

  {
    const gen = createGenerator(input);
    let events = 0;
    const t = process.hrtime.bigint();
    for (let i = 0; i < units; i++) events += gen.next().events.length;
    results.push(row('generate', events, seconds(t), null));
  }

  const ordered: ScriptedEvent[] = [];
  {
    const stream = createEventStream(createGenerator(input), { maxUnits: units });
    const t = process.hrtime.bigint();
    for (let e = stream.next(); e; e = stream.next()) ordered.push(e);
    results.push(row('generate+order', ordered.length, seconds(t), null));
  }

  {
    const encoder = createWireEncoder(createCodec());
    let bytes = 0;
    const t = process.hrtime.bigint();
    for (const e of ordered) bytes += encoder.encode(e).value.length;
    results.push(row('encode', ordered.length, seconds(t), bytes));
  }

  {
    let bytes = 0;
    let events = 0;
    const sim = createSimulator({
      generatorOptions: input,
      send: () => undefined,
      sendBatch: (records) => {
        events += records.length;
        for (const r of records) bytes += r.value.length;
        return Promise.resolve();
      },
      expectationRetention: units,
    });
    const t = process.hrtime.bigint();
    await sim.runBatch({ units, speed: 'max' });
    results.push(row('run-max', events, seconds(t), bytes));
  }
  return results;
}
