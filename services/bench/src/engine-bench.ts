// In-process engine benchmark, the one engine figure of BENCHMARKS.md (issue 3 targets): events/s on one core with and without Avro decoding,
// per-event cost percentiles, retained bytes per open request at 1M open requests. Returns figures; prints
// nothing. Traffic is synthetic but shaped like the simulator's (same id formats, retries, duplicates, late
// and missing outcomes, callbacks without request_id), on a simulated wall clock that follows the traffic so
// deadlines fire as in production.
import os from 'node:os';
import v8 from 'node:v8';
import { createEngine as productCreateEngine } from '@pathwatch/reconciler';
import type { EngineOptions, WallClock } from '@pathwatch/reconciler';
import { createCodec } from '@pathwatch/schemas';
import type { DispatchAttempted, ProviderCallback, RequestAccepted } from '@pathwatch/schemas';
import type { BenchedEngine } from './baseline-engine.js';
import { fullGc, retainedBytes as retained } from './gc.js';

/** What the benchmark drives: the product's createEngine, or another build of it (A/B) or a baseline. */
export type EngineFactory = (options: EngineOptions, wall: WallClock) => BenchedEngine;

/** The factory of the current benchEngine call. */
let createEngine: EngineFactory = productCreateEngine;

export interface EngineBenchOptions {
  /** Smaller sizes for a quick run. @default false */
  readonly quick?: boolean | undefined;
  /** Open requests for the memory figure. @default 1_000_000 (quick: 100_000) */
  readonly openRequests?: number | undefined;
  /** Requests in the throughput stream (about 4.3 events each). @default 400_000 (quick: 60_000) */
  readonly requests?: number | undefined;
  /** Measured passes (after one warm-up); the median is reported. @default 3 (quick: 2) */
  readonly passes?: number | undefined;
  /** Engine options. @default engine defaults */
  readonly engineOptions?: EngineOptions | undefined;
  /** The engine to measure. @default createEngine of @pathwatch/reconciler */
  readonly createEngine?: EngineFactory | undefined;
  /**
   * Wire codec for the decoding figure. @default createCodec() of `@pathwatch/schemas`
   */
  readonly codec?: BenchCodec | undefined;
  /**
   * Only the headline figures: events/s with and without decoding, CPU rates, bytes per open request. Skips the
   * decode-only rate, the per-event percentiles and the with-callback memory fill (those figures are null). For
   * baselines measured next to the engine. @default false
   */
  readonly headlineOnly?: boolean | undefined;
}

export interface BenchCodec {
  encode(kind: 'request' | 'dispatch' | 'callback', value: unknown): Uint8Array;
  decode(kind: 'request' | 'dispatch' | 'callback', bytes: Uint8Array): unknown;
}

export interface EngineBenchResult {
  /** Headline: events/s on one core including Avro decoding (null without a codec). */
  readonly eventsPerSec: number | null;
  readonly eventsPerSecWithoutDecoding: number;
  /** The same two figures from process CPU time instead of wall time (robust on a shared machine; counts GC helper threads). */
  readonly cpuEventsPerSec: number | null;
  readonly cpuEventsPerSecWithoutDecoding: number;
  /** Decoding alone, same bytes, for reference (null with headlineOnly). */
  readonly decodeOnlyEventsPerSec: number | null;
  /** Retained bytes (V8 heap + ArrayBuffers, after full GC) per open request (accepted + dispatched). */
  readonly bytesPerOpenRequest: number;
  /** Same, with one intermediate callback stored per request (null with headlineOnly). */
  readonly bytesPerOpenRequestWithCallback: number | null;
  /** The engine's own accounting of its off-heap bytes per open request. */
  readonly engineBytesPerOpenRequest: number;
  readonly openRequests: number;
  /** Per-event processing cost without decoding (timer overhead subtracted), nanoseconds (null with headlineOnly). */
  readonly perEventNs: {
    readonly p50: number;
    readonly p99: number;
    readonly p999: number;
    readonly max: number;
  } | null;
  readonly stream: {
    readonly requests: number;
    readonly events: number;
    readonly verdicts: number;
    readonly actions: number;
    readonly changelogRecords: number;
    readonly verdictClasses: Readonly<Record<string, number>>;
  };
  readonly targets: readonly {
    readonly figure: string;
    readonly target: string;
    readonly measured: string;
    readonly met: boolean;
  }[];
  readonly environment: {
    readonly node: string;
    readonly loadAverage1m: number;
    readonly cpus: number;
    readonly youngGenerationMiB: number;
  };
  readonly notes: readonly string[];
}

