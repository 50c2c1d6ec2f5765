/**
 * Deterministic input order (SEMANTICS.md §5, "Input order"): the reconciler's inputs are 3 topics × P partitions,
 * fetched independently and in any interleaving. The engine is fed one merged sequence instead, chosen the way
 * Kafka Streams chooses the next record of a task: records are buffered per input partition, and the next one
 * fed is the head with the smallest event time (`occurred_at`) across every input, ties broken by topic (request,
 * dispatch, callback), then partition, then offset — but only while every input either has a buffered record or
 * is known to be at its end (fetched up to its high watermark). An input with unread records and nothing buffered
 * blocks the merge until its next fetch arrives, for at most `maxTaskIdleMs` (then it is passed over, for the
 * merge and for the clock, and counted: the only case where the order depends on timing).
 *
 * So the sequence fed is a function of the per-partition input alone, whatever the fetch interleaving, the batch
 * boundaries or the timing; with the clock driven by the same backlog reports (`setBacklog`: an input is idle
 * exactly while it has nothing unread), so is every verdict. The task is the instance's whole assignment: the
 * engine has one event-time clock across its partitions, so a merge per partition alone would let one
 * partition's progress move another's deadlines.
 *
 * Latency cost: a record waits until every other input has shown a record at least as late, or is at its end.
 * Live, inputs are at their end between fetches, so the cost is nil; while catching up it is one fetch round
 * trip; when a partition's fetch stalls it is at most `maxTaskIdleMs`.
 *
 * Committing: the position to commit per input is the offset of its first buffered (unfed) record, else the end
 * of what was fetched (records dead-lettered by the decoder and transaction markers included): buffered records
 * are not in the engine's state, so a crash replays them. Records below an input's fetched position (a refetch
 * after a rebalance) are dropped here.
 */
import type { InputKind } from './engine/index.js';

export const INPUT_ORDER: readonly InputKind[] = ['request', 'dispatch', 'callback'];

export interface MergeRecord<T> {
  offset: string;
  /** Event time used for the order (`occurred_at`); NaN sorts first. */
  eventTime: number;
  value: T;
  /** Wall time it was fetched (set by `add`). */
  receivedAt?: number;
}

export interface MergeSink<T> {
  /** Applies one record to the engine. */
  feed(kind: InputKind, partition: number, record: MergeRecord<T>): void;
  /** Reports an input's backlog to the engine's clock (buffered + behind its high watermark). */
  setBacklog(kind: InputKind, partition: number, records: number): void;
}

interface Lane<T> {
  kind: InputKind;
  kindNo: number;
  partition: number;
  queue: MergeRecord<T>[];
  head: number;
  /** Next offset after everything fetched (records, dead letters, markers). */
  fetched: bigint;
  /** High watermark as of the last fetch (or the assignment). */
  hw: bigint;
  /** Position last handed out for a commit. */
  committed: bigint;
  /** Wall time since which the lane has had nothing buffered while behind its high watermark (NaN: not waiting). */
  waitingSince: number;
  /** Backlog last reported to the sink (-1: never). */
  reported: number;
}

export interface MergerStats {
  buffered: number;
  fed: number;
  /** Times a lagging input was passed over after maxTaskIdleMs (order then depends on timing). */
  idleSkips: number;
  dropped: number;
}

export class InputMerger<T> {
  private readonly lanes = new Map<number, Lane<T>>();
  private list: Lane<T>[] = [];
  private readonly bufferedByKind = [0, 0, 0];
  readonly stats: MergerStats = { buffered: 0, fed: 0, idleSkips: 0, dropped: 0 };

  constructor(
    private readonly opts: {
      /** How long an input with unread records and nothing buffered may hold the merge. */
      maxTaskIdleMs: number;
      now: () => number;
    },
  ) {}

  private lane(kind: InputKind, partition: number): Lane<T> {
    const kindNo = INPUT_ORDER.indexOf(kind);
    const id = partition * 3 + kindNo;
    let l = this.lanes.get(id);
    if (!l) {
      l = {
        kind,
        kindNo,
        partition,
        queue: [],
        head: 0,
        fetched: -1n,
        hw: -1n,
        committed: -1n,
        waitingSince: NaN,
        reported: -1,
      };
      this.lanes.set(id, l);
      this.list = [...this.lanes.values()].sort((a, b) => a.partition - b.partition || a.kindNo - b.kindNo);
    }
    return l;
  }

  /**
   * Registers an assigned input at its consumer position (next offset to read) and high watermark, and reports its
   * backlog: an input with unread records holds the clock and the merge from now on, before its first fetch.
   */
  assign(
    kind: InputKind,
    partition: number,
    position: string,
    highWatermark: string,
    sink: MergeSink<T>,
  ): void {
    const l = this.lane(kind, partition);
    const pos = BigInt(position);
    l.fetched = pos;
    l.committed = pos;
    l.hw = BigInt(highWatermark);
    l.queue = [];
    l.head = 0;
    this.report(l, sink);
  }

  /** Buffers a fetched batch (records in offset order; `endOffset` = last offset the fetch covered). */
  add(
    kind: InputKind,
    partition: number,
    records: readonly MergeRecord<T>[],
    endOffset: string,
    highWatermark: string,
    sink: MergeSink<T>,
  ): void {
    const l = this.lane(kind, partition);
    const now = this.opts.now();
    for (const r of records) {
      r.receivedAt ??= now;
      const off = BigInt(r.offset);
      if (l.fetched >= 0n && off < l.fetched) {
        this.stats.dropped++;
        continue;
      }
      l.queue.push(r);
      this.bufferedByKind[l.kindNo]!++;
      this.stats.buffered++;
    }
    this.fetchedThrough(kind, partition, endOffset, highWatermark, sink);
  }

