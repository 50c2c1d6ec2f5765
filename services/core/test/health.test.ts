import { describe, expect, it } from 'vitest';
import { KafkaError, StageHealth, combineHealth } from '@pathwatch/core';

function setup(stallAfterMs = 1000): { h: StageHealth; advance: (ms: number) => void } {
  let t = 1_000_000;
  const h = new StageHealth({ stage: 'reconciler.commit', stallAfterMs, now: () => t });
  return { h, advance: (ms) => (t += ms) };
}

describe('StageHealth', () => {
  it('is not ready until running, and not after it stopped', () => {
    const { h } = setup();
    expect(h.report()).toMatchObject({ ok: false, detail: 'reconciler.commit: not running' });
    h.setRunning(true);
    expect(h.report().ok).toBe(true);
    h.setRunning(false);
    expect(h.report().ok).toBe(false);
  });

  it('stays ready while idle (nothing pending), however long since the last progress', () => {
    const { h, advance } = setup();
    h.setRunning(true);
    h.progress();
    advance(3_600_000);
    expect(h.report()).toMatchObject({ ok: true, sinceProgressMs: 3_600_000 });
  });

  it('fails once work has been pending longer than the bound without progress, naming the stage', () => {
    const { h, advance } = setup();
    h.setRunning(true);
    h.progress();
    advance(600_000); // long idle: the stall clock starts when work arrives, not at the last progress
    h.setPending(5);
    advance(1000);
    expect(h.report().ok).toBe(true);
    advance(1);
    const r = h.report();
    expect(r.ok).toBe(false);
    expect(r.detail).toBe('reconciler.commit: stalled: no progress for 1001 ms with 5 records pending');
    h.progress();
    expect(h.report().ok).toBe(true);
    advance(900);
    h.setPending(7); // still pending: measured from the last progress
    advance(200);
    expect(h.report().ok).toBe(false);
    h.setPending(0);
    expect(h.report().ok).toBe(true);
  });

  it('fails when failing longer than the bound, and recovers with progress', () => {
    const { h, advance } = setup();
    h.setRunning(true);
    const err = KafkaError.retriable('transaction failed: Connection error', undefined);
    h.failure(err);
    advance(500);
    h.failure(err);
    expect(h.failingForMs()).toBe(500);
    expect(h.report().ok).toBe(true);
    advance(501);
    expect(h.report()).toMatchObject({
      ok: false,
      detail:
        'reconciler.commit: failing for 1001 ms: CORE_KAFKA_UNAVAILABLE: transaction failed: Connection error',
    });
    h.progress();
    expect(h.isFailing()).toBe(false);
    expect(h.report().ok).toBe(true);
  });

  it('stays failed after a fatal error', () => {
    const { h } = setup();
    h.setRunning(true);
    h.fatalError(KafkaError.nonRetriable('CORE_KAFKA_PRODUCER_FENCED', 'fenced'));
    h.progress();
    expect(h.report()).toMatchObject({
      ok: false,
      detail: 'reconciler.commit: stopped: CORE_KAFKA_PRODUCER_FENCED: fenced',
    });
  });

  it('combines stages: not ok when any is not, naming it', () => {
    const a = setup().h;
    const b = new StageHealth({ stage: 'reconciler.decode', stallAfterMs: 10, now: () => 0 });
    a.setRunning(true);
    expect(combineHealth([a.report(), b.report()])).toEqual({
      ok: false,
      detail: 'reconciler.decode: not running',
    });
    b.setRunning(true);
    expect(combineHealth([a.report(), b.report()]).ok).toBe(true);
  });
});