// ---------------------------------------------------------------------------------------------- traffic

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const HEX = '0123456789abcdef';
const COUNTRIES = ['DE', 'FR', 'GB', 'US', 'BR', 'IN', 'NG', 'ID', 'MX', 'ES'];
const TEMPLATES = ['otp-v1', 'otp-v2', 'otp-v3', 'receipt', 'alert'];
const PROVIDERS = ['twilio', 'vonage', 'sinch'];
const ROUTES = ['r1', 'r2', 'r3', 'r4'];
const TENANTS = ['tenant-a', 'tenant-b', 'tenant-c', 'tenant-d', 'tenant-e'];
const BASE = 1_767_225_600_000; // 2026-01-01
const PARTITIONS = 4;

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  str(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
}

type Kind = 'request' | 'dispatch' | 'callback';
interface Item {
  readonly kind: Kind;
  readonly at: number; // arrival (simulated wall time)
  readonly partition: number;
  readonly ev: RequestAccepted | DispatchAttempted | ProviderCallback;
}

function partitionOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % PARTITIONS;
}

function sortableId(prefix: string, t: number, rng: Rng): string {
  let time = '';
  let x = Math.floor(t);
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[x % 32]! + time;
    x = Math.floor(x / 32);
  }
  return `${prefix}_${time}${rng.str(CROCKFORD, 16)}`;
}

function envelope(
  rng: Rng,
  t: number,
  tenant: string,
  rid: string | null,
  source: string,
): RequestAccepted['envelope'] {
  return {
    event_id: sortableId('evt', t, rng),
    source,
    occurred_at: t,
    recorded_at: t + 2,
    tenant_id: tenant,
    request_id: rid,
    schema_version: 1,
  };
}

