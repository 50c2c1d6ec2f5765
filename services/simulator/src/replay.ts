// Replays an event stream on a virtual clock, synchronously: for driving a pure engine in tests (the
// reconciler's engine with an injected wall clock) exactly as a paced, real-time run would, without Kafka.
import type { EventStream } from './generator.js';
import type { ScriptedEvent } from './model.js';

export interface ReplayHandlers {
  /** Every event in publish order; the caller's wall clock should read `event.publishAt`. */
  onEvent(event: ScriptedEvent): void;
  /** Every `tickMs` of virtual time between events and through the tail (wall clock = `virtualNow`). */
  onTick?(virtualNow: number): void;
}

export interface ReplayOptions {
  /** @default 100 */
  readonly tickMs?: number;
  /** Virtual time to keep ticking after the last event, so deadlines (give-up, orphan grace) fire. @default 0 */
  readonly tailMs?: number;
}

export interface ReplayReport {
  readonly events: number;
  readonly firstPublishAt: number | null;
  readonly lastPublishAt: number | null;
  /** Virtual time of the last tick. */
  readonly endedAt: number | null;
}

export function replayPaced(
  stream: EventStream,
  handlers: ReplayHandlers,
  options: ReplayOptions = {},
): ReplayReport {
  const tickMs = Math.max(1, options.tickMs ?? 100);
  const tailMs = Math.max(0, options.tailMs ?? 0);
  let events = 0;
  let first: number | null = null;
  let last: number | null = null;
  let nextTick: number | null = null;
  for (let e = stream.next(); e; e = stream.next()) {
    if (nextTick === null) nextTick = e.publishAt;
    while (nextTick <= e.publishAt) {
      handlers.onTick?.(nextTick);
      nextTick += tickMs;
    }
    handlers.onEvent(e);
    events += 1;
    first ??= e.publishAt;
    last = e.publishAt;
  }
  let endedAt: number | null = null;
  if (last !== null && nextTick !== null) {
    const end = last + tailMs;
    while (nextTick <= end) {
      handlers.onTick?.(nextTick);
      endedAt = nextTick;
      nextTick += tickMs;
    }
  }
  return { events, firstPublishAt: first, lastPublishAt: last, endedAt };
}
