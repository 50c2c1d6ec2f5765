// Generator options: the traffic model (tenants, operations, providers, routes), the fault knobs and the timing
// assumptions that keep ground truth exact. Horizons are compressed for demos (OTP over SMS: SLA 5 s, give-up
// 20 s) but keep the real-world ratios of reference/domain.md §9.
import type { EvidenceLevel, ErrorCategory } from '@pathwatch/schemas';
import { SimulatorError } from './errors.js';
import type { LatencySpec } from './prng.js';

export interface TenantSpec {
  readonly name: string;
  readonly weight: number;
}

export interface CountrySpec {
  /** ISO 3166 alpha-2, sent as the `country` attribute. */
  readonly code: string;
  readonly weight: number;
}

/** An operation on a channel, with its horizons (the reconciler's per operation/channel configuration). */
export interface OperationSpec {
  readonly name: string;
  readonly channel: string;
  readonly weight: number;
  /** Outcome SLA after acceptance (on time vs late). */
  readonly slaMs: number;
  /** After acceptance, when absence becomes missing_dispatch / missing_outcome. */
  readonly giveUpMs: number;
  readonly templates: readonly string[];
  readonly priority: string;
}

/** How a provider words its statuses (status_raw) and error codes. */
export type StatusStyle = 'twilio' | 'smpp' | 'email' | 'voice';

export interface ProviderSpec {
  readonly name: string;
  readonly style: StatusStyle;
  /** Submit round trip (dispatch submit_latency_ms). */
  readonly submitLatency: LatencySpec;
  /** Provider accepted -> intermediate `sent` report; null: this provider never reports one. */
  readonly sentLatency: LatencySpec | null;
  /** Provider accepted -> delivered receipt (event time). */
  readonly deliveryLatency: LatencySpec;
  /** Provider accepted -> failure receipt (event time). */
  readonly failureLatency: LatencySpec;
  /** Evidence level of its delivered receipts. */
  readonly deliveredEvidence: EvidenceLevel;
  /** Whether its callbacks carry a provider_event_id (dedupe id). */
  readonly eventIds: boolean;
}

/** A route (sender pool) of a provider; the router picks among eligible routes by weight. */
export interface RouteSpec {
  readonly name: string;
  readonly provider: string;
  readonly channel: string;
  /** Countries served; null = every country. */
  readonly countries: readonly string[] | null;
  readonly weight: number;
}

/**
 * A "bad" attribute combination an explain query should surface: deliveries through `provider` to `country` are
 * slower by `latencyFactor` and fail `failureFactor` times more often (with `failureCategory` when set).
 */
export interface HotSpot {
  readonly provider: string;
  readonly country: string;
  /** @default 1 */
  readonly latencyFactor: number;
  /** @default 1 */
  readonly failureFactor: number;
  readonly failureCategory: ErrorCategory | null;
}

/**
 * Fault knobs, each a probability.
 *
 * Outcome faults are exclusive per request (at most one; their sum must stay <= 1):
 * dropDispatch, dropFinalCallback, delayBeyondSla, providerFailure, expired, lateEvidenceAfterGiveUp, delayedReceipt.
 * Execution faults are exclusive per dispatched request: retry, failover, ambiguousTimeout.
 * Modifiers combine freely: duplicateCallback, outOfOrderCallback, callbackBeforeDispatch, callbackWithoutRequestId,
 * skipIntermediate. Unit kinds are per arrival: orphanCallback, orphanDispatch, invalidRecord.
 */