/** Events of one request, pushed into `out` (arrival times are event time + pipeline delay). */
function requestEvents(
  i: number,
  rng: Rng,
  ratePerSec: number,
  out: Item[],
  onlyOpen = false,
  withCallback = false,
): void {
  const t0 = BASE + Math.floor((i * 1000) / ratePerSec);
  const tenant = TENANTS[i % TENANTS.length]!;
  const rid = sortableId('req', t0, rng);
  const p = partitionOf(rid);
  const sms = rng.next() < 0.85;
  const req: RequestAccepted = {
    envelope: { ...envelope(rng, t0, tenant, rid, '//notify/api-gateway/pod-7'), schema_version: 2 },
    operation: sms ? 'otp.send' : 'receipt.email',
    channel: sms ? 'sms' : 'email',
    idempotency_key: null,
    input_fingerprint: `fp_${rng.str(HEX, 16)}`,
    sla_ms: sms ? 10_000 : null,
    give_up_ms: sms ? 120_000 : null,
    api_status: 202,
    api_latency_ms: 12,
    attributes: {
      country: COUNTRIES[rng.int(COUNTRIES.length)]!,
      template: TEMPLATES[rng.int(TEMPLATES.length)]!,
    },
  };
  out.push({ kind: 'request', at: t0 + 5, partition: p, ev: req });
  const r = rng.next();
  const provider = PROVIDERS[rng.int(PROVIDERS.length)]!;
  let attemptNo = 1;
  let tDisp = t0 + 40;
  const disp = (
    submit: DispatchAttempted['submit_outcome'],
    prov: string,
    reason: DispatchAttempted['attempt_reason'],
  ): DispatchAttempted => ({
    envelope: envelope(rng, tDisp, tenant, rid, '//notify/dispatcher/pod-3'),
    attempt_id: `${rid}/a${attemptNo}`,
    attempt_no: attemptNo,
    attempt_reason: reason,
    parent_attempt_id: attemptNo > 1 ? `${rid}/a${attemptNo - 1}` : null,
    route: ROUTES[rng.int(ROUTES.length)]!,
    provider: prov,
    provider_message_id: submit === 'accepted' ? `SM${rng.str(HEX, 24)}` : null,
    submit_outcome: submit,
    submit_latency_ms: 80,
    error_code: submit === 'accepted' ? null : 'E503',
  });
  let d: DispatchAttempted;
  if (!onlyOpen && r < 0.05) {
    // Submit failure, then failover to another provider.
    out.push({ kind: 'dispatch', at: tDisp + 20, partition: p, ev: disp('error', provider, 'initial') });
    attemptNo = 2;
    tDisp += 400;
    d = disp('accepted', PROVIDERS[(PROVIDERS.indexOf(provider) + 1) % PROVIDERS.length]!, 'failover');
  } else d = disp('accepted', provider, 'initial');
  out.push({ kind: 'dispatch', at: tDisp + 20, partition: p, ev: d });
  const pmid = d.provider_message_id ?? '';
  const cb = (
    t: number,
    status: ProviderCallback['status'],
    isFinal: boolean,
    evidence: ProviderCallback['evidence_level'],
    withRid: boolean,
  ): Item => {
    const ev: ProviderCallback = {
      envelope: envelope(rng, t, tenant, withRid ? rid : null, `//notify/webhooks/${d.provider}`),
      provider: d.provider,
      provider_message_id: pmid,
      provider_event_id: rng.next() < 0.5 ? `${d.provider}-ev-${rng.str(HEX, 16)}` : null,
      attempt_id: null,
      status_raw: status === 'delivered' ? 'DELIVRD' : status.toUpperCase(),
      status,
      is_final: isFinal,
      error_code: status === 'undelivered' ? '30003' : null,
      error_category: status === 'undelivered' ? 'unroutable' : null,
      evidence_level: evidence,
      provider_event_time: t - 200,
      provider_sequence: null,
    };
    return {
      kind: 'callback',
      at: t + 150,
      partition: withRid ? p : partitionOf(`${d.provider}:${pmid}`),
      ev,
    };
  };
  if (onlyOpen) {
    if (withCallback) out.push(cb(tDisp + 800, 'sent', false, 'operator', true));
    return;
  }
  out.push(cb(tDisp + 800, 'sent', false, 'operator', rng.next() < 0.7));
  const o = rng.next();
  if (o < 0.86) {
    const last = cb(tDisp + 2_000 + rng.int(3_000), 'delivered', true, 'handset', rng.next() < 0.7);
    out.push(last);
    if (rng.next() < 0.03)
      out.push({
        ...last,
        at: last.at + 500,
        ev: { ...last.ev, envelope: { ...last.ev.envelope, event_id: sortableId('evt', last.at, rng) } },
      });
  } else if (o < 0.92)
    out.push(cb(tDisp + 12_000 + rng.int(20_000), 'delivered', true, 'handset', true)); // late
  else if (o < 0.95) out.push(cb(tDisp + 3_000, 'undelivered', true, 'operator', true)); // failed
  // else: no final callback (missing_outcome at give-up)
}

function stream(requests: number, seed: number): Item[] {
  const rng = new Rng(seed);
  const out: Item[] = [];
  for (let i = 0; i < requests; i++) requestEvents(i, rng, 20_000, out);
  // Arrival order (stable), as a consumer would see the merged inputs.
  return out.sort((a, b) => a.at - b.at);
}

