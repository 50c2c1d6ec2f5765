// The pure, seeded generator: units in arrival order, and a merge of their events into publish order.
import { createCatalog } from '@pathwatch/schemas';
import type { ScriptedEvent, ScriptedUnit } from './model.js';
import { resolveGeneratorOptions } from './options.js';
import type { GeneratorOptions, GeneratorOptionsInput } from './options.js';
import { Rng } from './prng.js';
import { buildUnit, createScenarioContext } from './scenario.js';
import type { SchemaVersions } from './scenario.js';

export interface Generator {
  readonly options: GeneratorOptions;
  /** Arrival index of the next unit. */
  readonly nextIndex: number;
  /** Event time at which the next unit arrives. */
  peekAnchorAt(): number;
  /** The next unit in arrival order. */
  next(): ScriptedUnit;
}

let cachedVersions: SchemaVersions | undefined;

/** Envelope schema_version per input kind: the versions the codec currently writes. */
export function currentSchemaVersions(): SchemaVersions {
  if (!cachedVersions) {
    const catalog = createCatalog();
    cachedVersions = {
      request: catalog.current('request').version,
      dispatch: catalog.current('dispatch').version,
      callback: catalog.current('callback').version,
    };
  }
  return cachedVersions;
}

/**
 * A deterministic generator. Pass resolved options, or an input (preset + overrides) and the event time to start
 * at when the input does not fix `startEventTime`.
 */
export function createGenerator(input: GeneratorOptionsInput = {}, startEventTime = 0): Generator {
  // Resolved options are a valid input too (every field set), so resolving is idempotent.
  const options = resolveGeneratorOptions(input, startEventTime);
  const ctx = createScenarioContext(options, currentSchemaVersions());
  const arrivals = Rng.from(options.seed, 'arrivals');
  const meanGapMs = 1000 / options.ratePerSec;
  let index = 0;
  // Kept fractional so high rates do not round to zero gaps.
  let anchor = options.startEventTime;
  return {
    options,
    get nextIndex() {
      return index;
    },
    peekAnchorAt: () => Math.floor(anchor),
    next() {
      const unit = buildUnit(ctx, index, Math.floor(anchor));
      index += 1;
      anchor += options.arrival === 'poisson' ? arrivals.exponential(meanGapMs) : meanGapMs;
      return unit;
    },
  };
}

/** Convenience: the first `count` units of a generator (tests). */
export function generateUnits(
  input: GeneratorOptionsInput,
  count: number,
  startEventTime = 0,
): ScriptedUnit[] {
  const gen = createGenerator(input, startEventTime);
  const out: ScriptedUnit[] = [];
  for (let i = 0; i < count; i++) out.push(gen.next());
  return out;
}

/** Heap entry of one shape (events of different kinds have different shapes, which makes comparisons slow). */
interface Slot {
  readonly p: number;
  readonly u: number;
  readonly s: number;
  readonly e: ScriptedEvent;
}

function before(a: Slot, b: Slot): boolean {
  return a.p < b.p || (a.p === b.p && (a.u < b.u || (a.u === b.u && a.s < b.s)));
}

/** Binary min-heap of events by (publishAt, unit, seq). */
export class EventQueue {
  private readonly heap: Slot[] = [];

  get size(): number {
    return this.heap.length;
  }

  peek(): ScriptedEvent | undefined {
    return this.heap[0]?.e;
  }

  push(e: ScriptedEvent): void {
    const slot: Slot = { p: e.publishAt, u: e.unit, s: e.seq, e };
    const h = this.heap;
    h.push(slot);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = h[parent] as Slot;
      if (!before(slot, ps)) break;
      h[i] = ps;
      i = parent;
    }
    h[i] = slot;
  }

  pop(): ScriptedEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top?.e;
    let i = 0;
    const n = h.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let child = l;
      let cs = h[l] as Slot;
      if (r < n) {
        const rs = h[r] as Slot;
        if (before(rs, cs)) {
          child = r;
          cs = rs;
        }
      }
      if (!before(cs, last)) break;
      h[i] = cs;
      i = child;
    }
    h[i] = last;
    return top?.e;
  }
}

export interface EventStream {
  /** The next event in publish order without taking it; undefined when a finite stream is exhausted. */
  peek(): ScriptedEvent | undefined;
  next(): ScriptedEvent | undefined;
  /** Units pulled from the generator so far. */
  readonly unitsPulled: number;
  /** Events pulled but not yet taken. */
  readonly pending: number;
}

/**
 * Merges units' events into global publish order. Units are pulled lazily: a unit's events are never published
 * before its arrival, so once the next arrival lies after the earliest pending event, that event is next.
 */
export function createEventStream(
  gen: Generator,
  opts: { maxUnits?: number; onUnit?: (unit: ScriptedUnit) => void } = {},
): EventStream {
  const maxUnits = opts.maxUnits ?? Infinity;
  const queue = new EventQueue();
  let pulled = 0;
  const fill = (): void => {
    for (;;) {
      if (pulled >= maxUnits) return;
      const head = queue.peek();
      if (head !== undefined && gen.peekAnchorAt() > head.publishAt) return;
      const unit = gen.next();
      pulled += 1;
      opts.onUnit?.(unit);
      for (const e of unit.events) queue.push(e);
    }
  };
  return {
    peek() {
      fill();
      return queue.peek();
    },
    next() {
      fill();
      return queue.pop();
    },
    get unitsPulled() {
      return pulled;
    },
    get pending() {
      return queue.size;
    },
  };
}
