// The hybrid event-time clock.
//
// Inputs are topic-partitions (request / dispatch / callback topic x partition). Per input i:
// maxEvent_i (highest event time seen, capped at wall + maxFutureSkewMs so one producer with a broken clock
// cannot fast-forward everyone), seenAt_i (processing time of its last event) and backlog_i (records the
// wiring says are still unread).
//
//   watermark_i = maxEvent_i - maxOutOfOrdernessMs
//   i is idle   when now - max(seenAt_i, activeSince_i) >= idleTimeoutMs and backlog_i == 0,
//               or at once when the wiring confirmed, after i's last event, that no input has unread records
//               (a fetch came back empty: the sources are quiet, not the consumer slow)
//
//   clock = max(previous clock, min over non-idle i of watermark_i)              -> source "watermark"
//   when every input is idle:
//   clock = max(previous clock, min over i of watermark_i + (now - seenAt_i))    -> source "wall_clock"
//
// The wall-clock branch extrapolates each input's own event time by the processing time elapsed since it
// last spoke (Bytewax's EventClock), so producer clock skew is preserved rather than replaced by ours. A
// consumer catching up on a backlog keeps its inputs non-idle (it reads constantly, and the wiring can report
// the backlog), so the clock follows the backlog's event time and fires nothing early. The clock never goes
// backwards; events older than it are late (counted) and handled as corrections.

export const SRC_WATERMARK = 1;
export const SRC_WALL = 2;

export interface InputWatermark {
  /** Engine input id: partition * 3 + kind (0 request, 1 dispatch, 2 callback). */
  readonly input: number;
  /** Highest event time seen (after the future-skew cap); null before the first event. */
  readonly maxEventTime: number | null;
  /** maxEventTime - maxOutOfOrdernessMs; null before the first event. */
  readonly watermark: number | null;
  /** Processing time of the last event. */
  readonly lastSeenAt: number;
  readonly idle: boolean;
  /** Unread records the wiring reported (0 = caught up). */
  readonly backlog: number;
  /** Last offset seen. */
  readonly lastOffset: string | null;
  readonly events: number;
}

export class HybridClock {
  /** input id -> dense index (+1; 0 = unknown). */
  private idxOf = new Int32Array(64);
  inputIds: number[] = [];
  maxEvent = new Float64Array(8);
  seenAt = new Float64Array(8);
  activeSince = new Float64Array(8);
  backlog = new Float64Array(8);
  /**
   * 1 when the wiring reports this input's backlog (records fetched but not fed, plus records behind the high
   * watermark): its idleness is then exactly `backlog == 0`, decided where the wiring reports it in the input
   * sequence, never by wall-time timeouts (deterministic catch-up). 0: the timeout rules below.
   */
  reported = new Uint8Array(8);
  events = new Float64Array(8);
  idle = new Uint8Array(8);
  lastOffset: (string | null)[] = [];
  count = 0;
  /** The event-time clock: stream time, never wall time (-Infinity until known). Parameters named `now` are wall time. */
  streamTime = -Infinity;
  /** What produced the current value. */
  source = SRC_WATERMARK;
  /** Index of the input that currently bounds the clock (-1 = recompute needed). */
  private minIdx = -1;
  lateEvents = 0;
  futureCapped = 0;
  /** Processing time of the wiring's last "every input caught up" confirmation. */
  private caughtUpAt = -Infinity;

  constructor(
    readonly maxOutOfOrdernessMs: number,
    readonly idleTimeoutMs: number,
    readonly maxFutureSkewMs: number,
  ) {}

  /** Dense index of an input, registering it on first sight (non-idle from `wallNow`). */
  index(input: number, wallNow: number): number {
    if (input < this.idxOf.length) {
      const i = this.idxOf[input]!;
      if (i !== 0) return i - 1;
    } else {
      let cap = this.idxOf.length * 2;
      while (cap <= input) cap *= 2;
      const a = new Int32Array(cap);
      a.set(this.idxOf);
      this.idxOf = a;
    }
    const n = this.count++;
    if (n >= this.maxEvent.length) this.grow();
    this.idxOf[input] = n + 1;
    this.inputIds.push(input);
    this.lastOffset.push(null);
    this.maxEvent[n] = -Infinity;
    this.seenAt[n] = wallNow;
    this.activeSince[n] = wallNow;
    this.backlog[n] = 0;
    this.reported[n] = 0;
    this.events[n] = 0;
    this.idle[n] = 0;
    this.minIdx = -1;
    return n;
  }

  /** Dense index of a known input, or -1. */
  peek(input: number): number {
    return input < this.idxOf.length ? this.idxOf[input]! - 1 : -1;
  }

  private grow(): void {
    const cap = this.maxEvent.length * 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.maxEvent = f(this.maxEvent);
    this.seenAt = f(this.seenAt);
    this.activeSince = f(this.activeSince);
    this.backlog = f(this.backlog);
    this.events = f(this.events);
    const idle = new Uint8Array(cap);
    idle.set(this.idle);
    this.idle = idle;
    const reported = new Uint8Array(cap);
    reported.set(this.reported);
    this.reported = reported;
  }