// ---------------------------------------------------------------------------------------------- runs

function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

interface PassResult {
  readonly seconds: number;
  /** Process CPU time (user + system, all threads: GC helpers and JIT included) of the timed work. */
  readonly cpuSeconds: number;
  readonly verdicts: number;
  readonly actions: number;
  readonly changelog: number;
  readonly classes: Record<string, number>;
}

/** The stream as the consumer sees it: Avro bytes in one buffer, arrival metadata in typed arrays. */
interface Wire {
  readonly n: number;
  readonly bytes: Buffer;
  readonly offsets: Int32Array; // n + 1
  readonly kinds: Uint8Array; // 0 request, 1 dispatch, 2 callback
  readonly partitions: Uint8Array;
  readonly at: Float64Array;
}

const KINDS: readonly Kind[] = ['request', 'dispatch', 'callback'];

/** The value to encode for an item: decoded values carry every Avro field; the envelope schema_version is the writer's (1 except requests). */
function wireValue(it: Item): Item['ev'] {
  return it.kind === 'request' ? it.ev : { ...it.ev, envelope: { ...it.ev.envelope, schema_version: 1 } };
}

function toWire(items: readonly Item[], codec: BenchCodec): Wire {
  const n = items.length;
  const parts: Uint8Array[] = [];
  const offsets = new Int32Array(n + 1);
  const kinds = new Uint8Array(n);
  const partitions = new Uint8Array(n);
  const at = new Float64Array(n);
  let o = 0;
  for (let i = 0; i < n; i++) {
    const it = items[i]!;
    const b = codec.encode(it.kind, wireValue(it));
    parts.push(b);
    offsets[i] = o;
    o += b.length;
    kinds[i] = KINDS.indexOf(it.kind);
    partitions[i] = it.partition;
    at[i] = it.at;
  }
  offsets[n] = o;
  const bytes = Buffer.allocUnsafe(o);
  for (let i = 0; i < n; i++) bytes.set(parts[i]!, offsets[i]);
  return { n, bytes, offsets, kinds, partitions, at };
}

const CHUNK = 1_000; // a consumer fetch batch: decoded together, then processed

/** One pass: an engine on a simulated wall clock, drained every 100 ms of it, counting what it emits. */
class PassRun {
  wall = BASE;
  private nextFlush = BASE + 100;
  readonly engine: BenchedEngine;
  readonly at = { partition: 0, offset: '0' };
  verdicts = 0;
  actions = 0;
  changelog = 0;
  readonly classes: Record<string, number> = {};

  constructor(options: EngineOptions) {
    this.engine = createEngine(options, { now: () => this.wall });
  }

  /** Moves the wall clock to `t`, draining at every 100 ms boundary passed. */
  advanceTo(t: number): void {
    this.wall = t;
    while (t >= this.nextFlush) {
      this.flush();
      this.nextFlush += 100;
    }
  }

  feed(kind: number, ev: unknown, partition: number): void {
    this.at.partition = partition;
    if (kind === 0) this.engine.onRequest(ev as RequestAccepted, this.at);
    else if (kind === 1) this.engine.onDispatch(ev as DispatchAttempted, this.at);
    else this.engine.onCallback(ev as ProviderCallback, this.at);
  }

  /** A quiet tail of 200 s of wall time, so every deadline passes. */
  quietTail(): void {
    const end = this.wall + 200_000;
    while (this.wall < end) {
      this.wall += 100;
      this.flush();
    }
  }

  result(seconds: number, cpuSeconds: number): PassResult {
    const { verdicts, actions, changelog, classes } = this;
    return { seconds, cpuSeconds, verdicts, actions, changelog, classes };
  }

  private flush(): void {
    this.engine.tick();
    const o = this.engine.drainOutputs();
    this.verdicts += o.verdicts.length;
    this.actions += o.actions.length;
    for (const v of o.verdicts) this.classes[v.verdict] = (this.classes[v.verdict] ?? 0) + 1;
    this.changelog += this.engine.drainChangelog().length;
  }
}

