// The input merger's rules one by one (the determinism property test covers them together with the engine).
import { describe, expect, it } from 'vitest';
import type { InputKind } from '../src/engine/index.js';
import { InputMerger, type MergeSink } from '../src/input-merger.js';

function harness(maxTaskIdleMs = 1_000) {
  let now = 0;
  const fed: string[] = [];
  const backlog = new Map<string, number>();
  const sink: MergeSink<string> = {
    feed: (kind, partition, r) => fed.push(`${kind}${partition}@${r.offset}:${r.value}`),
    setBacklog: (kind, partition, n) => backlog.set(`${kind}${partition}`, n),
  };
  const m = new InputMerger<string>({ maxTaskIdleMs, now: () => now });
  const rec = (offset: number, t: number) => ({ offset: String(offset), eventTime: t, value: `t${t}` });
  return {
    m,
    sink,
    fed,
    backlog,
    rec,
    advance: (ms: number) => (now += ms),
    add: (kind: InputKind, p: number, rs: ReturnType<typeof rec>[], hw: number) =>
      m.add(kind, p, rs, rs[rs.length - 1]!.offset, String(hw), sink),
  };
}

describe('input merger', () => {
  it('feeds the smallest event time first, ties by topic then partition, and waits for inputs with unread records', () => {
    const h = harness();
    h.m.assign('request', 0, '0', '2', h.sink);
    h.m.assign('dispatch', 0, '0', '1', h.sink);
    h.m.assign('callback', 0, '0', '0', h.sink);
    expect(h.backlog.get('request0')).toBe(2);
    expect(h.backlog.get('callback0')).toBe(0);
    h.add('request', 0, [h.rec(0, 10), h.rec(1, 30)], 2);
    h.m.pump(h.sink);
    // The dispatch partition has an unread record: nothing is fed yet.
    expect(h.fed).toEqual([]);
    h.add('dispatch', 0, [h.rec(0, 10)], 1);
    h.m.pump(h.sink);
    expect(h.fed).toEqual(['request0@0:t10', 'dispatch0@0:t10', 'request0@1:t30']);
    expect(h.backlog.get('request0')).toBe(0);
    expect(h.m.takePositions()).toEqual([
      { kind: 'request', partition: 0, offset: '2' },
      { kind: 'dispatch', partition: 0, offset: '1' },
    ]);
    // Unchanged positions are not handed out again.
    expect(h.m.takePositions()).toEqual([]);
  });

  it('commits up to the first unfed record and drops records refetched below its position', () => {
    const h = harness();
    h.m.assign('request', 0, '0', '3', h.sink);
    h.m.assign('dispatch', 0, '0', '5', h.sink);
    h.add('request', 0, [h.rec(0, 5), h.rec(1, 50), h.rec(2, 60)], 3);
    h.add('dispatch', 0, [h.rec(0, 20)], 5);
    h.m.pump(h.sink);
    // request@1 (t50) waits: the dispatch partition may still hold earlier records.
    expect(h.fed).toEqual(['request0@0:t5', 'dispatch0@0:t20']);
    expect(h.m.takePositions()).toEqual([
      { kind: 'request', partition: 0, offset: '1' },
      { kind: 'dispatch', partition: 0, offset: '1' },
    ]);
    // A refetch from the committed offset after a rebalance: already buffered records are not buffered twice.
    h.add('request', 0, [h.rec(1, 50), h.rec(2, 60)], 3);
    expect(h.m.stats.dropped).toBe(2);
  });

  it('passes over an input that no fetch serves for maxTaskIdleMs, for the merge and the clock', () => {
    const h = harness(1_000);
    h.m.assign('request', 0, '0', '1', h.sink);
    h.m.assign('dispatch', 0, '0', '4', h.sink);
    h.add('request', 0, [h.rec(0, 5)], 1);
    h.m.pump(h.sink);
    expect(h.fed).toEqual([]);
    h.advance(999);
    h.m.pump(h.sink);
    expect(h.fed).toEqual([]);
    h.advance(1);
    h.m.pump(h.sink);
    expect(h.fed).toEqual(['request0@0:t5']);
    expect(h.backlog.get('dispatch0')).toBe(0);
    expect(h.m.stats.idleSkips).toBeGreaterThan(0);
  });
});