  /** Records an event on input index i; returns true when the clock advanced (deadlines may be due). */
  observe(i: number, eventTime: number, offset: string, wallNow: number): boolean {
    let t = eventTime;
    const cap = wallNow + this.maxFutureSkewMs;
    if (t > cap) {
      t = cap;
      this.futureCapped++;
    }
    if (eventTime < this.streamTime) this.lateEvents++;
    this.seenAt[i] = wallNow;
    this.lastOffset[i] = offset;
    this.events[i]!++;
    const wasIdle = this.idle[i] === 1;
    this.idle[i] = 0;
    if (t > this.maxEvent[i]!) {
      this.maxEvent[i] = t;
      if (wasIdle || i === this.minIdx || this.minIdx < 0) return this.recomputeActive();
      return false;
    }
    // A waking input may bound a clock that was advancing on wall time (no active input before).
    if (wasIdle) return this.recomputeActive();
    return false;
  }

  /** An input delivered something unusable: it is alive, event time does not move. */
  touch(i: number, offset: string, wallNow: number): void {
    this.seenAt[i] = wallNow;
    this.lastOffset[i] = offset;
    if (this.idle[i] === 1) {
      this.idle[i] = 0;
      this.minIdx = -1;
    }
  }

  /** Recomputes the clock from non-idle inputs (event path). */
  private recomputeActive(): boolean {
    let m = Infinity;
    let mi = -1;
    for (let j = 0; j < this.count; j++) {
      if (this.idle[j] === 1) continue;
      const w = this.maxEvent[j]! - this.maxOutOfOrdernessMs;
      if (w < m) {
        m = w;
        mi = j;
      }
    }
    this.minIdx = mi;
    if (mi >= 0 && m > this.streamTime) {
      this.streamTime = m;
      this.source = SRC_WATERMARK;
      return true;
    }
    return false;
  }

  /**
   * Processing-time step: updates idle flags and, when every input is idle, advances with wall time.
   * Returns true when the clock advanced.
   */
  tick(wallNow: number): boolean {
    let anyActive = false;
    for (let j = 0; j < this.count; j++) {
      const last = Math.max(this.seenAt[j]!, this.activeSince[j]!);
      const idle =
        this.reported[j] === 1
          ? this.backlog[j]! <= 0
          : (wallNow - last >= this.idleTimeoutMs || this.caughtUpAt >= last) && this.backlog[j]! <= 0;
      this.idle[j] = idle ? 1 : 0;
      if (!idle) anyActive = true;
    }
    if (anyActive) return this.recomputeActive();
    this.minIdx = -1;
    let m = Infinity;
    for (let j = 0; j < this.count; j++) {
      const me = this.maxEvent[j]!;
      if (me === -Infinity) continue;
      const w = me - this.maxOutOfOrdernessMs + (wallNow - this.seenAt[j]!);
      if (w < m) m = w;
    }
    if (m !== Infinity && m > this.streamTime) {
      this.streamTime = m;
      this.source = SRC_WALL;
      return true;
    }
    return false;
  }

  /**
   * The wiring saw a fetch return nothing for every input: the sources are quiet right now. Inputs with no
   * event since count as idle at the next tick, without waiting `idleTimeoutMs` (which guards against a slow
   * consumer, not quiet sources).
   */
  caughtUp(wallNow: number): void {
    this.caughtUpAt = wallNow;
  }

  /**
   * The wiring's backlog report for input i (fetched-but-unfed records plus records behind the high watermark).
   * From the first report on, the input is idle exactly when its backlog is 0, at once: an input caught up to its
   * end does not hold the clock back, one with unread records does (even before its first event, or right after
   * a restart). Returns true when the clock advanced (deadlines may be due).
   */
  setBacklog(i: number, records: number): boolean {
    this.backlog[i] = records;
    this.reported[i] = 1;
    const idle = records <= 0 ? 1 : 0;
    if (this.idle[i] === idle) return false;
    this.idle[i] = idle;
    this.minIdx = -1;
    // Going idle can release the clock that this input held back; waking up never moves it.
    return idle === 1 && this.recomputeActive();
  }

  /**
   * Restores an input after a restart: its last event time and the wall time it was seen keep counting (the
   * downtime is elapsed time), but it stays non-idle for idleTimeoutMs from `wallNow` so its backlog can
   * arrive first.
   */
  restoreInput(input: number, maxEventTime: number | null, seenAt: number, wallNow: number): void {
    const i = this.index(input, wallNow);
    if (maxEventTime !== null && maxEventTime > this.maxEvent[i]!) this.maxEvent[i] = maxEventTime;
    this.seenAt[i] = Math.min(seenAt, wallNow);
    this.activeSince[i] = wallNow;
    // A backlog the wiring already reported decides (an input at its end stays idle).
    this.idle[i] = this.reported[i] === 1 && this.backlog[i]! <= 0 ? 1 : 0;
    this.minIdx = -1;
  }

  /** Stops tracking an input (its partition moved to another instance); it no longer holds the clock. */
  drop(i: number): void {
    this.maxEvent[i] = -Infinity;
    this.seenAt[i] = -Infinity;
    this.activeSince[i] = -Infinity;
    this.backlog[i] = 0;
    this.reported[i] = 0;
    this.idle[i] = 1;
    this.minIdx = -1;
  }

  snapshot(): InputWatermark[] {
    const out: InputWatermark[] = [];
    for (let j = 0; j < this.count; j++) {
      const me = this.maxEvent[j]!;
      out.push({
        input: this.inputIds[j]!,
        maxEventTime: me === -Infinity ? null : me,
        watermark: me === -Infinity ? null : me - this.maxOutOfOrdernessMs,
        lastSeenAt: this.seenAt[j]!,
        idle: this.idle[j] === 1,
        backlog: this.backlog[j]!,
        lastOffset: this.lastOffset[j] ?? null,
        events: this.events[j]!,
      });
    }
    return out;
  }
}