/**
 * Feeds the stream; tick, drain outputs and drain the changelog every 100 ms of simulated wall time, then a
 * quiet tail until every deadline passed. With `decode` the timed work includes decoding each record; without,
 * records are decoded in untimed chunks first (so a million retained event objects do not distort GC).
 */
function passWire(
  w: Wire,
  codec: BenchCodec,
  options: EngineOptions,
  decode: boolean,
  perEventSamples: Float64Array | null,
): PassResult {
  const run = new PassRun(options);
  let seconds = 0;
  let cpuSeconds = 0;
  const chunk: unknown[] = new Array<unknown>(CHUNK);
  for (let c = 0; c < w.n; c += CHUNK) {
    const end = Math.min(w.n, c + CHUNK);
    if (!decode)
      for (let i = c; i < end; i++)
        chunk[i - c] = codec.decode(KINDS[w.kinds[i]!]!, w.bytes.subarray(w.offsets[i], w.offsets[i + 1]));
    const t0 = performance.now();
    const c0 = cpuNow();
    for (let i = c; i < end; i++) {
      run.advanceTo(w.at[i]!);
      const partition = w.partitions[i]!;
      const kind = w.kinds[i]!;
      if (perEventSamples) {
        const ev = chunk[i - c];
        const a = performance.now();
        run.feed(kind, ev, partition);
        perEventSamples[i] = (performance.now() - a) * 1e6;
      } else if (decode)
        run.feed(
          kind,
          codec.decode(KINDS[kind]!, w.bytes.subarray(w.offsets[i], w.offsets[i + 1])),
          partition,
        );
      else run.feed(kind, chunk[i - c], partition);
    }
    seconds += (performance.now() - t0) / 1000;
    cpuSeconds += cpuNow() - c0;
  }
  chunk.length = 0;
  const t0 = performance.now();
  const c0 = cpuNow();
  run.quietTail();
  seconds += (performance.now() - t0) / 1000;
  cpuSeconds += cpuNow() - c0;
  return run.result(seconds, cpuSeconds);
}

const ITEM_KIND = { request: 0, dispatch: 1, callback: 2 } as const;

