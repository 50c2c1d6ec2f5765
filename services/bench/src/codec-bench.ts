// Codec micro-benchmark for `npm run bench`: returns figures, prints nothing.
import { KINDS, createCodec, sampleEvent } from '@pathwatch/schemas';
import type { Kind, WireFormat } from '@pathwatch/schemas';

export interface CodecBenchResult {
  /** What was measured: encode or decode (decode includes validation unless `validate` says otherwise). */
  readonly op: 'encode' | 'decode';
  readonly format: WireFormat;
  readonly kind: Kind;
  /** Which writer the bytes came from: `current`, or `v1` (resolved to the current reader). */
  readonly writer: 'current' | 'v1';
  readonly validate: boolean;
  readonly events: number;
  readonly bytesPerEvent: number;
  readonly eventsPerSec: number;
  readonly nsPerEvent: number;
}

export interface CodecBenchOptions {
  /**
   * Events per measurement (after a warm-up of a fifth as many).
   * @default 200000
   */
  events?: number | undefined;
  /** @default every kind */
  kinds?: readonly Kind[] | undefined;
}

/** Distinct values so the benchmark does not measure one cached string. */
const POOL = 256;

function measure(events: number, fn: (i: number) => void): number {
  const warm = Math.max(1, Math.floor(events / 5));
  for (let i = 0; i < warm; i++) fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < events; i++) fn(i);
  return Number(process.hrtime.bigint() - start);
}

/**
 * Encode and decode throughput on one core, per kind and format: realistic sample events, decode with
 * semantic validation (the consumer path), plus decode of v1 request bytes through the resolver.
 */
export function benchCodec(options: CodecBenchOptions = {}): CodecBenchResult[] {
  const events = options.events ?? 200_000;
  const kinds = options.kinds ?? KINDS;
  const now = Date.now();
  const codec = createCodec({ now: () => now });
  const results: CodecBenchResult[] = [];
  let sink = 0;

  const record = (r: Omit<CodecBenchResult, 'eventsPerSec' | 'nsPerEvent' | 'events'>, ns: number) =>
    results.push({ ...r, events, nsPerEvent: ns / events, eventsPerSec: Math.round((events * 1e9) / ns) });

  for (const kind of kinds) {
    const values = Array.from({ length: POOL }, (_, i) => sampleEvent(kind, now, i + 1));
    for (const format of ['avro', 'json'] as const) {
      const encoded = values.map((v) => codec.encode(kind, v, { format }));
      const bytesPerEvent = encoded.reduce((n, b) => n + b.length, 0) / POOL;
      const enc = measure(events, (i) => {
        sink += codec.encode(kind, values[i % POOL] as never, { format }).length;
      });
      record({ op: 'encode', format, kind, writer: 'current', validate: false, bytesPerEvent }, enc);
      const dec = measure(events, (i) => {
        sink += codec.decode(kind, encoded[i % POOL]) === undefined ? 0 : 1;
      });
      record({ op: 'decode', format, kind, writer: 'current', validate: true, bytesPerEvent }, dec);
    }
  }

  if (kinds.includes('request')) {
    // v1 bytes: the same events without the fields v2 added, framed with the v1 id.
    const v1 = codec.catalog.versions('request').find((v) => v.version === 1);
    if (v1) {
      const encoded = Array.from({ length: POOL }, (_, i) => {
        const {
          give_up_ms: _g,
          api_latency_ms: _a,
          attributes: _at,
          ...value
        } = sampleEvent('request', now, i + 1);
        const body = v1.type.toBuffer(value);
        const out = Buffer.alloc(5 + body.length);
        out.writeUInt32BE(v1.id, 1);
        body.copy(out, 5);
        return out;
      });
      const bytesPerEvent = encoded.reduce((n, b) => n + b.length, 0) / POOL;
      const dec = measure(events, (i) => {
        sink += codec.decode('request', encoded[i % POOL]) === undefined ? 0 : 1;
      });
      record(
        { op: 'decode', format: 'avro', kind: 'request', writer: 'v1', validate: true, bytesPerEvent },
        dec,
      );
    }
  }
  // Keeps the loops from being optimised away.
  if (sink === -1) results.length = 0;
  return results;
}
