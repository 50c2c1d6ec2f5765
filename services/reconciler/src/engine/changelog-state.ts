// Changelog state: what changed since the last drain (dirty slots, deleted keys, new tombstones, remote
// bindings added or removed, the clock), written as compacted-topic records by drain(); and the bounded,
// resumable export of the whole state for a snapshot (exportState).
import * as K from './codes.js';
import { PAGE_BITS } from './arena.js';
import { MASK } from './slot-store.js';
import { ChangelogWriter, META_KEY, REMOTE_BINDING_KEY_PREFIX, tombHashKey } from './snapshot.js';
import type { EngineState } from './state.js';
import type { ChangelogRecord, ExportCursor } from './types.js';

export function remoteBindingKey(provider: string, pmid: string): string {
  return `${REMOTE_BINDING_KEY_PREFIX}${provider}:${pmid}`;
}

export class ChangelogState {
  private dirty = new Int32Array(1024);
  private dirtyCount = 0;
  /** Records ready as they are: key deletions. */
  private pendingRecords: ChangelogRecord[] = [];
  private pendingTombs: {
    partition: number;
    key: string;
    version: number;
    lastClass: number;
    expiry: number;
  }[] = [];
  /** Remote bindings changed since the last drain, by changelog key (requestId null = delete). */
  private readonly pendingBindings = new Map<
    string,
    { partition: number; provider: string; pmid: string; requestId: string | null; expiry: number }
  >();
  private writer: ChangelogWriter | null = null;

  constructor(private readonly s: EngineState) {}

  /** Deletes `key` from the changelog. */
  deleteKey(partition: number, key: string): void {
    this.pendingRecords.push({ partition, key, value: null });
  }

  /** Writes the tombstone of a forgotten key. */
  tomb(partition: number, key: string, version: number, lastClass: number, expiry: number): void {
    this.pendingTombs.push({ partition, key, version, lastClass, expiry });
  }

  /** Records a remote binding (requestId null: its removal). */
  binding(partition: number, provider: string, pmid: string, requestId: string | null, expiry: number): void {
    this.pendingBindings.set(remoteBindingKey(provider, pmid), {
      partition,
      provider,
      pmid,
      requestId,
      expiry,
    });
  }

  /** Forgets pending changes of partitions this instance no longer owns. */
  dropPartitions(drop: ReadonlySet<number>): void {
    this.pendingRecords = this.pendingRecords.filter((r) => !drop.has(r.partition));
    for (const [key, b] of this.pendingBindings) if (drop.has(b.partition)) this.pendingBindings.delete(key);
  }

  markDirty(slot: number): void {
    const st = this.s.store.rd8(slot, K.O_STATE);
    if ((st & K.ST_DIRTY) !== 0) return;
    this.s.store.wr8(slot, K.O_STATE, st | K.ST_DIRTY);
    if (this.dirtyCount === this.dirty.length) {
      const d = new Int32Array(this.dirty.length * 2);
      d.set(this.dirty);
      this.dirty = d;
    }
    this.dirty[this.dirtyCount++] = slot;
  }

  drain(): ChangelogRecord[] {
    const store = this.s.store;
    const w = (this.writer ??= new ChangelogWriter(
      this.s.tenants,
      this.s.names,
      this.s.errCodes,
      this.s.attrSets,
    ));
    // Deletions first, then tombstones and images in the order written; keys and partitions alongside.
    const records: ChangelogRecord[] = this.pendingRecords;
    this.pendingRecords = [];
    const keys: string[] = [];
    const parts: number[] = [];
    for (const t of this.pendingTombs) {
      w.tomb(t.version, t.lastClass, t.expiry);
      keys.push(t.key);
      parts.push(t.partition);
    }
    this.pendingTombs = [];
    if (this.pendingBindings.size > 0) this.drainBindings(w, records, keys, parts);
    for (let k = 0; k < this.dirtyCount; k++) {
      const slot = this.dirty[k]!;
      const addr = store.addr[slot]!;
      if (addr === 0) continue;
      const p = addr >>> PAGE_BITS;
      const b = addr & MASK;
      const u8 = store.arena.u8[p]!;
      const st = u8[b + K.O_STATE]!;
      if ((st & K.ST_DIRTY) === 0) continue;
      u8[b + K.O_STATE] = st & ~K.ST_DIRTY;
      const u16 = store.arena.u16[p]!;
      w.slot(u8, u16, b, u16[(b + K.O_USED) >> 1]!);
      keys.push(this.s.keys.changelogKey(slot));
      parts.push(u16[(b + K.O_PART) >> 1]!);
    }
    this.dirtyCount = 0;
    if (keys.length > 0 || records.length > 0 || this.s.clockDirty) {
      this.writeMetas(w, keys, parts);
      this.s.clockDirty = false;
    }
    const values = w.finish();
    for (let i = 0; i < values.length; i++)
      records.push({ partition: parts[i]!, key: keys[i]!, value: values[i]! });
    return records;
  }