export interface FaultRates {
  /** Accepted, never dispatched (F2) -> missing_dispatch. */
  readonly dropDispatch: number;
  /** Dispatched, the final receipt never comes (F8) -> missing_outcome. */
  readonly dropFinalCallback: number;
  /** Delivered after the SLA, before give-up (F11) -> delivered_late. */
  readonly delayBeyondSla: number;
  /** Final failure receipt (F6) -> failed with an error category. Scaled by hot spots. */
  readonly providerFailure: number;
  /** Provider reports expiry (validity period) between SLA and give-up -> expired. */
  readonly expired: number;
  /** Delivered receipt after the give-up horizon -> missing_outcome, then corrected to delivered_late. */
  readonly lateEvidenceAfterGiveUp: number;
  /** Delivered on time, but the receipt reaches Kafka after the SLA (F19) -> overdue, then delivered_on_time. */
  readonly delayedReceipt: number;
  /** Submit error, retried on the same route (F20) -> flag retried. */
  readonly retry: number;
  /** Submit error/throttle, failed over to another provider (F17/F20) -> flag failed_over. */
  readonly failover: number;
  /** Submit times out (F5), then failover (or retry when no other provider serves the route) -> ambiguous_submit. */
  readonly ambiguousTimeout: number;
  /** Given an ambiguous timeout: the provider had accepted and also delivers -> multi_delivered. */
  readonly ambiguousTimeoutDelivers: number;
  /** A callback is delivered 2-3 times (F12) -> duplicate_callback. */
  readonly duplicateCallback: number;
  /** The intermediate `sent` is published after the final receipt (F13). */
  readonly outOfOrderCallback: number;
  /** A callback reaches Kafka before its dispatch event (F15) -> callback_before_dispatch. */
  readonly callbackBeforeDispatch: number;
  /** Callbacks carry no request_id: matched by provider + provider_message_id only. */
  readonly callbackWithoutRequestId: number;
  /** Only the final receipt arrives (F14). */
  readonly skipIntermediate: number;
  /** Per arrival: a callback for a message nobody dispatched -> orphan_callback. */
  readonly orphanCallback: number;
  /** Per arrival: a dispatch for a request never accepted -> orphan_dispatch. */
  readonly orphanDispatch: number;
  /** Per arrival: an undecodable or schema-invalid record -> dead-letter topic. */
  readonly invalidRecord: number;
}

export interface Window {
  readonly minMs: number;
  readonly maxMs: number;
}

/** Timing model. The first two must match (or exceed) the reconciler's configuration for exact ground truth. */
export interface TimingSpec {
  /**
   * No deciding time (delivery vs SLA in event time; evidence publish vs SLA/give-up in processing time) is
   * generated within this margin of a horizon.
   * @default 500
   */
  readonly safetyMarginMs: number;
  /**
   * The reconciler's bounded out-of-orderness: its clock trails the newest event time by this much, so a deadline
   * fires up to this long after it passes. Generated evidence stays clear of [deadline - margin, deadline + bound + margin].
   * @default 1000
   */
  readonly watermarkBoundMs: number;
  /**
   * Minimum separation between a callback and its dispatch in publish time, so callback_before_dispatch is
   * deliberate (either clearly before or clearly after).
   * @default 100
   */
  readonly crossTopicGapMs: number;
  /** API latency reported in the request (api_latency_ms). */
  readonly apiLatency: LatencySpec;
  /** Accept -> first dispatch (internal queue). */
  readonly queueLatency: LatencySpec;
  /** Occurrence -> publish to Kafka; maxMs is required (it bounds processing-time reasoning). */
  readonly ingestLag: LatencySpec & { readonly maxMs: number };
  /** Client-side submit timeout (ambiguous timeouts report this latency). @default 1500 */
  readonly submitTimeoutMs: number;
  /** Backoff before attempt n+1. @default [200, 400, 800] */
  readonly retryBackoffMs: readonly number[];
  /** Delay of each duplicate after the callback it repeats (publish time). */
  readonly duplicateDelay: Window;
  /** How long after the final receipt an out-of-order `sent` is published. */
  readonly outOfOrderDelay: Window;
  /** How long after the first callback the delayed dispatch is published. */
  readonly dispatchDelay: Window;
  /**
   * callback_before_dispatch is scripted only when the dispatch is held back at most this long (dispatcher lag),
   * i.e. when an early callback exists. @default 3000
   */
  readonly maxDispatchLagMs: number;
  /** Late evidence occurs this long after give-up + bound + margin. */
  readonly lateEvidence: Window;
  /** Minimum provider-side time from acceptance to a delivered receipt. @default 150 */
  readonly minDeliveryMs: number;
  /**
   * The reconciler's retry grace: a failure or expiry receipt decides `failed` / `expired` only this long (event
   * time) after it occurred, since a retry or failover may still follow. Must match the reconciler.
   * @default 5000
   */
  readonly retryGraceMs: number;
}

