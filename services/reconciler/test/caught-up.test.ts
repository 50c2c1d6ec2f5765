// The wiring's "every input caught up" signal (a fetch found nothing anywhere): deadlines keep firing on wall time
// as soon as traffic stops, instead of after idleTimeoutMs; an input that spoke since is not idle.
import { describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/index.js';
import { dispatch, ManualClock, request } from './events.js';

const T0 = 1_760_000_000_000;

function setup() {
  const clock = new ManualClock(T0);
  const engine = createEngine({ maxOutOfOrdernessMs: 500, idleTimeoutMs: 1_000 }, clock);
  engine.onRequest(request({ rid: 'r1', at: T0, slaMs: 300, giveUpMs: 600_000 }), {
    partition: 0,
    offset: '0',
  });
  clock.t = T0 + 10;
  engine.onDispatch(dispatch({ rid: 'r1', at: T0 + 10 }), { partition: 0, offset: '0' });
  return { clock, engine };
}

describe('inputsCaughtUp', () => {
  it('without it, a quiet input holds the clock until idleTimeoutMs', () => {
    const { clock, engine } = setup();
    clock.t = T0 + 900;
    engine.tick();
    expect(engine.drainOutputs().verdicts).toEqual([]);
    clock.t = T0 + 1_100;
    engine.tick();
    const v = engine.drainOutputs().verdicts;
    expect(v.map((x) => [x.verdict, x.fired_by])).toEqual([['overdue', 'wall_clock']]);
  });

  it('with it, the clock goes on with wall time at the next tick', () => {
    const { clock, engine } = setup();
    clock.t = T0 + 100;
    engine.inputsCaughtUp();
    clock.t = T0 + 900;
    engine.tick();
    const v = engine.drainOutputs().verdicts;
    expect(v.map((x) => [x.verdict, x.fired_by])).toEqual([['overdue', 'wall_clock']]);
    // The wall branch extrapolates the input's own event time: last event T0+10, -500, +890 elapsed.
    expect(engine.watermarks().eventTime).toBe(T0 + 400);
  });

  it('an input that delivered an event after the signal is not idle', () => {
    const { clock, engine } = setup();
    clock.t = T0 + 100;
    engine.inputsCaughtUp();
    clock.t = T0 + 200;
    engine.onRequest(request({ rid: 'r2', at: T0 + 200, slaMs: 300, giveUpMs: 600_000 }), {
      partition: 0,
      offset: '1',
    });
    clock.t = T0 + 900;
    engine.tick();
    expect(engine.drainOutputs().verdicts).toEqual([]);
    expect(engine.watermarks().source).toBe('watermark');
  });
});
