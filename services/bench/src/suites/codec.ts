// Codec suite: the schemas package's own benchmark (benchCodec), plus decode of simulated wire events against
// two baselines measured in the same run: raw avsc (no framing, no validation) and JSON.parse.
import { createCodec } from '@pathwatch/schemas';
import { benchCodec } from '../codec-bench.js';
import { simulatedRecords } from '../load.js';
import { sampleOwnMemory, mib } from '../memory.js';
import { step } from '../progress.js';
import type { Table, Target } from '../report.js';
import type { SuiteContext, SuiteOutput } from './types.js';

type InputKind = 'request' | 'dispatch' | 'callback';

/** CPU milliseconds (user + system) of `n` calls after a warm-up: steadier than wall time on a shared machine. */
function timeLoop(n: number, fn: (i: number) => void): number {
  const warm = Math.max(1, Math.floor(n / 5));
  for (let i = 0; i < warm; i++) fn(i);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

export function runCodecSuite(ctx: SuiteContext): SuiteOutput {
  const mem = sampleOwnMemory();
  const events = ctx.sizes.codecEvents;
  const s1 = step(`benchCodec (${events.toLocaleString('en-US')} events per measurement)`);
  const rows = benchCodec({ events });
  s1.done(`${rows.length} measurements`);

  const codecTable: Table = {
    title: 'benchCodec (@pathwatch/schemas): sample events, one core, wall-clock rates',
    headers: ['op', 'kind', 'format', 'writer', 'validate', 'bytes/event', 'events/s', 'ns/event'],
    rows: rows.map((r) => [
      r.op,
      r.kind,
      r.format,
      r.writer,
      r.validate ? 'yes' : 'no',
      Math.round(r.bytesPerEvent),
      r.eventsPerSec,
      Math.round(r.nsPerEvent),
    ]),
  };

  // Simulated events as they sit on the input topics, decoded per kind and format against the baselines.
  const s2 = step('decode of simulated wire events vs baselines');
  const codec = createCodec();
  const pool = 4096;
  const byKind = new Map<InputKind, { avro: Buffer[]; json: Buffer[] }>();
  const mixed: { kind: InputKind; bytes: Buffer }[] = [];
  for (const { event, record } of simulatedRecords(codec, { records: pool * 3 })) {
    if (event.kind === 'invalid') continue;
    const kind = event.kind;
    let k = byKind.get(kind);
    if (!k) byKind.set(kind, (k = { avro: [], json: [] }));
    const value = event.value;
    k.avro.push(codec.encode(kind, value, { format: 'avro' }));
    k.json.push(codec.encode(kind, value, { format: 'json' }));
    mixed.push({ kind, bytes: record.value });
  }
  let sink = 0;
  const decodeRows: (string | number)[][] = [];
  const rate = (n: number, ms: number): number => Math.round((n * 1000) / ms);
  for (const [kind, { avro, json }] of byKind) {
    const type = codec.catalog.current(kind).type;
    const nA = avro.length;
    const meanA = Math.round(avro.reduce((s, b) => s + b.length, 0) / nA);
    const meanJ = Math.round(json.reduce((s, b) => s + b.length, 0) / json.length);
    const codecAvro = timeLoop(events, (i) => {
      sink += codec.decode(kind, avro[i % nA]) === undefined ? 0 : 1;
    });
    const rawAvro = timeLoop(events, (i) => {
      sink += type.fromBuffer((avro[i % nA] as Buffer).subarray(5)) === undefined ? 0 : 1;
    });
    const codecJson = timeLoop(events, (i) => {
      sink += codec.decode(kind, json[i % nA]) === undefined ? 0 : 1;
    });
    const rawJson = timeLoop(events, (i) => {
      sink += (JSON.parse((json[i % nA] as Buffer).toString('utf8')) as unknown) === undefined ? 0 : 1;
    });
    decodeRows.push(
      [
        kind,
        'avro',
        meanA,
        rate(events, codecAvro),
        rate(events, rawAvro),
        `${Math.round((100 * rawAvro) / codecAvro)}%`,
      ],
      [
        kind,
        'json',
        meanJ,
        rate(events, codecJson),
        rate(events, rawJson),
        `${Math.round((100 * rawJson) / codecJson)}%`,
      ],
    );
  }
  const nM = mixed.length;
  const mixedMs = timeLoop(events, (i) => {
    const m = mixed[i % nM] as { kind: InputKind; bytes: Buffer };
    sink += codec.decode(m.kind, m.bytes) === undefined ? 0 : 1;
  });
  const mixedRate = rate(events, mixedMs);
  const meanMixed = Math.round(mixed.reduce((s, m) => s + m.bytes.length, 0) / nM);
  decodeRows.push(['input mix (as on the topics)', 'avro + 25% json', meanMixed, mixedRate, '—', '—']);
  if (sink === -1) decodeRows.length = 0;
  s2.done(`input mix ${mixedRate.toLocaleString('en-US')} events/s`);
  const peaks = mem.stop();

  const decodeTable: Table = {
    title: 'Decode of simulated input events (bench preset) vs baselines, one core',
    headers: [
      'kind',
      'format',
      'bytes/event',
      'codec decode + validate, events per CPU-s',
      'baseline, events per CPU-s',
      'baseline cost / codec cost',
    ],
    rows: decodeRows,
    caption:
      'Baselines: avro = avsc `Type.fromBuffer` of the body without framing, resolver or validation; json = `JSON.parse` of the same bytes. ' +
      'Rates divide by the CPU time of this process (one thread; steadier than wall time on a shared machine). The last column is the share of the codec cost the bare parse already has.',
  };
  const budgetShare = (500_000 / mixedRate) * 100;
  const targets: Target[] = [];
  return {
    targets,
    tables: [decodeTable, codecTable],
    settings: [
      ['events per measurement', events.toLocaleString('en-US')],
      ['warm-up', 'a fifth of the events before each measurement'],
      ['simulated pool', `${nM.toLocaleString('en-US')} events, preset bench, seed 1`],
    ],
    notes: [
      `No target of its own. Decoding the input mix costs ${Math.round(1e9 / mixedRate)} ns/event: at the engine target of 500k events/s per core, decoding alone would take ${Math.round(budgetShare)}% of that core.`,
      `Memory (this process): peak RSS ${Math.round(mib(peaks.rssBytes) ?? 0)} MiB, peak V8 heap used ${Math.round(mib(peaks.heapUsedBytes) ?? 0)} MiB.`,
    ],
    kafkaVersion: null,
  };
}