export interface WireSpec {
  /** Share of events encoded as JSON; the rest are Confluent-framed Avro. @default 0.25 */
  readonly jsonShare: number;
  /** Share of requests that carry sla_ms/give_up_ms (the rest rely on per operation configuration). @default 1 */
  readonly slaInRequestShare: number;
}

export interface GeneratorOptions {
  readonly seed: number;
  /** Event time of the first arrival (epoch ms). */
  readonly startEventTime: number;
  /** Mean arrivals per second (requests, orphans and invalid records together). */
  readonly ratePerSec: number;
  /** Poisson (exponential gaps) or evenly spaced arrivals. */
  readonly arrival: 'poisson' | 'uniform';
  readonly tenants: readonly TenantSpec[];
  readonly countries: readonly CountrySpec[];
  readonly operations: readonly OperationSpec[];
  readonly providers: readonly ProviderSpec[];
  readonly routes: readonly RouteSpec[];
  readonly hotSpots: readonly HotSpot[];
  /** Distinct inputs (recipients) per tenant/operation/template/country: small, so fingerprints repeat. */
  readonly inputPoolSize: number;
  readonly faults: FaultRates;
  readonly timing: TimingSpec;
  readonly wire: WireSpec;
}

export const PRESET_NAMES = ['demo', 'healthy', 'chaos', 'bench', 'fast'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** What callers pass: a preset plus overrides (nested objects merge one level deep, arrays replace). */
export interface GeneratorOptionsInput {
  /**
   * demo: every fault visible at 20 req/s; healthy: low rates; chaos: high rates for tests; bench: 5000 req/s at
   * healthy rates; fast: chaos faults with horizons of seconds (OTP SLA 1.5 s, give-up 4 s) for broker tests.
   * @default 'demo'
   */
  readonly preset?: PresetName;
  readonly seed?: number;
  /** @default the runner's now() at start */
  readonly startEventTime?: number;
  readonly ratePerSec?: number;
  readonly arrival?: 'poisson' | 'uniform';
  readonly tenants?: readonly TenantSpec[];
  readonly countries?: readonly CountrySpec[];
  readonly operations?: readonly OperationSpec[];
  readonly providers?: readonly ProviderSpec[];
  readonly routes?: readonly RouteSpec[];
  readonly hotSpots?: readonly HotSpot[];
  readonly inputPoolSize?: number;
  readonly faults?: Partial<FaultRates>;
  readonly timing?: Partial<TimingSpec>;
  readonly wire?: Partial<WireSpec>;
}

const TENANTS: readonly TenantSpec[] = [
  { name: 'acme-bank', weight: 40 },
  { name: 'globex-shop', weight: 30 },
  { name: 'initech-health', weight: 20 },
  { name: 'umbrella-games', weight: 10 },
];

const COUNTRIES: readonly CountrySpec[] = [
  { code: 'DE', weight: 25 },
  { code: 'FR', weight: 15 },
  { code: 'GB', weight: 15 },
  { code: 'BR', weight: 20 },
  { code: 'IN', weight: 15 },
  { code: 'US', weight: 10 },
];

const OPERATIONS: readonly OperationSpec[] = [
  {
    name: 'otp.send',
    channel: 'sms',
    weight: 50,
    slaMs: 5_000,
    giveUpMs: 20_000,
    templates: ['otp-v3', 'otp-v4'],
    priority: 'high',
  },
  {
    name: 'otp.send',
    channel: 'voice',
    weight: 8,
    slaMs: 12_000,
    giveUpMs: 40_000,
    templates: ['otp-voice-v1'],
    priority: 'high',
  },
  {
    name: 'order.notify',
    channel: 'whatsapp',
    weight: 17,
    slaMs: 8_000,
    giveUpMs: 30_000,
    templates: ['order-shipped', 'order-delayed'],
    priority: 'normal',
  },
  {
    name: 'receipt.email',
    channel: 'email',
    weight: 25,
    slaMs: 10_000,
    giveUpMs: 40_000,
    templates: ['receipt-v2', 'invoice-v1'],
    priority: 'low',
  },
];

const PROVIDERS: readonly ProviderSpec[] = [
  {
    name: 'relaycom',
    style: 'twilio',
    submitLatency: { medianMs: 120, p99Ms: 900, minMs: 20, maxMs: 1_200 },
    sentLatency: { medianMs: 300, p99Ms: 1_500, minMs: 50 },
    deliveryLatency: { medianMs: 1_400, p99Ms: 7_000, minMs: 200 },
    failureLatency: { medianMs: 1_200, p99Ms: 4_000, minMs: 200 },
    deliveredEvidence: 'handset',
    eventIds: true,
  },
  {
    name: 'beaconsms',
    style: 'smpp',
    submitLatency: { medianMs: 150, p99Ms: 1_000, minMs: 20, maxMs: 1_200 },
    sentLatency: { medianMs: 400, p99Ms: 2_000, minMs: 50 },
    deliveryLatency: { medianMs: 1_600, p99Ms: 8_000, minMs: 200 },
    failureLatency: { medianMs: 1_500, p99Ms: 5_000, minMs: 200 },
    deliveredEvidence: 'operator',
    eventIds: false,
  },
  {
    name: 'northwire',
    style: 'twilio',
    submitLatency: { medianMs: 180, p99Ms: 1_100, minMs: 20, maxMs: 1_200 },
    sentLatency: null,
    deliveryLatency: { medianMs: 1_800, p99Ms: 9_000, minMs: 200 },
    failureLatency: { medianMs: 1_500, p99Ms: 5_000, minMs: 200 },
    deliveredEvidence: 'handset',
    eventIds: true,
  },
  {
    name: 'voxline',
    style: 'voice',
    submitLatency: { medianMs: 200, p99Ms: 1_000, minMs: 20, maxMs: 1_200 },
    sentLatency: { medianMs: 1_500, p99Ms: 4_000, minMs: 300 },
    deliveryLatency: { medianMs: 6_000, p99Ms: 20_000, minMs: 2_000 },
    failureLatency: { medianMs: 5_000, p99Ms: 15_000, minMs: 1_000 },
    deliveredEvidence: 'handset',
    eventIds: true,
  },
  {
    name: 'mailbolt',
    style: 'email',
    submitLatency: { medianMs: 90, p99Ms: 700, minMs: 10, maxMs: 1_200 },
    sentLatency: { medianMs: 200, p99Ms: 1_000, minMs: 20 },
    deliveryLatency: { medianMs: 2_500, p99Ms: 14_000, minMs: 300 },
    failureLatency: { medianMs: 2_000, p99Ms: 8_000, minMs: 300 },
    deliveredEvidence: 'operator',
    eventIds: true,
  },
  {
    name: 'postwave',
    style: 'email',
    submitLatency: { medianMs: 110, p99Ms: 800, minMs: 10, maxMs: 1_200 },
    sentLatency: { medianMs: 250, p99Ms: 1_200, minMs: 20 },
    deliveryLatency: { medianMs: 3_000, p99Ms: 16_000, minMs: 300 },
    failureLatency: { medianMs: 2_000, p99Ms: 8_000, minMs: 300 },
    deliveredEvidence: 'operator',
    eventIds: false,
  },
];

const ROUTES: readonly RouteSpec[] = [
  {
    name: 'relaycom/eu-direct',
    provider: 'relaycom',
    channel: 'sms',
    countries: ['DE', 'FR', 'GB'],
    weight: 6,
  },
  {
    name: 'beaconsms/eu-bulk',
    provider: 'beaconsms',
    channel: 'sms',
    countries: ['DE', 'FR', 'GB'],
    weight: 4,
  },
  { name: 'relaycom/latam', provider: 'relaycom', channel: 'sms', countries: ['BR'], weight: 5 },
  { name: 'beaconsms/latam', provider: 'beaconsms', channel: 'sms', countries: ['BR'], weight: 5 },
  { name: 'northwire/apac', provider: 'northwire', channel: 'sms', countries: ['IN'], weight: 6 },
  { name: 'northwire/us-10dlc', provider: 'northwire', channel: 'sms', countries: ['US'], weight: 7 },
  { name: 'relaycom/global', provider: 'relaycom', channel: 'sms', countries: ['IN', 'US'], weight: 4 },
  { name: 'voxline/global', provider: 'voxline', channel: 'voice', countries: null, weight: 7 },
  { name: 'northwire/voice', provider: 'northwire', channel: 'voice', countries: null, weight: 3 },
  { name: 'relaycom/whatsapp', provider: 'relaycom', channel: 'whatsapp', countries: null, weight: 1 },
  { name: 'mailbolt/primary', provider: 'mailbolt', channel: 'email', countries: null, weight: 8 },
  { name: 'postwave/backup', provider: 'postwave', channel: 'email', countries: null, weight: 2 },
];

const HOT_SPOTS: readonly HotSpot[] = [
  // Slow carrier path: most BR messages through beaconsms miss the OTP SLA.
  { provider: 'beaconsms', country: 'BR', latencyFactor: 5, failureFactor: 1, failureCategory: null },
  // Carrier filtering on the IN long-code route.
  { provider: 'northwire', country: 'IN', latencyFactor: 1, failureFactor: 4, failureCategory: 'filtered' },
];

/** Every fault rate zero; override single knobs on top. */
export const NO_FAULTS: Readonly<FaultRates> = Object.freeze({
  dropDispatch: 0,
  dropFinalCallback: 0,
  delayBeyondSla: 0,
  providerFailure: 0,
  expired: 0,
  lateEvidenceAfterGiveUp: 0,
  delayedReceipt: 0,
  retry: 0,
  failover: 0,
  ambiguousTimeout: 0,
  ambiguousTimeoutDelivers: 0,
  duplicateCallback: 0,
  outOfOrderCallback: 0,
  callbackBeforeDispatch: 0,
  callbackWithoutRequestId: 0,
  skipIntermediate: 0,
  orphanCallback: 0,
  orphanDispatch: 0,
  invalidRecord: 0,
});

/** Low rates from reference/domain.md §9.2 (preset 1, "healthy baseline"). */
const HEALTHY_FAULTS: FaultRates = {
  ...NO_FAULTS,
  dropDispatch: 0.002,
  dropFinalCallback: 0.02,
  delayBeyondSla: 0.01,
  providerFailure: 0.02,
  expired: 0.003,
  lateEvidenceAfterGiveUp: 0.002,
  delayedReceipt: 0.003,
  retry: 0.01,
  failover: 0.005,
  ambiguousTimeout: 0.005,
  ambiguousTimeoutDelivers: 0.4,
  duplicateCallback: 0.01,
  outOfOrderCallback: 0.03,
  callbackBeforeDispatch: 0.005,
  callbackWithoutRequestId: 0.3,
  skipIntermediate: 0.2,
  orphanCallback: 0.001,
  orphanDispatch: 0.0005,
  invalidRecord: 0.0005,
};

/** Every fault visible within a minute of a demo at 20 req/s. */
const DEMO_FAULTS: FaultRates = {
  ...NO_FAULTS,
  dropDispatch: 0.01,
  dropFinalCallback: 0.03,
  delayBeyondSla: 0.03,
  providerFailure: 0.03,
  expired: 0.01,
  lateEvidenceAfterGiveUp: 0.01,
  delayedReceipt: 0.01,
  retry: 0.03,
  failover: 0.02,
  ambiguousTimeout: 0.015,
  ambiguousTimeoutDelivers: 0.4,
  duplicateCallback: 0.03,
  outOfOrderCallback: 0.04,
  callbackBeforeDispatch: 0.02,
  callbackWithoutRequestId: 0.3,
  skipIntermediate: 0.2,
  orphanCallback: 0.003,
  orphanDispatch: 0.002,
  invalidRecord: 0.002,
};

/** High rates so every verdict class, flag and dead-letter kind shows up in a few hundred requests (tests). */
const CHAOS_FAULTS: FaultRates = {
  ...NO_FAULTS,
  dropDispatch: 0.06,
  dropFinalCallback: 0.08,
  delayBeyondSla: 0.08,
  providerFailure: 0.08,
  expired: 0.05,
  lateEvidenceAfterGiveUp: 0.05,
  delayedReceipt: 0.05,
  retry: 0.1,
  failover: 0.1,
  ambiguousTimeout: 0.08,
  ambiguousTimeoutDelivers: 0.5,
  duplicateCallback: 0.15,
  outOfOrderCallback: 0.12,
  callbackBeforeDispatch: 0.1,
  callbackWithoutRequestId: 0.3,
  skipIntermediate: 0.2,
  orphanCallback: 0.02,
  orphanDispatch: 0.02,
  invalidRecord: 0.02,
};

const TIMING: TimingSpec = {
  safetyMarginMs: 500,
  watermarkBoundMs: 1_000,
  crossTopicGapMs: 100,
  apiLatency: { medianMs: 80, p99Ms: 400, minMs: 5 },
  queueLatency: { medianMs: 50, p99Ms: 800, minMs: 2, maxMs: 1_500 },
  ingestLag: { medianMs: 20, p99Ms: 200, minMs: 1, maxMs: 400 },
  submitTimeoutMs: 1_500,
  retryBackoffMs: [200, 400, 800],
  duplicateDelay: { minMs: 150, maxMs: 2_000 },
  outOfOrderDelay: { minMs: 150, maxMs: 1_000 },
  dispatchDelay: { minMs: 150, maxMs: 800 },
  maxDispatchLagMs: 3_000,
  lateEvidence: { minMs: 0, maxMs: 10_000 },
  minDeliveryMs: 150,
  retryGraceMs: 5_000,
};

const WIRE: WireSpec = { jsonShare: 0.25, slaInRequestShare: 1 };

function scaled(spec: LatencySpec, k: number): LatencySpec {
  const round = (x: number): number => Math.max(1, Math.round(x * k));
  return {
    medianMs: round(spec.medianMs),
    p99Ms: round(spec.p99Ms),
    ...(spec.minMs === undefined ? {} : { minMs: round(spec.minMs) }),
    ...(spec.maxMs === undefined ? {} : { maxMs: round(spec.maxMs) }),
  };
}

/** Provider latencies at a fifth, for the compressed horizons of the `fast` preset. */
const FAST_PROVIDERS: readonly ProviderSpec[] = PROVIDERS.map((p) => ({
  ...p,
  submitLatency: scaled(p.submitLatency, 0.2),
  sentLatency: p.sentLatency ? scaled(p.sentLatency, 0.2) : null,
  deliveryLatency: scaled(p.deliveryLatency, 0.2),
  failureLatency: scaled(p.failureLatency, 0.2),
}));

/** Horizons of a few seconds, so tests on a real broker settle every verdict quickly. */
const FAST_OPERATIONS: readonly OperationSpec[] = OPERATIONS.map((op) => {
  const horizons: Readonly<Record<string, readonly [number, number]>> = {
    sms: [1_500, 4_000],
    voice: [3_000, 8_000],
    whatsapp: [2_000, 6_000],
    email: [2_500, 7_000],
  };
  const [slaMs, giveUpMs] = horizons[op.channel] ?? [2_000, 6_000];
  return { ...op, slaMs, giveUpMs };
});

/**
 * Timing of the `fast` preset. Pair it with a reconciler configured for maxOutOfOrdernessMs <= 200 (e.g. 100),
 * retryGraceMs = 300 and a short orphan grace (e.g. 5000).
 */
const FAST_TIMING: TimingSpec = {
  safetyMarginMs: 300,
  watermarkBoundMs: 200,
  crossTopicGapMs: 30,
  apiLatency: { medianMs: 20, p99Ms: 100, minMs: 2 },
  queueLatency: { medianMs: 15, p99Ms: 200, minMs: 1, maxMs: 300 },
  ingestLag: { medianMs: 5, p99Ms: 40, minMs: 1, maxMs: 50 },
  submitTimeoutMs: 300,
  retryBackoffMs: [50, 100, 200],
  duplicateDelay: { minMs: 50, maxMs: 400 },
  outOfOrderDelay: { minMs: 50, maxMs: 300 },
  dispatchDelay: { minMs: 60, maxMs: 200 },
  maxDispatchLagMs: 800,
  lateEvidence: { minMs: 0, maxMs: 2_000 },
  minDeliveryMs: 40,
  retryGraceMs: 300,
};

interface PresetDefaults {
  readonly ratePerSec: number;
  readonly faults: FaultRates;
  readonly operations?: readonly OperationSpec[];
  readonly providers?: readonly ProviderSpec[];
  readonly timing?: TimingSpec;
}

const PRESETS: Readonly<Record<PresetName, PresetDefaults>> = {
  demo: { ratePerSec: 20, faults: DEMO_FAULTS },
  healthy: { ratePerSec: 20, faults: HEALTHY_FAULTS },
  chaos: { ratePerSec: 50, faults: CHAOS_FAULTS },
  bench: { ratePerSec: 5_000, faults: HEALTHY_FAULTS },
  fast: {
    ratePerSec: 50,
    faults: CHAOS_FAULTS,
    operations: FAST_OPERATIONS,
    providers: FAST_PROVIDERS,
    timing: FAST_TIMING,
  },
};

/** Fills a partial input from its preset and validates the result. `startEventTime` defaults to `now`. */
export function resolveGeneratorOptions(
  input: GeneratorOptionsInput = {},
  now: number = 0,
): GeneratorOptions {
  const preset = PRESETS[input.preset ?? 'demo'];
  const options: GeneratorOptions = {
    seed: input.seed ?? 1,
    startEventTime: input.startEventTime ?? now,
    ratePerSec: input.ratePerSec ?? preset.ratePerSec,
    arrival: input.arrival ?? 'poisson',
    tenants: input.tenants ?? TENANTS,
    countries: input.countries ?? COUNTRIES,
    operations: input.operations ?? preset.operations ?? OPERATIONS,
    providers: input.providers ?? preset.providers ?? PROVIDERS,
    routes: input.routes ?? ROUTES,
    hotSpots: input.hotSpots ?? HOT_SPOTS,
    inputPoolSize: input.inputPoolSize ?? 20,
    faults: { ...preset.faults, ...input.faults },
    timing: { ...(preset.timing ?? TIMING), ...input.timing },
    wire: { ...WIRE, ...input.wire },
  };
  validateGeneratorOptions(options);
  return options;
}

/** Outcome fault knobs, in the order the generator draws them. */
export const OUTCOME_FAULTS = [
  'dropDispatch',
  'dropFinalCallback',
  'delayBeyondSla',
  'providerFailure',
  'expired',
  'lateEvidenceAfterGiveUp',
  'delayedReceipt',
] as const satisfies readonly (keyof FaultRates)[];

/** The largest failure factor of any hot spot (scales providerFailure). */
function maxFailureFactor(o: GeneratorOptions): number {
  return o.hotSpots.reduce((m, h) => Math.max(m, h.failureFactor), 1);
}

export function validateGeneratorOptions(o: GeneratorOptions): void {
  const problems: string[] = [];
  const prob = (name: string, v: number): void => {
    if (!(v >= 0 && v <= 1)) problems.push(`${name} must be a probability in [0, 1] (got ${v})`);
  };
  if (!Number.isFinite(o.seed)) problems.push(`seed must be a finite number (got ${o.seed})`);
  if (!Number.isFinite(o.startEventTime)) problems.push('startEventTime must be epoch milliseconds');
  if (!(o.ratePerSec > 0)) problems.push(`ratePerSec must be > 0 (got ${o.ratePerSec})`);
  if (!(o.inputPoolSize >= 1)) problems.push('inputPoolSize must be >= 1');
  for (const [k, v] of Object.entries(o.faults)) prob(`faults.${k}`, v as number);
  prob('wire.jsonShare', o.wire.jsonShare);
  prob('wire.slaInRequestShare', o.wire.slaInRequestShare);
  const f = o.faults;
  const others = OUTCOME_FAULTS.filter((k) => k !== 'providerFailure').reduce((s, k) => s + f[k], 0);
  const outcomeSum = others + f.providerFailure * maxFailureFactor(o);
  if (outcomeSum > 1)
    problems.push(`outcome faults (providerFailure scaled by hot spots) sum to ${outcomeSum.toFixed(3)} > 1`);
  const execSum = f.retry + f.failover + f.ambiguousTimeout;
  if (execSum > 1) problems.push(`retry + failover + ambiguousTimeout = ${execSum} > 1`);
  const unitSum = f.orphanCallback + f.orphanDispatch + f.invalidRecord;
  if (unitSum > 1) problems.push(`orphanCallback + orphanDispatch + invalidRecord = ${unitSum} > 1`);
  if (o.tenants.length === 0) problems.push('tenants must not be empty');
  if (o.countries.length === 0) problems.push('countries must not be empty');
  if (o.operations.length === 0) problems.push('operations must not be empty');
  const t = o.timing;
  if (t.safetyMarginMs < 0 || t.watermarkBoundMs < 0 || t.retryGraceMs < 0) {
    problems.push('timing.safetyMarginMs, watermarkBoundMs and retryGraceMs must be >= 0');
  }
  if (!(t.ingestLag.maxMs >= 0)) problems.push('timing.ingestLag.maxMs is required and must be >= 0');
  if (t.crossTopicGapMs < 0) problems.push('timing.crossTopicGapMs must be >= 0');
  if (t.retryBackoffMs.length === 0) problems.push('timing.retryBackoffMs must not be empty');
  for (const w of ['duplicateDelay', 'outOfOrderDelay', 'dispatchDelay', 'lateEvidence'] as const) {
    if (!(t[w].minMs >= 0 && t[w].maxMs >= t[w].minMs))
      problems.push(`timing.${w} must satisfy 0 <= minMs <= maxMs`);
  }
  if (t.dispatchDelay.minMs < t.crossTopicGapMs)
    problems.push('timing.dispatchDelay.minMs must be >= crossTopicGapMs');
  const providers = new Set(o.providers.map((p) => p.name));
  for (const r of o.routes)
    if (!providers.has(r.provider)) problems.push(`route ${r.name}: unknown provider ${r.provider}`);
  for (const op of o.operations) {
    const label = `operation ${op.name}/${op.channel}`;
    if (op.templates.length === 0) problems.push(`${label}: templates must not be empty`);
    // Between SLA and give-up there must be room for "late but before give-up" evidence outside both margins.
    const lateWindow =
      op.giveUpMs - t.safetyMarginMs - t.ingestLag.maxMs - (op.slaMs + t.watermarkBoundMs + t.safetyMarginMs);
    if (!(op.slaMs > 2 * t.safetyMarginMs)) problems.push(`${label}: slaMs must exceed 2 x safetyMarginMs`);
    if (lateWindow < 500) {
      problems.push(
        `${label}: giveUpMs ${op.giveUpMs} leaves ${lateWindow} ms between the SLA and give-up horizons outside the safety ` +
          'margins; need >= 500 (raise giveUpMs or lower watermarkBoundMs/safetyMarginMs/ingestLag.maxMs)',
      );
    }
    // Failure and expiry receipts are decided retryGraceMs after they occur; that must land before give-up.
    const failureWindow =
      op.giveUpMs -
      t.safetyMarginMs -
      Math.max(t.retryGraceMs, t.ingestLag.maxMs) -
      (op.slaMs + t.watermarkBoundMs + t.safetyMarginMs);
    if ((f.providerFailure > 0 || f.expired > 0) && failureWindow < 500) {
      problems.push(
        `${label}: giveUpMs ${op.giveUpMs} leaves ${failureWindow} ms for failure receipts decided retryGraceMs (${t.retryGraceMs}) ` +
          'after they occur, outside the margins; need >= 500 (raise giveUpMs, lower retryGraceMs, or set providerFailure/expired to 0)',
      );
    }
    for (const c of o.countries) {
      if (
        !o.routes.some(
          (r) => r.channel === op.channel && (r.countries === null || r.countries.includes(c.code)),
        )
      ) {
        problems.push(`${label}: no route serves country ${c.code}`);
      }
    }
  }
  if (problems.length > 0) {
    throw new SimulatorError('SIM_INVALID_OPTIONS', `Invalid simulator options:\n  ${problems.join('\n  ')}`);
  }
}
