// Which attempt a callback answers and when its evidence counts (bounded below by what it answers, so a slow
// provider clock cannot date it earlier), and the callback record the model keeps.
import type { ProviderCallback } from '@pathwatch/schemas';
import { H, h2AddNumber, h2AddString, h2Finish, h2Start } from '../../src/engine/hash.js';
import type { Att, Cb, Req } from './types.js';

/** The attempt a callback belongs to: by attempt_id, else by (provider, provider_message_id); null if none yet. */
export function attachTo(r: Req, c: Cb): Att | null {
  if (c.ev.attempt_id) {
    const a = r.attempts.find((x) => x.ev.attempt_id === c.ev.attempt_id);
    if (a) return a;
  }
  return (
    r.attempts.find(
      (x) =>
        x.ev.provider_message_id !== null &&
        x.ev.provider_message_id === c.ev.provider_message_id &&
        x.ev.provider === c.ev.provider,
    ) ?? null
  );
}

/**
 * What a callback answers: its attempt's dispatch (and the acceptance), or, unattached, the acceptance and the
 * first dispatch. -Infinity when nothing is known.
 */
export function cbLower(r: Req, c: Cb): number {
  const acc = r.request ? r.base : -Infinity;
  const a = attachTo(r, c);
  if (a) return Math.max(acc, a.ev.envelope.occurred_at);
  if (r.attempts.length === 0) return acc;
  return Math.max(acc, Math.min(...r.attempts.map((x) => x.ev.envelope.occurred_at)));
}

/** Evidence time of a callback: within [what it answers, when we heard of it]. */
export function cbTime(r: Req, c: Cb): number {
  const lower = cbLower(r, c);
  if (c.time >= lower) return c.time;
  // A provider_event_time before what it answers proves a slow provider clock: when we heard of it counts.
  return Math.max(lower, c.occ > c.time ? c.occ : c.time);
}

/** Newest evidence time of a key: acceptance, dispatches, non-duplicate callbacks (within their bounds). */
export function evidenceAt(r: Req): number {
  return Math.max(
    r.request ? r.base : -Infinity,
    ...r.attempts.map((a) => a.ev.envelope.occurred_at),
    ...r.callbacks.filter((c) => !c.dup).map((c) => cbTime(r, c)),
  );
}

/** By how much the provider's time preceded what the callback answers (0: no proven skew). */
export function cbSkew(r: Req, c: Cb): number {
  const lower = cbLower(r, c);
  return c.time < lower && c.occ > c.time ? lower - c.time : 0;
}

/** A callback as the model keeps it: its ids, natural key and hash, and its provider time. */
export function makeCb(ev: ProviderCallback): Cb {
  const t = ev.envelope.occurred_at;
  const pet = ev.provider_event_time;
  const time = pet !== null && pet < t ? pet : t;
  h2Start(0x7a3c);
  h2AddString(ev.provider);
  let nat: string;
  if (ev.provider_event_id !== null) {
    h2AddNumber(1);
    h2AddString(ev.provider_event_id);
    nat = `E\u0000${ev.provider}\u0000${ev.provider_event_id}`;
  } else {
    h2AddString(ev.provider_message_id);
    h2AddString(ev.status_raw);
    h2AddNumber(pet ?? t);
    nat = `N\u0000${ev.provider}\u0000${ev.provider_message_id}\u0000${ev.status_raw}\u0000${pet ?? t}`;
  }
  h2Finish();
  return {
    ev,
    eid: `${ev.envelope.source}\u0000${ev.envelope.event_id}`,
    nat,
    natA: H.a,
    natB: H.b,
    time,
    occ: t,
    dup: false,
    unattachedOnArrival: false,
  };
}
