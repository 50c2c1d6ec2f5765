// The engine's data structures against trivial models.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTION_KINDS,
  ATTEMPT_REASONS,
  CALLBACK_STATUSES,
  CLOCK_SOURCES,
  ERROR_CATEGORIES,
  EVIDENCE_LEVELS,
  SUBMIT_OUTCOMES,
  VERDICT_CLASSES,
} from '@pathwatch/schemas';
import { Arena } from '../src/engine/arena.js';
import * as K from '../src/engine/codes.js';
import { DeadlineIndex } from '../src/engine/deadlines.js';
import { HashIndex } from '../src/engine/hashindex.js';
import { decodeAt, equalsAt, measure, sizeAt, write } from '../src/engine/strcodec.js';

const hex = (n: number, upper = false) =>
  fc
    .array(fc.constantFrom(...(upper ? '0123456789ABCDEF' : '0123456789abcdef').split('')), {
      minLength: n,
      maxLength: n,
    })
    .map((a) => a.join(''));
const idString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.tuple(fc.string({ maxLength: 6 }), hex(32)).map(([p, h]) => p + h),
  fc.tuple(fc.string({ maxLength: 6 }), hex(16, true)).map(([p, h]) => p + h),
  fc.tuple(fc.string({ maxLength: 6 }), fc.uuid()).map(([p, u]) => p + u),
  hex(9),
  fc.uuid(),
);

describe('string codec', () => {
  it('decodes what it encodes, sizes match, equality iff same string (with and without a base)', () => {
    fc.assert(
      fc.property(idString, idString, fc.option(idString, { nil: undefined }), (a, b, base) => {
        const buf = new Uint8Array(4096);
        const n = measure(a, base);
        const end = write(buf, 8, a);
        expect(end - 8).toBe(n);
        expect(sizeAt(buf, 8)).toBe(n);
        expect(decodeAt(buf, 8, base)).toBe(a);
        expect(equalsAt(buf, 8, a, base)).toBe(true);
        expect(equalsAt(buf, 8, b, base)).toBe(a === b);
      }),
      { numRuns: 2000 },
    );
  });

  it('packs the common id shapes', () => {
    const size = (s: string, base?: string) => measure(s, base);
    expect(size('SM0123456789abcdef0123456789abcdef')).toBe(2 + 2 + 1 + 16); // fmt, prefix len, "SM", varint, 16 bytes
    expect(size('6f1c2b7e-0a1d-4c59-9f6e-3b0a1d2c3e4f')).toBe(2 + 16);
    expect(size('req_01J9ZABCDEFGHJKMNPQRSTVW/a1', 'req_01J9ZABCDEFGHJKMNPQRSTVW')).toBeLessThan(8);
  });
});

describe('hash index', () => {
  it('behaves like a multimap of (hash, slot) under inserts, removes and replaces', () => {
    const op = fc.oneof(
      fc.record({
        k: fc.constant('ins' as const),
        h: fc.integer({ min: 0, max: 40 }),
        s: fc.integer({ min: 0, max: 30 }),
      }),
      fc.record({
        k: fc.constant('del' as const),
        h: fc.integer({ min: 0, max: 40 }),
        s: fc.integer({ min: 0, max: 30 }),
      }),
      fc.record({
        k: fc.constant('rep' as const),
        h: fc.integer({ min: 0, max: 40 }),
        s: fc.integer({ min: 0, max: 30 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const idx = new HashIndex(4);
        const model = new Set<string>();
        for (const o of ops) {
          const key = `${o.h}/${o.s}`;
          if (o.k === 'ins' && !model.has(key)) {
            idx.insert(o.h, o.s);
            model.add(key);
          } else if (o.k === 'del') expect(idx.remove(o.h, o.s)).toBe(model.delete(key));
          else if (o.k === 'rep' && model.has(key) && !model.has(`${o.h}/${o.s + 100}`)) {
            expect(idx.replace(o.h, o.s, o.s + 100)).toBe(true);
            model.delete(key);
            model.add(`${o.h}/${o.s + 100}`);
          }
        }
        expect(idx.size).toBe(model.size);
        for (const key of model) {
          const [h, s] = key.split('/').map(Number) as [number, number];
          expect(idx.find(h, s)).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('deadline index', () => {
  it('pops exactly the entries due, in deadline order, across near heap, ring and far heap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ d: fc.integer({ min: 0, max: 20_000_000 }), s: fc.nat(1000) }), {
          maxLength: 400,
        }),
        fc.array(fc.integer({ min: 0, max: 25_000_000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 2, max: 64 }),
        (entries, steps, bucketMs, ringSize) => {
          const dl = new DeadlineIndex(bucketMs, ringSize);
          const pending = [...entries];
          const half = pending.splice(0, pending.length >> 1);
          for (const e of half) dl.push(e.d, e.s);
          let t = -Infinity;
          const model = [...half];
          const times = [...steps].sort((a, b) => a - b);
          times.forEach((step, i) => {
            t = step;
            // Interleave pushes with advancing time (some already due, some far in the future).
            if (i === 1)
              for (const e of pending) {
                dl.push(e.d, e.s);
                model.push(e);
              }
            const popped: number[] = [];
            for (;;) {
              const s = dl.popDue(t);
              if (s < 0) break;
              popped.push(dl.poppedDeadline);
            }
            const due = model
              .filter((e) => e.d <= t)
              .map((e) => e.d)
              .sort((a, b) => a - b);
            expect(popped).toEqual(due);
            for (let k = model.length - 1; k >= 0; k--) if (model[k]!.d <= t) model.splice(k, 1);
            expect(dl.size).toBe(model.length);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('arena', () => {
  it('recycles freed blobs of the same size class and never hands out address 0', () => {
    const a = new Arena();
    const x = a.alloc(100);
    expect(x).not.toBe(0);
    a.free(x, 100);
    expect(a.alloc(104)).toBe(x);
    expect(a.bytesInUse).toBe(104);
  });
});

describe('codes', () => {
  it('follow the Avro symbol order of the contract', () => {
    expect(K.VERDICT_CLASS_NAMES).toEqual(VERDICT_CLASSES);
    expect(K.STATUS_NAMES).toEqual(CALLBACK_STATUSES);
    expect(K.EVIDENCE_NAMES).toEqual(EVIDENCE_LEVELS);
    expect(K.REASON_NAMES).toEqual(ATTEMPT_REASONS);
    expect(K.SUBMIT_NAMES).toEqual(SUBMIT_OUTCOMES);
    expect(K.ERROR_CATEGORY_NAMES).toEqual(ERROR_CATEGORIES);
    expect(K.FIRED_NAMES).toEqual(CLOCK_SOURCES);
    expect([...K.ACTION_KIND_NAMES, 'retract']).toEqual(ACTION_KINDS);
  });
});
