// The scenario context (per-generator lookups) and event drafts: what every unit builder (requests, orphans,
// invalid records) shares, and the final step that turns drafts into scripted events.
import type { DispatchAttempted, ProviderCallback, RequestAccepted, WireFormat } from '@pathwatch/schemas';
import type { ScriptedEvent } from './model.js';
import type { GeneratorOptions, HotSpot, ProviderSpec, RouteSpec } from './options.js';
import type { Rng } from './prng.js';
import { hash32 } from './prng.js';

/** Schema versions written into envelopes (the codec's current versions). */
export interface SchemaVersions {
  readonly request: number;
  readonly dispatch: number;
  readonly callback: number;
}

/** Per-generator lookups, computed once. */
export interface ScenarioContext {
  readonly options: GeneratorOptions;
  readonly versions: SchemaVersions;
  readonly providers: ReadonlyMap<string, ProviderSpec>;
  routesFor(channel: string, country: string): readonly RouteSpec[];
  hotSpot(provider: string, country: string): HotSpot | undefined;
}

export function createScenarioContext(options: GeneratorOptions, versions: SchemaVersions): ScenarioContext {
  const providers = new Map(options.providers.map((p) => [p.name, p]));
  const routeCache = new Map<string, readonly RouteSpec[]>();
  const hot = new Map(options.hotSpots.map((h) => [`${h.provider}\u0000${h.country}`, h]));
  return {
    options,
    versions,
    providers,
    routesFor(channel, country) {
      const k = `${channel}\u0000${country}`;
      let r = routeCache.get(k);
      if (!r) {
        r = options.routes.filter(
          (x) => x.channel === channel && (x.countries === null || x.countries.includes(country)),
        );
        routeCache.set(k, r);
      }
      return r;
    },
    hotSpot: (provider, country) => hot.get(`${provider}\u0000${country}`),
  };
}

/** Mutable event draft: values are filled in when publish times are final. */
export interface Draft<V> {
  readonly kind: 'request' | 'dispatch' | 'callback';
  readonly label: string;
  readonly occurredAt: number;
  publishAt: number;
  key: string;
  readonly value: V;
  /** Attempt id the draft belongs to (dispatches and callbacks). */
  readonly attemptId: string | null;
}

export type AnyDraft = Draft<RequestAccepted> | Draft<DispatchAttempted> | Draft<ProviderCallback>;

export function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Same canonical input -> same fingerprint (a hash, never the input itself). */
export function fingerprintOf(parts: readonly string[]): string {
  return `fp_${hex8(hash32('fp-a', ...parts))}${hex8(hash32('fp-b', ...parts))}`;
}

export function uniformIn(rng: Rng, lo: number, hi: number): number {
  return Math.round(lo + (hi - lo) * rng.next());
}

export type Interval = readonly [number, number];

/**
 * Moves a natural time into the nearest allowed interval (a little inside its edge, so edges do not pile up);
 * a tail beyond the last interval is redrawn uniformly inside it. Null when no interval exists.
 */
export function placeIn(rng: Rng, x: number, intervals: readonly (Interval | null)[]): number | null {
  const ok = intervals.filter((i): i is Interval => i !== null).sort((a, b) => a[0] - b[0]);
  const lastInterval = ok.at(-1);
  if (!lastInterval) return null;
  if (x > lastInterval[1]) return uniformIn(rng, lastInterval[0], lastInterval[1]);
  let best: number | null = null;
  let bestDistance = Infinity;
  for (const [lo, hi] of ok) {
    if (x >= lo && x <= hi) return x;
    const jitter = rng.int(Math.min(300, hi - lo) + 1);
    const candidate = x < lo ? lo + jitter : hi - jitter;
    const distance = Math.abs(candidate - x);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Fixes recorded_at, picks wire formats and trace spans, and sorts by publish time. */
export function finalizeDrafts(
  drafts: readonly AnyDraft[],
  unit: number,
  traceId: string,
  rng: Rng,
  jsonShare: number,
): ScriptedEvent[] {
  const ordered = drafts.length > 1 ? [...drafts].sort((x, y) => x.publishAt - y.publishAt) : drafts; // stable sort
  const out: ScriptedEvent[] = [];
  for (let seq = 0; seq < ordered.length; seq++) {
    const d = ordered[seq] as AnyDraft;
    // The producer records the event between occurrence and publish.
    d.value.envelope.recorded_at = d.occurredAt + Math.floor((d.publishAt - d.occurredAt) / 2);
    const format: WireFormat = rng.chance(jsonShare) ? 'json' : 'avro';
    const traceparent = `00-${traceId}-${rng.hex(16)}-01`;
    const { label, occurredAt, publishAt, key } = d;
    if (d.kind === 'request') {
      out.push({
        kind: 'request',
        unit,
        seq,
        label,
        occurredAt,
        publishAt,
        key,
        traceparent,
        format,
        value: d.value as RequestAccepted,
      });
    } else if (d.kind === 'dispatch') {
      out.push({
        kind: 'dispatch',
        unit,
        seq,
        label,
        occurredAt,
        publishAt,
        key,
        traceparent,
        format,
        value: d.value as DispatchAttempted,
      });
    } else {
      out.push({
        kind: 'callback',
        unit,
        seq,
        label,
        occurredAt,
        publishAt,
        key,
        traceparent,
        format,
        value: d.value as ProviderCallback,
      });
    }
  }
  return out;
}
