// Recovery release after a restore: deadlines that passed while the engine was down (the event-time
// equivalent of the downtime, up to `until`) are not fired at once but queued and released at
// recoveryReleasePerSec, each version flagged overdue_due_to_downtime (SEMANTICS.md).
import * as K from './codes.js';
import type { SlotStore } from './slot-store.js';

/** What the release drives (the lifecycle's evaluate; true when it emitted a version). */
export interface RecoveryEvaluator {
  evaluate(slot: number, firedBy: number, force: boolean): boolean;
}

export class RecoveryQueue {
  /** Deadlines before this stream time are released at a bounded rate (-Infinity: no recovery). */
  until = -Infinity;
  private q = new Int32Array(1024);
  private head = 0;
  private tail = 0;
  private tokens = 0;
  private lastTickWall = NaN;

  constructor(
    private readonly store: SlotStore,
    private readonly ratePerSec: number,
  ) {}

  get size(): number {
    return this.tail - this.head;
  }

  enqueue(slot: number): void {
    const store = this.store;
    const st = store.rd8(slot, K.O_STATE);
    if ((st & K.ST_RECOVERY_Q) !== 0) return;
    store.wr8(slot, K.O_STATE, st | K.ST_RECOVERY_Q);
    const cap = this.q.length;
    if (this.tail - this.head >= cap) {
      const q = new Int32Array(cap * 2);
      for (let k = this.head; k < this.tail; k++) q[k % (cap * 2)] = this.q[k % cap]!;
      this.q = q;
    }
    this.q[this.tail % this.q.length] = slot;
    this.tail++;
  }

  /**
   * Releases what the token bucket allows at wall time `now` (stream time `streamTime`); returns the number of
   * versions released.
   */
  release(now: number, streamTime: number, lifecycle: RecoveryEvaluator): number {
    if (this.head === this.tail) {
      // Recovery ends once the clock is past the downtime and everything queued was released.
      if (streamTime >= this.until) this.until = -Infinity;
      this.lastTickWall = now;
      return 0;
    }
    const rate = this.ratePerSec;
    const elapsed = this.lastTickWall === this.lastTickWall ? Math.max(0, now - this.lastTickWall) : 0;
    this.lastTickWall = now;
    this.tokens = Math.min(rate, this.tokens + (elapsed * rate) / 1000);
    const store = this.store;
    let released = 0;
    while (this.tokens >= 1 && this.head !== this.tail) {
      const slot = this.q[this.head % this.q.length]!;
      this.head++;
      if (store.addr[slot] === 0) continue;
      const st = store.rd8(slot, K.O_STATE);
      store.wr8(slot, K.O_STATE, st & ~K.ST_RECOVERY_Q);
      if ((st & K.ST_CLOSED) !== 0) continue;
      if (lifecycle.evaluate(slot, K.FB_RECOVERY, false)) {
        this.tokens--;
        released++;
      }
    }
    return released;
  }
}