  /** Remote bindings added or removed since the last drain (scale-out). */
  private drainBindings(
    w: ChangelogWriter,
    records: ChangelogRecord[],
    keys: string[],
    parts: number[],
  ): void {
    for (const [key, b] of this.pendingBindings) {
      if (b.requestId === null) records.push({ partition: b.partition, key, value: null });
      else {
        w.binding(b.provider, b.pmid, b.requestId, b.expiry);
        keys.push(key);
        parts.push(b.partition);
      }
    }
    this.pendingBindings.clear();
  }

  /** Clock state per partition: its three inputs' progress. */
  private writeMetas(w: ChangelogWriter, keys: string[], parts: number[]): void {
    for (const part of this.s.partitions) {
      const inputs: { kind: number; maxEventTime: number | null; seenAt: number }[] = [];
      for (let kind = 0; kind < 3; kind++) {
        const i = this.s.clock.peek(part * 3 + kind);
        if (i < 0) continue;
        const me = this.s.clock.maxEvent[i]!;
        inputs.push({ kind, maxEventTime: me === -Infinity ? null : me, seenAt: this.s.clock.seenAt[i]! });
      }
      w.meta({ clockNow: this.s.clock.streamTime, wallAt: this.s.wallNow, inputs });
      keys.push(META_KEY);
      parts.push(part);
    }
  }

  /**
   * Images of the whole state, a bounded piece per call, for a snapshot of the changelog: every live slot (as
   * `drainChangelog` writes it), then every remembered tombstone (keyed by its hash, `tombHashKey`), then every
   * remote binding (scale-out), then one meta record per partition. The cursor survives state changes between calls: a piece reflects the state at
   * its call, and whatever changes later is in a later `drainChangelog`, so replaying the changelog from the
   * point the export began yields the current state once the export is done.
   */
  exportState(cursor: ExportCursor, maxRecords: number): { records: ChangelogRecord[]; next: ExportCursor } {
    const store = this.s.store;
    const tombs = this.s.tombs;
    const w = (this.writer ??= new ChangelogWriter(
      this.s.tenants,
      this.s.names,
      this.s.errCodes,
      this.s.attrSets,
    ));
    const keys: string[] = [];
    const parts: number[] = [];
    let { phase, at } = cursor;
    if (phase === 'slots') {
      for (; at < store.high && keys.length < maxRecords; at++) {
        const addr = store.addr[at]!;
        if (addr === 0) continue;
        const p = addr >>> PAGE_BITS;
        const b = addr & MASK;
        const u16 = store.arena.u16[p]!;
        w.slot(store.arena.u8[p]!, u16, b, u16[(b + K.O_USED) >> 1]!);
        keys.push(this.s.keys.changelogKey(at));
        parts.push(u16[(b + K.O_PART) >> 1]!);
      }
      if (at >= store.high) {
        phase = 'tombs';
        at = tombs.first;
      }
    }
    if (phase === 'tombs') {
      at = Math.max(at, tombs.first);
      for (; at < tombs.end && keys.length < maxRecords; at++) {
        const i = tombs.at(at);
        if (i < 0) continue; // removed
        w.tomb(tombs.version(i), tombs.lastClass(i), tombs.expiry(i));
        keys.push(tombHashKey(tombs.hashA(i), tombs.hashB(i)));
        parts.push(tombs.partition(i));
      }
      if (at >= tombs.end) {
        phase = 'bindings';
        at = this.s.rb.first;
      }
    }
    if (phase === 'bindings') {
      at = Math.max(at, this.s.rb.first);
      for (; at < this.s.rb.end && keys.length < maxRecords; at++) {
        const i = this.s.rb.at(at);
        if (i < 0) continue; // removed
        const provider = this.s.names.value(this.s.rb.providerId(i));
        const pmid = this.s.rb.pmid(i);
        w.binding(provider, pmid, this.s.rb.requestId(i), this.s.rb.expiry(i));
        keys.push(remoteBindingKey(provider, pmid));
        parts.push(this.s.rb.partition(i));
      }
      if (at >= this.s.rb.end) phase = 'meta';
    }
    if (phase === 'meta') {
      this.writeMetas(w, keys, parts);
      phase = 'done';
      at = 0;
    }
    const values = w.finish();
    const records: ChangelogRecord[] = [];
    for (let i = 0; i < values.length; i++)
      records.push({ partition: parts[i]!, key: keys[i]!, value: values[i]! });
    return { records, next: { phase, at } };
  }
}