  /** A fetch covered this partition up to `lastOffset` (also batches of markers only, which carry no record). */
  fetchedThrough(
    kind: InputKind,
    partition: number,
    lastOffset: string,
    highWatermark: string,
    sink: MergeSink<T>,
  ): void {
    const l = this.lane(kind, partition);
    const end = BigInt(lastOffset) + 1n;
    if (end > l.fetched) l.fetched = end;
    const hw = BigInt(highWatermark);
    if (hw > l.hw) l.hw = hw;
    this.report(l, sink);
  }

  private backlog(l: Lane<T>): number {
    const behind = l.hw > l.fetched && l.fetched >= 0n ? Number(l.hw - l.fetched) : 0;
    return l.queue.length - l.head + behind;
  }

  private report(l: Lane<T>, sink: MergeSink<T>): void {
    const b = this.backlog(l);
    // Only transitions matter to the clock (idle exactly at 0); counts are refreshed at batch boundaries.
    if (l.reported === b || (l.reported > 0 && b > 0 && l.queue.length - l.head > 0)) return;
    l.reported = b;
    sink.setBacklog(l.kind, l.partition, b);
  }

  /**
   * Feeds every record the merge rule allows, in order. Returns how many were fed.
   */
  pump(sink: MergeSink<T>): number {
    let fed = 0;
    const lanes = this.list;
    const now = this.opts.now();
    // A lane behind its high watermark that no fetch serves for maxTaskIdleMs (e.g. an open input transaction
    // under read_committed) stops holding the clock too, not only the merge: the same documented bound.
    for (const l of lanes) {
      if (l.head < l.queue.length || !(l.hw > l.fetched)) continue;
      if (l.waitingSince !== l.waitingSince) l.waitingSince = now;
      else if (now - l.waitingSince >= this.opts.maxTaskIdleMs && l.reported !== 0) {
        l.reported = 0;
        this.stats.idleSkips++;
        sink.setBacklog(l.kind, l.partition, 0);
      }
    }
    for (;;) {
      let best: Lane<T> | undefined;
      let bestT = 0;
      let blocked = false;
      for (const l of lanes) {
        if (l.head < l.queue.length) {
          const r = l.queue[l.head]!;
          const t = r.eventTime === r.eventTime ? r.eventTime : -Infinity;
          // Lanes are sorted by (partition, kind); ties go to the earlier topic, then partition, then offset.
          if (
            best === undefined ||
            t < bestT ||
            (t === bestT &&
              (l.kindNo < best.kindNo || (l.kindNo === best.kindNo && l.partition < best.partition)))
          ) {
            best = l;
            bestT = t;
          }
          l.waitingSince = NaN;
        } else if (l.hw > l.fetched) {
          // Unread records and nothing buffered: wait for its fetch, up to maxTaskIdleMs.
          if (l.waitingSince !== l.waitingSince) l.waitingSince = now;
          if (now - l.waitingSince < this.opts.maxTaskIdleMs) blocked = true;
        }
      }
      if (best === undefined) break;
      if (blocked) break;
      for (const l of lanes)
        if (l.head >= l.queue.length && l.hw > l.fetched && l.waitingSince === l.waitingSince)
          this.stats.idleSkips++;
      const r = best.queue[best.head]!;
      best.queue[best.head] = undefined as unknown as MergeRecord<T>;
      best.head++;
      if (best.head === best.queue.length) {
        best.queue = [];
        best.head = 0;
      } else if (best.head > 1024 && best.head * 2 > best.queue.length) {
        best.queue = best.queue.slice(best.head);
        best.head = 0;
      }
      this.bufferedByKind[best.kindNo]!--;
      this.stats.buffered--;
      this.stats.fed++;
      fed++;
      sink.feed(best.kind, best.partition, r);
      this.report(best, sink);
    }
    return fed;
  }

  /**
   * True when a partition of this input has nothing buffered while behind its high watermark: the merge waits on
   * it, so pausing the topic's fetches (back-pressure on its other partitions) would hold the merge until
   * maxTaskIdleMs.
   */
  starving(kind: InputKind): boolean {
    const k = INPUT_ORDER.indexOf(kind);
    for (const l of this.list)
      if (l.kindNo === k && l.head >= l.queue.length && l.hw > l.fetched) return true;
    return false;
  }

  /** Records buffered (fetched, not fed) for one input topic. */
  buffered(kind: InputKind): number {
    return this.bufferedByKind[INPUT_ORDER.indexOf(kind)]!;
  }

  /**
   * Positions to commit with the next transaction (each input whose position moved since the last call): the
   * first buffered record's offset, else the end of what was fetched. Everything before it is in the engine.
   */
  takePositions(): { kind: InputKind; partition: number; offset: string }[] {
    const out: { kind: InputKind; partition: number; offset: string }[] = [];
    for (const l of this.list) {
      const pos = l.head < l.queue.length ? BigInt(l.queue[l.head]!.offset) : l.fetched;
      if (pos < 0n || pos === l.committed) continue;
      l.committed = pos;
      out.push({ kind: l.kind, partition: l.partition, offset: pos.toString() });
    }
    return out;
  }
}