/** Without a codec: feeds pre-built objects (kept in memory). */
function pass(items: readonly Item[], options: EngineOptions): PassResult {
  const run = new PassRun(options);
  const t0 = performance.now();
  const c0 = cpuNow();
  for (const it of items) {
    run.advanceTo(it.at);
    run.feed(ITEM_KIND[it.kind], it.ev, it.partition);
  }
  run.quietTail();
  return run.result((performance.now() - t0) / 1000, cpuNow() - c0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

function percentiles(
  samples: Float64Array,
  n: number,
): { p50: number; p99: number; p999: number; max: number } {
  const s = samples.subarray(0, n).sort();
  const q = (p: number) => s[Math.min(n - 1, Math.floor(p * n))] ?? NaN;
  return { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: s[n - 1] ?? NaN };
}

/** Per-event cost over a pass without decoding: one timed call per event, timer overhead subtracted. */
function perEvent(
  w: Wire,
  codec: BenchCodec,
  options: EngineOptions,
): { p50: number; p99: number; p999: number; max: number } {
  const o = new Float64Array(10_000);
  for (let i = 0; i < o.length; i++) {
    const a = performance.now();
    o[i] = performance.now() - a;
  }
  const overheadNs = median(Array.from(o)) * 1e6;
  const samples = new Float64Array(w.n);
  passWire(w, codec, options, false, samples);
  for (let i = 0; i < w.n; i++) samples[i] = Math.max(0, samples[i]! - overheadNs);
  const p = percentiles(samples, w.n);
  const r = (x: number) => Math.round(x);
  return { p50: r(p.p50), p99: r(p.p99), p999: r(p.p999), max: r(p.max) };
}

/**
 * Retained bytes per open request after creating `n` of them. Events are generated on the fly (not kept) and,
 * with a codec, encoded and decoded one by one before they are fed, so the engine keeps what a consumer hands it
 * (fresh flat strings of the decoded record), not the generator's objects (ropes, strings shared between events).
 */
function memory(
  n: number,
  options: EngineOptions,
  withCallback: boolean,
  codec: BenchCodec | null,
): { bytes: number; engineBytes: number } {
  const wall = BASE;
  const rng = new Rng(7);
  const batch: Item[] = [];
  let engine: BenchedEngine | null = null;
  fullGc();
  const before = retained();
  engine = createEngine(options, { now: () => wall });
  const at = { partition: 0, offset: '0' };
  for (let i = 0; i < n; i++) {
    batch.length = 0;
    requestEvents(i, rng, 1_000_000, batch, true, withCallback);
    for (const it of batch) {
      at.partition = it.partition;
      const ev = codec ? codec.decode(it.kind, codec.encode(it.kind, wireValue(it))) : it.ev;
      if (it.kind === 'request') engine.onRequest(ev as RequestAccepted, at);
      else if (it.kind === 'dispatch') engine.onDispatch(ev as DispatchAttempted, at);
      else engine.onCallback(ev as ProviderCallback, at);
    }
    // The wiring drains after every commit interval; nothing is due (the wall clock stands still).
    if (i % 10_000 === 9_999) {
      engine.drainOutputs();
      engine.drainChangelog();
    }
  }
  engine.drainOutputs();
  engine.drainChangelog();
  batch.length = 0;
  const after = retained();
  const st = engine.stats();
  if (st.openRequests !== n) throw new Error(`expected ${n} open requests, engine has ${st.openRequests}`);
  const result = { bytes: (after - before) / n, engineBytes: st.bytes.total / n };
  engine = null;
  return result;
}

function loadCodec(): BenchCodec {
  return createCodec({ now: () => Date.now() });
}

/** Runs the engine benchmark (synchronous work; a promise so a failure is a rejection like the other suites'). */
export function benchEngine(opts: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  return Promise.resolve().then(() => runEngineBench(opts));
}

function runEngineBench(opts: EngineBenchOptions): EngineBenchResult {
  const quick = opts.quick ?? false;
  const nOpen = opts.openRequests ?? (quick ? 100_000 : 1_000_000);
  const nReq = opts.requests ?? (quick ? 60_000 : 400_000);
  const passes = opts.passes ?? (quick ? 2 : 3);
  const options = opts.engineOptions ?? {};
  const headlineOnly = opts.headlineOnly ?? false;
  const notes: string[] = [];

  createEngine = opts.createEngine ?? productCreateEngine;
  const codec: BenchCodec | null = opts.codec ?? loadCodec();
  let withDecode: number | null = null;
  let decodeOnly: number | null = null;
  const plain: number[] = [];
  const plainCpu: number[] = [];
  const decodeCpu: number[] = [];
  let last: PassResult | null = null;
  let perEventNs: EngineBenchResult['perEventNs'] = null;
  let nEvents = 0;
  if (codec) {
    let w: Wire | null = toWire(stream(nReq, 42), codec);
    nEvents = w.n;
    fullGc();
    // Warm-up, then measured passes (fresh engine each): engine only, then decoding included.
    passWire(w, codec, options, false, null);
    for (let k = 0; k < passes; k++) {
      fullGc();
      last = passWire(w, codec, options, false, null);
      plain.push(w.n / last.seconds);
      plainCpu.push(w.n / last.cpuSeconds);
    }
    passWire(w, codec, options, true, null);
    const rates: number[] = [];
    for (let k = 0; k < passes; k++) {
      fullGc();
      const r = passWire(w, codec, options, true, null);
      rates.push(w.n / r.seconds);
      decodeCpu.push(w.n / r.cpuSeconds);
    }
    withDecode = median(rates);
    if (!headlineOnly) {
      const d: number[] = [];
      for (let k = 0; k < passes; k++) {
        const t0 = performance.now();
        let sink = 0;
        for (let i = 0; i < w.n; i++)
          sink += codec.decode(KINDS[w.kinds[i]!]!, w.bytes.subarray(w.offsets[i], w.offsets[i + 1])) ? 1 : 0;
        d.push(sink / ((performance.now() - t0) / 1000));
      }
      decodeOnly = median(d);
      fullGc();
      perEventNs = perEvent(w, codec, options);
    }
    w = null;
  } else {
    notes.push(
      'no codec (@pathwatch/schemas createCodec) available: decoding figures omitted; events fed as retained objects, the memory fill as generated objects',
    );
    const items = stream(nReq, 42);
    nEvents = items.length;
    pass(items, options);
    for (let k = 0; k < passes; k++) {
      fullGc();
      last = pass(items, options);
      plain.push(items.length / last.seconds);
      plainCpu.push(items.length / last.cpuSeconds);
    }
  }
  fullGc();

  const mem = memory(nOpen, options, false, codec);
  const memCb = headlineOnly ? null : memory(Math.min(nOpen, quick ? nOpen : 500_000), options, true, codec);

  const eventsPerSecWithoutDecoding = Math.round(median(plain));
  const r = (x: number | null) => (x === null ? null : Math.round(x));
  const bytes = Math.round(mem.bytes);
  const targets = [
    {
      figure: 'events/s, one core, incl. Avro decoding',
      target: '>= 500000',
      measured: withDecode === null ? 'n/a' : String(Math.round(withDecode)),
      met: withDecode !== null && withDecode >= 500_000,
    },
    {
      figure: 'events/s, one core, engine only',
      target: '>= 500000',
      measured: String(eventsPerSecWithoutDecoding),
      met: eventsPerSecWithoutDecoding >= 500_000,
    },
    {
      figure: `bytes per open request at ${nOpen}`,
      target: '<= 256',
      measured: String(bytes),
      met: bytes <= 256,
    },
  ];
  notes.push(
    'throughput includes tick(), drainOutputs() (full Verdict/Action objects) and drainChangelog() (binary state images) every 100 ms of simulated wall time, and the quiet tail until every deadline passed',
    'bytes = (V8 heapUsed + external incl. ArrayBuffers) delta after full GC, divided by open requests (accepted + dispatched, simulator-shaped ids; each event encoded and decoded by the codec before it is fed)',
    'run node with --max-semi-space-size=64 (a larger young generation roughly doubles throughput: verdicts and changelog images are short-lived); the flag cannot be changed at run time',
  );
  return {
    eventsPerSec: r(withDecode),
    eventsPerSecWithoutDecoding,
    cpuEventsPerSec: decodeCpu.length > 0 ? Math.round(median(decodeCpu)) : null,
    cpuEventsPerSecWithoutDecoding: Math.round(median(plainCpu)),
    decodeOnlyEventsPerSec: r(decodeOnly),
    bytesPerOpenRequest: bytes,
    bytesPerOpenRequestWithCallback: memCb === null ? null : Math.round(memCb.bytes),
    engineBytesPerOpenRequest: Math.round(mem.engineBytes),
    openRequests: nOpen,
    perEventNs,
    stream: {
      requests: nReq,
      events: nEvents,
      verdicts: last?.verdicts ?? 0,
      actions: last?.actions ?? 0,
      changelogRecords: last?.changelog ?? 0,
      verdictClasses: last?.classes ?? {},
    },
    targets,
    environment: {
      node: process.version,
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      cpus: os.cpus().length,
      youngGenerationMiB: Math.round(
        (v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space')?.space_size ?? 0) / 1_048_576,
      ),
    },
    notes,
  };
}
